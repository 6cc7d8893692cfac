package lua_test

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// A cosocket's host name goes through nginx's URL parser: an empty name
// has "no host", a slash makes it invalid, "unix:" wants a path, and any
// other name is left to the resolver.
func TestCosocketHostNameErrorsMatchNginx(t *testing.T) {
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location /t {
            content_by_lua_block {
                for _, h in ipairs{"", "a/b", "a b", "unix:"} do
                    local ok, err = ngx.socket.tcp():connect(h, 80)
                    ngx.say("tcp [", h, "] ", err)
                    ok, err = ngx.socket.udp():setpeername(h, 80)
                    ngx.say("udp [", h, "] ", err)
                end
            }
        }
    }
}
`, "lua")
	ng, gr := p.Do(t, "GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n")
	want := `tcp [] failed to parse host name "": no host
udp [] failed to parse host name "": no host
tcp [a/b] failed to parse host name "a/b": invalid host
udp [a/b] failed to parse host name "a/b": invalid host
tcp [a b] no resolver defined to resolve "a b"
udp [a b] no resolver defined to resolve "a b"
tcp [unix:] failed to parse host name "unix:": no path in the unix domain socket
udp [unix:] failed to parse host name "unix:": no path in the unix domain socket
`
	if string(ng.Body) != want || string(gr.Body) != want {
		t.Errorf("nginx:\n%s\ngresty:\n%s", ng.Body, gr.Body)
	}
}

// Killing a light thread whose connect waits in a pool's backlog takes it
// out of the queue and lets the next queued connect go on at once, as
// ngx_lua's cleanup of the waiting coroutine does; a thread killed while
// connecting leaves its socket closed.
func TestCosocketKilledConnectMatchesNginx(t *testing.T) {
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location /queue {
            content_by_lua_block {
                local opts = {pool = "q", pool_size = 1, backlog = 2}
                local port = ngx.var.server_port
                local sock = assert(ngx.socket.connect("127.0.0.1", port, opts))
                local order = {}
                local function f(name)
                    local s, err = ngx.socket.connect("127.0.0.1", port, opts)
                    order[#order + 1] = name .. (s and " connected" or (" " .. tostring(err)))
                    if s then s:close() end
                end
                local a = ngx.thread.spawn(f, "a")
                local b = ngx.thread.spawn(f, "b")
                ngx.thread.kill(a)
                ngx.sleep(0.05)
                order[#order + 1] = "after sleep"
                sock:close()
                ngx.thread.wait(b)
                ngx.say(table.concat(order, ", "))
            }
        }
        location /connecting {
            content_by_lua_block {
                local sock = ngx.socket.tcp()
                local thr = ngx.thread.spawn(function()
                    sock:connect("127.0.0.1", ngx.var.server_port)
                    ngx.say("connected")
                end)
                ngx.thread.kill(thr)
                ngx.say("setkeepalive: ", select(2, sock:setkeepalive()))
            }
        }
        location /slow { content_by_lua_block { ngx.sleep(0.5) ngx.say("late") } }
        location /receiving {
            content_by_lua_block {
                local sock = ngx.socket.tcp()
                assert(sock:connect("127.0.0.1", ngx.var.server_port))
                assert(sock:send("GET /slow HTTP/1.0\r\nHost: x\r\n\r\n"))
                local thr = ngx.thread.spawn(function()
                    ngx.say("received: ", sock:receive())
                end)
                ngx.thread.kill(thr)
                ngx.say("send: ", select(2, sock:send("x")))
                ngx.say("receive: ", select(2, sock:receive()))
            }
        }
        location /udp {
            content_by_lua_block {
                local sock = ngx.socket.udp()
                assert(sock:setpeername("127.0.0.1", ngx.var.server_port))
                local thr = ngx.thread.spawn(function()
                    ngx.say("received: ", sock:receive())
                end)
                ngx.thread.kill(thr)
                ngx.say("send: ", select(2, sock:send("x")))
            }
        }
    }
}
`, "lua")
	for uri, want := range map[string]string{
		"/queue":      "b connected, after sleep\n",
		"/connecting": "setkeepalive: closed\n",
		"/receiving":  "send: closed\nreceive: closed\n",
		"/udp":        "send: closed\n",
	} {
		ng, gr := p.Do(t, "GET "+uri+" HTTP/1.0\r\nHost: localhost\r\n\r\n")
		if string(ng.Body) != want || string(gr.Body) != want {
			t.Errorf("%s: nginx %q, gresty %q, want %q", uri, ng.Body, gr.Body, want)
		}
	}
}

