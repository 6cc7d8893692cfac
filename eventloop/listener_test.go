//go:build linux

package eventloop

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// lineServer answers each line "x" with "ok x".
type lineServer struct{ buf []byte }

func (s *lineServer) OnData(c *Conn, b []byte) {
	s.buf = append(s.buf, b...)
	for {
		i := strings.IndexByte(string(s.buf), '\n')
		if i < 0 {
			return
		}
		c.WriteString("ok " + string(s.buf[:i+1]))
		s.buf = s.buf[i+1:]
	}
}
func (s *lineServer) OnReadEOF(c *Conn)          { c.CloseAfterDrain() }
func (s *lineServer) OnDrain(c *Conn)            {}
func (s *lineServer) OnClose(c *Conn, err error) {}

var lineAccepter = AccepterFunc(func(c *Conn) Handler { return &lineServer{} })

func ask(t *testing.T, c net.Conn, line string) {
	t.Helper()
	if _, err := c.Write([]byte(line + "\n")); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("asking %q: %v", line, err)
	}
	if got != "ok "+line+"\n" {
		t.Fatalf("asked %q, got %q", line, got)
	}
}

// Closing a listener set gracefully loses no connection the kernel already
// accepted: queued ones are accepted first and everything is served.
func TestGracefulListenerCloseLosesNothing(t *testing.T) {
	cases := []struct {
		name string
		cfg  func(dir string) ListenConfig
	}{
		{"reuseport", func(string) ListenConfig { return ListenConfig{Address: "127.0.0.1:0"} }},
		{"shared", func(string) ListenConfig { return ListenConfig{Address: "127.0.0.1:0", Shared: true} }},
		{"unix", func(dir string) ListenConfig {
			return ListenConfig{Network: "unix", Address: filepath.Join(dir, "s.sock")}
		}},
	}
	forEachBackend(t, func(t *testing.T, b Backend) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				g := startGroup(t, b, 2, nil)
				cfg := tc.cfg(t.TempDir())
				s, err := g.Listen(cfg, lineAccepter)
				if err != nil {
					t.Fatal(err)
				}
				network := "tcp"
				if cfg.Network == "unix" {
					network = "unix"
				}
				addr := s.Addr().String()
				// Hold the loops so the connections wait in the kernel's
				// accept queues when the close is processed.
				release := make(chan struct{})
				for _, l := range g.Loops() {
					l.Post(func() { <-release })
				}
				var clients []net.Conn
				for i := 0; i < 40; i++ {
					clients = append(clients, dialClient(t, network, addr))
				}
				closed := s.CloseAsync()
				close(release)
				<-closed
				if g.ListenerSet(s.Key()) != nil {
					t.Fatal("closed set still registered")
				}
				for i, c := range clients {
					ask(t, c, "ping "+itoa(i))
				}
				if _, err := net.DialTimeout(network, addr, time.Second); err == nil {
					t.Fatal("connect succeeded after the listener closed")
				}
				if network == "unix" {
					if _, err := os.Stat(cfg.Address); !os.IsNotExist(err) {
						t.Fatalf("socket file left behind: %v", err)
					}
				}
			})
		}
	})
}

// Every loop gets its own SO_REUSEPORT socket, and they share one port.
func TestReuseportSocketPerLoop(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 3, nil)
		s := listenTCP(t, g, lineAccepter)
		lns := s.Listeners()
		if len(lns) != 3 {
			t.Fatalf("%d listeners for 3 loops", len(lns))
		}
		seen := map[int]bool{}
		for i, ln := range lns {
			if ln.Loop() != g.Loops()[i] || ln.Set() != s {
				t.Fatalf("listener %d wired to the wrong loop or set", i)
			}
			if seen[ln.fd] {
				t.Fatalf("fd %d shared between loops", ln.fd)
			}
			seen[ln.fd] = true
			if v, _ := unix.GetsockoptInt(ln.fd, unix.SOL_SOCKET, unix.SO_REUSEPORT); v != 1 {
				t.Fatalf("SO_REUSEPORT not set on loop %d", i)
			}
		}
		if !strings.HasPrefix(s.Key(), "127.0.0.1:") || strings.HasSuffix(s.Key(), ":0") {
			t.Fatalf("key %q should carry the bound port", s.Key())
		}
		for i := 0; i < 10; i++ {
			ask(t, dialClient(t, "tcp", s.Addr().String()), "x")
		}
	})
}

