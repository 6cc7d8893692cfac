package http_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gresty/internal/benchtest"
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
				pc := benchtest.Dial(b, benchtest.Server(b, benchConf), tc.req, depth)
				if !bytes.HasPrefix(pc.Response(), []byte(tc.status)) {
					b.Fatalf("response %q, want %q", pc.Response(), tc.status)
				}
				for range 100 {
					pc.Do(b, depth)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i += depth {
					pc.Do(b, min(depth, b.N-i))
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
	addr := benchtest.Server(b, benchConf)
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
