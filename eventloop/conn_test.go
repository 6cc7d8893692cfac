//go:build linux

package eventloop

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A client that sent its request and then shut down its write side must
// still get an answer produced 100 ms later (gnet's engine closes instead).
func TestHalfClosedClientGetsLateAnswer(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		eofs := make(chan struct{}, 1)
		var req bytes.Buffer
		s := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler {
			return &HandlerFuncs{
				Data: func(c *Conn, b []byte) { req.Write(b) },
				ReadEOF: func(c *Conn) {
					eofs <- struct{}{}
					c.Loop().AfterFunc(100*time.Millisecond, func() {
						c.WriteString("HTTP/1.1 200 OK\r\nContent-Length: " + itoa(req.Len()) + "\r\n\r\n")
						c.Write(req.Bytes())
						c.CloseAfterDrain()
					})
				},
			}
		}))
		cl := dialClient(t, "tcp", s.Addr().String())
		const request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
		if _, err := cl.Write([]byte(request)); err != nil {
			t.Fatal(err)
		}
		cl.(*net.TCPConn).CloseWrite()
		got, err := io.ReadAll(cl)
		if err != nil {
			t.Fatal(err)
		}
		want := "HTTP/1.1 200 OK\r\nContent-Length: 27\r\n\r\n" + request
		if string(got) != want {
			t.Fatalf("got %q, want %q", got, want)
		}
		select {
		case <-eofs:
		default:
			t.Fatal("OnReadEOF was not called")
		}
	})
}

// 64 MiB written at once and closed with CloseAfterDrain must all arrive at
// a reader that starts late and reads slowly.
func TestCloseAfterDrainDeliversEverything(t *testing.T) {
	const total = 64 << 20
	data := pattern(0, total)
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		s := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler {
			c.Write(data)
			c.CloseAfterDrain()
			return &HandlerFuncs{}
		}))
		cl := dialClient(t, "tcp", s.Addr().String())
		time.Sleep(50 * time.Millisecond) // let the server's queue block first
		got := make([]byte, 0, total)
		buf := make([]byte, 256<<10)
		for reads := 0; ; reads++ {
			if reads%16 == 0 {
				time.Sleep(time.Millisecond)
			}
			n, err := cl.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("after %d bytes: %v", len(got), err)
			}
		}
		if len(got) != total {
			t.Fatalf("got %d bytes, want %d", len(got), total)
		}
		checkPattern(t, got)
	})
}

// Proxying 64 MiB from a fast source to a slow reader on one loop must keep
// the user-space queue bounded: the source is paused above the high
// watermark and resumed when the reader's queue drains.
func TestProxyFlowControlBoundsBuffer(t *testing.T) {
	const total = 64 << 20
	const high, low = 1 << 20, 256 << 10
	src, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	data := pattern(0, total)
	go func() {
		for {
			c, err := src.Accept()
			if err != nil {
				return
			}
			go func() {
				c.Write(data)
				c.Close()
			}()
		}
	}()
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		maxBuffered := 0
		pauses := 0
		var proxyErr error
		s := listenTCP(t, g, AccepterFunc(func(client *Conn) Handler {
			client.Loop().Dial("tcp", src.Addr().String(), time.Second, &HandlerFuncs{
				Data: func(up *Conn, b []byte) {
					client.Write(b)
					if n := client.Buffered(); n > maxBuffered {
						maxBuffered = n
					}
					if client.Throttle(up, high, low) {
						pauses++
					}
				},
				ReadEOF: func(up *Conn) {
					client.CloseAfterDrain()
					up.Close()
				},
			}, func(up *Conn, err error) {
				if err != nil {
					proxyErr = err
					client.Close()
				}
			})
			return &HandlerFuncs{}
		}))
		cl := dialClient(t, "tcp", s.Addr().String())
		got := make([]byte, 0, total)
		buf := make([]byte, 64<<10)
		for reads := 0; ; reads++ {
			// at most 512 KiB per millisecond: slower than the loop
			// can relay even on a loaded machine, so the source must
			// be paused.
			if reads%8 == 0 {
				time.Sleep(time.Millisecond)
			}
			n, err := cl.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("after %d bytes: %v", len(got), err)
			}
		}
		var peak, paused int
		onLoop(t, g.Loops()[0], func() { peak, paused = maxBuffered, pauses })
		if proxyErr != nil {
			t.Fatal(proxyErr)
		}
		if len(got) != total {
			t.Fatalf("got %d bytes, want %d", len(got), total)
		}
		checkPattern(t, got)
		if peak >= 2<<20 {
			t.Fatalf("peak user-space buffer %d bytes, want < 2 MiB", peak)
		}
		if paused == 0 {
			t.Fatal("the source was never paused; the reader was not slow enough to test anything")
		}
		t.Logf("peak buffer %d KiB, %d pauses", peak>>10, paused)
	})
}

