//go:build linux

package eventloop

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

var testBackends = []Backend{BackendEpoll, BackendNetpoll}

// forEachBackend runs f as a subtest per poller backend.
func forEachBackend(t *testing.T, f func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range testBackends {
		t.Run(b.String(), func(t *testing.T) { f(t, b) })
	}
}

// logRecorder collects a loop's log lines.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *logRecorder) logf(level int, connID uint64, format string, args ...any) {
	r.mu.Lock()
	r.lines = append(r.lines, fmt.Sprintf("%d %s", level, fmt.Sprintf(format, args...)))
	r.mu.Unlock()
}

func (r *logRecorder) contains(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func (r *logRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// startGroup starts a group of n loops on backend b, stopped at cleanup.
func startGroup(t testing.TB, b Backend, n int, mod func(*GroupConfig)) *Group {
	t.Helper()
	cfg := GroupConfig{Loops: n, Loop: Config{Backend: b}}
	if mod != nil {
		mod(&cfg)
	}
	g, err := NewGroup(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Stop() })
	return g
}

// listenTCP opens 127.0.0.1:0 on every loop of g.
func listenTCP(t testing.TB, g *Group, a Accepter) *ListenerSet {
	t.Helper()
	s, err := g.Listen(ListenConfig{Address: "127.0.0.1:0"}, a)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// onLoop runs f on l's goroutine and waits for it.
func onLoop(t testing.TB, l *Loop, f func()) {
	t.Helper()
	done := make(chan struct{})
	if !l.Post(func() { f(); close(done) }) {
		t.Fatal("loop stopped")
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("posted function did not run")
	}
}

// dialClient connects a plain Go client with a deadline for the whole test
// step.
func dialClient(t testing.TB, network, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// pattern returns n bytes whose value depends on the position, so lost,
// duplicated or reordered ranges show up.
func pattern(off, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((off + i) % 251)
	}
	return b
}

func checkPattern(t testing.TB, b []byte) {
	t.Helper()
	for i, v := range b {
		if v != byte(i%251) {
			t.Fatalf("byte %d is %d, want %d", i, v, byte(i%251))
		}
	}
}

// echoHandler answers every read with the same bytes.
type echoHandler struct{}

func (echoHandler) OnData(c *Conn, b []byte)   { c.Write(b) }
func (echoHandler) OnReadEOF(c *Conn)          { c.CloseAfterDrain() }
func (echoHandler) OnDrain(c *Conn)            {}
func (echoHandler) OnClose(c *Conn, err error) {}

var echoAccepter = AccepterFunc(func(c *Conn) Handler { return echoHandler{} })
