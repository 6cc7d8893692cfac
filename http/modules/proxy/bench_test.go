package proxy_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"testing"

	"gresty/http/modules/proxy/proxytest"
	"gresty/internal/nginxtest"
)

// quietBackend answers every request read from a connection with the
// same bytes, allocating nothing per request, so that a benchmark's
// allocations are the proxy's.
func quietBackend(b *testing.B, resp []byte) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 64<<10)
				have := 0
				for {
					n, err := c.Read(buf[have:])
					if err != nil {
						return
					}
					have += n
					for {
						i := bytes.Index(buf[:have], []byte("\r\n\r\n"))
						if i < 0 {
							break
						}
						copy(buf, buf[i+4:have])
						have -= i + 4
						if _, err := c.Write(resp); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// BenchmarkProxyKeepalive measures one request through an in-process
// gresty proxying to a backend over a keepalive upstream connection, the
// client on a keepalive connection too; an op is a request, and its
// allocations are the proxy's (the client and backend allocate nothing
// per request).
func BenchmarkProxyKeepalive(b *testing.B) {
	be := quietBackend(b, []byte("HTTP/1.1 200 OK\r\nServer: backend\r\nContent-Length: 5\r\n\r\nbench"))
	addr, _ := proxytest.Serve(b, fmt.Sprintf(`
http {
  keepalive_requests 100000000;
  upstream be { server %[1]s; keepalive 8; keepalive_requests 100000000; }
  server {
    listen 127.0.0.1:%[2]d;
    location / { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://be; }
  }
}
`, be, nginxtest.FreePort(b)), 1)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReaderSize(c, 64<<10)
	req := []byte("GET /id HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	want := []byte("\r\n\r\nbench")
	var resp []byte
	read := func() {
		resp = resp[:0]
		for !bytes.HasSuffix(resp, want) {
			line, err := br.ReadSlice('\n')
			if err != nil && err != bufio.ErrBufferFull {
				b.Fatal(err)
			}
			resp = append(resp, line...)
			if bytes.HasSuffix(resp, []byte("\r\n\r\n")) {
				body := make([]byte, 5)
				if _, err := br.Read(body); err != nil {
					b.Fatal(err)
				}
				resp = append(resp, body...)
			}
		}
	}
	for i := 0; i < 100; i++ {
		c.Write(req)
		read()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		read()
	}
}
