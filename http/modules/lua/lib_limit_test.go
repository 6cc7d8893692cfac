package lua_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// restyLibSnippets exercise resty.lock and resty.limit.*. The expected
// answers are what Debian's OpenResty printed with the original Lua
// libraries (lua-resty-lock 0.09, whose _VERSION says 0.08, and
// lua-resty-limit-traffic 0.08) on its lua_package_path, less the
// library file positions in error messages (see restyLibPos). Those libraries are no Debian package; set
// GRESTY_RESTY_LIB to a directory holding them (resty/lock.lua,
// resty/limit/*.lua) to check the expectations against nginx again.
var restyLibSnippets = []struct{ name, code, want string }{
	{"lock basics", `
		local lock = require "resty.lock"
		show(lock._VERSION) show(lock:new("nope"))
		local l = lock:new("locks")
		show(type(l), l.timeout, l.exptime, l.step, l.ratio, l.max_step, type(l.dict))
		local l2 = lock:new("locks", {timeout = 0.01, exptime = 0.05, step = 0.5, ratio = 3, max_step = 0.2})
		show(l2.timeout, l2.exptime, l2.step, l2.ratio, l2.max_step)
		local l3 = lock:new("locks", {timeout = 60, step = 45})
		show(l3.timeout, l3.exptime, l3.step)
		show(l:lock(nil)) show(l:lock(false)) show(l:unlock()) show(l:expire())
		show(l:lock("k")) show(l.key) show(l:lock("k")) show(l:lock("other"))
		show(ngx.shared.locks:get("k")) show(ngx.shared.locks:ttl("k"))
		show(l:expire(10)) show(ngx.shared.locks:ttl("k")) show(l:expire()) show(ngx.shared.locks:ttl("k"))
		show(l:unlock()) show(l:unlock()) show(ngx.shared.locks:get("k"))
		show(l:lock("")) show(l:lock(12)) show(ngx.shared.locks:get("12")) show(l:unlock())
		ngx.shared.locks:set("plain", 1)
		local p = lock:new("locks", {timeout = 0})
		show(p:lock("plain"))`,
		`1 0.08
2 nil dictionary not found
7 table 5 30 0.001 2 0.5 table
5 0.01 0.05 0.01 3 0.2
3 30 30 30
2 nil nil key
2 nil nil key
2 nil unlocked
2 nil unlocked
1 0
1 k
2 nil locked
2 nil locked
1 true
1 30
1 true
1 10
1 true
1 30
1 1
2 nil unlocked
1 nil
2 nil empty key
1 0
1 true
1 1
2 nil timeout
`},
	{"lock waits", `
		local lock = require "resty.lock"
		local a = lock:new("locks", {exptime = 0.05})
		show(a:lock("w"))
		local b = lock:new("locks")
		show(b:lock("w"))
		show(a:expire()) show(b:unlock()) show(a:unlock()) show(ngx.shared.locks:get("w"))
		local c = lock:new("locks", {timeout = 0.01})
		show(c:lock("held"))
		local d = lock:new("locks", {timeout = 0.01})
		show(d:lock("held"))
		show(pcall(function() return d:lock("held") end))
		c:unlock()`,
		`1 0
1 0.063
1 true
1 1
1 1
1 nil
1 0
2 nil timeout
3 true nil timeout
`},
	{"limit.req", `
		local lr = require "resty.limit.req"
		show(lr._VERSION) show(lr.new("nope", 1, 1))
		show(pcall(lr.new, "limits", 0, 1)) show(pcall(lr.new, "limits", nil, 1))
		local lim = lr.new("limits", 2, 1)
		show(lim.rate, lim.burst)
		show(lim:incoming("a", true)) show(lim:incoming("a", true)) show(lim:incoming("a", true))
		show(lim:incoming("a", false)) show(lim:uncommit("a")) show(lim:incoming("a", true))
		show(lim:uncommit("zz"))
		ngx.shared.limits:set("abused", 5)
		show(lim:incoming("abused", true)) show(lim:uncommit("abused"))
		lim:set_rate(1000) lim:set_burst(0) show(lim.rate, lim.burst)
		show(lim:incoming("b", false)) show(ngx.shared.limits:get("b"))
		show(lim:incoming("b", true)) show(#ngx.shared.limits:get("b")) show(lim:incoming("b", true))
		local v = ngx.shared.limits:get("b")
		show(v:byte(1, 8))
		show(lim:incoming(nil, true))`,
		`1 0.08
2 nil shared dict not found
2 false assertion failed!
2 false attempt to compare number with nil
2 2000 1000
2 0 0
2 0.5 1
2 nil rejected
2 nil rejected
1 true
2 0.5 1
2 nil not found
2 nil shdict abused by other users
2 nil shdict abused by other users
2 1000000 0
2 0 0
1 nil
2 0 0
1 16
2 nil rejected
8 0 0 0 0 0 0 0 0
2 0 0
`},
	{"limit.conn", `
		local lc = require "resty.limit.conn"
		show(lc._VERSION) show(lc.new("nope", 1, 1, 1))
		show(pcall(lc.new, "limits", 0, 1, 0.5)) show(pcall(lc.new, "limits", 1, 0, 0))
		local lim = lc.new("limits", 2, 1, 0.5)
		show(lim.max, lim.burst, lim.unit_delay, lim:is_committed())
		show(lim:incoming("c", true)) show(lim:is_committed())
		show(lim:incoming("c", true)) show(lim:incoming("c", true)) show(lim:incoming("c", true))
		show(lim:is_committed()) show(lim:incoming("c", false)) show(ngx.shared.limits:get("c"))
		show(lim:leaving("c", 0.1)) show(lim.unit_delay) show(lim:leaving("c"))
		show(lim:uncommit("c")) show(lim:uncommit("c")) show(lim:leaving("none"))
		lim:set_conn(10) lim:set_burst(0) show(lim.max, lim.burst)
		show(pcall(lim.leaving, lim, nil))
		ngx.shared.limits:set("str", "x") show(lim:incoming("str", true))`,
		`1 0.08
2 nil shared dict not found
2 false assertion failed!
2 false assertion failed!
4 2 1 0.5 nil
2 0 1
1 true
2 0 2
2 0.5 3
2 nil rejected
1 false
2 nil rejected
1 3
1 2
1 0.3
1 1
1 0
1 -1
2 nil not found
2 10 0
2 false assertion failed!
2 nil not a number
`},
	{"limit.count", `
		local lc = require "resty.limit.count"
		show(lc._VERSION) show(lc.new("nope", 1, 1)) show(pcall(lc.new, "limits", 0, 1))
		local lim = lc.new("limits", 3, 60)
		show(lim.limit, lim.window)
		for i = 1, 4 do show(lim:incoming("n", true)) end
		show(ngx.shared.limits:ttl("n")) show(lim:incoming("n", false))
		show(lim:uncommit("n")) show(lim:uncommit("fresh")) show(lim:incoming("m", false))
		ngx.shared.limits:set("str2", "x") show(lim:incoming("str2", true)) show(lim:uncommit("str2"))`,
		`1 0.08
2 nil shared dict not found
2 false assertion failed!
2 3 60
2 0 2
2 0 1
2 0 0
2 nil rejected
1 60
2 nil rejected
1 0
1 3
2 0 2
2 nil not a number
2 nil not a number
`},
	{"limit.traffic", `
		local req = require "resty.limit.req"
		local conn = require "resty.limit.conn"
		local count = require "resty.limit.count"
		local traffic = require "resty.limit.traffic"
		show(traffic._VERSION)
		local l1 = req.new("limits", 1, 1)
		local l2 = conn.new("limits", 1, 1, 0.2)
		local l3 = count.new("limits", 2, 60)
		for i = 1, 4 do
			local states = {}
			local delay, err = traffic.combine({l1, l2, l3}, {"t1", "t2", "t3"}, states)
			show(delay, err, states[1], states[2], states[3])
		end
		show(ngx.shared.limits:get("t2"), ngx.shared.limits:get("t3"))`,
		`1 0.08
5 0 nil 0 1 1
5 1 nil 1 2 0
5 nil rejected nil nil nil
5 nil rejected nil nil nil
2 2 0
`},
}