// A write through a stale Conn must fail and reach nobody, even after its
// fd number went to a new connection.
func TestStaleConnWriteReachesNobody(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		l := g.Loops()[0]
		accepted := make(chan *Conn, 4)
		received := make(map[uint64]*bytes.Buffer)
		s := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler {
			received[c.ID()] = new(bytes.Buffer)
			accepted <- c
			return &HandlerFuncs{Data: func(c *Conn, b []byte) { received[c.ID()].Write(b) }}
		}))
		cl := dialClient(t, "tcp", s.Addr().String())
		stale := <-accepted
		var oldFd int
		var fresh *Conn
		var writeErr error
		onLoop(t, l, func() {
			oldFd = stale.Fd()
			stale.Close()
			// The lowest free descriptor is the one just closed.
			fresh = l.Dial("tcp", s.Addr().String(), time.Second, &HandlerFuncs{}, func(c *Conn, err error) {
				if err == nil {
					c.WriteString("fresh")
				}
			})
			if fresh.Fd() != oldFd {
				t.Errorf("new conn got fd %d, not the reused %d", fresh.Fd(), oldFd)
			}
			_, writeErr = stale.WriteString("stale")
		})
		if !errors.Is(writeErr, ErrClosed) {
			t.Fatalf("write on stale conn: %v, want ErrClosed", writeErr)
		}
		peer := <-accepted
		deadline := time.Now().Add(5 * time.Second)
		var got string
		for time.Now().Before(deadline) {
			onLoop(t, l, func() { got = received[peer.ID()].String() })
			if got == "fresh" {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if got != "fresh" {
			t.Fatalf("new connection's peer received %q, want %q", got, "fresh")
		}
		// The stale conn's own client sees only the close.
		if n, err := cl.Read(make([]byte, 16)); n != 0 || err != io.EOF {
			t.Fatalf("stale conn's client read %d bytes, err %v; want EOF", n, err)
		}
	})
}

// Write and friends on a closed Conn fail with ErrClosed.
func TestClosedConnMethods(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		accepted := make(chan *Conn, 1)
		s := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler { accepted <- c; return &HandlerFuncs{} }))
		dialClient(t, "tcp", s.Addr().String())
		c := <-accepted
		f, err := os.Open(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		ops := []struct {
			name string
			op   func() error
		}{
			{"Write", func() error { _, err := c.Write([]byte("x")); return err }},
			{"WriteRef", func() error { return c.WriteRef([]byte("x")) }},
			{"Writev", func() error { _, err := c.Writev([][]byte{[]byte("x")}); return err }},
			{"Sendfile", func() error { return c.Sendfile(f, 0, 1) }},
			{"CloseWrite", func() error { return c.CloseWrite() }},
			{"CloseAfterDrain", func() error { return c.CloseAfterDrain() }},
			{"Close", func() error { return c.Close() }},
			{"Abort", func() error { return c.Abort() }},
		}
		onLoop(t, c.Loop(), func() {
			c.Close()
			for _, o := range ops {
				if err := o.op(); !errors.Is(err, ErrClosed) {
					t.Errorf("%s on closed conn: %v, want ErrClosed", o.name, err)
				}
			}
			if c.Fd() != -1 {
				t.Errorf("Fd() = %d after close", c.Fd())
			}
		})
	})
}

