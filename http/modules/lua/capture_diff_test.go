package lua_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gresty/internal/difftest"
)

// captureDump prints a capture result the same way on both servers:
// status, truncated, body and every header, sorted, with the values
// that depend on the server's files or clock blanked.
const captureDump = `
local function dump(res)
    local keys = {}
    for k in pairs(res.header) do keys[#keys + 1] = k end
    table.sort(keys)
    local hs = {}
    for _, k in ipairs(keys) do
        local v = res.header[k]
        if k == "Last-Modified" or k == "ETag" or k == "Date" then v = "X" end
        if type(v) == "table" then v = "{" .. table.concat(v, ",") .. "}" end
        hs[#hs + 1] = k .. "=" .. tostring(v) .. "(" .. type(res.header[k]) .. ")"
    end
    ngx.say(res.status, " ", tostring(res.truncated), " [", res.body, "] ", table.concat(hs, " "))
end
`

// ngx.location.capture and capture_multi compared with OpenResty: what
// the subrequests see of their parent (method, arguments, body, headers,
// variables, ngx.ctx), what the parent gets back from Lua, static, echo,
// rewrite and proxied locations, errors, and captures in every phase and
// in light threads.
func TestCaptureMatchesOpenResty(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f.txt"), []byte("hello file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	content := func(code string) string {
		return "content_by_lua_block {\n" + captureDump + code + "\n}"
	}
	cases := []struct {
		name, conf string
		reqs       []string
		log        bool
	}{
		{name: "basic", conf: content(`
			local res = ngx.location.capture("/sub/echo?a=1&b=2")
			dump(res)
			dump(ngx.location.capture("/sub/echo", {args = "x=y"}))
			dump(ngx.location.capture("/sub/echo?a=1", {args = {b = 2}}))
			dump(ngx.location.capture("/sub/echo", {args = 3}))`)},
		{name: "methods", conf: content(`
			for _, m in ipairs{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "MKCOL", "TRACE"} do
				dump(ngx.location.capture("/sub/echo", {method = ngx["HTTP_" .. m]}))
			end`)},
		{name: "bodies", conf: content(`
			dump(ngx.location.capture("/sub/body", {method = ngx.HTTP_POST, body = "hello"}))
			dump(ngx.location.capture("/sub/body", {method = ngx.HTTP_PUT, body = 12}))
			dump(ngx.location.capture("/sub/body", {body = ""}))
			dump(ngx.location.capture("/sub/body"))`)},
		{name: "forward", reqs: []string{post("", "parent body"), get("")}, conf: `
			lua_need_request_body on;
			content_by_lua_block {` + captureDump + `
				dump(ngx.location.capture("/sub/body"))
				dump(ngx.location.capture("/sub/body", {method = ngx.HTTP_POST}))
				dump(ngx.location.capture("/sub/body", {always_forward_body = true}))
				dump(ngx.location.capture("/sub/body", {method = ngx.HTTP_PUT, body = "own"}))
			}`},
		{name: "vars", conf: `
			set $pv "parent";
			set $sv "";
			content_by_lua_block {` + captureDump + `
				ngx.var.pv = "changed"
				dump(ngx.location.capture("/sub/vars"))
				dump(ngx.location.capture("/sub/vars", {share_all_vars = true}))
				dump(ngx.location.capture("/sub/vars", {copy_all_vars = true}))
				dump(ngx.location.capture("/sub/vars", {vars = {sv = "from vars", pv = 42}}))
				dump(ngx.location.capture("/sub/vars", {share_all_vars = true, vars = {sv = "shared"}}))
				ngx.say(ngx.var.pv, " ", ngx.var.sv)
			}`},
		{name: "ctx", conf: content(`
			local ctx = {}
			dump(ngx.location.capture("/sub/ctx", {ctx = ctx}))
			ngx.say(ctx.sub)
			ngx.ctx.mine = "parent's"
			dump(ngx.location.capture("/sub/ctx", {ctx = ngx.ctx}))
			ngx.say(ngx.ctx.sub)`)},
		{name: "static", conf: content(`
			dump(ngx.location.capture("/files/f.txt"))
			dump(ngx.location.capture("/files/f.txt", {method = ngx.HTTP_HEAD}))
			dump(ngx.location.capture("/files/missing"))
			dump(ngx.location.capture("/files/dir"))`)},
		{name: "statuses", conf: content(`
			for _, u in ipairs{"/sub/exit?403", "/sub/exit?200", "/sub/exit?201", "/sub/exit?204", "/sub/exit?302",
				"/sub/ret302", "/sub/ret404", "/sub/ret200", "/sub/error", "/sub/status", "/sub/nonexistent"} do
				dump(ngx.location.capture(u))
			end`)},
		{name: "headers", conf: content(`
			dump(ngx.location.capture("/sub/headers"))
			dump(ngx.location.capture("/sub/filtered"))`)},
		{name: "echo", conf: content(`
			dump(ngx.location.capture("/sub/echoloc"))
			dump(ngx.location.capture("/sub/flushy"))`)},
		{name: "proxy", conf: content(`
			dump(ngx.location.capture("/sub/proxy"))
			dump(ngx.location.capture("/sub/proxy404"))`)},
		{name: "multi", conf: content(`
			local a, b, c = ngx.location.capture_multi{
				{"/sub/sleep?0.02"}, {"/sub/echo?two"}, {"/sub/sleep?0.01", {method = ngx.HTTP_POST}},
			}
			dump(a) dump(b) dump(c)
			ngx.say(select("#", ngx.location.capture_multi{{"/sub/echo"}}))`)},
		{name: "output_around", conf: content(`
			ngx.say("before")
			dump(ngx.location.capture("/sub/echo?x"))
			ngx.flush(true)
			dump(ngx.location.capture("/sub/sleep?0.01"))
			ngx.say("after")`)},
		{name: "nested", conf: content(`
			dump(ngx.location.capture("/sub/nested"))`)},
		{name: "phases", conf: `
			rewrite_by_lua_block { ngx.ctx.r = ngx.location.capture("/sub/echo?r").body }
			access_by_lua_block { ngx.ctx.a = ngx.location.capture("/sub/sleep?0.01").body }
			content_by_lua_block { ngx.print(ngx.ctx.r, ngx.ctx.a, ngx.location.capture("/sub/echo?c").body) }`},
		{name: "threads", conf: content(`
			local function f(u) local res = ngx.location.capture(u) return res.body end
			local t1 = ngx.thread.spawn(f, "/sub/sleep?0.02")
			local t2 = ngx.thread.spawn(f, "/sub/echo?t2")
			ngx.say(ngx.thread.kill(t1))
			ngx.say(ngx.thread.wait(t2))
			ngx.say(ngx.thread.wait(t1))`)},
		{name: "abort_pending", log: true, conf: content(`
			local t = ngx.thread.spawn(function()
				local ok, err = pcall(ngx.exit, 403)
				ngx.say("exit: ", ok, " ", err)
				ok, err = pcall(ngx.redirect, "/x")
				ngx.say("redirect: ", ok, " ", err)
				ok, err = pcall(ngx.exec, "/x")
				ngx.say("exec: ", ok, " ", err)
			end)
			dump(ngx.location.capture("/sub/sleep?0.01"))
			ngx.say("done")`)},
		{name: "bad_phase", conf: `
			content_by_lua_block { ngx.say("body") }
			header_filter_by_lua_block {
				local ok, err = pcall(ngx.location.capture, "/sub/echo")
				ngx.header["X-Err"] = err
			}`},
		// last: a failing query after a good one leaves ngx_lua with an
		// orphan subrequest that disturbs later requests.
		{name: "errors", conf: content(`
			local function try(...) local ok, err = pcall(...) ngx.say(ok, " ", (tostring(err):gsub("^.-:%d+: ", ""))) end
			try(ngx.location.capture)
			try(ngx.location.capture, "/a", {}, 3)
			try(ngx.location.capture_multi, {})
			try(ngx.location.capture_multi, "x")
			try(ngx.location.capture_multi, {"x"})
			try(ngx.location.capture_multi, {{}})
			try(ngx.location.capture_multi, {{"/a", {}, 3}})
			try(ngx.location.capture_multi, {{"/a"}, {"/b", "opts"}})
			try(ngx.location.capture, "/a", {args = true})
			try(ngx.location.capture, "/a", {args = {[1] = "x"}})
			try(ngx.location.capture, "/a", {vars = 1})
			try(ngx.location.capture, "/a", {vars = {[1] = "x"}})
			try(ngx.location.capture, "/a", {vars = {a = {}}})
			try(ngx.location.capture, "/a", {share_all_vars = 1})
			try(ngx.location.capture, "/a", {copy_all_vars = "yes"})
			try(ngx.location.capture, "/a", {method = "GET"})
			try(ngx.location.capture, "/a", {ctx = 1})
			try(ngx.location.capture, "/a", {body = {}})
			try(ngx.location.capture, "../a")
			try(ngx.location.capture, "/a/../../b")
			try(ngx.location.capture, {})
			ngx.say("end")`)},
	}
	var b strings.Builder
	fmt.Fprintf(&b, `http {
    default_type text/plain;
    %%%%HTTP_GLOBALS%%%%
    server {
        listen 127.0.0.1:%%%%PORT%%%%;
        server_name localhost;
        location /files/ { alias %s/; }
        location = /sub/echo { content_by_lua_block { ngx.say(ngx.req.get_method(), " ", ngx.var.uri, "?", ngx.var.args, " internal=", ngx.req.is_internal(), " sub=", ngx.is_subrequest) } }
        location = /sub/body { content_by_lua_block {
            ngx.req.read_body()
            local h = ngx.req.get_headers()
            ngx.say(ngx.req.get_method(), " cl=", h["content-length"], " body=", ngx.req.get_body_data())
        } }
        location = /sub/vars { content_by_lua_block { ngx.say("pv=", ngx.var.pv, " sv=", ngx.var.sv) ngx.var.sv = "set in sub" } }
        location = /sub/ctx { content_by_lua_block { ngx.say("mine=", ngx.ctx.mine) ngx.ctx.sub = "set in sub" } }
        location = /sub/exit { content_by_lua_block { ngx.say("exiting") ngx.exit(tonumber(ngx.var.args)) } }
        location = /sub/ret302 { return 302 /elsewhere; }
        location = /sub/ret404 { return 404; }
        location = /sub/ret200 { return 200 "returned text"; }
        location = /sub/error { content_by_lua_block { error("sub fails") } }
        location = /sub/status { content_by_lua_block { ngx.status = 418 ngx.say("teapot") } }
        location = /sub/headers { content_by_lua_block {
            ngx.header["X-Multi"] = {"a", "b"}
            ngx.header["X-One"] = "1"
            ngx.header.content_type = "text/html; charset=utf-8"
            ngx.header["Set-Cookie"] = {"c=1", "d=2"}
            ngx.say("with headers")
        } }
        location = /sub/filtered {
            content_by_lua_block { ngx.say("body to filter") }
            header_filter_by_lua_block { ngx.header["X-Filtered"] = "yes" }
            body_filter_by_lua_block { ngx.arg[1] = string.upper(ngx.arg[1] or "") }
        }
        location = /sub/echoloc { echo "from echo"; echo_flush; echo "more"; }
        location = /sub/flushy { content_by_lua_block { ngx.say("one") ngx.flush(true) ngx.sleep(0.01) ngx.say("two") } }
        location = /sub/proxy { proxy_pass http://127.0.0.1:%%%%PORT%%%%/backend; }
        location = /sub/proxy404 { proxy_pass http://127.0.0.1:%%%%PORT%%%%/backend404; }
        location = /backend { add_header X-Backend yes; return 200 "from backend"; }
        location = /backend404 { return 404; }
        location = /sub/sleep { content_by_lua_block { ngx.sleep(tonumber(ngx.var.args)) ngx.print("slept ", ngx.var.args) } }
        location = /sub/nested { content_by_lua_block {
            local res = ngx.location.capture("/sub/echo?nested")
            ngx.print("outer got: ", res.body)
        } }
`, dir)
	for _, c := range cases {
		fmt.Fprintf(&b, "        location = /%s {\n%s\n        }\n", c.name, c.conf)
	}
	b.WriteString("    }\n}\n")
	p := difftest.Start(t, b.String(), "lua", "echo")
	for _, c := range cases {
		reqs := c.reqs
		if len(reqs) == 0 {
			reqs = []string{get("")}
		}
		for i, raw := range reqs {
			raw = strings.ReplaceAll(raw, "%P", "/"+c.name)
			ng := fetch(t, p.Nginx.Addr, raw)
			gr := fetch(t, p.Gresty.Addr, raw)
			if ng != gr {
				t.Errorf("%s #%d: gresty differs from nginx\nrequest:\n%s\nnginx:\n%s\ngresty:\n%s", c.name, i, raw, ng, gr)
			}
		}
	}
	time.Sleep(50 * time.Millisecond)
	ngLog, grLog := p.Nginx.ErrorLog(), p.Gresty.ErrorLog()
	for _, c := range cases {
		if !c.log {
			continue
		}
		a := logEntries(ngLog, "/"+c.name)
		g := logEntries(grLog, "/"+c.name)
		if strings.Join(a, "\n") != strings.Join(g, "\n") {
			t.Errorf("%s: error log differs\nnginx:\n%s\ngresty:\n%s", c.name, strings.Join(a, "\n"), strings.Join(g, "\n"))
		}
	}
}