// Socket options from the listen directive reach the socket.
func TestListenOptions(t *testing.T) {
	g := startGroup(t, BackendEpoll, 1, nil)
	cases := []struct {
		name  string
		cfg   ListenConfig
		level int
		opt   int
		want  int
	}{
		{"keepalive on", ListenConfig{KeepAlive: KeepAliveOn}, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1},
		{"keepidle", ListenConfig{KeepAlive: KeepAliveOn, KeepIdle: 30 * time.Second}, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, 30},
		{"keepintvl", ListenConfig{KeepIntvl: 10 * time.Second}, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, 10},
		{"keepcnt", ListenConfig{KeepCnt: 3}, unix.IPPROTO_TCP, unix.TCP_KEEPCNT, 3},
		{"deferred", ListenConfig{DeferAccept: true}, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, 1},
		{"nodelay", ListenConfig{NoDelay: true}, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1},
		{"reuseaddr", ListenConfig{}, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Address = "127.0.0.1:0"
			s, err := g.Listen(tc.cfg, lineAccepter)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			v, err := unix.GetsockoptInt(s.Listeners()[0].fd, tc.level, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			// TCP_DEFER_ACCEPT is kept in retransmission periods and
			// reads back rounded up; any non-zero value means on.
			if tc.opt == unix.TCP_DEFER_ACCEPT && v > 0 {
				v = 1
			}
			if v != tc.want {
				t.Fatalf("option read back as %d, want %d", v, tc.want)
			}
			ask(t, dialClient(t, "tcp", s.Addr().String()), "opt")
		})
	}
	t.Run("rcvbuf", func(t *testing.T) {
		s, err := g.Listen(ListenConfig{Address: "127.0.0.1:0", RcvBuf: 64 << 10, SndBuf: 64 << 10}, lineAccepter)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		// The kernel doubles the value it was given.
		if v, _ := unix.GetsockoptInt(s.Listeners()[0].fd, unix.SOL_SOCKET, unix.SO_RCVBUF); v != 128<<10 {
			t.Fatalf("SO_RCVBUF %d", v)
		}
		if v, _ := unix.GetsockoptInt(s.Listeners()[0].fd, unix.SOL_SOCKET, unix.SO_SNDBUF); v != 128<<10 {
			t.Fatalf("SO_SNDBUF %d", v)
		}
	})
}

// IPv6 listeners are IPv6-only unless DualStack (ipv6only=off), as nginx.
func TestIPv6Only(t *testing.T) {
	if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skip("no IPv6 loopback:", err)
	} else {
		ln.Close()
	}
	g := startGroup(t, BackendEpoll, 1, nil)
	cases := []struct {
		dual bool
		want int
	}{{false, 1}, {true, 0}}
	for _, tc := range cases {
		s, err := g.Listen(ListenConfig{Network: "tcp6", Address: "[::]:0", DualStack: tc.dual}, lineAccepter)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := unix.GetsockoptInt(s.Listeners()[0].fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY); v != tc.want {
			t.Fatalf("DualStack=%v: IPV6_V6ONLY %d, want %d", tc.dual, v, tc.want)
		}
		if !strings.HasPrefix(s.Key(), "[::]:") {
			t.Fatalf("key %q", s.Key())
		}
		port := s.Addr().(*net.TCPAddr).Port
		ask(t, dialClient(t, "tcp6", net.JoinHostPort("::1", itoa(port))), "v6")
		s.Close()
	}
}

// Bind errors carry nginx's wording.
func TestListenErrors(t *testing.T) {
	g := startGroup(t, BackendEpoll, 2, nil)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, err = g.Listen(ListenConfig{Address: taken.Addr().String()}, lineAccepter)
	want := "bind() to " + taken.Addr().String() + " failed (98: Address already in use)"
	if err == nil || err.Error() != want {
		t.Fatalf("err %v, want %q", err, want)
	}
	s := listenTCP(t, g, lineAccepter)
	if _, err := g.Listen(ListenConfig{Address: s.Key()}, lineAccepter); err == nil {
		t.Fatal("second set with the same key was opened")
	}
	for _, bad := range []ListenConfig{{Address: "localhost:80"}, {Network: "udp", Address: "127.0.0.1:0"}, {Network: "unix"}} {
		if _, err := g.Listen(bad, lineAccepter); err == nil {
			t.Fatalf("Listen(%+v) succeeded", bad)
		}
	}
}

// A reload swaps the accepter without touching the sockets.
func TestSetAccepterKeepsSockets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 2, nil)
		greeter := func(word string) Accepter {
			return AccepterFunc(func(c *Conn) Handler {
				c.WriteString(word)
				c.CloseAfterDrain()
				return &HandlerFuncs{}
			})
		}
		s, err := g.Listen(ListenConfig{Address: "127.0.0.1:0"}, greeter("old"))
		if err != nil {
			t.Fatal(err)
		}
		fds := []int{s.Listeners()[0].fd, s.Listeners()[1].fd}
		read := func() string {
			b, _ := io.ReadAll(dialClient(t, "tcp", s.Addr().String()))
			return string(b)
		}
		if got := read(); got != "old" {
			t.Fatalf("got %q", got)
		}
		if g.ListenerSet(s.Key()) != s {
			t.Fatal("set not found by key")
		}
		s.SetAccepter(greeter("new"))
		for i := 0; i < 6; i++ {
			if got := read(); got != "new" {
				t.Fatalf("after swap got %q", got)
			}
		}
		if s.Listeners()[0].fd != fds[0] || s.Listeners()[1].fd != fds[1] {
			t.Fatal("sockets were reopened")
		}
	})
}

