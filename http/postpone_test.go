package http_test

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
)

// postpone_output: the response's first small pieces (the head included)
// stay back until more than postpone_output bytes wait, a flush, or the
// end of the response, so a client sees nothing of a response that pauses
// after a little output; a flush sends what is there at once. Checked on
// nginx and gresty alike.
func TestPostponeOutput(t *testing.T) {
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location /held { echo a; echo_sleep 0.5; echo b; }
        location /flushed { echo a; echo_flush; echo_sleep 1; echo b; }
        location /zero { postpone_output 0; echo a; echo_sleep 1; echo b; }
    }
}
`, "echo")
	for _, srv := range []struct {
		name, addr string
	}{{"nginx", p.Nginx.Addr}, {"gresty", p.Gresty.Addr}} {
		// upToA reads until "a\n" has arrived and returns how long the
		// first bytes took and everything read.
		upToA := func(path string) (time.Duration, string) {
			t.Helper()
			c, err := net.Dial("tcp", srv.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			io.WriteString(c, "GET "+path+" HTTP/1.0\r\n\r\n")
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			var got []byte
			var firstAt time.Duration
			b := make([]byte, 4096)
			for !strings.Contains(string(got), "\r\n\r\na\n") {
				n, err := c.Read(b)
				if firstAt == 0 {
					firstAt = time.Since(start)
				}
				got = append(got, b[:n]...)
				if err != nil {
					t.Fatalf("%s %s: %v after %q", srv.name, path, err, got)
				}
			}
			return firstAt, string(got)
		}
		if d, got := upToA("/held"); d < 400*time.Millisecond || !strings.HasSuffix(got, "a\nb\n") {
			t.Errorf("%s /held: first bytes after %v, %q; want the whole response after the sleep", srv.name, d, got)
		}
		for _, path := range []string{"/flushed", "/zero"} {
			if _, got := upToA(path); strings.Contains(got, "b\n") {
				t.Errorf("%s %s: %q, want \"a\" before the sleep ends", srv.name, path, got)
			}
		}
	}
}
