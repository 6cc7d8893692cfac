package proxy_test

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// TestProxyLimitRate reads a buffered response from the upstream at
// proxy_limit_rate on both servers: 40000 bytes at 20000 bytes a second
// take at least a second after the head, the body arrives whole, and the
// keepalive upstream connection serves the next request normally.
func TestProxyLimitRate(t *testing.T) {
	dir := t.TempDir()
	body := strings.Repeat("X", 40000)
	if err := os.WriteFile(filepath.Join(dir, "data"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	backend := nginxtest.StartGresty(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        root `+dir+`;
    }
}
`)
	p := difftest.Start(t, `
http {
    upstream u {
        server `+backend.Addr+`;
        keepalive 1;
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://u/data;
            proxy_buffer_size 4k;
            proxy_limit_rate 20000;
        }
        location /fast {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://u/data;
        }
    }
}
`)
	req := "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
	var wg sync.WaitGroup
	for _, srv := range []struct {
		who  string
		addr string
	}{{"nginx", p.Nginx.Addr}, {"gresty", p.Gresty.Addr}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			r := fetchOpen(t, srv.addr, req)
			took := time.Since(start)
			if r.Status != 200 || string(r.Body) != body {
				t.Errorf("%s: status %d, %d body bytes", srv.who, r.Status, len(r.Body))
			}
			if took < 900*time.Millisecond {
				t.Errorf("%s: 40000 bytes at 20000 a second took %v", srv.who, took)
			}
			for i := 0; i < 2; i++ {
				if r := fetchOpen(t, srv.addr, "GET /fast HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"); r.Status != 200 || len(r.Body) != len(body) {
					t.Errorf("%s: after the limited response: %d, %d bytes", srv.who, r.Status, len(r.Body))
				}
			}
		}()
	}
	wg.Wait()
}

// fetchOpen sends raw without half-closing the connection (a proxied
// request would take that for a client gone) and reads the answer until
// the server closes.
func fetchOpen(t *testing.T, addr, raw string) *difftest.Response {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return &difftest.Response{}
	}
	defer c.Close()
	io.WriteString(c, raw)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, _ := io.ReadAll(c)
	return difftest.Parse(b, false)
}
