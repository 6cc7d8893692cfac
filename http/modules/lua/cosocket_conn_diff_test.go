package lua_test

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// A cosocket's host name goes through nginx's URL parser: an empty name
// has "no host", a slash or a question mark makes it invalid, "unix:"
// wants a path, a ":port" suffix must be a port and replaces the port
// argument of an address given directly, and any other name (a port
// suffix included) is left to the resolver.
func TestCosocketHostNameErrorsMatchNginx(t *testing.T) {
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location /t {
            content_by_lua_block {
                local port = ngx.var.server_port
                for _, h in ipairs{"", "a/b", "a b", "unix:", "a?b", ":80", "127.0.0.1:", "127.0.0.1:0",
                                   "127.0.0.1:65536", "127.0.0.1:8x", "127.0.0.1:-1", "::1", "[::1", "[::1]x",
                                   "[]:80", "[zz]:80", "[::1]:0", "localhost:80", "1.2.3:80"} do
                    local ok, err = ngx.socket.tcp():connect(h, 80)
                    ngx.say("tcp [", h, "] ", err)
                    ok, err = ngx.socket.udp():setpeername(h, 80)
                    ngx.say("udp [", h, "] ", err)
                end
                -- the port in the host wins over the argument
                local sock = ngx.socket.tcp()
                local ok, err = sock:connect("127.0.0.1:" .. port, 1)
                ngx.say("tcp direct: ", ok, " ", err)
                if ok then
                    sock:send("GET /peer HTTP/1.0\r\nHost: x\r\n\r\n")
                    local body = sock:receive("*a")
                    ngx.say("tcp direct got: ", body:match("peer [%d.]+"))
                    sock:close()
                end
                local u = ngx.socket.udp()
                ngx.say("udp direct: ", u:setpeername("127.0.0.1:" .. port, 1))
                u:close()
            }
        }
        location /peer { return 200 "peer $remote_addr\n"; }
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
tcp [a?b] failed to parse host name "a?b": invalid host
udp [a?b] failed to parse host name "a?b": invalid host
tcp [:80] failed to parse host name ":80": no host
udp [:80] failed to parse host name ":80": no host
tcp [127.0.0.1:] failed to parse host name "127.0.0.1:": invalid port
udp [127.0.0.1:] failed to parse host name "127.0.0.1:": invalid port
tcp [127.0.0.1:0] failed to parse host name "127.0.0.1:0": invalid port
udp [127.0.0.1:0] failed to parse host name "127.0.0.1:0": invalid port
tcp [127.0.0.1:65536] failed to parse host name "127.0.0.1:65536": invalid port
udp [127.0.0.1:65536] failed to parse host name "127.0.0.1:65536": invalid port
tcp [127.0.0.1:8x] failed to parse host name "127.0.0.1:8x": invalid port
udp [127.0.0.1:8x] failed to parse host name "127.0.0.1:8x": invalid port
tcp [127.0.0.1:-1] failed to parse host name "127.0.0.1:-1": invalid port
udp [127.0.0.1:-1] failed to parse host name "127.0.0.1:-1": invalid port
tcp [::1] failed to parse host name "::1": invalid port
udp [::1] failed to parse host name "::1": invalid port
tcp [[::1] failed to parse host name "[::1": invalid host
udp [[::1] failed to parse host name "[::1": invalid host
tcp [[::1]x] failed to parse host name "[::1]x": invalid host
udp [[::1]x] failed to parse host name "[::1]x": invalid host
tcp [[]:80] failed to parse host name "[]:80": no host
udp [[]:80] failed to parse host name "[]:80": no host
tcp [[zz]:80] failed to parse host name "[zz]:80": invalid IPv6 address
udp [[zz]:80] failed to parse host name "[zz]:80": invalid IPv6 address
tcp [[::1]:0] failed to parse host name "[::1]:0": invalid port
udp [[::1]:0] failed to parse host name "[::1]:0": invalid port
tcp [localhost:80] no resolver defined to resolve "localhost:80"
udp [localhost:80] no resolver defined to resolve "localhost:80"
tcp [1.2.3:80] no resolver defined to resolve "1.2.3:80"
udp [1.2.3:80] no resolver defined to resolve "1.2.3:80"
tcp direct: 1 nil
tcp direct got: peer 127.0.0.1
udp direct: 1
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

// A closed cosocket frees its request cleanup into the request's free
// list, and the next connect of any socket of that request, in a request
// or in a timer, takes it again: the debug log shows each "lua http
// cleanup free" and "lua http cleanup reuse" in the same order as
// ngx_lua's.
func TestCosocketCleanupReuseMatchesNginx(t *testing.T) {
	p := difftest.Start(t, `
error_log %%PREFIX%%/logs/debug.log debug;
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location /t {
            content_by_lua_block {
                local port = ngx.var.server_port
                local function roundtrip(sock)
                    sock = sock or ngx.socket.tcp()
                    assert(sock:connect("127.0.0.1", port))
                    assert(sock:send("GET /foo HTTP/1.0\r\nHost: x\r\n\r\n"))
                    sock:receive("*a")
                    sock:close()
                    return sock
                end
                local done = false
                assert(ngx.timer.at(0, function()
                    ngx.log(ngx.WARN, "mark timer")
                    roundtrip()
                    roundtrip()
                    done = true
                end))
                while not done do ngx.sleep(0.01) end
                ngx.log(ngx.WARN, "mark request")
                local a = roundtrip()
                local b = ngx.socket.tcp()
                assert(b:connect("127.0.0.1", port))
                roundtrip(a)
                b:close()
                roundtrip(a)
                ngx.log(ngx.WARN, "mark end")
                ngx.say("ok")
            }
        }
        location /foo { return 200 "foo\n"; }
    }
}
`, "lua")
	ng, gr := p.Do(t, "GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n")
	if string(ng.Body) != "ok\n" || string(gr.Body) != "ok\n" {
		t.Fatalf("nginx %q, gresty %q", ng.Body, gr.Body)
	}
	re := regexp.MustCompile(`mark \w+|lua http cleanup (free|reuse)`)
	seq := func(s *nginxtest.Server) string {
		var out []string
		for i := 0; i < 50; i++ {
			b, _ := os.ReadFile(s.Prefix + "/logs/debug.log")
			out = re.FindAllString(string(b), -1)
			if len(out) > 0 && out[len(out)-1] == "mark end" {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		return strings.Join(out, "\n")
	}
	if n, g := seq(p.Nginx), seq(p.Gresty); n != g || !strings.Contains(n, "reuse") {
		t.Errorf("cleanup lines differ\nnginx:\n%s\ngresty:\n%s", n, g)
	}
}
