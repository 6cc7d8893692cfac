//go:build linux

package eventloop

import (
	"errors"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

type dialResult struct {
	c   *Conn
	err error
}

// dialOnLoop dials from l and waits for the done callback.
func dialOnLoop(t *testing.T, l *Loop, network, addr string, timeout time.Duration, h Handler) dialResult {
	t.Helper()
	ch := make(chan dialResult, 1)
	onLoop(t, l, func() {
		l.Dial(network, addr, timeout, h, func(c *Conn, err error) { ch <- dialResult{c, err} })
	})
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("dial callback never ran")
	}
	return dialResult{}
}

// freePort returns a loopback port nobody listens on.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// fullBacklog returns the address of a listener that never accepts and
// whose queue is full, so new SYNs are dropped and connects hang.
func fullBacklog(t *testing.T) string {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(fd)
	addr := &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: sa.(*unix.SockaddrInet4).Port}
	for i := 0; i < 4; i++ {
		c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(c) })
		unix.Connect(c, addr)
	}
	time.Sleep(50 * time.Millisecond) // let the fillers' handshakes complete
	return net.JoinHostPort("127.0.0.1", itoa(addr.Port))
}

func TestDial(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		l := g.Loops()[0]

		t.Run("success", func(t *testing.T) {
			srv, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			go func() {
				c, err := srv.Accept()
				if err != nil {
					return
				}
				buf := make([]byte, 5)
				n, _ := c.Read(buf)
				c.Write(append([]byte("echo:"), buf[:n]...))
				c.Close()
			}()
			got := make(chan string, 1)
			var data []byte
			r := dialOnLoop(t, l, "tcp", srv.Addr().String(), time.Second, &HandlerFuncs{
				Data:    func(c *Conn, b []byte) { data = append(data, b...) },
				ReadEOF: func(c *Conn) { got <- string(data); c.Close() },
			})
			if r.err != nil {
				t.Fatal(r.err)
			}
			onLoop(t, l, func() {
				if ap := r.c.RemoteAddrPort(); ap.String() != srv.Addr().String() {
					t.Errorf("RemoteAddrPort %v, want %v", ap, srv.Addr())
				}
				if !r.c.LocalAddrPort().Addr().IsLoopback() {
					t.Errorf("LocalAddrPort %v", r.c.LocalAddrPort())
				}
				r.c.WriteString("hello")
			})
			if s := <-got; s != "echo:hello" {
				t.Fatalf("got %q", s)
			}
		})

		t.Run("written before connected", func(t *testing.T) {
			srv, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			got := make(chan string, 1)
			go func() {
				c, err := srv.Accept()
				if err != nil {
					return
				}
				buf := make([]byte, 16)
				n, _ := c.Read(buf)
				got <- string(buf[:n])
				c.Close()
			}()
			onLoop(t, l, func() {
				c := l.Dial("tcp", srv.Addr().String(), time.Second, &HandlerFuncs{}, func(*Conn, error) {})
				c.WriteString("early")
			})
			if s := <-got; s != "early" {
				t.Fatalf("server read %q", s)
			}
		})

		t.Run("refused", func(t *testing.T) {
			r := dialOnLoop(t, l, "tcp", freePort(t), time.Second, &HandlerFuncs{})
			if !errors.Is(r.err, syscall.ECONNREFUSED) {
				t.Fatalf("err %v, want ECONNREFUSED", r.err)
			}
			if s := r.err.Error(); s != "connect() failed (111: Connection refused)" {
				t.Fatalf("message %q", s)
			}
		})

		t.Run("timeout", func(t *testing.T) {
			addr := fullBacklog(t)
			start := time.Now()
			r := dialOnLoop(t, l, "tcp", addr, 150*time.Millisecond, &HandlerFuncs{})
			var oe *OpError
			if !errors.As(r.err, &oe) || !oe.Timeout() {
				t.Fatalf("err %v, want a connect timeout", r.err)
			}
			if s := ErrnoText(r.err); s != "(110: Connection timed out)" {
				t.Fatalf("ErrnoText %q", s)
			}
			if d := time.Since(start); d < 150*time.Millisecond {
				t.Fatalf("timed out after %v, before the 150ms timeout", d)
			}
		})

		t.Run("cancel before connected", func(t *testing.T) {
			addr := fullBacklog(t)
			ch := make(chan error, 1)
			onLoop(t, l, func() {
				c := l.Dial("tcp", addr, 5*time.Second, &HandlerFuncs{}, func(c *Conn, err error) { ch <- err })
				c.Close()
			})
			if err := <-ch; !errors.Is(err, ErrClosed) {
				t.Fatalf("err %v, want ErrClosed", err)
			}
		})

		t.Run("bad address", func(t *testing.T) {
			r := dialOnLoop(t, l, "tcp", "localhost:80", time.Second, &HandlerFuncs{})
			if r.err == nil {
				t.Fatal("dialing a host name succeeded; the loop must not resolve names")
			}
		})

		t.Run("unix refused", func(t *testing.T) {
			r := dialOnLoop(t, l, "unix", filepath.Join(t.TempDir(), "none.sock"), time.Second, &HandlerFuncs{})
			if s := r.err.Error(); s != "connect() failed (2: No such file or directory)" {
				t.Fatalf("message %q", s)
			}
		})
	})
}