// ngx_lua sends a cosocket's DNS query before it yields: a connect made
// where the thread cannot yield (here in a gsub callback) fails with the
// yield error after the query went out, and the request's cleanup gives
// the query up ("resolve name done" at debug level), for TCP and UDP.
func TestCosocketResolveThenYieldFailure(t *testing.T) {
	z := &zoneServer{rrs: map[string][]dns.RR{}}
	rr, err := dns.NewRR("backend.gresty.test. 60 IN A 127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	z.rrs["backend.gresty.test./A"] = []dns.RR{rr}
	rr, err = dns.NewRR("udp.gresty.test. 60 IN A 127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	z.rrs["udp.gresty.test./A"] = []dns.RR{rr}
	startZone(t, z)
	p := difftest.Start(t, fmt.Sprintf(`
error_log %%%%PREFIX%%%%/logs/debug.log debug;
http {
    resolver 127.0.0.1:%d ipv6=off;
    server {
        listen 127.0.0.1:%%%%PORT%%%%;
        location /tcp {
            content_by_lua_block {
                string.gsub("x", "x", function()
                    ngx.socket.tcp():connect("backend.gresty.test", 80)
                end)
            }
        }
        location /udp {
            content_by_lua_block {
                string.gsub("x", "x", function()
                    ngx.socket.udp():setpeername("udp.gresty.test", 80)
                end)
            }
        }
    }
}
`, z.port), "lua")
	for _, uri := range []string{"/tcp", "/udp"} {
		ng, gr := p.Do(t, "GET "+uri+" HTTP/1.0\r\nHost: localhost\r\n\r\n")
		if ng.Status != 500 || gr.Status != 500 {
			t.Errorf("%s: status nginx %d, gresty %d, want 500", uri, ng.Status, gr.Status)
		}
	}
	time.Sleep(100 * time.Millisecond)
	for name, s := range map[string]*nginxtest.Server{"nginx": p.Nginx, "gresty": p.Gresty} {
		b, _ := os.ReadFile(s.Prefix + "/logs/debug.log")
		log := string(b)
		if n := strings.Count(log, "attempt to yield across C-call boundary"); n != 2 {
			t.Errorf("%s: %d yield errors, want 2", name, n)
		}
		if n := strings.Count(log, "resolve name done"); n < 2 {
			t.Errorf("%s: %d \"resolve name done\" lines, want 2 or more", name, n)
		}
	}
}

// A UDP cosocket's send goes out at once, as nginx's ngx_udp_send: the
// datagrams of a request that ends right after sending still leave, each
// send logs the "send: fd:N n of m" debug line, and a port that refused an
// earlier datagram makes the next send fail with "connection refused"
// (logged) while the socket stays usable.
func TestUDPSendMatchesNginx(t *testing.T) {
	sink, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	closed, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := closed.LocalAddr().(*net.UDPAddr).Port
	closed.Close()
	p := difftest.Start(t, fmt.Sprintf(`
error_log %%%%PREFIX%%%%/logs/debug.log debug;
http {
    server {
        listen 127.0.0.1:%%%%PORT%%%%;
        location /send {
            content_by_lua_block {
                local udp = ngx.socket.udp()
                assert(udp:setpeername("127.0.0.1", %d))
                for _, v in ipairs{"x", 42} do assert(udp:send(v)) end
                assert(udp:send(true)) assert(udp:send(nil))
                ngx.say("sent")
            }
        }
        location /refused {
            content_by_lua_block {
                local udp = ngx.socket.udp()
                assert(udp:setpeername("127.0.0.1", %d))
                for i = 1, 3 do ngx.say(i, ": ", select(2, udp:send("x"))) end
            }
        }
    }
}
`, sink.LocalAddr().(*net.UDPAddr).Port, closedPort), "lua")
	for _, uri := range []string{"/send", "/refused"} {
		ng, gr := p.Do(t, "GET "+uri+" HTTP/1.0\r\nHost: localhost\r\n\r\n")
		if ng.Status != 200 || string(gr.Body) != string(ng.Body) {
			t.Errorf("%s: nginx %d %q, gresty %d %q", uri, ng.Status, ng.Body, gr.Status, gr.Body)
		}
	}
	got := map[string]int{}
	sink.SetReadDeadline(time.Now().Add(time.Second))
	for buf := make([]byte, 64); ; {
		n, _, err := sink.ReadFrom(buf)
		if err != nil {
			break
		}
		got[string(buf[:n])]++
	}
	if want := map[string]int{"x": 2, "42": 2, "true": 2, "nil": 2}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("datagrams received from both servers: %v, want %v", got, want)
	}
	sends := func(s *nginxtest.Server) string {
		b, _ := os.ReadFile(s.Prefix + "/logs/debug.log")
		var out []string
		for _, line := range strings.Split(string(b), "\n") {
			if i := strings.Index(line, "send: fd:"); i >= 0 {
				if f := strings.Fields(line[i:]); len(f) == 5 {
					out = append(out, f[2]+" of "+f[4])
				}
			}
		}
		return strings.Join(out, ", ")
	}
	if a, b := sends(p.Nginx), sends(p.Gresty); !strings.HasPrefix(a, "1 of 1, 2 of 2, 4 of 4, 3 of 3") || b != a {
		t.Errorf("send lines: nginx %q, gresty %q", a, b)
	}
	for name, s := range map[string]*nginxtest.Server{"nginx": p.Nginx, "gresty": p.Gresty} {
		if !strings.Contains(s.ErrorLog(), "send() failed (111: Connection refused)") {
			t.Errorf("%s did not log the refused send", name)
		}
	}
}
