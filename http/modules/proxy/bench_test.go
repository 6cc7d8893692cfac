package proxy_test

import (
	"bufio"
	"fmt"
	"net"
	"testing"

	"gresty/http/modules/proxy/proxytest"
	"gresty/internal/nginxtest"
)

// BenchmarkProxyKeepalive measures one request through an in-process
// gresty proxying to a backend over a keepalive upstream connection, the
// client on a keepalive connection too; an op is a request.
func BenchmarkProxyKeepalive(b *testing.B) {
	be := proxytest.Start(b, "bench")
	addr, _ := proxytest.Serve(b, fmt.Sprintf(`
http {
  keepalive_requests 100000000;
  upstream be { server %[1]s; keepalive 8; keepalive_requests 100000000; }
  server {
    listen 127.0.0.1:%[2]d;
    location / { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://be; }
  }
}
`, be.Addr, nginxtest.FreePort(b)), 1)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	req := []byte("GET /id HTTP/1.1\r\nHost: localhost\r\n\r\n")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		if err := readResponse(br, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