// Past worker_connections, a new connection is closed and nginx's alert is
// logged.
func TestWorkerConnectionsEnforced(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		var log logRecorder
		g := startGroup(t, b, 1, func(c *GroupConfig) {
			c.Loop.WorkerConnections = 3 // the listener takes one slot
			c.Loop.Logf = log.logf
		})
		s := listenTCP(t, g, lineAccepter)
		a := dialClient(t, "tcp", s.Addr().String())
		ask(t, a, "a")
		bc := dialClient(t, "tcp", s.Addr().String())
		ask(t, bc, "b")
		c := dialClient(t, "tcp", s.Addr().String())
		if n, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatalf("third connection was served (%d bytes)", n)
		}
		want := "2 3 worker_connections are not enough while accepting new connection on " + s.Key()
		if !log.contains(want) {
			t.Fatalf("log %q lacks %q", log.String(), want)
		}
		// Once a slot is free, connections are accepted again.
		a.Close()
		time.Sleep(50 * time.Millisecond)
		ask(t, dialClient(t, "tcp", s.Addr().String()), "d")
	})
}

// When slots run out, reusable (idle keepalive) connections are reclaimed
// oldest first, with nginx's warning.
func TestReusableConnectionsReclaimed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		var log logRecorder
		var closedIdle atomic.Int32
		g := startGroup(t, b, 1, func(c *GroupConfig) {
			c.Loop.WorkerConnections = 3
			c.Loop.Logf = log.logf
		})
		s := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler {
			c.SetReusable(true)
			return &HandlerFuncs{Close: func(*Conn, error) { closedIdle.Add(1) }}
		}))
		first := dialClient(t, "tcp", s.Addr().String())
		dialClient(t, "tcp", s.Addr().String())
		time.Sleep(20 * time.Millisecond)
		third := dialClient(t, "tcp", s.Addr().String())
		if _, err := first.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("oldest reusable connection: %v, want EOF", err)
		}
		third.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := third.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("new connection: %v, want it open", err)
		}
		if !log.contains("5 3 worker_connections are not enough, reusing connections") {
			t.Fatalf("log: %q", log.String())
		}
		if closedIdle.Load() != 1 {
			t.Fatalf("%d reclaimed, want 1", closedIdle.Load())
		}
	})
}

// The accepter may refuse a connection by returning nil.
func TestAccepterRefuses(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		s := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler { return nil }))
		_, err := dialClient(t, "tcp", s.Addr().String()).Read(make([]byte, 1))
		if err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("refused connection read: %v", err)
		}
	})
}

// Sockets inherited from a previous binary are adopted without rebinding.
func TestInheritedListener(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 2, nil)
		old, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		f, err := old.(*net.TCPListener).File() // a dup, as exec would pass
		old.Close()
		if err != nil {
			t.Fatal(err)
		}
		fd, err := unix.Dup(int(f.Fd()))
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		s, err := g.Listen(ListenConfig{Address: "127.0.0.1:0", FDs: []int{fd}}, lineAccepter)
		if err != nil {
			t.Fatal(err)
		}
		if s.Key() != old.Addr().String() {
			t.Fatalf("key %q, want the inherited socket's %q", s.Key(), old.Addr())
		}
		for i := 0; i < 4; i++ {
			ask(t, dialClient(t, "tcp", s.Addr().String()), "inherited")
		}
		if _, err := g.Listen(ListenConfig{Address: "127.0.0.1:0", FDs: []int{1, 2, 3}}, lineAccepter); err == nil {
			t.Fatal("3 inherited sockets for 2 loops were accepted")
		}
	})
}

// Connections queued together are all accepted, one per readiness report
// (the listening socket is level-triggered, so it is reported again) or
// all at once with multi_accept.
func TestAcceptQueuedConnections(t *testing.T) {
	for _, multi := range []bool{false, true} {
		t.Run(fmt.Sprintf("multi_accept=%v", multi), func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, b Backend) {
				g := startGroup(t, b, 1, func(c *GroupConfig) { c.Loop.MultiAccept = multi })
				l := g.Loops()[0]
				ls := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler {
					c.WriteString("hi")
					c.CloseAfterDrain()
					return &HandlerFuncs{}
				}))
				// hold the loop so the connections queue up in the backlog.
				release := make(chan struct{})
				l.Post(func() { <-release })
				const n = 40
				conns := make([]net.Conn, n)
				for i := range conns {
					conns[i] = dialClient(t, "tcp", ls.Addr().String())
				}
				close(release)
				for i, c := range conns {
					c.SetReadDeadline(time.Now().Add(5 * time.Second))
					got, err := io.ReadAll(c)
					if err != nil || string(got) != "hi" {
						t.Fatalf("connection %d: %q %v", i, got, err)
					}
				}
			})
		})
	}
}
