package lua_test

import "testing"

// ngx.header, ngx.resp.get_headers, ngx.send_headers, ngx.headers_sent
// and ngx.status against OpenResty.
func TestRespHeadersMatchOpenResty(t *testing.T) {
	lua := func(code string) string { return "content_by_lua_block {\n" + code + "\n}" }
	cases := []luaCase{
		{name: "set", conf: lua(`ngx.header["X-Foo"] = "bar" ngx.header.X_Bar = 12 ngx.say("ok")`)},
		{name: "multi", conf: lua(`ngx.header.Foo = {"a", "b", 3} ngx.say(type(ngx.header.foo), " ", table.concat(ngx.header.Foo, ","))`)},
		{name: "override", conf: lua(`ngx.header.Foo = {"a", "b"} ngx.header.foo = "c" ngx.say(ngx.header.FOO)`)},
		{name: "clear-nil", conf: lua(`ngx.header.Foo = "a" ngx.header.Foo = nil ngx.say(ngx.header.Foo)`)},
		{name: "clear-empty-table", conf: lua(`ngx.header.Foo = {"a", "b"} ngx.header.Foo = {} ngx.say(ngx.header.Foo)`)},
		{name: "empty-string", conf: lua(`ngx.header.Foo = "a" ngx.header.Foo = "" ngx.say(tostring(ngx.header.Foo))`)},
		{name: "get-missing", conf: lua(`ngx.say(ngx.header.Nothing, " ", ngx.header["X-Y"])`)},
		{name: "underscores", conf: lua(`ngx.header.x_my_header = "1" ngx.say(ngx.header["X-My-Header"], ngx.header.x_my_header)`)},
		{name: "no-transform", conf: "lua_transform_underscores_in_response_headers off;\n" +
			lua(`ngx.header.x_my_header = "1" ngx.say(ngx.header["X-My-Header"], ngx.header.x_my_header)`)},
		{name: "content-type", conf: lua(`ngx.header.content_type = "text/html; charset=utf-8" ngx.say(ngx.header.content_type)`)},
		{name: "content-type-nil", conf: lua(`ngx.header.content_type = nil ngx.say("no type")`)},
		{name: "content-type-default", conf: lua(`ngx.say(ngx.header.content_type)`)},
		{name: "content-type-after", conf: lua(`ngx.say("hi") ngx.say(ngx.header.content_type)`)},
		{name: "content-length", conf: lua(`ngx.header.content_length = 3 ngx.print("abc")`)},
		{name: "content-length-read", conf: lua(`ngx.header["Content-Length"] = "5" ngx.print(ngx.header.content_length, "!!!")`)},
		{name: "content-length-bad", conf: lua(`local ok, err = pcall(function() ngx.header.content_length = "abc" end) ngx.say(ok, " ", err)`), log: true},
		{name: "content-length-clear", conf: lua(`ngx.header.content_length = 5 ngx.header.content_length = nil ngx.say("hello")`)},
		{name: "last-modified", conf: lua(`ngx.header.last_modified = "Thu, 01 Jan 1970 00:00:10 GMT" ngx.say(ngx.header.last_modified)`)},
		{name: "last-modified-bad", conf: lua(`ngx.header.last_modified = "garbage" ngx.say(tostring(ngx.header.last_modified))`)},
		{name: "location-rel", conf: lua(`ngx.header.location = "/foo" ngx.say(ngx.header.location)`)},
		{name: "location-abs", conf: lua(`ngx.header.Location = "http://a.com/b" ngx.status = 301 ngx.say(ngx.header.Location)`)},
		{name: "server-date", conf: lua(`ngx.header.Server = "myserver" ngx.say(ngx.header.server)`)},
		{name: "server-clear", conf: lua(`ngx.header.Server = nil ngx.say("x")`)},
		{name: "cache-control", conf: lua(`ngx.header.cache_control = {"no-cache", "no-store"} ngx.header["Cache-Control"] = "private" ngx.say(ngx.header.cache_control)`)},
		{name: "link", conf: lua(`ngx.header.Link = {"<a>", "<b>"} ngx.say(table.concat(ngx.header.link, " "))`)},
		{name: "etag", conf: lua(`ngx.header.ETag = '"abc"' ngx.header.etag = '"def"' ngx.say(ngx.header.ETag)`)},
		{name: "escape", conf: lua(`ngx.header["X-A b"] = "v\r\nX-Injected: 1" ngx.say("ok")`)},
		{name: "numeric-key", conf: lua(`ngx.header[123] = "num" ngx.say(ngx.header[123])`)},
		{name: "bool-value", conf: lua(`ngx.header.Foo = true ngx.say(ngx.header.Foo)`)},
		{name: "after-sent", conf: lua(`ngx.say("first") ngx.header.Foo = "late" ngx.say(tostring(ngx.header.Foo))`), log: true},
		{name: "resp-get-headers", conf: lua(`
ngx.header.Foo = "a" ngx.header.Bar = {"1", "2"}
local h = ngx.resp.get_headers()
local keys = {}
for k, v in pairs(h) do keys[#keys + 1] = k .. "=" .. (type(v) == "table" and table.concat(v, ",") or v) end
table.sort(keys)
ngx.say(table.concat(keys, ";"))
ngx.say(h.FOO, " ", h.foo, " ", tostring(h["no_such"]))`)},
		{name: "resp-get-headers-raw", conf: lua(`
ngx.header["X-Mixed-Case"] = "v"
local h = ngx.resp.get_headers(nil, true)
ngx.say(h["X-Mixed-Case"], " ", tostring(h["x-mixed-case"]))`)},
		{name: "resp-get-headers-max", conf: lua(`
for i = 1, 5 do ngx.header["X-H" .. i] = i end
local h, err = ngx.resp.get_headers(3)
local n = 0 for _ in pairs(h) do n = n + 1 end
ngx.say(n, " ", err)`)},
		{name: "send-headers", conf: lua(`
ngx.status = 201 ngx.header.Foo = "x"
ngx.say(tostring(ngx.headers_sent))
ngx.send_headers()
ngx.say(tostring(ngx.headers_sent))`)},
		{name: "send-headers-twice", conf: lua(`ngx.send_headers() local ok = ngx.send_headers() ngx.say(ok)`)},
		{name: "status-set", conf: lua(`ngx.status = 404 ngx.say("not here")`)},
		{name: "status-string", conf: lua(`ngx.status = "202" ngx.say(ngx.status)`)},
		{name: "status-float", conf: lua(`ngx.status = 203.7 ngx.say(ngx.status)`)},
		{name: "status-late", conf: lua(`ngx.say("x") ngx.status = 500 ngx.say(ngx.status)`), log: true},
		{name: "status-read", conf: lua(`ngx.say(ngx.status)`)},
		{name: "status-101", conf: lua(`ngx.status = 101 ngx.send_headers()`)},
		{name: "header-filter", conf: lua(`ngx.say("body")`) + `
header_filter_by_lua_block {
    ngx.header.X_Filter = ngx.status
    ngx.header.content_length = nil
    ngx.header.content_type = "text/x-filtered"
}`},
		{name: "header-filter-status", conf: "return 404;\nheader_filter_by_lua_block { ngx.status = 200 ngx.header.X_Was = 'changed' }"},
		{name: "resp-add-header", conf: lua(`
local resp = require "ngx.resp"
ngx.header.Foo = "a"
resp.add_header("Foo", "b")
resp.add_header("Foo", {"c", "d"})
ngx.say(table.concat(ngx.header.Foo, ","))`)},
		{name: "head-request", conf: lua(`ngx.header.Foo = "head" ngx.say("not sent")`),
			reqs: []string{"HEAD %P HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"}},
		{name: "http10", conf: lua(`ngx.header.Foo = "v" ngx.say("buffered") ngx.say("twice")`),
			reqs: []string{"GET %P HTTP/1.0\r\n\r\n"}},
		{name: "is-subrequest", conf: lua(`ngx.say(ngx.is_subrequest)`)},
	}
	runLuaCases(t, "", "", cases)
}
