// Package benchtest runs a configuration in the benchmark's own process
// on one event loop and drives it with a pipelining client that neither
// parses nor allocates, so that a benchmark's allocs/op are the server's.
package benchtest

import (
	"bytes"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"testing"

	"gresty/core"
	"gresty/errlog"
	"gresty/eventloop"
	"gresty/http"
	"gresty/internal/nginxtest"
	"gresty/modules"
)

// Server builds conf, a format whose %d is the port to listen on and
// whose %s is an empty directory to use as a root, with the real module
// list, serves it on one loop until the benchmark ends and returns the
// listening address.
func Server(b *testing.B, conf string) string {
	b.Helper()
	prefix := b.TempDir()
	c, err := core.Build(core.BuildOptions{
		Registry:        modules.Registry(),
		Prefix:          prefix,
		ConfFile:        "nginx.conf",
		Text:            fmt.Appendf(nil, conf, nginxtest.FreePort(b), filepath.Join(prefix, "empty")),
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

// Pipe writes up to depth copies of a request at once and reads their
// responses, whose common length it learns from the first exchange:
// every response of a route has the same length (the Date header has a
// fixed width), so counting bytes needs no parsing.
type Pipe struct {
	c      net.Conn
	req    []byte // depth copies of the request
	reqLen int
	// RespLen is the length of one response; Buf holds the last ones
	// read, the first exchange's response at its start.
	RespLen int
	Buf     []byte
}

// Dial connects to addr and makes the first exchange of req.
func Dial(b *testing.B, addr, req string, depth int) *Pipe {
	b.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	p := &Pipe{c: c, req: bytes.Repeat([]byte(req), depth), reqLen: len(req), Buf: make([]byte, 64<<10)}
	if _, err := c.Write(p.req[:p.reqLen]); err != nil {
		b.Fatal(err)
	}
	for n := 0; ; {
		k, err := c.Read(p.Buf[n:])
		if err != nil {
			b.Fatalf("first response: %v (%q)", err, p.Buf[:n])
		}
		n += k
		if l := respLen(p.Buf[:n]); l > 0 && n >= l {
			if n != l {
				b.Fatalf("first response: %d bytes beyond its end", n-l)
			}
			p.RespLen = l
			break
		}
	}
	if depth*p.RespLen > len(p.Buf) {
		p.Buf = make([]byte, depth*p.RespLen)
	}
	return p
}

// Response returns the first exchange's response (until Do overwrites
// it).
func (p *Pipe) Response() []byte { return p.Buf[:p.RespLen] }

// Do sends k pipelined requests and waits for their responses.
func (p *Pipe) Do(b *testing.B, k int) {
	if _, err := p.c.Write(p.req[:k*p.reqLen]); err != nil {
		b.Fatal(err)
	}
	want := k * p.RespLen
	for n := 0; n < want; {
		m, err := p.c.Read(p.Buf[n:want])
		if err != nil {
			b.Fatal(err)
		}
		n += m
	}
}

// respLen returns the length of the complete response at the start of b,
// which carries a Content-Length or is chunked, or 0 while it is partial.
func respLen(b []byte) int {
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