// Sendfile ranges and written bytes must arrive in the order they were
// queued, also when the socket blocks in the middle.
func TestSendfileInterleavedInOrder(t *testing.T) {
	dir := t.TempDir()
	content := pattern(0, 6<<20)
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	forEachBackend(t, func(t *testing.T, b Backend) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() }) // after the group's cleanup stops the loop
		var want bytes.Buffer
		steps := []struct {
			data      string
			off, size int64
		}{
			{data: "head|"},
			{off: 10, size: 1000},
			{data: "|mid|"},
			{off: 0, size: 5},
			{data: "|"},
			{off: 1 << 20, size: 5 << 20},
			{data: "|tail"},
		}
		for _, s := range steps {
			if s.data != "" {
				want.WriteString(s.data)
			} else {
				want.Write(content[s.off : s.off+s.size])
			}
		}
		g := startGroup(t, b, 1, nil)
		ls := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler {
			for _, s := range steps {
				if s.data != "" {
					c.WriteString(s.data)
				} else if err := c.Sendfile(f, s.off, s.size); err != nil {
					t.Error(err)
				}
			}
			c.CloseAfterDrain()
			return &HandlerFuncs{}
		}))
		cl := dialClient(t, "tcp", ls.Addr().String())
		time.Sleep(20 * time.Millisecond)
		got, err := io.ReadAll(cl)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("got %d bytes, want %d; first difference at %d", len(got), want.Len(), firstDiff(got, want.Bytes()))
		}
	})
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	return len(a)
}

// A file shorter than the range asked for closes the connection with
// ErrFileTruncated.
func TestSendfileTruncatedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "short")
	os.WriteFile(path, []byte("0123456789"), 0o644)
	forEachBackend(t, func(t *testing.T, b Backend) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() }) // after the group's cleanup stops the loop
		closed := make(chan error, 1)
		g := startGroup(t, b, 1, nil)
		ls := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler {
			c.Sendfile(f, 0, 100)
			return &HandlerFuncs{Close: func(c *Conn, err error) { closed <- err }}
		}))
		cl := dialClient(t, "tcp", ls.Addr().String())
		got, _ := io.ReadAll(cl)
		if string(got) != "0123456789" {
			t.Fatalf("got %q", got)
		}
		if err := <-closed; !errors.Is(err, ErrFileTruncated) {
			t.Fatalf("OnClose error %v, want ErrFileTruncated", err)
		}
	})
}

// Output written during one dispatch leaves in one writev; deferred
// functions run after that flush, and their output follows.
func TestDeferRunsAfterFlush(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		var bufferedInDefer = -1
		ls := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler {
			return &HandlerFuncs{Data: func(c *Conn, b []byte) {
				c.WriteString("one,")
				c.WriteString("two,")
				c.Loop().Defer(func() {
					bufferedInDefer = c.Buffered()
					c.WriteString("three")
					c.CloseAfterDrain()
				})
			}}
		}))
		cl := dialClient(t, "tcp", ls.Addr().String())
		cl.Write([]byte("go"))
		got, err := io.ReadAll(cl)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != "one,two,three" {
			t.Fatalf("got %q", got)
		}
		var seen int
		onLoop(t, g.Loops()[0], func() { seen = bufferedInDefer })
		if seen != 0 {
			t.Fatalf("deferred function saw %d bytes still queued, want 0 (flushed first)", seen)
		}
	})
}

// CloseWrite sends FIN after the queue and keeps reading.
func TestCloseWriteKeepsReading(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		got := make(chan string, 1)
		var in bytes.Buffer
		ls := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler {
			c.WriteString("bye")
			c.CloseWrite()
			return &HandlerFuncs{
				Data:    func(c *Conn, b []byte) { in.Write(b) },
				ReadEOF: func(c *Conn) { got <- in.String(); c.Close() },
			}
		}))
		cl := dialClient(t, "tcp", ls.Addr().String())
		data, err := io.ReadAll(cl)
		if err != nil || string(data) != "bye" {
			t.Fatalf("read %q, %v", data, err)
		}
		cl.Write([]byte("after fin"))
		cl.(*net.TCPConn).CloseWrite()
		if s := <-got; s != "after fin" {
			t.Fatalf("server read %q after its CloseWrite", s)
		}
	})
}

