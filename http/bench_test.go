package http_test

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gresty/core"
	"gresty/errlog"
	"gresty/eventloop"
	"gresty/http"
	"gresty/internal/nginxtest"
	"gresty/modules"
)

// benchConf is the smallest useful server: one location answered by the
// rewrite module's return, everything else a 404 from the static module
// (the root is an empty directory). Nothing is logged per request, as in
// the load benchmark.
const benchConf = `
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000000;
    server {
        listen 127.0.0.1:%d;
        root %s;
        location = /hello { return 200 "hello"; }
    }
}
`

// benchServer runs the configuration in this process on one loop, with the
// real module list, and returns the listening address.
func benchServer(b *testing.B) string {
	b.Helper()
	prefix := b.TempDir()
	c, err := core.Build(core.BuildOptions{
		Registry:        modules.Registry(),
		Prefix:          prefix,
		ConfFile:        "nginx.conf",
		Text:            fmt.Appendf(nil, benchConf, nginxtest.FreePort(b), filepath.Join(prefix, "empty")),
		DefaultErrorLog: filepath.Join(prefix, "error.log"),
		StartLog:        errlog.New(nil),
	})
	if err != nil {
		b.Fatal(err)
	}
	g, err := eventloop.NewGroup(eventloop.GroupConfig{Loops: 1, Loop: eventloop.Config{WorkerConnections: 4096}})
	if err != nil {
		b.Fatal(err)
	}
	if err := g.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { g.Stop() })
	rt := http.NewRuntime(g)
	hc := http.ConfigOf(c)
	if err := rt.Apply(hc, c.Log); err != nil {
		b.Fatal(err)
	}
	return rt.Addr(hc.Addrs[0].Key())
}

// pipeClient writes up to depth requests in one write and reads their
// responses, whose length it learns from the first exchange: every
// response of a route has the same length (the Date header has a fixed
// width), so counting bytes needs no parsing and no allocation, and the
// benchmark's allocations are the server's.
type pipeClient struct {
	c       net.Conn
	req     []byte // depth copies of the request
	reqLen  int
	respLen int
	buf     []byte
}

func dialPipe(b *testing.B, addr, req string, depth int) *pipeClient {
	b.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	pc := &pipeClient{c: c, req: bytes.Repeat([]byte(req), depth), reqLen: len(req)}
	pc.buf = make([]byte, 64<<10)
	if _, err := c.Write(pc.req[:pc.reqLen]); err != nil {
		b.Fatal(err)
	}
	n := 0
	for {
		k, err := c.Read(pc.buf[n:])
		if err != nil {
			b.Fatalf("first response: %v (%q)", err, pc.buf[:n])
		}
		n += k
		if l := responseLen(pc.buf[:n]); l > 0 && n >= l {
			if n != l {
				b.Fatalf("first response: %d bytes beyond its end", n-l)
			}
			pc.respLen = l
			break
		}
	}
	if depth*pc.respLen > len(pc.buf) {
		pc.buf = make([]byte, depth*pc.respLen)
	}
	return pc
}

// responseLen returns the length of the complete response at the start of
// b (which must carry Content-Length), or 0 if the head is not complete.
func responseLen(b []byte) int {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return 0
	}
	const name = "\r\nContent-Length: "
	i := bytes.Index(b[:end], []byte(name))
	if i < 0 {
		return 0
	}
	j := i + len(name)
	k := bytes.IndexByte(b[j:end+2], '\r')
	n, err := strconv.Atoi(string(b[j : j+k]))
	if err != nil {
		return 0
	}
	return end + 4 + n
}

// do sends k pipelined requests and waits for their responses.
func (pc *pipeClient) do(b *testing.B, k int) {
	if _, err := pc.c.Write(pc.req[:k*pc.reqLen]); err != nil {
		b.Fatal(err)
	}
	want := k * pc.respLen
	for n := 0; n < want; {
		m, err := pc.c.Read(pc.buf[n:want])
		if err != nil {
			b.Fatal(err)
		}
		n += m
	}
}

// BenchmarkRequest measures one request through the whole server on one
// loop: parse, server and location selection, the handler, the header and
// body filters and serialisation, over a loopback socket. An op is one
// request, so allocs/op is allocations per request; with depth 16 the
// socket cost is shared by sixteen requests, as with a pipelining client.
func BenchmarkRequest(b *testing.B) {
	cases := []struct {
		name   string
		req    string
		status string
	}{
		{"return", "GET /hello HTTP/1.1\r\nHost: bench\r\n\r\n", "HTTP/1.1 200 "},
		{"404", "GET /missing HTTP/1.1\r\nHost: bench\r\n\r\n", "HTTP/1.1 404 "},
	}
	for _, tc := range cases {
		for _, depth := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/depth=%d", tc.name, depth), func(b *testing.B) {
				pc := dialPipe(b, benchServer(b), tc.req, depth)
				if !bytes.HasPrefix(pc.buf, []byte(tc.status)) {
					b.Fatalf("response %q, want %q", pc.buf[:pc.respLen], tc.status)
				}
				for range 100 {
					pc.do(b, depth)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i += depth {
					pc.do(b, min(depth, b.N-i))
				}
			})
		}
	}
}

// BenchmarkIdleConn measures the memory an idle keepalive connection
// holds: 2000 clients each make one request and stay connected, and the
// live heap grows by B/idle-conn for each. The clients are raw sockets,
// so the heap is the server's.
func BenchmarkIdleConn(b *testing.B) {
	addr := benchServer(b)
	ap := netip.MustParseAddrPort(addr)
	sa := &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	req := []byte("GET /hello HTTP/1.1\r\nHost: bench\r\n\r\n")
	const n = 2000
	fds := make([]int, 0, n)
	buf := make([]byte, 512)
	heap := func() uint64 {
		runtime.GC()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	for b.Loop() {
		before := heap()
		for range n {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				b.Fatal(err)
			}
			fds = append(fds, fd)
			if err := unix.Connect(fd, sa); err != nil {
				b.Fatal(err)
			}
			if _, err := unix.Write(fd, req); err != nil {
				b.Fatal(err)
			}
			if m, err := unix.Read(fd, buf); err != nil || !bytes.HasPrefix(buf[:m], []byte("HTTP/1.1 200 ")) {
				b.Fatalf("response %q, %v", buf[:max(m, 0)], err)
			}
		}
		// the last responses' connections go idle once the loop runs again.
		time.Sleep(50 * time.Millisecond)
		after := heap()
		b.ReportMetric(float64(int64(after)-int64(before))/n, "B/idle-conn")
		for _, fd := range fds {
			unix.Close(fd)
		}
		fds = fds[:0]
		time.Sleep(50 * time.Millisecond)
	}
}
