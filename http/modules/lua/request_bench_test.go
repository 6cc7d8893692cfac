package lua_test

import (
	"bytes"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"gresty/core"
	"gresty/errlog"
	"gresty/eventloop"
	"gresty/http"
	"gresty/internal/nginxtest"
	"gresty/modules"
)

// luaBenchConf is the configuration of the load benchmark's Lua scenarios
// on one server: a content handler that only says hello, and one that
// counts requests in a shared dictionary. The counter starts at 10^9 so
// that its width, and so every response's length, stays the same for the
// whole run. Nothing is logged per request.
const luaBenchConf = `
events { worker_connections 64; }
http {
    access_log off;
    keepalive_requests 1000000000;
    lua_shared_dict hits 1m;
    server {
        listen 127.0.0.1:%d;
        root %s;
        default_type text/plain;
        location = /hello { content_by_lua_block { ngx.say("hello") } }
        location = /shdict { content_by_lua_block { ngx.say((ngx.shared.hits:incr("hits", 1, 1000000000))) } }
        location = /return { return 200 "hello\n"; }
    }
}
`

// luaBenchServer runs luaBenchConf in this process on one loop with the
// real module list and returns the listening address.
func luaBenchServer(b *testing.B) string {
	b.Helper()
	prefix := b.TempDir()
	c, err := core.Build(core.BuildOptions{
		Registry:        modules.Registry(),
		Prefix:          prefix,
		ConfFile:        "nginx.conf",
		Text:            fmt.Appendf(nil, luaBenchConf, nginxtest.FreePort(b), filepath.Join(prefix, "empty")),
		DefaultErrorLog: filepath.Join(prefix, "error.log"),
		StartLog:        errlog.New(nil),
	})
	if err != nil {
		b.Fatal(err)
	}
	g, err := eventloop.NewGroup(eventloop.GroupConfig{Loops: 1, Loop: eventloop.Config{WorkerConnections: 64}})
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

// benchPipe writes up to depth requests at once and reads their responses,
// whose common length it learns from the first one, so that the client
// neither parses nor allocates and allocs/op are the server's.
type benchPipe struct {
	c       net.Conn
	req     []byte
	reqLen  int
	respLen int
	buf     []byte
}

func dialBenchPipe(b *testing.B, addr, req string, depth int) *benchPipe {
	b.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	p := &benchPipe{c: c, req: bytes.Repeat([]byte(req), depth), reqLen: len(req), buf: make([]byte, 64<<10)}
	if _, err := c.Write(p.req[:p.reqLen]); err != nil {
		b.Fatal(err)
	}
	for n := 0; ; {
		k, err := c.Read(p.buf[n:])
		if err != nil {
			b.Fatalf("first response: %v (%q)", err, p.buf[:n])
		}
		n += k
		if l := benchRespLen(p.buf[:n]); l > 0 && n >= l {
			if n != l {
				b.Fatalf("first response: %d bytes beyond its end", n-l)
			}
			p.respLen = l
			break
		}
	}
	if depth*p.respLen > len(p.buf) {
		p.buf = make([]byte, depth*p.respLen)
	}
	return p
}

// benchRespLen returns the length of the complete response at the start
// of b, which must carry Content-Length or be chunked, or 0 while it is
// partial.
func benchRespLen(b []byte) int {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return 0
	}
	if bytes.Contains(b[:end], []byte("\r\nTransfer-Encoding: chunked")) {
		const last = "\r\n0\r\n\r\n"
		i := bytes.Index(b[end+4:], []byte(last))
		if i < 0 {
			return 0
		}
		return end + 4 + i + len(last)
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

// processCPU returns the user and system CPU time the process used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (p *benchPipe) do(b *testing.B, k int) {
	if _, err := p.c.Write(p.req[:k*p.reqLen]); err != nil {
		b.Fatal(err)
	}
	want := k * p.respLen
	for n := 0; n < want; {
		m, err := p.c.Read(p.buf[n:want])
		if err != nil {
			b.Fatal(err)
		}
		n += m
	}
}

// BenchmarkLuaRequest measures one request through a content_by_lua
// handler on one loop, over a loopback socket: parse, location, the Lua
// thread, ngx.say's output through the filters, serialisation. An op is
// one request, so allocs/op is allocations per request; "return" is the
// same request answered without Lua, the floor the Lua path adds to.
func BenchmarkLuaRequest(b *testing.B) {
	cases := []struct {
		name string
		path string
		body string
	}{
		{"hello", "/hello", "hello\n"},
		{"shdict", "/shdict", ""},
		{"return", "/return", "hello\n"},
	}
	for _, tc := range cases {
		for _, depth := range []int{1, 16, 128} {
			b.Run(fmt.Sprintf("%s/depth=%d", tc.name, depth), func(b *testing.B) {
				req := "GET " + tc.path + " HTTP/1.1\r\nHost: bench\r\n\r\n"
				p := dialBenchPipe(b, luaBenchServer(b), req, depth)
				resp := p.buf[:p.respLen]
				if !bytes.HasPrefix(resp, []byte("HTTP/1.1 200 ")) || !bytes.HasSuffix(resp, []byte("\n")) ||
					tc.body != "" && !bytes.Contains(resp, []byte("\r\n"+tc.body)) {
					b.Fatalf("response %q", resp)
				}
				for range 100 {
					p.do(b, depth)
				}
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := processCPU(b)
				for i := 0; i < b.N; i += depth {
					p.do(b, min(depth, b.N-i))
				}
				// CPU time holds up better than wall time on a shared
				// machine; it includes the client's, the same for all.
				b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}
