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

// TestLuaCodeCacheOffDiff checks that under lua_code_cache off every
// request runs in a Lua VM of its own, as ngx_lua's: modules load again,
// globals start clean, init_by_lua has run in it and resty.core is
// loaded; with the cache on, the loop's VM keeps all of them.
func TestLuaCodeCacheOffDiff(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "counted.lua"),
		[]byte("loads = (loads or 0) + 1\nreturn { loads = function() return loads end }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	extra := `    lua_package_path "` + dir + `/?.lua;;";
    init_by_lua_block { from_init = "init ran" }`
	body := `
                local m = require "counted"
                ngx.say("loads=", m.loads(), " seen=", tostring(seen), " init=", tostring(from_init),
                        " resty.core=", tostring(package.loaded["resty.core"] ~= nil))
                seen = true`
	cases := []luaCase{
		{name: "off", conf: "lua_code_cache off;\ncontent_by_lua_block {" + body + "\n}",
			reqs: []string{get(""), get(""), get("")}},
		{name: "on", conf: "content_by_lua_block {" + body + "\n}",
			reqs: []string{get(""), get("")}},
		{name: "offtimer", log: true, conf: `lua_code_cache off;
            content_by_lua_block {
                vmglobal = "request"
                ngx.timer.at(0, function()
                    ngx.log(ngx.WARN, "timer sees ", tostring(vmglobal))
                end)
                ngx.say("ok")
            }`, reqs: []string{get(""), get("")}},
	}
	runLuaCases(t, extra, "", cases)
}

// TestSharedCodeMatchesOpenResty: ngx_lua caches inline code by its
// directive family and text, so handlers with the same code run one
// chunk, named after whichever of them ran first; the same code in
// another family is a chunk of its own.
func TestSharedCodeMatchesOpenResty(t *testing.T) {
	const say = `content_by_lua_block { ngx.log(ngx.WARN, "shared code") }`
	const boom = `content_by_lua_block { error("boom") }`
	cases := []luaCase{
		{name: "one", log: true, conf: say,
			reqs: []string{"GET /two HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", get("")}},
		{name: "two", log: true, conf: say},
		{name: "three", log: true, conf: `rewrite_by_lua_block { ngx.log(ngx.WARN, "shared code") }` + "\n" + say},
		{name: "boom1", log: true, conf: boom},
		{name: "boom2", log: true, conf: boom},
	}
	runLuaCases(t, "", "", cases)
}

// TestCodeCacheLogMatchesOpenResty compares the debug log of ngx_lua's
// code cache: lookups by reference and by key, the reference a directive
// takes from another with the same code, misses, for inline code, files
// and a file path with variables.
func TestCodeCacheLogMatchesOpenResty(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{"a": `ngx.say("a")`, "b": `ngx.say("b")`, "c": `ngx.say("b")`} {
		if err := os.WriteFile(filepath.Join(dir, name+".lua"), []byte(src+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := difftest.Start(t, `
error_log %%PREFIX%%/logs/debug.log debug;
http {
    default_type text/plain;
    server {
        listen 127.0.0.1:%%PORT%%;
        location /a { content_by_lua_block { ngx.say("a") } }
        location /b { content_by_lua_block { ngx.say("b") } }
        location /c { content_by_lua_block { ngx.say("b") } }
        location /r { rewrite_by_lua_block { ngx.say("b") } content_by_lua_block { ngx.say("b") } }
        location /fa { content_by_lua_file `+dir+`/a.lua; }
        location /fb { content_by_lua_file `+dir+`/b.lua; }
        location /fc { content_by_lua_file `+dir+`/c.lua; }
        location /fb2 { content_by_lua_file `+dir+`/b.lua; }
        location /v { content_by_lua_file `+dir+`/$arg_f.lua; }
        location /off { lua_code_cache off; content_by_lua_block { ngx.say("off") } }
    }
}
`, "lua")
	for _, path := range []string{"/a", "/b", "/a", "/c", "/r", "/fa", "/fb", "/fa", "/fc", "/fb2", "/v?f=a", "/v?f=b", "/v?f=a", "/c", "/off", "/off"} {
		ng, gr := p.Do(t, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if string(ng.Body) != string(gr.Body) {
			t.Fatalf("%s: nginx %q, gresty %q", path, ng.Body, gr.Body)
		}
	}
	re := regexp.MustCompile(`code cache [a-z ]+ \(key='[^']*', ref=-?\d+\)`)
	lines := func(s *nginxtest.Server) string {
		b, _ := os.ReadFile(filepath.Join(s.Prefix, "logs", "debug.log"))
		return strings.Join(re.FindAllString(string(b), -1), "\n")
	}
	if a, b := lines(p.Nginx), lines(p.Gresty); a != b || a == "" {
		t.Errorf("code cache lines differ\nnginx:\n%s\ngresty:\n%s", a, b)
	}
}
