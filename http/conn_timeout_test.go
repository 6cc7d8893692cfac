package http_test

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gresty/internal/nginxtest"
)

// Timeouts and closes, checked on gresty alone with short timeouts: what
// nginx does is asserted from its source and the comparisons above.

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readAll reads until the server closes or d passes; closed tells which.
func readAll(c net.Conn, d time.Duration) (string, bool) {
	c.SetReadDeadline(time.Now().Add(d))
	b, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return string(b), false
	}
	return string(b), true
}

func TestTimeouts(t *testing.T) {
	s := nginxtest.StartGresty(t, `
http {
    access_log %%PREFIX%%/logs/timeouts.log;
    client_header_timeout 300ms;
    client_body_timeout 300ms;
    keepalive_timeout 300ms;
    lingering_timeout 300ms;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { return 200 "ok\n"; }
        location /ka { keepalive_timeout 5s; return 200 "ok\n"; }
    }
}
`)
	t.Run("header timeout closes without an answer", func(t *testing.T) {
		c := dial(t, s.Addr)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n")
		start := time.Now()
		got, closed := readAll(c, 3*time.Second)
		if !closed || got != "" {
			t.Fatalf("closed=%v got=%q", closed, got)
		}
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Errorf("closed after %v, before client_header_timeout", d)
		}
	})
	t.Run("idle keepalive closes after keepalive_timeout", func(t *testing.T) {
		c := dial(t, s.Addr)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		got, closed := readAll(c, 3*time.Second)
		if !closed || !strings.HasPrefix(got, "HTTP/1.1 200") {
			t.Fatalf("closed=%v got=%q", closed, got)
		}
	})
	t.Run("a location's keepalive_timeout holds the connection", func(t *testing.T) {
		c := dial(t, s.Addr)
		io.WriteString(c, "GET /ka HTTP/1.1\r\nHost: x\r\n\r\n")
		got, closed := readAll(c, 800*time.Millisecond)
		if closed || !strings.HasPrefix(got, "HTTP/1.1 200") {
			t.Fatalf("closed=%v got=%q", closed, got)
		}
	})
	t.Run("body timeout", func(t *testing.T) {
		c := dial(t, s.Addr)
		// return discards the body: a stalled body ends the connection.
		io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
		got, closed := readAll(c, 10*time.Second)
		if !closed || !strings.HasPrefix(got, "HTTP/1.1 200") {
			t.Fatalf("closed=%v got=%q", closed, got)
		}
	})
	time.Sleep(100 * time.Millisecond)
	log, _ := os.ReadFile(filepath.Join(s.Prefix, "logs/timeouts.log"))
	if !strings.Contains(string(log), `"GET /ka HTTP/1.1" 200`) {
		t.Errorf("access log:\n%s", log)
	}
}

// TestHalfCloseStillAnswered: a client that sends its request and shuts
// down its write side still gets the whole answer.
func TestHalfCloseStillAnswered(t *testing.T) {
	s := nginxtest.StartGresty(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { return 200 "ok\n"; }
    }
}
`)
	c := dial(t, s.Addr)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.(*net.TCPConn).CloseWrite()
	got, closed := readAll(c, 3*time.Second)
	if !closed || !strings.HasPrefix(got, "HTTP/1.1 200") || !strings.HasSuffix(got, "ok\n") {
		t.Fatalf("closed=%v got=%q", closed, got)
	}
}
