//go:build linux

package eventloop

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DefaultBacklog is nginx's listen backlog on Linux (NGX_LISTEN_BACKLOG).
const DefaultBacklog = 511

// acceptBatch bounds the accept4 calls per readiness report with
// multi_accept, so a flood of new connections cannot starve established
// ones.
const acceptBatch = 16

// KeepAliveMode is nginx's so_keepalive switch.
type KeepAliveMode int8

const (
	// KeepAliveDefault leaves SO_KEEPALIVE as the system sets it.
	KeepAliveDefault KeepAliveMode = iota
	// KeepAliveOn sets SO_KEEPALIVE (so_keepalive=on, or the
	// idle:interval:count form).
	KeepAliveOn
	// KeepAliveOff clears SO_KEEPALIVE (so_keepalive=off).
	KeepAliveOff
)

// ListenConfig describes one listen address and its socket options, as
// nginx's listen directive does.
type ListenConfig struct {
	// Network is "tcp" (the default), "tcp4", "tcp6" or "unix".
	Network string
	// Address is "ip:port" ("[ip6]:port" for IPv6; ":port" means
	// 0.0.0.0), or the socket path for unix (an optional "unix:" prefix is
	// accepted). Port 0 picks a free port, the same for all loops.
	Address string
	// Backlog is the listen queue length; 0 means DefaultBacklog.
	Backlog int
	// DualStack clears IPV6_V6ONLY on an IPv6 socket (ipv6only=off);
	// nginx's default is ipv6only=on.
	DualStack bool
	// KeepAlive, KeepIdle, KeepIntvl and KeepCnt are so_keepalive: the
	// switch, then TCP_KEEPIDLE, TCP_KEEPINTVL (whole seconds) and
	// TCP_KEEPCNT when non-zero.
	KeepAlive KeepAliveMode
	KeepIdle  time.Duration
	KeepIntvl time.Duration
	KeepCnt   int
	// DeferAccept sets TCP_DEFER_ACCEPT (nginx's "deferred"): a
	// connection is accepted once it has data.
	DeferAccept bool
	// RcvBuf and SndBuf set SO_RCVBUF and SO_SNDBUF when non-zero.
	RcvBuf int
	SndBuf int
	// NoDelay sets TCP_NODELAY on the listening socket, which accepted
	// sockets inherit.
	NoDelay bool
	// Shared opens one socket that every loop polls with EPOLLEXCLUSIVE
	// (nginx's listen without reuseport) instead of one SO_REUSEPORT socket
	// per loop. Unix sockets are always shared.
	Shared bool
	// FDs adopts sockets that are already bound and listening, inherited
	// from a previous binary: one shared socket, or one per loop. Address
	// must still name the address; the other socket options are left as
	// they are.
	FDs []int
}

// Accepter decides what serves a newly accepted connection.
type Accepter interface {
	// Accept runs on the loop goroutine that accepted c and returns c's
	// handler; nil closes c (without OnClose). c.Listener() tells which
	// listen address it came in on.
	Accept(c *Conn) Handler
}

// AccepterFunc adapts a function to Accepter.
type AccepterFunc func(c *Conn) Handler

// Accept calls f(c). Loop goroutine only.
func (f AccepterFunc) Accept(c *Conn) Handler { return f(c) }

type accepterBox struct{ a Accepter }

// ListenerSet is one listen address opened on every loop of a Group: one
// SO_REUSEPORT socket per loop, or one shared socket. It is addressed by
// its Key, so a reload can keep it and swap the Accepter without reopening
// sockets. Methods are safe for any goroutine unless stated otherwise.
type ListenerSet struct {
	g        *Group
	key      string
	cfg      ListenConfig
	addr     net.Addr
	unixPath string
	lns      []*Listener
	acc      atomic.Pointer[accepterBox]
	refs     atomic.Int32 // loops still holding a shared fd
	closed   atomic.Bool
}

// Key returns the address as nginx prints it: "127.0.0.1:8080",
// "[::]:80" or "unix:/path". Any goroutine.
func (s *ListenerSet) Key() string { return s.key }

// Addr returns the bound address (with the real port when port 0 was
// asked for). Any goroutine.
func (s *ListenerSet) Addr() net.Addr { return s.addr }

// Config returns the configuration the set was opened with. Any goroutine.
func (s *ListenerSet) Config() ListenConfig { return s.cfg }

// SetAccepter atomically replaces the accepter; connections accepted from
// now on, on every loop, go to a. Any goroutine.
func (s *ListenerSet) SetAccepter(a Accepter) { s.acc.Store(&accepterBox{a: a}) }

