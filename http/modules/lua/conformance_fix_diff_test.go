package lua_test

import "testing"

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
