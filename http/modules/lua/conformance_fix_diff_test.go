package lua_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gresty/internal/difftest"
)

// TestServerRewriteOutputDiff checks that server_rewrite_by_lua may write
// the response (ngx.say, ngx.print, ngx.flush, ngx.eof, ngx.send_headers)
// and read the request body, as the rewrite, access and content phases
// may.
func TestServerRewriteOutputDiff(t *testing.T) {
	srv := `        server_rewrite_by_lua_block {
            local uri = ngx.var.uri
            if uri == "/flush" then
                ngx.say("a")
                ngx.flush(true)
                ngx.say("b")
                ngx.exit(200)
            elseif uri == "/eof" then
                ngx.print("x")
                ngx.eof()
            elseif uri == "/headers" then
                ngx.status = 201
                ngx.send_headers()
                ngx.say("sent")
                ngx.exit(ngx.HTTP_OK)
            elseif uri == "/body" then
                ngx.req.read_body()
                ngx.say(ngx.var.request_body)
                ngx.exit(200)
            end
        }`
	runLuaCases(t, "", srv, []luaCase{
		{name: "flush", conf: `content_by_lua_block { ngx.say("content") }`, log: true},
		{name: "eof", conf: `content_by_lua_block { ngx.say("content") }`, log: true},
		{name: "headers", conf: `content_by_lua_block { ngx.say("content") }`, log: true},
		{name: "body", conf: `content_by_lua_block { ngx.say("content") }`, log: true,
			reqs: []string{post("", "hello, world")}},
		{name: "other", conf: `content_by_lua_block { ngx.say("content") }`, log: true},
	})
}

// TestRequireBuiltinLibsDiff checks that every standard library can be
// required by name, "package" included, and that require returns the
// global table itself.
func TestRequireBuiltinLibsDiff(t *testing.T) {
	runLuaCases(t, "", "", []luaCase{
		{name: "libs", conf: `content_by_lua_block {
            for _, m in ipairs{"string", "math", "io", "os", "table", "coroutine", "package", "debug", "_G", "bit"} do
                local ok, v = pcall(require, m)
                ngx.say(m, " ", ok, " ", ok and v == (m == "_G" and _G or _G[m]))
            end
        }`, log: true},
	})
}

// TestInitWorkerSyntaxErrorDiff checks the error-log line of an
// init_worker_by_lua chunk that does not compile: the directive's name
// and the bare Lua message, for inline code and for a file.
func TestInitWorkerSyntaxErrorDiff(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "init.lua")
	if err := os.WriteFile(file, []byte("ngx.log(ngx.DEBUG, \"pass\")\nerror(\"failed\"\nngx.log(ngx.DEBUG, \"x\")\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, directive string }{
		{"inline", "init_worker_by_lua_block {\n        ngx.log(ngx.DEBUG, \"pass\")\n        error(\"failed\"\n        ngx.log(ngx.DEBUG, \"x\")\n    }"},
		{"file", "init_worker_by_lua_file " + file + ";"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := "http {\n    " + tt.directive + "\n    server {\n        listen 127.0.0.1:%%PORT%%;\n" +
				"        location = /t { content_by_lua_block { ngx.say(\"ok\") } }\n    }\n%%HTTP_GLOBALS%%\n}\n"
			p := difftest.Start(t, conf, "lua")
			raw := "GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
			if ng, gr := fetch(t, p.Nginx.Addr, raw), fetch(t, p.Gresty.Addr, raw); ng != gr {
				t.Errorf("responses differ\nnginx:\n%s\ngresty:\n%s", ng, gr)
			}
			pick := func(log string) string {
				for _, l := range strings.Split(log, "\n") {
					if i := strings.Index(l, "init_worker_by_lua"); i >= 0 && strings.Contains(l, "[error]") {
						return l[i:]
					}
				}
				return ""
			}
			ng, gr := pick(p.Nginx.ErrorLog()), pick(p.Gresty.ErrorLog())
			if ng == "" || ng != gr {
				t.Errorf("error log differs\nnginx:  %q\ngresty: %q", ng, gr)
			}
		})
	}
}