// Abort resets the connection.
func TestAbortResets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		ls := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler {
			return &HandlerFuncs{Data: func(c *Conn, b []byte) { c.WriteString("lost"); c.Abort() }}
		}))
		cl := dialClient(t, "tcp", ls.Addr().String())
		cl.Write([]byte("x"))
		_, err := io.ReadAll(cl)
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("read after Abort: %v, want ECONNRESET", err)
		}
	})
}

// Lingering close: the response survives unread input the client keeps
// sending, and the connection closes after lingering_timeout of silence.
func TestLingeringClose(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		response := pattern(0, 1<<20)
		closedAt := make(chan time.Time, 1)
		ls := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler {
			return &HandlerFuncs{
				Data: func(c *Conn, b []byte) {
					if c.Buffered() > 0 || c.ReadPaused() {
						return
					}
					c.PauseRead() // leave the rest of the input unread
					c.Write(response)
					c.LingeringClose(5*time.Second, 300*time.Millisecond)
				},
				Close: func(c *Conn, err error) { closedAt <- time.Now() },
			}
		}))
		cl := dialClient(t, "tcp", ls.Addr().String())
		junk := bytes.Repeat([]byte("j"), 256<<10)
		go cl.Write(junk)
		got := make([]byte, 0, len(response))
		buf := make([]byte, 64<<10)
		for len(got) < len(response) {
			n, err := cl.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				t.Fatalf("after %d bytes: %v", len(got), err)
			}
		}
		checkPattern(t, got)
		if n, err := cl.Read(buf); n != 0 || err != io.EOF {
			t.Fatalf("after the response: %d bytes, %v; want EOF", n, err)
		}
		start := time.Now()
		select {
		case at := <-closedAt:
			if wait := at.Sub(start); wait > 3*time.Second {
				t.Fatalf("lingering close took %v after the client went quiet", wait)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("connection was not closed by lingering_timeout")
		}
	})
}

// OnClose carries the errno when the peer resets a connection with output
// pending.
func TestWriteErrorReportedInOnClose(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		closed := make(chan error, 1)
		big := pattern(0, 8<<20)
		ls := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler {
			c.WriteRef(big)
			return &HandlerFuncs{Close: func(c *Conn, err error) { closed <- err }}
		}))
		cl := dialClient(t, "tcp", ls.Addr().String())
		cl.Read(make([]byte, 1024))
		cl.(*net.TCPConn).SetLinger(0)
		cl.Close()
		select {
		case err := <-closed:
			en, ok := Errno(err)
			if !ok || (en != syscall.ECONNRESET && en != syscall.EPIPE) {
				t.Fatalf("OnClose error %v, want ECONNRESET or EPIPE", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no OnClose after peer reset")
		}
	})
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// A paused connection is out of the poller and gets no data until resumed;
// nothing is lost meanwhile.
func TestPauseResumeRead(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		l := g.Loops()[0]
		accepted := make(chan *Conn, 1)
		var got bytes.Buffer
		s := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler {
			c.PauseRead()
			accepted <- c
			return &HandlerFuncs{Data: func(c *Conn, b []byte) { got.Write(b) }}
		}))
		cl := dialClient(t, "tcp", s.Addr().String())
		c := <-accepted
		cl.Write([]byte("while paused"))
		time.Sleep(30 * time.Millisecond)
		onLoop(t, l, func() {
			if got.Len() != 0 {
				t.Errorf("paused conn delivered %q", got.String())
			}
			if c.flags&fRegistered != 0 {
				t.Error("paused idle conn is still in the poller")
			}
			c.ResumeRead()
		})
		deadline := time.Now().Add(5 * time.Second)
		var s2 string
		for time.Now().Before(deadline) && s2 != "while paused" {
			time.Sleep(2 * time.Millisecond)
			onLoop(t, l, func() { s2 = got.String() })
		}
		if s2 != "while paused" {
			t.Fatalf("after resume got %q", s2)
		}
	})
}