// A connected UDP socket delivers one datagram per OnData and sends one
// datagram per Write.
func TestUDPEcho(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		l := g.Loops()[0]
		got := make(chan string, 8)
		r := dialOnLoop(t, l, "udp", pc.LocalAddr().String(), time.Second, &HandlerFuncs{
			Data: func(c *Conn, b []byte) { got <- string(b) },
		})
		if r.err != nil {
			t.Fatal(r.err)
		}
		sent := []string{"one", "two two", "three three three"}
		onLoop(t, l, func() {
			if !r.c.IsDatagram() {
				t.Error("IsDatagram false")
			}
			r.c.WriteString(sent[0])
			r.c.WriteRef([]byte(sent[1]))
			r.c.Writev([][]byte{[]byte("three "), []byte("three "), []byte("three")})
		})
		for _, want := range sent {
			select {
			case s := <-got:
				if s != want {
					t.Fatalf("datagram %q, want %q", s, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("datagram %q never came back", want)
			}
		}
		onLoop(t, l, func() {
			if err := r.c.Sendfile(nil, 0, 1); !errors.Is(err, ErrNotSupported) {
				t.Errorf("Sendfile on UDP: %v", err)
			}
			r.c.Close()
		})
	})
}

// SendDatagram sends at once, even before the dial callback: a socket
// closed in the same turn has still sent it. A refused port reported by
// the kernel makes a later send fail with ECONNREFUSED, and the socket
// stays open.
func TestSendDatagram(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	closed, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := closed.LocalAddr().String()
	closed.Close()
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		l := g.Loops()[0]
		onLoop(t, l, func() {
			c := l.Dial("udp", pc.LocalAddr().String(), time.Second, &HandlerFuncs{}, func(*Conn, error) {})
			if err := c.SendDatagram([]byte("now")); err != nil {
				t.Errorf("SendDatagram: %v", err)
			}
			c.Close()
		})
		pc.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 16)
		if n, _, err := pc.ReadFrom(buf); err != nil || string(buf[:n]) != "now" {
			t.Fatalf("received %q, %v", buf[:n], err)
		}
		r := dialOnLoop(t, l, "udp", refused, time.Second, &HandlerFuncs{})
		if r.err != nil {
			t.Fatal(r.err)
		}
		var errs []error
		onLoop(t, l, func() {
			for range 3 {
				errs = append(errs, r.c.SendDatagram([]byte("x")))
			}
			if r.c.Closed() {
				t.Error("the socket closed after a refused send")
			}
			r.c.Close()
		})
		if errs[0] != nil || !errors.Is(errs[1], syscall.ECONNREFUSED) || errs[2] != nil {
			t.Errorf("sends to a refused port: %v", errs)
		}
	})
}

// worker_connections also bounds outbound connections.
func TestDialWorkerConnections(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, func(c *GroupConfig) { c.Loop.WorkerConnections = 1 })
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		l := g.Loops()[0]
		first := dialOnLoop(t, l, "udp", pc.LocalAddr().String(), 0, &HandlerFuncs{})
		if first.err != nil {
			t.Fatal(first.err)
		}
		second := dialOnLoop(t, l, "udp", pc.LocalAddr().String(), 0, &HandlerFuncs{})
		var le *LimitError
		if !errors.As(second.err, &le) || second.err.Error() != "1 worker_connections are not enough" {
			t.Fatalf("second dial: %v", second.err)
		}
	})
}
