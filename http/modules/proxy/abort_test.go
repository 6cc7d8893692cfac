package proxy_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"gresty/http/modules/proxy/proxytest"
	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// halfClosed sends raw, closes the write side at once, as a client that
// gives up does, and returns what comes back.
func halfClosed(t *testing.T, addr, raw string) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, raw)
	c.(*net.TCPConn).CloseWrite()
	b, _ := io.ReadAll(c)
	return b
}

var accessStatus = regexp.MustCompile(`"(?:GET|POST) ([^ ]+) HTTP/1.1" (\d+) `)

// lastStatus returns the status of the last access log line for target.
func lastStatus(t *testing.T, s *nginxtest.Server, target string) string {
	t.Helper()
	var st string
	for i := 0; i < 50; i++ {
		b, _ := os.ReadFile(filepath.Join(s.Prefix, "logs", "access.log"))
		for _, m := range accessStatus.FindAllStringSubmatch(string(b), -1) {
			if m[1] == target {
				st = m[2]
			}
		}
		if st != "" {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	return st
}

// TestClientAbort compares a client that closes its side while the
// upstream works: without proxy_ignore_client_abort the request ends with
// 499 and the upstream connection is closed; with it the upstream answers
// and the response still goes out.
func TestClientAbort(t *testing.T) {
	b := proxytest.Start(t, "b1")
	var answered atomic.Int64
	b.Handle("/slow", func(req *proxytest.Request, c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(600 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err == nil || !isTimeout(err) {
			return false
		}
		c.SetReadDeadline(time.Time{})
		answered.Add(1)
		return proxytest.Respond(c, req, 200, nil, "slow answer\n")
	})
	conf := fmt.Sprintf(`
http {
  server {
    listen 127.0.0.1:%%%%PORT%%%%;
    location /abort/ { proxy_pass http://%[1]s/; }
    location /ignore/ { proxy_ignore_client_abort on; proxy_pass http://%[1]s/; }
  }
}
`, b.Addr)
	p := difftest.Start(t, conf)
	for _, tc := range []struct {
		name, target string
		answers      int64
	}{
		{"abort", "/abort/slow", 0},
		{"ignore", "/ignore/slow", 1},
	} {
		raw := "GET " + tc.target + " HTTP/1.1\r\nHost: localhost\r\n\r\n"
		for _, s := range []*nginxtest.Server{p.Nginx, p.Gresty} {
			before := answered.Load()
			resp := halfClosed(t, s.Addr, raw)
			// the upstream answers after 600ms unless its connection
			// was closed first
			time.Sleep(700 * time.Millisecond)
			if n := answered.Load() - before; n != tc.answers {
				t.Errorf("%s: upstream answered %d times through %s, want %d", tc.name, n, s.Addr, tc.answers)
			}
			if got := nginxtest.Status(resp); (tc.answers == 0) != (got == 0) {
				t.Errorf("%s: client got status %d", tc.name, got)
			}
		}
		if a, b := lastStatus(t, p.Nginx, tc.target), lastStatus(t, p.Gresty, tc.target); a != b {
			t.Errorf("%s: logged status nginx %s, gresty %s", tc.name, a, b)
		}
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
