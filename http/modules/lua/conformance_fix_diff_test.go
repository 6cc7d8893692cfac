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

// TestOutputTablesDiff checks ngx.say and ngx.print of tables: holes
// print as "nil", booleans and ngx.null as words, nested tables flatten;
// a key that is not a positive integer, or an element of another type,
// fails the call.
func TestOutputTablesDiff(t *testing.T) {
	runLuaCases(t, "", "", []luaCase{
		{name: "holes", conf: `content_by_lua_block { ngx.say({"hello", nil, true, false, 32.5, 56, ngx.null}) }`, log: true},
		{name: "nested", conf: `content_by_lua_block {
            local t = {"a", nil, 3}
            ngx.print({t, "--", {t, {}}, "\n"})
        }`, log: true},
		{name: "sparse", conf: `content_by_lua_block { ngx.say({[1] = "a", [4] = "d"}) }`, log: true},
		{name: "nonarray", conf: `content_by_lua_block { ngx.say({foo = 3}) }`, log: true},
		{name: "nested-nonarray", conf: `content_by_lua_block { ngx.say({"x", {1.5, [2.5] = 1}}) }`, log: true},
		{name: "badtype", conf: `content_by_lua_block { ngx.say({1, 3, function() end}) }`, log: true},
		{name: "secondarg", conf: `content_by_lua_block { ngx.print("ok ", {print}) }`, log: true},
	})
}

// TestUTF8NamesDiff checks that names may hold UTF-8 (LuaJIT takes bytes
// from 0x80 as letters): locals, fields, methods, parameters, globals and
// ngx.var names, and the error messages that quote them.
func TestUTF8NamesDiff(t *testing.T) {
	runLuaCases(t, "", "", []luaCase{
		{name: "names", conf: `content_by_lua_block {
            local 语言 = "x"
            local t = {名 = 1}
            t.字段 = 2
            function t:方法(参数) return 参数 .. self.名 end
            ngx.say(语言, t.名, t["字段"], t:方法("p"))
            for 键, 值 in ipairs({"v"}) do ngx.say(键, 值) end
            ngx.say("__u8 stays as written")
            全局 = 5
            ngx.say(_G["全局"])
        }`, log: true},
		{name: "var", conf: `rewrite_by_lua_block { ngx.req.set_uri_args("语言=中文") }
            content_by_lua_block { ngx.say(ngx.var.arg_语言) }`, log: true},
		{name: "error", conf: `content_by_lua_block { local 变量 = nil; 变量.x = 1 }`, log: true},
	})
}

// TestContentInheritedDiff checks where content_by_lua's code serves: an
// if block of its location keeps it, a nested location does not (ngx_lua
// inherits the code, the core does not inherit the handler).
func TestContentInheritedDiff(t *testing.T) {
	srv := `        location /inh/ {
            set $true 1;
            if ($true) {
                # nothing
            }
            content_by_lua_block { ngx.say("inherited ", ngx.var.uri) }
            location /inh/sub/ {
                return 200 "nested $uri\n";
            }
            location /inh/static/ {
            }
        }`
	raw := func(path string) string {
		return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
	}
	runLuaCases(t, "", srv, []luaCase{
		{name: "inh", conf: `return 204;`, reqs: []string{raw("/inh/t"), raw("/inh/sub/x"), raw("/inh/static/none")}},
	})
}

// TestNoPostponeDiff checks rewrite_by_lua_no_postpone and
// access_by_lua_no_postpone: the Lua handlers run before the rewrite
// module's directives and before allow/deny.
func TestNoPostponeDiff(t *testing.T) {
	runLuaCases(t, "    rewrite_by_lua_no_postpone on;\n    access_by_lua_no_postpone on;", "        set $foo '';", []luaCase{
		{name: "rewrite", conf: `rewrite_by_lua_block { ngx.var.foo = 1 }
            if ($foo = 1) {
                return 200 "foo: $foo\n";
            }
            return 200 "no foo: $foo\n";`},
		{name: "access", conf: `deny all;
            access_by_lua_block { return ngx.exit(204) }`, log: true},
	})
}

// TestWrapTracebackDiff checks the traceback of an error that comes up
// through coroutine.wrap: a section per coroutine, the failed one first;
// an error coroutine.resume returned adds none.
func TestWrapTracebackDiff(t *testing.T) {
	runLuaCases(t, "", "", []luaCase{
		{name: "nested", conf: `content_by_lua_block {
            local f = function(cr) coroutine.resume(cr) end
            local g = function() unknown.unknown = 1 end
            local l1 = coroutine.wrap(f)
            local l2 = coroutine.wrap(g)
            local l3 = coroutine.wrap(function() l1(l2) end)
            l3()
            ngx.say("hello")
        }`, log: true},
		{name: "wrap", conf: `content_by_lua_block {
            local function f() local x = nil; return x.y end
            local w = coroutine.wrap(function() f() end)
            w()
        }`, log: true},
		{name: "caught", conf: `content_by_lua_block {
            local co = coroutine.create(function() error("inside") end)
            local w = coroutine.wrap(function()
                ngx.say(coroutine.resume(co))
                local ok, err = pcall(error, "caught")
                ngx.say(ok, " ", err)
            end)
            w()
            local x = nil
            return x.y
        }`, log: true},
		// a Lua function that tail-calls error is gone from the stack:
		// the error's position is its caller's, the Go frame goes by
		// its name.
		{name: "tailcall", conf: `content_by_lua_block {
            local function func1()
                return error([[blah]])
            end
            local function func2()
                local v = func1()
                return v
            end
            func2()
        }`, log: true},
		// in a header filter Lua's own wrapper runs: the message gets
		// the position of the wrapper's call.
		{name: "filter", conf: `return 200;
            header_filter_by_lua_block {
                local co = coroutine.wrap(function() error("something went wrong") end)
                local err = co()
            }`, log: true},
	})
}
