package proxy_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"gresty/http/modules/proxy/proxytest"
	"gresty/internal/nginxtest"
)

// quietBackend answers every request read from a connection with the
// same bytes, allocating nothing per request, so that a benchmark's
// allocations are the proxy's.
func quietBackend(t testing.TB, resp []byte) string {
	return nginxtest.Serve(t, func(c net.Conn) {
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
	})
}

// fixedClient sends one request over and over on a keepalive connection.
// Every response to it has the same length (the Date header has a fixed
// width), learnt from the first one, so reading one needs no parsing and
// allocates nothing: a run's allocations are the server's.
type fixedClient struct {
	c    net.Conn
	req  []byte
	buf  []byte
	n    int
	head []byte
	tail []byte
}

// dialFixed connects to addr and learns the length of the response to
// req, which must begin with head and end with tail.
func dialFixed(t testing.TB, addr, req, head, tail string) *fixedClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fc := &fixedClient{c: c, req: []byte(req), buf: make([]byte, 64<<10), head: []byte(head), tail: []byte(tail)}
	if _, err := c.Write(fc.req); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for !bytes.HasSuffix(fc.buf[:fc.n], fc.tail) {
		k, err := c.Read(fc.buf[fc.n:])
		if err != nil {
			t.Fatalf("first response: %v (%q)", err, fc.buf[:fc.n])
		}
		fc.n += k
	}
	c.SetReadDeadline(time.Time{})
	if !bytes.HasPrefix(fc.buf, fc.head) {
		t.Fatalf("first response %q, want it to begin with %q", fc.buf[:fc.n], head)
	}
	return fc
}

// do exchanges one request and checks the response's ends.
func (fc *fixedClient) do() error {
	if _, err := fc.c.Write(fc.req); err != nil {
		return err
	}
	b := fc.buf[:fc.n]
	if _, err := io.ReadFull(fc.c, b); err != nil {
		return err
	}
	if !bytes.HasPrefix(b, fc.head) || !bytes.HasSuffix(b, fc.tail) {
		return fmt.Errorf("unexpected response %q", b)
	}
	return nil
}

// keepaliveConf proxies to the backend at %[1]s over keepalive upstream
// connections, listening on port %[2]d; %[3]s goes into the location and
// %[4]s (a balancing method) into the upstream block.
const keepaliveConf = `
http {
  keepalive_requests 100000000;
  upstream be { %[4]s server %[1]s; keepalive 8; keepalive_requests 100000000; }
  server {
    listen 127.0.0.1:%[2]d;
    location / { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://be; %[3]s }
  }
}
`

const benchReq = "GET /id HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"

// BenchmarkProxyKeepalive measures one request through an in-process
// gresty proxying to a backend over a keepalive upstream connection, the
// client on a keepalive connection too; an op is a request, and its
// allocations are the proxy's (the client and backend allocate nothing
// per request).
func BenchmarkProxyKeepalive(b *testing.B) {
	be := quietBackend(b, []byte("HTTP/1.1 200 OK\r\nServer: backend\r\nContent-Length: 5\r\n\r\nbench"))
	addr, _ := proxytest.Serve(b, fmt.Sprintf(keepaliveConf, be, nginxtest.FreePort(b), "", ""), 1)
	fc := dialFixed(b, addr, benchReq, "HTTP/1.1 200 OK\r\n", "\r\n\r\nbench")
	for i := 0; i < 100; i++ {
		if err := fc.do(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := fc.do(); err != nil {
			b.Fatal(err)
		}
	}
}