// Accepter returns the current accepter. Any goroutine.
func (s *ListenerSet) Accepter() Accepter { return s.acc.Load().a }

// Listeners returns the per-loop listeners, in loop order. Any goroutine.
func (s *ListenerSet) Listeners() []*Listener { return s.lns }

// Close stops listening, gracefully: each loop first accepts what is
// already queued on its socket (those clients are served, not reset), then
// closes it; connections already accepted are untouched. A unix socket's
// file is removed. Close waits for every loop; it must not be called from a
// loop goroutine of the same Group (use CloseAsync there). Any other
// goroutine.
//
// Closing one of several SO_REUSEPORT sockets can still reset a connection
// that the kernel queued on it between the last accept and the close,
// unless net.ipv4.tcp_migrate_req is set.
func (s *ListenerSet) Close() error {
	<-s.CloseAsync()
	return nil
}

// CloseAsync is Close without waiting; the channel is closed when every
// loop has closed its socket. Any goroutine.
func (s *ListenerSet) CloseAsync() <-chan struct{} {
	ch := make(chan struct{})
	if !s.closed.CompareAndSwap(false, true) {
		close(ch)
		return ch
	}
	if s.g != nil {
		s.g.forget(s)
	}
	var wg sync.WaitGroup
	for _, ln := range s.lns {
		wg.Add(1)
		ln := ln
		if !ln.loop.Post(func() { ln.close(); wg.Done() }) {
			wg.Done()
		}
	}
	go func() { wg.Wait(); close(ch) }()
	return ch
}

// Listener is a ListenerSet's socket on one loop.
type Listener struct {
	set        *ListenerSet
	loop       *Loop
	fd         int
	shared     bool
	registered bool
	closed     bool
}

// Set returns the ListenerSet the listener belongs to. Any goroutine.
func (ln *Listener) Set() *ListenerSet { return ln.set }

// Key returns the set's address key. Any goroutine.
func (ln *Listener) Key() string { return ln.set.key }

// Loop returns the loop the listener accepts on. Any goroutine.
func (ln *Listener) Loop() *Loop { return ln.loop }

// attach registers the listener on its loop. Loop goroutine.
func (ln *Listener) attach() error {
	l := ln.loop
	if l.exiting {
		ln.closed = true
		ln.release()
		return errors.New("eventloop: loop is shutting down")
	}
	l.register(ln.fd, fdEntry{ln: ln})
	l.listeners = append(l.listeners, ln)
	l.nlisteners++
	if !l.acceptOff {
		return ln.arm()
	}
	return nil
}

func (ln *Listener) arm() error {
	ev := evRead
	if ln.shared {
		ev |= evExclusive
	}
	if err := ln.loop.p.Add(ln.fd, ev); err != nil {
		return err
	}
	ln.registered = true
	return nil
}

func (ln *Listener) disarm() {
	if ln.registered {
		ln.loop.p.Del(ln.fd)
		ln.registered = false
	}
}

func accept4(fd int, rsa *unix.RawSockaddrAny, n *uint32) (int, syscall.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(fd), uintptr(unsafe.Pointer(rsa)), uintptr(unsafe.Pointer(n)),
		unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	return int(r), e
}

// onReadable accepts a pending connection, or with multi_accept as many
// as are pending (up to acceptBatch). One accept per report is nginx's
// default: the listening socket is level-triggered, so the next wait
// reports it again if more are queued, and no accept4 is spent learning
// that none is left.
func (ln *Listener) onReadable() {
	if !ln.loop.multiAccept.Load() {
		ln.acceptOne()
		return
	}
	for i := 0; i < acceptBatch; i++ {
		if !ln.acceptOne() {
			return
		}
	}
}

