package lua_test

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gresty/internal/benchtest"
	"gresty/internal/nginxtest"
)

// luaBenchConf is the configuration of the load benchmark's Lua scenarios
// on one server: a content handler that only says hello, and one that
// counts requests in a shared dictionary. The counter starts at 10^9 so
// that its width, and so every response's length, stays the same for the
// whole run. Nothing is logged per request.
const luaBenchConf = `
events { worker_connections 64; }
http {
    access_log off;
    keepalive_requests 1000000000;
    lua_shared_dict hits 1m;
    server {
        listen 127.0.0.1:%d;
        root %s;
        default_type text/plain;
        location = /hello { content_by_lua_block { ngx.say("hello") } }
        location = /shdict { content_by_lua_block { ngx.say((ngx.shared.hits:incr("hits", 1, 1000000000))) } }
        location = /return { return 200 "hello\n"; }
        location = /headers {
            content_by_lua_block {
                local h = ngx.req.get_headers()
                ngx.header["X-Api-Key-Seen"] = h["x-api-key"]
                ngx.header["X-Client"] = ngx.var.http_x_forwarded_for
                ngx.header.cache_control = "no-store"
                ngx.say(h["x-tenant"] or "none")
            }
        }
        location = /json {
            content_by_lua_block {
                local cjson = require "cjson"
                local doc = cjson.decode('{"id":42,"user":{"name":"gresty","email":"ops@example.com","roles":["admin","ops","dev"]},"active":true,"score":9.5,"tags":["a","b","c","d"],"limits":{"rps":100,"burst":20},"created":"2026-11-27T00:00:00Z","note":"a document of about three hundred bytes, as an API gateway parses on every request"}')
                ngx.say(cjson.encode({doc.id + 1, doc.user.name, #doc.user.roles, doc.active, doc.limits.rps * 2}))
            }
        }
    }
}
`

// processCPU returns the user and system CPU time the process used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLuaRequest measures one request through a content_by_lua
// handler on one loop, over a loopback socket: parse, location, the Lua
// thread, ngx.say's output through the filters, serialisation. An op is
// one request, so allocs/op is allocations per request; "return" is the
// same request answered without Lua, the floor the Lua path adds to.
func BenchmarkLuaRequest(b *testing.B) {
	cases := []struct {
		name string
		path string
		body string
	}{
		{"hello", "/hello", "hello\n"},
		{"shdict", "/shdict", ""},
		{"return", "/return", "hello\n"},
		{"headers", "/headers", "acme\n"},
		{"json", "/json", `[43,"gresty",3,true,200]` + "\n"},
	}
	for _, tc := range cases {
		for _, depth := range []int{1, 16, 128} {
			b.Run(fmt.Sprintf("%s/depth=%d", tc.name, depth), func(b *testing.B) {
				req := "GET " + tc.path + " HTTP/1.1\r\nHost: bench\r\n" +
					"X-Api-Key: k-1234\r\nX-Forwarded-For: 10.1.2.3\r\nX-Tenant: acme\r\n\r\n"
				p := benchtest.Dial(b, benchtest.Server(b, luaBenchConf), req, depth)
				resp := p.Response()
				if !bytes.HasPrefix(resp, []byte("HTTP/1.1 200 ")) || !bytes.HasSuffix(resp, []byte("\n")) ||
					tc.body != "" && !bytes.Contains(resp, []byte("\r\n"+tc.body)) {
					b.Fatalf("response %q", resp)
				}
				for range 100 {
					p.Do(b, depth)
				}
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := processCPU(b)
				for i := 0; i < b.N; i += depth {
					p.Do(b, min(depth, b.N-i))
				}
				// CPU time holds up better than wall time on a shared
				// machine; it includes the client's, the same for all.
				b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// BenchmarkLuaRedis is the lua-redis load scenario on one loop: Debian's
// lua-resty-redis GET of one key over a keepalive cosocket to a real
// redis-server, then ngx.say of the value. It shows what the pure-Lua
// client costs per request beyond the hello handler.
func BenchmarkLuaRedis(b *testing.B) {
	if _, err := os.Stat(restyLibDir + "/nginx/redis.lua"); err != nil {
		b.Skip("Debian's lua-nginx-redis is not installed")
	}
	port := nginxtest.StartBackend(b, "redis-server", func(port int) []string {
		return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}
	})
	conf := strings.Replace(`
events { worker_connections 64; }
http {
    access_log off;
    keepalive_requests 1000000000;
    lua_package_path "`+restyLibDir+`/?.lua;;";
    server {
        listen 127.0.0.1:%d;
        root %s;
        location = /redis {
            content_by_lua_block {
                local redis = require "nginx.redis"
                local red = redis:new()
                red:set_timeout(1000)
                assert(red:connect("127.0.0.1", REDIS_PORT))
                local v = red:get("gresty:bench")
                if v == ngx.null then
                    v = "gresty reads this from redis"
                    assert(red:set("gresty:bench", v))
                end
                red:set_keepalive(10000, 100)
                ngx.say(v)
            }
        }
    }
}
`, "REDIS_PORT", strconv.Itoa(port), 1)
	p := benchtest.Dial(b, benchtest.Server(b, conf), "GET /redis HTTP/1.1\r\nHost: bench\r\n\r\n", 1)
	if resp := p.Response(); !bytes.Contains(resp, []byte("\r\ngresty reads this from redis\n")) {
		b.Fatalf("response %q", resp)
	}
	for range 100 {
		p.Do(b, 1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
	for i := 0; i < b.N; i++ {
		p.Do(b, 1)
	}
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}
