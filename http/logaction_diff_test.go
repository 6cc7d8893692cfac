package http_test

import (
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
)

// TestConnLogActionMatchesNginx compares the error-log lines of a
// connection before its request is read: a client that sends nothing,
// half a request line or half a head and then times out or leaves, and a
// head with an invalid header line. Each names what nginx was doing
// (" while waiting for request", "... reading client request line", "...
// reading client request headers") and the request as far as it came.
func TestConnLogActionMatchesNginx(t *testing.T) {
	p := difftest.Start(t, `
http {
    client_header_timeout 1s;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { return 200 "ok\n"; }
    }
}
`)
	sends := []struct {
		data  string
		close bool // close at once, else wait for the timeout
		reset bool // close with a reset
	}{
		{"", true, true},
		{"GET / HTTP/1.1\r\nHost: x\r\n", true, true},
		{"", false, false},
		{"GET / HT", false, false},
		{"GET / HTTP/1.1\r\nHost: x\r\n", false, false},
		{"GET / HT", true, false},
		{"GET / HTTP/1.1\r\nHo", true, false},
		{"GET / HTTP/1.1\r\nHost: x\r\nBad\x01Header: y\r\n\r\n", false, false},
	}
	for _, addr := range []string{p.Nginx.Addr, p.Gresty.Addr} {
		for _, s := range sends {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write([]byte(s.data))
			if s.close {
				time.Sleep(50 * time.Millisecond)
				if s.reset {
					c.(*net.TCPConn).SetLinger(0)
				}
				c.Close()
			}
		}
	}
	time.Sleep(1600 * time.Millisecond)
	info := regexp.MustCompile(`\[info\] \d+#\d+: \*\d+ (.*)`)
	port := regexp.MustCompile(`(server: 127\.0\.0\.1):\d+`)
	lines := func(log string) string {
		var out []string
		for _, m := range info.FindAllStringSubmatch(log, -1) {
			out = append(out, port.ReplaceAllString(m[1], "$1:PORT"))
		}
		return strings.Join(out, "\n")
	}
	want := []string{
		`recv() failed (104: Connection reset by peer) while waiting for request, client: 127.0.0.1, server: 127.0.0.1:PORT`,
		`recv() failed (104: Connection reset by peer) while reading client request headers, client: 127.0.0.1, server: , request: "GET / HTTP/1.1", host: "x"`,
		`client prematurely closed connection while reading client request line, client: 127.0.0.1, server: , request: "GET / HT"`,
		`client prematurely closed connection while reading client request headers, client: 127.0.0.1, server: , request: "GET / HTTP/1.1"`,
		`client sent invalid header line: "Bad\x01..." while reading client request headers, client: 127.0.0.1, server: , request: "GET / HTTP/1.1"`,
		`client timed out (110: Connection timed out) while waiting for request, client: 127.0.0.1, server: 127.0.0.1:PORT`,
		`client timed out (110: Connection timed out) while reading client request line, client: 127.0.0.1, server: , request: "GET / HT"`,
		`client timed out (110: Connection timed out) while reading client request headers, client: 127.0.0.1, server: , request: "GET / HTTP/1.1", host: "x"`,
	}
	ng, gr := lines(p.Nginx.ErrorLog()), lines(p.Gresty.ErrorLog())
	for _, w := range want {
		if !strings.Contains(ng, w) {
			t.Errorf("nginx did not log %s\nit logged:\n%s", w, ng)
		}
		if !strings.Contains(gr, w) {
			t.Errorf("gresty did not log %s\nit logged:\n%s", w, gr)
		}
	}
}

// A client that stops sending its body: nginx answers 408 by closing,
// and logs no "client timed out" (its body reader says nothing).
func TestBodyTimeoutLogMatchesNginx(t *testing.T) {
	p := difftest.Start(t, `
http {
    client_body_timeout 500ms;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { proxy_pass http://127.0.0.1:%%PORT%%/echo; }
        location /echo { return 200 "ok\n"; }
    }
}
`)
	for _, addr := range []string{p.Nginx.Addr, p.Gresty.Addr} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab"))
	}
	time.Sleep(900 * time.Millisecond)
	for name, log := range map[string]string{"nginx": p.Nginx.ErrorLog(), "gresty": p.Gresty.ErrorLog()} {
		if strings.Contains(log, "client timed out") {
			t.Errorf("%s logged a body timeout:\n%s", name, log)
		}
	}
}
