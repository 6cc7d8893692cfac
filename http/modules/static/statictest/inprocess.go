package statictest

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"testing"

	"gresty/core"
	"gresty/errlog"
	"gresty/eventloop"
	"gresty/http"
	"gresty/modules"
)

// Serve runs gresty's HTTP server in this process on one loop with the
// configuration's http block (an "events" block is added) and returns the
// listening address of its first server; it stops when the test ends.
func Serve(t testing.TB, httpBlock string) string {
	t.Helper()
	prefix := t.TempDir()
	if err := os.Mkdir(filepath.Join(prefix, "logs"), 0o755); err != nil {
		t.Fatalf("statictest: %v", err)
	}
	c, err := core.Build(core.BuildOptions{
		Registry:        modules.Registry(),
		Prefix:          prefix,
		ConfFile:        "nginx.conf",
		Text:            []byte("events { worker_connections 1024; }\n" + httpBlock),
		DefaultErrorLog: filepath.Join(prefix, "error.log"),
		StartLog:        errlog.New(nil),
	})
	if err != nil {
		t.Fatalf("statictest: %v", err)
	}
	g, err := eventloop.NewGroup(eventloop.GroupConfig{Loops: 1, Loop: eventloop.Config{WorkerConnections: 1024}})
	if err != nil {
		t.Fatalf("statictest: %v", err)
	}
	if err := g.Start(); err != nil {
		t.Fatalf("statictest: %v", err)
	}
	t.Cleanup(func() { g.Stop() })
	rt := http.NewRuntime(g)
	hc := http.ConfigOf(c)
	if err := rt.Apply(hc, c.Log); err != nil {
		t.Fatalf("statictest: %v", err)
	}
	return rt.Addr(hc.Addrs[0].Key())
}

// Client is a keepalive connection that sends one fixed request at a
// time and reads a response of known framing without allocating, so that
// allocation counts measure the server.
type Client struct {
	c   net.Conn
	req []byte
	buf []byte
}

// Dial connects to addr; req is the raw request sent by Do.
func Dial(t testing.TB, addr, req string) *Client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("statictest: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &Client{c: c, req: []byte(req), buf: make([]byte, 256<<10)}
}

var (
	crlf2 = []byte("\r\n\r\n")
	clHdr = []byte("\r\nContent-Length: ")
)

// Do sends the request and returns the response (head and body), which
// stays valid until the next Do. A response must carry Content-Length.
func (cl *Client) Do() ([]byte, error) {
	if _, err := cl.c.Write(cl.req); err != nil {
		return nil, err
	}
	n := 0
	for {
		k, err := cl.c.Read(cl.buf[n:])
		if err != nil {
			return cl.buf[:n], err
		}
		n += k
		head := bytes.Index(cl.buf[:n], crlf2)
		if head < 0 {
			continue
		}
		want := 0
		if i := bytes.Index(cl.buf[:head], clHdr); i >= 0 {
			j := i + len(clHdr)
			e := j + bytes.IndexByte(cl.buf[j:head+2], '\r')
			for _, c := range cl.buf[j:e] {
				want = want*10 + int(c-'0')
			}
		}
		if n >= head+4+want {
			return cl.buf[:n], nil
		}
	}
}