// replyBackend answers every connection with the reply its request path
// names, then keeps the connection open ("stall") or closes it.
func replyBackend(t *testing.T, replies map[string]string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				head, err := bufio.NewReader(c).ReadString('\n')
				if err != nil {
					c.Close()
					return
				}
				f := strings.Fields(head)
				reply, ok := replies[f[1]]
				if !ok {
					c.Close()
					return
				}
				c.Write([]byte(reply))
				if !strings.HasPrefix(f[1], "/stall") {
					c.Close()
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// A capture's buffered upstream body reaches the parent only when the
// upstream is done, closed or failed, as nginx's event pipe writes to a
// request that is not the connection's active one: a read timeout after a
// whole chunk loses it, a premature close delivers it truncated.
func TestCaptureBufferedUpstreamMatchesOpenResty(t *testing.T) {
	chunk := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r"
	port := replyBackend(t, map[string]string{
		"/stall":      chunk,
		"/stall-full": chunk + "\n0\r\n\r\n",
		"/close":      chunk,
		"/close-len":  "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nhello world",
	})
	p := difftest.Start(t, fmt.Sprintf(`
http {
    server {
        listen 127.0.0.1:%%%%PORT%%%%;
        location /proxy/ {
            internal;
            proxy_read_timeout 100ms;
            proxy_buffering on;
            proxy_http_version 1.1;
            proxy_pass http://127.0.0.1:%d/;
        }
        location /main {
            content_by_lua_block {
                for _, u in ipairs{"stall", "stall-full", "close", "close-len"} do
                    local res = ngx.location.capture("/proxy/" .. u)
                    ngx.say(u, ": ", res.status, " [", res.body, "] ", tostring(res.truncated))
                end
            }
        }
    }
}
`, port), "lua")
	ng, gr := p.Do(t, "GET /main HTTP/1.0\r\nHost: localhost\r\n\r\n")
	want := "stall: 200 [] true\nstall-full: 200 [hello world] false\nclose: 200 [hello world] true\nclose-len: 200 [hello world] true\n"
	if string(ng.Body) != want || string(gr.Body) != want {
		t.Errorf("nginx:\n%s\ngresty:\n%s", ng.Body, gr.Body)
	}
}