// TCP_CORK set with Cork stays on while the queue is being written and is
// cleared by UncorkWhenSent only once the queue is empty; a Cork in
// between cancels the pending uncork.
func TestCorkUntilSent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		type seen struct{ queued, afterFlush, recorked int }
		res := make(chan seen, 1)
		cork := func(c *Conn) int {
			v, err := unix.GetsockoptInt(c.Fd(), unix.IPPROTO_TCP, unix.TCP_CORK)
			if err != nil {
				t.Error(err)
			}
			return v
		}
		ls := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler {
			return &HandlerFuncs{Data: func(c *Conn, _ []byte) {
				var s seen
				if err := c.Cork(); err != nil {
					t.Error(err)
				}
				c.WriteString("head,")
				if err := c.UncorkWhenSent(); err != nil {
					t.Error(err)
				}
				s.queued = cork(c)
				c.Loop().Defer(func() {
					s.afterFlush = cork(c)
					c.Cork()
					c.WriteString("body")
					c.UncorkWhenSent()
					c.Cork()
					c.Loop().Defer(func() {
						s.recorked = cork(c)
						res <- s
						c.CloseAfterDrain()
					})
				})
			}}
		}))
		cl := dialClient(t, "tcp", ls.Addr().String())
		cl.Write([]byte("go"))
		got, err := io.ReadAll(cl)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != "head,body" {
			t.Fatalf("got %q", got)
		}
		if s := <-res; s.queued != 1 || s.afterFlush != 0 || s.recorked != 1 {
			t.Fatalf("TCP_CORK while queued %d, after the flush %d, after a new Cork %d; want 1, 0, 1", s.queued, s.afterFlush, s.recorked)
		}
	})
}

// SetRateLimit paces the output as nginx's limit_rate: the first after
// bytes at once, then rate bytes per whole second counted from the start;
// the bytes arrive complete and in order.
func TestRateLimit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		content := pattern(0, 50000)
		ls := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler {
			c.SetRateLimit(20000, 10000, c.Loop().Now().Unix(), c.Sent())
			c.Write(content[:25000])
			c.Write(content[25000:])
			c.CloseAfterDrain()
			return &HandlerFuncs{}
		}))
		start := time.Now()
		cl := dialClient(t, "tcp", ls.Addr().String())
		cl.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(cl)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, content) {
			t.Fatalf("got %d bytes, want %d; first difference at %d", len(got), len(content), firstDiff(got, content))
		}
		// 10000 free and 20000 in the first second, the rest after a
		// pause of one second.
		if d := time.Since(start); d < 800*time.Millisecond {
			t.Errorf("50000 bytes at 20000/s after 10000 took %v, want about a second", d)
		}
	})
}

// ReadReady is nginx's read "ready", as a handler sees it while it
// handles the data: false after a read that drained the socket, true
// after one that filled the buffer, while reading is paused with input
// waiting, and when the peer's FIN came with the data (epoll reports it
// with EPOLLRDHUP): a cosocket's setkeepalive looks then.
func TestReadReady(t *testing.T) {
	g := startGroup(t, BackendEpoll, 1, nil)
	l := g.Loops()[0]
	accepted := make(chan *Conn, 1)
	type read struct {
		n     int
		ready bool
	}
	reads := make(chan read, 16)
	s := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler {
		accepted <- c
		return &HandlerFuncs{Data: func(c *Conn, b []byte) { reads <- read{len(b), c.ReadReady()} }}
	}))
	cl := dialClient(t, "tcp", s.Addr().String())
	c := <-accepted
	cl.Write([]byte("short"))
	if r := <-reads; r.ready {
		t.Error("ready after a short read")
	}
	onLoop(t, l, func() { c.SetReadMax(4) })
	cl.Write([]byte("12345678"))
	if r := <-reads; !r.ready || r.n != 4 {
		t.Errorf("read %d bytes filling the buffer, ready %v", r.n, r.ready)
	}
	<-reads
	onLoop(t, l, func() { c.SetReadMax(0); c.PauseRead() })
	cl.Write([]byte("while paused"))
	deadline := time.Now().Add(5 * time.Second)
	paused := false
	for !paused && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
		onLoop(t, l, func() { paused = c.ReadReady() })
	}
	if !paused {
		t.Error("not ready with input waiting while paused")
	}
	cl.Write([]byte(", last words"))
	cl.(*net.TCPConn).CloseWrite()
	time.Sleep(20 * time.Millisecond)
	onLoop(t, l, func() { c.ResumeRead() })
	if r := <-reads; !r.ready || r.n != len("while paused, last words") {
		t.Errorf("read %d bytes before the FIN, ready %v", r.n, r.ready)
	}
}
