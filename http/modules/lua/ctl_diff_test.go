package lua_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// ngx.exit, ngx.exec, ngx.redirect, ngx.arg, the filters, errors in
// each phase and their error-log lines, against OpenResty.
func TestControlMatchesOpenResty(t *testing.T) {
	content := func(code string) string { return "content_by_lua_block {\n" + code + "\n}" }
	rewrite := func(code string) string { return "rewrite_by_lua_block {\n" + code + "\n}" }
	access := func(code string) string { return "access_by_lua_block {\n" + code + "\n}" }
	cases := []luaCase{
		{name: "exit-404", conf: content(`ngx.exit(404)`)},
		{name: "exit-200", conf: content(`ngx.exit(200)`)},
		{name: "exit-ok", conf: content(`ngx.say("a") ngx.exit(ngx.OK) ngx.say("b")`)},
		{name: "exit-204", conf: content(`ngx.exit(204)`)},
		{name: "exit-after-say", conf: content(`ngx.say("partial") ngx.exit(502)`), log: true},
		{name: "exit-status-set", conf: content(`ngx.status = 403 ngx.say("denied") ngx.exit(ngx.HTTP_OK)`)},
		{name: "exit-444", conf: content(`ngx.exit(444)`)},
		{name: "exit-error", conf: content(`ngx.exit(ngx.ERROR)`)},
		{name: "exit-again", conf: content(`ngx.exit(ngx.AGAIN)`)},
		{name: "exit-return", conf: content(`return ngx.exit(403)`)},
		{name: "exit-pcall", conf: content(`pcall(ngx.exit, 410) ngx.say("not reached")`)},
		{name: "exit-rewrite-ok", conf: rewrite(`ngx.exit(ngx.OK)`) + "\n" + content(`ngx.say("content ran")`)},
		{name: "exit-rewrite-200", conf: rewrite(`ngx.say("from rewrite") ngx.exit(200)`) + "\n" + content(`ngx.say("content ran")`)},
		{name: "exit-rewrite-403", conf: rewrite(`ngx.exit(403)`) + "\n" + content(`ngx.say("content ran")`)},
		{name: "rewrite-output", conf: rewrite(`ngx.say("only rewrite")`) + "\n" + content(`ngx.say("content ran")`)},
		{name: "exit-access-ok", conf: access(`ngx.exit(ngx.OK)`) + "\ndeny all;\n" + content(`ngx.say("content ran")`)},
		{name: "exit-access-403", conf: access(`ngx.exit(ngx.HTTP_FORBIDDEN)`) + "\n" + content(`ngx.say("content ran")`)},
		{name: "access-satisfy-any", conf: "satisfy any;\ndeny all;\n" + access(`local x = 1`) + "\n" + content(`ngx.say("content ran")`)},
		{name: "exit-sleep", conf: content(`ngx.sleep(0.01) ngx.exit(418)`)},
		{name: "exit-rewrite-sleep", conf: rewrite(`ngx.sleep(0.01) ngx.exit(401)`) + "\n" + content(`ngx.say("content ran")`)},
		{name: "redirect", conf: content(`ngx.redirect("/somewhere")`)},
		{name: "redirect-301", conf: content(`return ngx.redirect("http://example.com/x", ngx.HTTP_MOVED_PERMANENTLY)`)},
		{name: "redirect-307", conf: rewrite(`ngx.redirect("/r", 307)`)},
		{name: "redirect-bad-status", conf: content(`local ok, err = pcall(ngx.redirect, "/a", 200) ngx.say(err)`)},
		{name: "redirect-unsafe", conf: content(`ngx.redirect("/a\r\nX: y")`), log: true},
		{name: "redirect-after-say", conf: content(`ngx.say("x") local ok, err = pcall(ngx.redirect, "/a") ngx.say(err)`)},
		{name: "exec", conf: content(`ngx.exec("/exec-target", "a=1")`)},
		{name: "exec-args-table", conf: rewrite(`ngx.exec("/exec-target?b=2", {c = "x y"})`)},
		{name: "exec-named", conf: access(`ngx.exec("@named", "ignored=1")`), log: true},
		{name: "exec-target", conf: content(`ngx.say("target ", ngx.var.uri, " ", tostring(ngx.var.args), " ", ngx.req.is_internal())`)},
		{name: "exec-after-say", conf: content(`ngx.say("x") local ok, err = pcall(ngx.exec, "/exec-target") ngx.say(err)`)},
		{name: "exec-unsafe", conf: content(`local ok, err = pcall(ngx.exec, "/../x") ngx.say(err) ok, err = pcall(ngx.exec, "") ngx.say(err)`), log: true},
		{name: "exec-sleep", conf: rewrite(`ngx.sleep(0.01) ngx.exec("/exec-target")`)},
		{name: "exec-loop", conf: content(`ngx.exec("/exec-loop")`), log: true},
		{name: "error-content", conf: content(`local t = nil
local x = t.field`), log: true},
		{name: "error-fn", conf: content(`local function f() error("boom") end
f()`), log: true},
		{name: "error-table", conf: content(`error({})`), log: true},
		{name: "error-rewrite", conf: rewrite(`error("in rewrite")`) + "\n" + content(`ngx.say("x")`), log: true},
		{name: "error-after-say", conf: content(`ngx.say("partial") ngx.flush(true) error("late")`), log: true},
		{name: "wrong-phase", conf: content(`ngx.say("x")`) + "\nlog_by_lua_block { ngx.say(\"no\") }", log: true},
		{name: "wrong-phase-exec", conf: content(`ngx.say("x")`) + "\nheader_filter_by_lua_block { ngx.exec(\"/x\") }", log: true},
		{name: "header-filter-exit", conf: content(`ngx.say("x")`) + "\nheader_filter_by_lua_block { ngx.exit(503) }"},
		{name: "header-filter-error", conf: content(`ngx.say("x")`) + "\nheader_filter_by_lua_block { error(\"hf\") }", log: true},
		{name: "body-filter", conf: content(`ngx.say("hello") ngx.say("world")`) + `
body_filter_by_lua_block {
    ngx.arg[1] = string.upper(ngx.arg[1])
    if ngx.arg[2] then ngx.arg[1] = ngx.arg[1] .. "EOF\n" end
}`},
		{name: "body-filter-buffer", conf: content(`ngx.say("a") ngx.flush() ngx.say("b")`) + `
body_filter_by_lua_block {
    local chunk, eof = ngx.arg[1], ngx.arg[2]
    ngx.ctx.buf = (ngx.ctx.buf or "") .. chunk
    if eof then ngx.arg[1] = {"[", ngx.ctx.buf, "]"} else ngx.arg[1] = nil end
}`},
		{name: "body-filter-eof", conf: content(`ngx.say("one") ngx.say("two")`) + `
body_filter_by_lua_block { ngx.arg[1] = ngx.arg[1] .. "!" ngx.arg[2] = true }`},
		{name: "body-filter-error", conf: content(`ngx.say("x")`) + "\nbody_filter_by_lua_block { local a = ngx.arg[3] ngx.arg[3] = 1 }", logOnly: true},
		{name: "body-filter-return", conf: content(`ngx.say("x")`) + "\nbody_filter_by_lua_block { ngx.log(ngx.WARN, ngx.arg[2]) return ngx.ERROR }", logOnly: true},
		{name: "set-by-lua", conf: `set_by_lua_block $v { return ngx.arg[1] .. "+" .. tostring(ngx.arg[2]) .. "+" .. tostring(ngx.arg[3]) }` + "\n" + content(`ngx.say(ngx.var.v)`)},
		{name: "set-by-lua-args", conf: `set $a hello;
set_by_lua $v 'return select("#", ...) .. ":" .. ngx.arg[1] .. ":" .. tostring(ngx.arg[2])' $a '';` + "\n" + content(`ngx.say(ngx.var.v)`)},
		{name: "set-by-lua-error", conf: `set_by_lua_block $v { error("set failed") }` + "\n" + content(`ngx.say(ngx.var.v)`), log: true},
		{name: "arg-content", conf: content(`local ok, err = pcall(function() return ngx.arg[1] end) ngx.say(err:match("API disabled in the current context$"))`)},
		{name: "worker", conf: content(`ngx.say(ngx.worker.id(), " ", ngx.worker.count(), " ", ngx.worker.exiting(), " ", ngx.worker.pid() > 0)`)},
		{name: "config", conf: content(`ngx.say(ngx.config.subsystem, " ", ngx.config.nginx_version, " ", ngx.config.ngx_lua_version, " ", ngx.config.debug, " ", type(ngx.config.prefix()), " ", type(ngx.config.nginx_configure()))`)},
		{name: "require-ngx", conf: content(`local n = require "ngx" ngx.say(n == ngx)`)},
		{name: "need-body-rewrite", conf: "lua_need_request_body on;\n" + rewrite(`ngx.ctx.b = ngx.var.request_body`) + "\n" + content(`ngx.say(ngx.ctx.b)`),
			reqs: []string{post("", "read before rewrite"), get("")}},
		{name: "need-body-access", conf: "lua_need_request_body on;\n" + access(`ngx.ctx.b = ngx.req.get_body_data()`) + "\n" + content(`ngx.say(tostring(ngx.ctx.b))`),
			reqs: []string{post("", "read before access")}},
		{name: "worker-pids", conf: content(`local p = ngx.worker.pids() ngx.say(type(p), " ", #p, " ", p[1] == ngx.worker.pid())`)},
		{name: "exit-access-after-say", conf: access(`ngx.say("from access") ngx.exit(403)`) + "\n" + content(`ngx.say("content ran")`), log: true},
		{name: "jump-in-access", conf: access(`local ok, err = pcall(ngx.req.set_uri, "/x", true) ngx.ctx.e = err`) + "\n" + content(`ngx.say(ngx.ctx.e)`)},
		{name: "redirect-args", conf: content(`ngx.redirect("/a?b=c&d", 303)`)},
		{name: "redirect-308", conf: rewrite(`ngx.redirect("https://example.com/", ngx.HTTP_PERMANENT_REDIRECT)`)},
		{name: "log-phase", conf: content(`ngx.say("logged")`) + `
log_by_lua_block {
    ngx.header.Foo = "late"
    local h = ngx.resp.get_headers()
    ngx.log(ngx.WARN, "status ", ngx.status, " te ", tostring(h["transfer-encoding"]), " conn ", h.connection, " sent ", ngx.var.status)
}`, log: true},
		{name: "set-by-lua-var", conf: "set $x '';\n" + `set_by_lua_block $v { ngx.var.x = "from set" return "v" }` + "\n" + content(`ngx.say(ngx.var.x, " ", ngx.var.v)`)},
		{name: "subrequest", conf: "echo_location /subreq-target 'a=1';\necho_location /subreq-target;"},
		{name: "subreq-target", conf: content(`ngx.say(ngx.is_subrequest, " ", ngx.var.uri, " ", tostring(ngx.var.args), " ", ngx.req.get_method(), " ", ngx.req.is_internal(), " ", ngx.var.request_uri)`)},
		{name: "header-filter-nosub", conf: content(`ngx.say("x")`) + "\nheader_filter_by_lua_block { ngx.header.X_Sub = tostring(ngx.is_subrequest) }"},
		{name: "many-headers", conf: content(`
for i = 1, 105 do ngx.header["X-N" .. i] = i end
local h, err = ngx.resp.get_headers()
local n = 0 for _ in pairs(h) do n = n + 1 end
ngx.say(n, " ", err)`)},
		{name: "no-code-cache", conf: "lua_code_cache off;\n" + content(`ngx.say("compiled per request")`)},
		{name: "phase-names", conf: rewrite(`ngx.ctx.p = ngx.get_phase()`) + "\n" + content(`ngx.say(ngx.ctx.p, " ", ngx.get_phase())`)},
	}
	p := runLuaCases(t, "", "location @named { content_by_lua_block { ngx.say(\"named \", ngx.var.uri, \" \", tostring(ngx.var.args)) } }", cases)
	// "lua_code_cache is off" is an alert at start-up, located at the
	// directive.
	if a, g := startupAlerts(p.Nginx), startupAlerts(p.Gresty); strings.Join(a, "\n") != strings.Join(g, "\n") || len(a) == 0 {
		t.Errorf("start-up alerts differ\nnginx:\n%s\ngresty:\n%s", strings.Join(a, "\n"), strings.Join(g, "\n"))
	}
}

