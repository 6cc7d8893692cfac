package lua_test

import (
	"strings"
	"testing"
)

// ngx.req.* and ngx.var against OpenResty.
func TestReqAPIMatchesOpenResty(t *testing.T) {
	lua := func(code string) string { return "content_by_lua_block {\n" + code + "\n}" }
	dump := `
local function dump(t)
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    table.sort(keys)
    local out = {}
    for _, k in ipairs(keys) do
        local v = t[k]
        if type(v) == "table" then
            local vs = {}
            for i, x in ipairs(v) do vs[i] = tostring(x) end
            v = "{" .. table.concat(vs, ",") .. "}"
        end
        out[#out + 1] = k .. "=" .. tostring(v)
    end
    return table.concat(out, " ")
end
`
	cases := []luaCase{
		{name: "method", conf: lua(`ngx.say(ngx.req.get_method())`),
			reqs: []string{get(""), post("", "x"), "DELETE %P HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
				"FOO %P HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", "HEAD %P HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"}},
		{name: "set-method", conf: lua(`ngx.req.set_method(ngx.HTTP_PUT) ngx.say(ngx.req.get_method(), " ", ngx.var.request_method)`)},
		{name: "set-method-bad", conf: lua(`
local ok, err = pcall(ngx.req.set_method, 3) ngx.say(err)
ok, err = pcall(ngx.req.set_method, "GET") ngx.say(err)`)},
		{name: "uri-args", conf: lua(dump + `ngx.say(dump(ngx.req.get_uri_args()))`),
			reqs: []string{get("?a=1&b=2&a=3&c&d=&=e&f=%20x+y%zz"), get(""), get("?"), get("?&&&"), get("?a==b")}},
		{name: "uri-args-max", conf: lua(dump + `local t, err = ngx.req.get_uri_args(2) ngx.say(dump(t), " ", tostring(err))`),
			reqs: []string{get("?a=1&b=2&c=3"), get("?a=1&b=2"), get("?a&b&c&d")}},
		{name: "uri-args-unlimited", conf: lua(`local t = ngx.req.get_uri_args(0) local n = 0 for _ in pairs(t) do n = n + 1 end ngx.say(n)`),
			reqs: []string{get("?" + strings.Repeat("k=v&", 150))}},
		{name: "uri-args-default-max", conf: lua(`local t, err = ngx.req.get_uri_args() local n = 0 for _ in pairs(t) do n = n + 1 end ngx.say(n, " ", err)`),
			reqs: []string{get("?" + argList(120))}},
		{name: "uri-args-tab", conf: lua(dump + `local t = {x = 1, 5, 6} local r = ngx.req.get_uri_args(nil, t) ngx.say(r == t, " ", dump(t))`),
			reqs: []string{get("?a=1&b")}},
		{name: "set-uri-args", conf: lua(`
ngx.req.set_uri_args("a=1 2&b=\1")
ngx.say(ngx.var.args)
ngx.req.set_uri_args({foo = "bar baz"})
ngx.say(ngx.var.args, " ", ngx.var.arg_foo)
ngx.req.set_uri_args(12)
ngx.say(ngx.var.args)
ngx.req.set_uri_args({x = {"1", "2"}})
ngx.say(ngx.var.args)
ngx.req.set_uri_args({y = true, z = false})
ngx.say(ngx.var.args)`)},
		{name: "set-uri-args-bad", conf: lua(`
local ok, err = pcall(ngx.req.set_uri_args, true) ngx.say(err)
ok, err = pcall(ngx.req.set_uri_args) ngx.say(err)
ok, err = pcall(ngx.req.set_uri_args, {[1] = "a"}) ngx.say(err)
ok, err = pcall(ngx.req.set_uri_args, {a = {}}) ngx.say(ok, " ", ngx.var.args)
ok, err = pcall(ngx.req.set_uri_args, {a = function() end}) ngx.say(err)`)},
		{name: "set-uri", conf: lua(`ngx.req.set_uri("/foo/bar.html") ngx.say(ngx.var.uri, " ", ngx.req.is_internal())`)},
		{name: "set-uri-bad", conf: lua(`
local ok, err = pcall(ngx.req.set_uri, "") ngx.say(err)
ok, err = pcall(ngx.req.set_uri, "/a\nb") ngx.say(err)
ok, err = pcall(ngx.req.set_uri, "/a\nb", false, true) ngx.say(ok, " ", #ngx.var.uri)
ok, err = pcall(ngx.req.set_uri, "/x", true) ngx.say(err)
ok, err = pcall(ngx.req.set_uri) ngx.say(err)`)},
		{name: "set-uri-jump", conf: `rewrite_by_lua_block { ngx.req.set_uri("/jumped", true) ngx.log(ngx.ERR, "not reached") }`, log: true},
		{name: "set-uri-nojump", conf: `rewrite_by_lua_block { ngx.req.set_uri("/jumped") }` + "\n" + lua(`ngx.say("still here: ", ngx.var.uri)`)},
		{name: "headers", conf: lua(dump + `ngx.say(dump(ngx.req.get_headers()))`),
			reqs: []string{get("", "X-Foo: 1\r\n", "x-foo: 2\r\n", "My-Header: v\r\n")}},
		{name: "headers-known", conf: lua(dump + `local h = ngx.req.get_headers() ngx.say(dump(h), " ", h.user_agent, " ", h["X-FORWARDED-FOR"])`),
			reqs: []string{get("", "USER-agent: t\r\n", "x-Forwarded-FOR: 9\r\n", "Accept: a\r\n", "ACCEPT: b\r\n", "cookie: c=1\r\n")}},
		{name: "headers-raw", conf: lua(dump + `ngx.say(dump(ngx.req.get_headers(nil, true)))`),
			reqs: []string{get("", "X-Foo: 1\r\n", "My-HEADER: v\r\n")}},
		{name: "headers-index", conf: lua(`local h = ngx.req.get_headers() ngx.say(h.my_header, " ", h["My-Header"], " ", h.MY_HEADER)`),
			reqs: []string{get("", "My-Header: v\r\n")}},
		{name: "headers-max", conf: lua(dump + `local h, err = ngx.req.get_headers(2) ngx.say(dump(h), " ", tostring(err))`),
			reqs: []string{get("", "A: 1\r\n", "B: 2\r\n")}},
		{name: "set-header", conf: lua(dump + `
ngx.req.set_header("X-New", "v1")
ngx.req.set_header("x-foo", {"a", "b"})
ngx.req.set_header("User-Agent", "lua")
ngx.req.clear_header("X-Gone")
ngx.say(dump(ngx.req.get_headers()))
ngx.say(ngx.var.http_x_new, " ", ngx.var.http_user_agent, " ", tostring(ngx.var.http_x_gone))`),
			reqs: []string{get("", "X-Foo: 1\r\n", "X-Gone: 1\r\n", "X-Gone: 2\r\n", "User-Agent: curl\r\n")}},
		{name: "set-header-host", conf: lua(`
ngx.req.set_header("Host", "Example.COM:8080")
ngx.say(ngx.var.host, " ", ngx.var.http_host)
local ok, err = pcall(ngx.req.set_header, "Host", "a/b")
-- lua-resty-core raises this one from its own file: compare the text.
ngx.say(ok, " ", err:match("failed to set header$"))`)},
		{name: "set-header-bad", conf: lua(`
local ok, err = pcall(ngx.req.set_header, nil, "v") ngx.say(err)
ok, err = pcall(ngx.req.set_header, "X", nil) ngx.say(ok)
ok, err = pcall(ngx.req.set_header, "Content-Length", "abc") ngx.say(ok, " ", err:match("failed to set header$"))
ngx.req.set_header(12, 34) ngx.say(ngx.req.get_headers()["12"])`)},
		{name: "set-header-escape", conf: lua(`ngx.req.set_header("X-A", "b\r\nc") ngx.say(ngx.var.http_x_a)`)},
		{name: "raw-header", conf: lua(`ngx.print(ngx.req.raw_header()) ngx.print(ngx.req.raw_header(true))`),
			reqs: []string{"GET %P?x=1 HTTP/1.1\r\nHost: localhost\r\nX-A:  b \r\nConnection: close\r\n\r\n",
				"GET %P HTTP/1.0\nHost: localhost\n\n"}},
		{name: "http-version", conf: lua(`ngx.say(ngx.req.http_version())`),
			reqs: []string{get(""), "GET %P HTTP/1.0\r\n\r\n"}},
		{name: "start-time", conf: lua(`local t = ngx.req.start_time() ngx.say(type(t), " ", t > 1000000000, " ", t == math.floor(t * 1000) / 1000)`)},
		{name: "is-internal", conf: lua(`ngx.say(ngx.req.is_internal())`)},
		{name: "var-read", conf: "set $myvar hello;\n" + lua(`
ngx.say(ngx.var.myvar, " ", ngx.var.MyVar, " ", ngx.var.uri, " ", ngx.var.args, " ", ngx.var.arg_a, " ", ngx.var.http_x_foo)
ngx.say(ngx.var.cookie_c, " ", ngx.var.request_method, " ", tostring(ngx.var.no_such_var), " ", ngx.var.is_args)`),
			reqs: []string{get("?a=1", "X-Foo: bar\r\n", "Cookie: c=v; d=w\r\n")}},
		{name: "var-write", conf: "set $myvar '';\n" + lua(`
ngx.var.myvar = "x" ngx.say(ngx.var.myvar)
ngx.var.myvar = 12 ngx.say(ngx.var.myvar)
ngx.var.myvar = nil ngx.say(tostring(ngx.var.myvar))
ngx.var.args = "q=1" ngx.say(ngx.var.args, " ", ngx.var.arg_q)
ngx.var.limit_rate = 1000
local ok, err = pcall(function() ngx.var.uri = "/x" end) ngx.say(err)
ok, err = pcall(function() ngx.var.undefined_one = "/x" end) ngx.say(err)
ok, err = pcall(function() ngx.var.http_foo = "/x" end) ngx.say(err)
ok, err = pcall(function() ngx.var[1] = "/x" end) ngx.say(err)
ok, err = pcall(function() return ngx.var[true] end) ngx.say(err)`)},
		{name: "post-args", conf: "lua_need_request_body on;\n" + lua(dump+`local a, err = ngx.req.get_post_args() ngx.say(dump(a), " ", tostring(err))`),
			reqs: []string{post("", "a=1&b=%20c+d&a=2&e&=x"), post("", ""), post("", "a=1&b=2&c=3")}},
		{name: "post-args-max", conf: "lua_need_request_body on;\n" + lua(dump+`local a, err = ngx.req.get_post_args(2) ngx.say(dump(a), " ", tostring(err))`),
			reqs: []string{post("", "a=1&b=2&c=3"), post("", "a=1&b=2")}},
		{name: "post-args-unread", conf: lua(`local ok, err = pcall(ngx.req.get_post_args) ngx.say(err)`), reqs: []string{post("", "a=1")}},
		{name: "read-body", conf: lua(`ngx.req.read_body() ngx.say(ngx.req.get_body_data(), " ", tostring(ngx.req.get_body_file()))`),
			reqs: []string{post("", "hello body"), get("")}},
		{name: "read-body-slow", conf: lua(`ngx.req.read_body() ngx.say(ngx.req.get_body_data())`),
			reqs: []string{"POST %P HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789"}},
		{name: "read-body-rewrite", conf: `rewrite_by_lua_block { ngx.req.read_body() ngx.ctx.b = ngx.req.get_body_data() }` + "\n" + lua(`ngx.say("got ", ngx.ctx.b)`),
			reqs: []string{post("", "in rewrite")}},
		{name: "read-body-file", conf: "client_body_buffer_size 4;\n" + lua(`
ngx.req.read_body()
local f = ngx.req.get_body_file()
ngx.say(tostring(ngx.req.get_body_data()), " ", f ~= nil)
local fh = io.open(f) ngx.say(#fh:read("*a")) fh:close()`), reqs: []string{post("", strings.Repeat("0123456789", 300))}},
		{name: "discard-body", conf: lua(`ngx.req.discard_body() ngx.say(tostring(ngx.req.get_body_data()))`), reqs: []string{post("", "dropped")}},
		{name: "set-body-data", conf: lua(`
ngx.req.read_body()
ngx.req.set_body_data("new body")
ngx.say(ngx.req.get_body_data(), " ", ngx.var.http_content_length, " ", ngx.var.request_body)`), reqs: []string{post("", "old")}},
		{name: "set-body-unread", conf: lua(`local ok, err = pcall(ngx.req.set_body_data, "x") ngx.say(err)`), reqs: []string{post("", "old")}},
		{name: "body-builder", conf: lua(`
ngx.req.read_body()
ngx.req.init_body()
ngx.req.append_body("hello, ")
ngx.req.append_body("world")
ngx.req.finish_body()
ngx.say(ngx.req.get_body_data(), " ", ngx.var.http_content_length)`), reqs: []string{post("", "old")}},
		{name: "body-builder-file", conf: lua(`
ngx.req.read_body()
ngx.req.init_body(4)
ngx.req.append_body("abc")
ngx.req.append_body("defgh")
ngx.req.finish_body()
ngx.say(tostring(ngx.req.get_body_data()), " ", ngx.var.http_content_length)
local fh = io.open(ngx.req.get_body_file()) ngx.say(fh:read("*a")) fh:close()`), reqs: []string{post("", "old")}},
		{name: "body-builder-bad", conf: lua(`
ngx.req.read_body()
local ok, err = pcall(ngx.req.append_body, "x") ngx.say(err)
ok, err = pcall(ngx.req.init_body, -1) ngx.say(err)
ok, err = pcall(ngx.req.finish_body) ngx.say(err)`), reqs: []string{post("", "old")}},
		{name: "special-headers", conf: lua(`
ngx.req.set_header("Cookie", {"a=1", "b=2"})
ngx.req.set_header("Content-Length", "5")
ngx.req.clear_header("Host")
ngx.say(ngx.var.cookie_b, " ", ngx.var.http_cookie, " ", ngx.var.content_length, " ", ngx.var.host, " ", tostring(ngx.var.http_host))`),
			reqs: []string{get("", "Cookie: z=9\r\n")}},
		{name: "add-header", conf: lua(dump + `
local req = require "ngx.req"
req.add_header("X-A", "1")
req.add_header("x-a", {"2", "3"})
ngx.say(dump(ngx.req.get_headers()))
local ok, err = pcall(req.add_header, "X-B", {}) ngx.say(err)`), reqs: []string{get("", "X-A: 0\r\n")}},
		{name: "read-body-chunked", conf: lua(`ngx.req.read_body() ngx.say(ngx.req.get_body_data(), " ", tostring(ngx.var.http_content_length))`),
			reqs: []string{"POST %P HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"}},
		{name: "read-body-expect", conf: lua(`ngx.req.read_body() ngx.say(ngx.req.get_body_data())`),
			reqs: []string{"POST %P HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody"}},
		{name: "discard-then-read", conf: lua(`ngx.req.discard_body() ngx.req.read_body() local ok, a = pcall(ngx.req.get_post_args) ngx.say(tostring(ngx.req.get_body_data()), " ", ok, " ", next(a) == nil)`),
			reqs: []string{post("", "a=1")}},
		{name: "set-body-file", conf: lua(`
ngx.req.read_body()
local name = os.tmpname()
local f = io.open(name, "w") f:write("from a file") f:close()
ngx.req.set_body_file(name, true)
ngx.say(tostring(ngx.req.get_body_data()), " ", ngx.var.http_content_length, " ", io.open(name) ~= nil)
local ok, err = pcall(ngx.req.set_body_file, "/nonexistent/file")
ngx.say(err)`), reqs: []string{post("", "old")}},
		{name: "read-body-args", conf: lua(`local ok, err = pcall(ngx.req.read_body, 1) ngx.say(err)`)},
	}
	runLuaCases(t, "", "", cases)
}

// argList is n "kI=vI" pairs joined by '&'.
func argList(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString("k")
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(strings.Repeat("x", i/26))
		b.WriteString("=v")
	}
	return b.String()
}
