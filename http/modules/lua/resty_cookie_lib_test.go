package lua_test

import (
	"strings"
	"testing"

	"gresty/internal/difftest"
)

// lua-resty-cookie (Debian's nginx.cookie), unmodified, on ngx.var and
// ngx.header: the library keeps the ngx.header table it found when it was
// first loaded and uses it in every later request. The responses are
// compared with nginx's and the Set-Cookie headers with the ones the
// library's attributes call for.
func TestRestyCookie(t *testing.T) {
	needRestyLib(t, "nginx/cookie.lua")
	const prelude = `local ck = require "nginx.cookie"
local cookie, err = ck:new()
if not cookie then ngx.say("new: ", err) return end
`
	cases := []struct {
		name string
		code string
		reqs []string
		// setCookie is the Set-Cookie headers the last request must get.
		setCookie []string
		// body is what the last request's body must hold.
		body string
	}{
		{name: "get-all", code: `local all, err = cookie:get_all()
if not all then ngx.say("err: ", err) return end
local keys = {}
for k in pairs(all) do keys[#keys + 1] = k end
table.sort(keys)
for _, k in ipairs(keys) do ngx.say(k, "=[", all[k], "]") end`,
			reqs: []string{get("", "Cookie: a=1; b=two;\tc=x=y;  d=\r\n")},
			body: "a=[1]\nb=[two]\nc=[x=y]\nd=[]\n"},
		{name: "get-none", code: `ngx.say(cookie:get("a"))
ngx.say(cookie:get_all())`,
			body: "nilno cookie found in the current request\nnilno cookie found in the current request\n"},
		{name: "get", code: `ngx.say(cookie:get("session"), " ", tostring(cookie:get("missing")))
ngx.say(cookie:get("last"))`,
			reqs: []string{get("", "Cookie: a=1\r\n"), get("", "Cookie: session=abc123; last=z\r\n")},
			body: "abc123 nil\nz\n"},
		{name: "set", code: `local out = {}
local function try(c) out[#out + 1] = table.concat({tostring(cookie:set(c))}, " ") end
try{key = "plain", value = "v"}
try{key = "full", value = "x y", path = "/p", domain = "example.test",
    expires = ngx.cookie_time(1700000000), max_age = 50, secure = true, httponly = true,
    extension = "SameSite=Strict"}
try{key = "alias", value = "1", ["max-age"] = 0, samesite = "Lax"}
try{key = "plain", value = "v"}
local ok, err = cookie:set{key = "nokey"}
out[#out + 1] = tostring(ok) .. " " .. err
ngx.say(table.concat(out, "\n"))`,
			reqs: []string{get(""), get("")},
			setCookie: []string{
				"plain=v",
				"full=x y; Expires=Tue, 14-Nov-23 22:13:20 GMT; Max-Age=50; Domain=example.test; Path=/p; Secure; HttpOnly; SameSite=Strict",
				"alias=1; Max-Age=0",
			},
			body: "true\ntrue\ntrue\ntrue\nnil missing cookie field \"key\" or \"value\"\n"},
		{name: "set-after-header", code: `ngx.header["Set-Cookie"] = "first=1; Path=/"
local a = cookie:set{key = "first", value = "1", path = "/"}
local b = cookie:set{key = "second", value = "2", secure = true}
ngx.say(a, " ", b, " ", type(ngx.header["Set-Cookie"]))`,
			setCookie: []string{"first=1; Path=/", "second=2; Secure"},
			body:      "true true table\n"},
		{name: "set-same", code: `ngx.header["Set-Cookie"] = "only=1"
ngx.say(cookie:set{key = "only", value = "1"})`,
			setCookie: []string{"only=1"},
			body:      "true\n"},
		{name: "set-late", code: `ngx.say("body first")
ngx.say(cookie:set{key = "late", value = "1"})`,
			reqs: []string{get("", "Cookie: late=0\r\n")},
			body: "body first\ntrue\n"},
	}
	var lcs []luaCase
	for _, c := range cases {
		lcs = append(lcs, luaCase{name: c.name, reqs: c.reqs, log: true,
			conf: "content_by_lua_block {\n" + prelude + c.code + "\n}"})
	}
	p := runLuaCases(t, `lua_package_path "`+restyLibDir+`/?.lua;;";`, "", lcs)
	for _, c := range cases {
		raw := get("")
		if len(c.reqs) > 0 {
			raw = c.reqs[len(c.reqs)-1]
		}
		r := difftest.Fetch(t, p.Gresty.Addr, strings.ReplaceAll(raw, "%P", "/"+c.name))
		if got := r.Header.Values("Set-Cookie"); strings.Join(got, "\n") != strings.Join(c.setCookie, "\n") {
			t.Errorf("%s: Set-Cookie\n%q\nwant\n%q", c.name, got, c.setCookie)
		}
		if string(r.Body) != c.body {
			t.Errorf("%s: body %q, want %q", c.name, r.Body, c.body)
		}
	}
}
