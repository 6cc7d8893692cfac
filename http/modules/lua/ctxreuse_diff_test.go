package lua_test

import "testing"

// TestLuaCtxReuseDiff runs requests one after the other through
// locations whose Lua code leaves state in its request context (ngx.ctx,
// headers sent, the end of output, an error, ngx.exit) and checks that no
// later request sees any of it, and that log_by_lua still finds the
// request's ngx.ctx after the request's cleanups: a loop reuses the
// context of a request whose code never waited.
func TestLuaCtxReuseDiff(t *testing.T) {
	count := `content_by_lua_block {
                ngx.ctx.n = (ngx.ctx.n or 0) + 1
                ngx.say("n=", ngx.ctx.n, " sent=", tostring(ngx.headers_sent))
            }`
	cases := []luaCase{
		{name: "count1", conf: count, reqs: []string{get(""), get(""), get("")}},
		{name: "sent", log: true, conf: `content_by_lua_block {
                ngx.say("a")
                ngx.header["X-Late"] = "b"
                ngx.log(ngx.WARN, "sent=", tostring(ngx.headers_sent))
            }`},
		{name: "fresh", log: true, conf: `content_by_lua_block {
                ngx.log(ngx.WARN, "sent=", tostring(ngx.headers_sent), " ctx=", tostring(next(ngx.ctx)))
                ngx.header["X-Early"] = "c"
                ngx.say("ok")
            }`, reqs: []string{get(""), get("")}},
		{name: "eof", log: true, conf: `content_by_lua_block {
                local ok, err = ngx.print("x")
                ngx.log(ngx.WARN, "first ", tostring(ok), " ", tostring(err))
                ngx.eof()
                ok, err = ngx.say("y")
                ngx.log(ngx.WARN, "after eof ", tostring(ok), " ", tostring(err))
            }`, reqs: []string{get(""), get(""), get("")}},
		{name: "logctx", log: true, conf: `content_by_lua_block {
                ngx.ctx.v = ngx.var.arg_v
                ngx.say("v=", ngx.ctx.v)
            }
            log_by_lua_block { ngx.log(ngx.WARN, "log v=", tostring(ngx.ctx.v)) }`,
			reqs: []string{get("?v=1"), get("?v=2"), get("")}},
		{name: "fail", log: true, conf: `content_by_lua_block {
                ngx.ctx.n = 5
                error("boom")
            }`, reqs: []string{get(""), get("")}},
		{name: "exit", conf: `content_by_lua_block {
                ngx.ctx.n = 7
                ngx.status = 201
                ngx.say("exit")
                ngx.exit(ngx.HTTP_OK)
            }`, reqs: []string{get(""), get("")}},
		{name: "rewrite", conf: `rewrite_by_lua_block { ngx.ctx.n = 1 }
            ` + count, reqs: []string{get(""), get("")}},
		{name: "count2", conf: count, reqs: []string{get(""), get("")}},
	}
	runLuaCases(t, "", "", cases)
}
