package lua_test

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// TestTimerCosocketResolves connects cosockets by name from timers: one
// created by init_worker_by_lua, which resolves with the http block's
// resolver, and one created by a request, which resolves with its
// location's (here inherited from the http block). ngx_lua's fake request
// keeps the creating location's configuration; gresty resolves as it
// does, compared with OpenResty.
func TestTimerCosocketResolves(t *testing.T) {
	z := &zoneServer{rrs: map[string][]dns.RR{}}
	rr, err := dns.NewRR("backend.gresty.test. 60 IN A 127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	z.rrs["backend.gresty.test./A"] = []dns.RR{rr}
	startZone(t, z)
	backend := nginxtest.Serve(t, func(c net.Conn) { c.Close() })
	_, port, _ := strings.Cut(backend, ":")
	conf := fmt.Sprintf(`
http {
    resolver 127.0.0.1:%[1]d ipv6=off;
    lua_shared_dict results 1m;
    init_worker_by_lua_block {
        ngx.timer.at(0, function()
            local s = ngx.socket.tcp()
            local ok, err = s:connect("backend.gresty.test", %[2]s)
            ngx.shared.results:set("init_worker", ok and "connected" or ("failed: " .. err))
            if ok then s:close() end
        end)
    }
    server {
        listen 127.0.0.1:%%%%PORT%%%%;
        location /timer {
            content_by_lua_block {
                local key = ngx.var.arg_k
                ngx.timer.at(0, function()
                    local s = ngx.socket.tcp()
                    local ok, err = s:connect("backend.gresty.test", %[2]s)
                    ngx.shared.results:set(key, ok and "connected" or ("failed: " .. err))
                    if ok then s:close() end
                end)
                for _ = 1, 50 do
                    if ngx.shared.results:get(key) then break end
                    ngx.sleep(0.01)
                end
                ngx.say(ngx.shared.results:get(key))
            }
        }
        location /init {
            content_by_lua_block { ngx.say(ngx.shared.results:get("init_worker")) }
        }
    }
}
`, z.port, port)
	p := difftest.Start(t, conf, "lua")
	for _, tt := range []struct{ name, uri string }{
		{"timer of a request", "/timer?k=a"},
		{"timer of init_worker_by_lua", "/init"},
	} {
		raw := "GET " + tt.uri + " HTTP/1.0\r\nHost: localhost\r\n\r\n"
		ng, gr := p.Do(t, raw)
		if string(gr.Body) != "connected\n" || string(ng.Body) != string(gr.Body) {
			t.Errorf("%s: nginx %q, gresty %q", tt.name, ng.Body, gr.Body)
		}
	}
}