// TestFlushDelayedLogMatchesOpenResty: ngx.flush(true) under limit_rate
// waits on the rate limit's timer, even with everything written, and its
// debug line says delayed:1.
func TestFlushDelayedLogMatchesOpenResty(t *testing.T) {
	p := difftest.Start(t, `
error_log %%PREFIX%%/logs/debug.log debug;
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location /t {
            limit_rate 300;
            content_by_lua_block {
                local start = ngx.now()
                for i = 1, 2 do
                    ngx.print(string.rep("a", 100))
                    ngx.flush(true)
                end
                ngx.update_time()
                ngx.log(ngx.WARN, "waited ", ngx.now() - start >= 0.5)
            }
        }
    }
}
`, "lua")
	ng, gr := p.Do(t, "GET /t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if string(ng.Body) != string(gr.Body) {
		t.Fatalf("nginx %q, gresty %q", ng.Body, gr.Body)
	}
	re := regexp.MustCompile(`lua flush requires waiting: buffered 0x[0-9a-f]+, (delayed:\d)`)
	lines := func(s *nginxtest.Server) string {
		b, _ := os.ReadFile(filepath.Join(s.Prefix, "logs", "debug.log"))
		var out []string
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			out = append(out, m[1])
		}
		return strings.Join(out, " ")
	}
	if a, b := lines(p.Nginx), lines(p.Gresty); a != b || !strings.Contains(a, "delayed:1") {
		t.Errorf("flush lines differ\nnginx:  %s\ngresty: %s", a, b)
	}
	for _, s := range []*nginxtest.Server{p.Nginx, p.Gresty} {
		if !strings.Contains(s.ErrorLog(), "waited true") {
			t.Errorf("%s: the flushes did not wait for the rate limit", s.Prefix)
		}
	}
}