// restyLibPos is the position of an error raised inside one of the Lua
// libraries, which depends on where they are installed; the Go modules
// have none.
var restyLibPos = regexp.MustCompile(`\S*resty/[\w/]+\.lua:\d+: `)

// TestRestyLibs runs restyLibSnippets on gresty, and on nginx too when
// the original libraries are at hand.
func TestRestyLibs(t *testing.T) {
	var snippets []string
	for _, s := range restyLibSnippets {
		snippets = append(snippets, s.code)
	}
	conf := shdConf(t, snippets, nil)
	conf = strings.Replace(conf, "http {\n", "http {\nlua_shared_dict locks 1m;\nlua_shared_dict limits 1m;\n", 1)
	servers := map[string]*nginxtest.Server{}
	if dir := os.Getenv("GRESTY_RESTY_LIB"); dir != "" {
		withLib := strings.Replace(conf, "http {\n", "http {\nlua_package_path \""+dir+"/?.lua;;\";\n", 1)
		servers["nginx"] = nginxtest.Start(t, withLib, "lua")
	}
	servers["gresty"] = nginxtest.StartGresty(t, conf, "lua")
	for name, s := range servers {
		for i, sn := range restyLibSnippets {
			r := difftest.Fetch(t, s.Addr, "GET /s"+strconv.Itoa(i)+" HTTP/1.0\r\n\r\n")
			if body := restyLibPos.ReplaceAllString(string(r.Body), ""); r.Status != 200 || body != sn.want {
				t.Errorf("%s: %s: status %d\n%s\nwant:\n%s\nerror log:\n%s", name, sn.name, r.Status, body, sn.want, s.ErrorLog())
			}
		}
	}
}