// acceptOne accepts one connection; false means stop for now.
func (ln *Listener) acceptOne() bool {
	l := ln.loop
	if ln.closed || l.acceptOff {
		return false
	}
	l.rsaLen = unix.SizeofSockaddrAny
	fd, errno := accept4(ln.fd, &l.rsa, &l.rsaLen)
	if errno != 0 {
		switch errno {
		case unix.EAGAIN:
			return false
		case unix.EINTR:
			return true
		case unix.ECONNABORTED:
			l.logf(LogErr, 0, "accept4() failed %s while accepting new connection on %s", ErrnoText(errno), ln.set.key)
			return true
		case unix.EMFILE, unix.ENFILE:
			l.logf(LogCrit, 0, "accept4() failed %s while accepting new connection on %s", ErrnoText(errno), ln.set.key)
			l.pauseAccept()
			return false
		}
		l.logf(LogAlert, 0, "accept4() failed %s while accepting new connection on %s", ErrnoText(errno), ln.set.key)
		return false
	}
	if l.slotsFull() {
		l.logf(LogAlert, 0, "%d worker_connections are not enough while accepting new connection on %s", l.maxConns, ln.set.key)
		unix.Close(fd)
		return true
	}
	c := l.newConn(fd, nil)
	c.ln = ln
	if l.rsa.Addr.Family == unix.AF_UNIX {
		c.flags |= fUnix
	} else {
		c.raddr = addrPortFromRaw(&l.rsa)
	}
	l.nconns++
	l.register(fd, fdEntry{c: c})
	h := ln.set.acc.Load().a.Accept(c)
	if c.flags&fClosed != 0 {
		return true
	}
	if h == nil {
		c.closeNow(nil)
		return true
	}
	c.h = h
	c.syncEvents()
	if ln.set.cfg.DeferAccept && c.events&evRead != 0 {
		// With TCP_DEFER_ACCEPT the request is normally there already;
		// read it now rather than after another wait.
		c.readOnce()
	}
	return true
}

// pauseAccept stops accepting on every listener of the loop for a while,
// as nginx does when it runs out of descriptors.
func (l *Loop) pauseAccept() {
	l.acceptOff = true
	for _, ln := range l.listeners {
		ln.disarm()
	}
	if l.acceptTimer == nil {
		l.acceptTimer = l.NewTimer(func() {
			l.acceptOff = false
			for _, ln := range l.listeners {
				if !ln.closed && !ln.registered {
					if err := ln.arm(); err != nil {
						l.logf(LogAlert, 0, "%s", err.Error())
					}
				}
			}
		})
	}
	l.acceptTimer.Reset(acceptRetryDelay)
}

// close accepts what is queued, then closes the socket. Loop goroutine.
func (ln *Listener) close() {
	if ln.closed {
		return
	}
	for ln.acceptOne() {
	}
	ln.closeNow()
}

// closeNow closes the socket without accepting. Loop goroutine.
func (ln *Listener) closeNow() {
	if ln.closed {
		return
	}
	l := ln.loop
	ln.closed = true
	ln.disarm()
	if ln.fd < len(l.fds) && l.fds[ln.fd].ln == ln {
		l.fds[ln.fd] = fdEntry{}
	}
	for i, x := range l.listeners {
		if x == ln {
			copy(l.listeners[i:], l.listeners[i+1:])
			l.listeners[len(l.listeners)-1] = nil
			l.listeners = l.listeners[:len(l.listeners)-1]
			l.nlisteners--
			break
		}
	}
	ln.release()
}

// release gives up this listener's hold on the descriptor.
func (ln *Listener) release() {
	s := ln.set
	if !ln.shared {
		unix.Close(ln.fd)
		return
	}
	if s.refs.Add(-1) == 0 {
		unix.Close(ln.fd)
		if s.unixPath != "" && s.unixPath[0] != '@' {
			os.Remove(s.unixPath)
		}
	}
}

// listenTarget is a parsed ListenConfig address.
type listenTarget struct {
	unixPath string
	ap       netip.AddrPort
}

func parseListen(cfg *ListenConfig) (listenTarget, error) {
	switch cfg.Network {
	case "unix":
		p := strings.TrimPrefix(cfg.Address, "unix:")
		if p == "" {
			return listenTarget{}, errors.New("eventloop: empty unix socket path")
		}
		return listenTarget{unixPath: p}, nil
	case "", "tcp", "tcp4", "tcp6":
	default:
		return listenTarget{}, fmt.Errorf("eventloop: unsupported listen network %q", cfg.Network)
	}
	a := cfg.Address
	if strings.HasPrefix(a, ":") {
		a = "0.0.0.0" + a
		if cfg.Network == "tcp6" {
			a = "[::]" + cfg.Address
		}
	}
	ap, err := netip.ParseAddrPort(a)
	if err != nil {
		return listenTarget{}, fmt.Errorf("eventloop: listen address %q: %v", cfg.Address, err)
	}
	if (cfg.Network == "tcp4" && !ap.Addr().Is4()) || (cfg.Network == "tcp6" && ap.Addr().Is4()) {
		return listenTarget{}, fmt.Errorf("eventloop: address %q does not match network %q", cfg.Address, cfg.Network)
	}
	return listenTarget{ap: ap}, nil
}

func (t listenTarget) text() string {
	if t.unixPath != "" {
		return "unix:" + t.unixPath
	}
	return t.ap.String()
}

func (t listenTarget) sockaddr() (unix.Sockaddr, int) {
	if t.unixPath != "" {
		return &unix.SockaddrUnix{Name: t.unixPath}, unix.AF_UNIX
	}
	if a := t.ap.Addr(); a.Is4() {
		return &unix.SockaddrInet4{Port: int(t.ap.Port()), Addr: a.As4()}, unix.AF_INET
	}
	return &unix.SockaddrInet6{Port: int(t.ap.Port()), Addr: t.ap.Addr().As16()}, unix.AF_INET6
}

// openListenSocket creates, binds and configures one listening socket, in
// nginx's order and with its messages. Failures nginx ignores are logged.
func openListenSocket(cfg *ListenConfig, t listenTarget, reuseport bool, logf func(int, uint64, string, ...any)) (int, error) {
	text := t.text()
	sa, family := t.sockaddr()
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, &OpError{Op: "socket", Msg: "socket() " + text, Err: err}
	}
	fail := func(e *OpError) (int, error) {
		unix.Close(fd)
		return -1, e
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fail(&OpError{Op: "setsockopt", Msg: "setsockopt(SO_REUSEADDR) " + text, Err: err})
	}
	if reuseport {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return fail(&OpError{Op: "setsockopt", Msg: "setsockopt(SO_REUSEPORT) " + text, Err: err})
		}
	}
	if family == unix.AF_INET6 {
		v := 1
		if cfg.DualStack {
			v = 0
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v); err != nil {
			logf(LogEmerg, 0, "setsockopt(IPV6_V6ONLY) %s failed, ignored", text)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail(&OpError{Op: "bind", Msg: "bind() to " + text, Err: err})
	}
	if family == unix.AF_UNIX && t.unixPath[0] != '@' {
		if err := os.Chmod(t.unixPath, 0o666); err != nil {
			logf(LogEmerg, 0, "chmod() \"%s\" failed %s", t.unixPath, ErrnoText(err))
		}
	}
	backlog := cfg.Backlog
	if backlog <= 0 {
		backlog = DefaultBacklog
	}
	if err := unix.Listen(fd, backlog); err != nil {
		return fail(&OpError{Op: "listen", Msg: fmt.Sprintf("listen() to %s, backlog %d", text, backlog), Err: err})
	}
	opt := func(level, name, v int, what string) {
		if err := unix.SetsockoptInt(fd, level, name, v); err != nil {
			logf(LogAlert, 0, "setsockopt(%s, %d) %s failed, ignored", what, v, text)
		}
	}
	if cfg.RcvBuf > 0 {
		opt(unix.SOL_SOCKET, unix.SO_RCVBUF, cfg.RcvBuf, "SO_RCVBUF")
	}
	if cfg.SndBuf > 0 {
		opt(unix.SOL_SOCKET, unix.SO_SNDBUF, cfg.SndBuf, "SO_SNDBUF")
	}
	if family != unix.AF_UNIX {
		switch cfg.KeepAlive {
		case KeepAliveOn:
			opt(unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1, "SO_KEEPALIVE")
		case KeepAliveOff:
			opt(unix.SOL_SOCKET, unix.SO_KEEPALIVE, 0, "SO_KEEPALIVE")
		}
		if cfg.KeepIdle > 0 {
			opt(unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, int(cfg.KeepIdle/time.Second), "TCP_KEEPIDLE")
		}
		if cfg.KeepIntvl > 0 {
			opt(unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, int(cfg.KeepIntvl/time.Second), "TCP_KEEPINTVL")
		}
		if cfg.KeepCnt > 0 {
			opt(unix.IPPROTO_TCP, unix.TCP_KEEPCNT, cfg.KeepCnt, "TCP_KEEPCNT")
		}
		if cfg.NoDelay {
			opt(unix.IPPROTO_TCP, unix.TCP_NODELAY, 1, "TCP_NODELAY")
		}
		if cfg.DeferAccept {
			// nginx uses one second: there is no telling how long a
			// connection already waited in the queue.
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, 1); err != nil {
				logf(LogAlert, 0, "setsockopt(TCP_DEFER_ACCEPT, 1) for %s failed, ignored", text)
			}
		}
	}
	return fd, nil
}

func boundAddr(fd int, t listenTarget) (listenTarget, net.Addr) {
	if t.unixPath != "" {
		return t, &net.UnixAddr{Name: t.unixPath, Net: "unix"}
	}
	var rsa unix.RawSockaddrAny
	n := uint32(unix.SizeofSockaddrAny)
	if _, _, e := unix.RawSyscall(unix.SYS_GETSOCKNAME, uintptr(fd), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&n))); e == 0 {
		t.ap = addrPortFromRaw(&rsa)
	}
	return t, net.TCPAddrFromAddrPort(t.ap)
}
