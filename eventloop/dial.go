//go:build linux

package eventloop

import (
	"fmt"
	"net/netip"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// LimitError is the dial error when the loop has no connection slot left;
// nginx logs it at alert level as "N worker_connections are not enough".
type LimitError struct{ N int }

// Error returns nginx's message. Any goroutine.
func (e *LimitError) Error() string {
	return fmt.Sprintf("%d worker_connections are not enough", e.N)
}

// Dial starts a non-blocking connection from this loop to address and
// returns its Conn at once. network is "tcp", "tcp4", "tcp6" (address
// "ip:port"; no name resolution happens here), "udp", "udp4", "udp6" (a
// connected UDP socket: OnData gets one datagram per call, Write sends one
// datagram) or "unix" and "unixgram" (a socket path, "unix:" prefix
// allowed; a datagram one is bound to an automatic address).
//
// done is called exactly once on this loop, never from inside Dial: with
// nil when connected (then h receives the connection's events), or with
// the error, e.g. an *OpError "connect() failed (111: Connection
// refused)", "(110: Connection timed out)" when timeout (if > 0) passes
// first, a *LimitError, or ErrClosed if the Conn was closed before it
// connected. A connection that failed never calls OnClose. Data written
// before done is sent once connected. A nil h ignores every event (set one
// later with SetHandler). Loop goroutine only.
func (l *Loop) Dial(network, address string, timeout time.Duration, h Handler, done func(*Conn, error)) *Conn {
	return l.DialBind(network, address, Local{}, timeout, h, done)
}

// Local is the local end a dial starts from.
type Local struct {
	// AddrPort is the address (port 0: any); the zero value binds
	// nothing.
	AddrPort netip.AddrPort
	// Transparent allows a non-local address (IP_TRANSPARENT, which
	// needs CAP_NET_ADMIN), as proxy_bind's "transparent".
	Transparent bool
}

// DialBind is Dial from the local address local, when it is valid: the
// socket is bound to it before it connects, as nginx's proxy_bind and
// sock:bind do. A failure there fails the dial with an OpError whose Op
// is "bind" or "setsockopt".
func (l *Loop) DialBind(network, address string, local Local, timeout time.Duration, h Handler, done func(*Conn, error)) *Conn {
	if h == nil {
		h = &HandlerFuncs{}
	}
	c := l.newConn(-1, h)
	c.dialCB = done
	sa, family, typ, err := c.parseDial(network, address)
	if err != nil {
		c.failDial(err)
		return c
	}
	if l.slotsFull() {
		c.failDial(&LimitError{N: l.maxConns})
		return c
	}
	fd, err := unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		c.failDial(&OpError{Op: "socket", Err: err})
		return c
	}
	c.fd = fd
	l.nconns++
	l.register(fd, fdEntry{c: c})
	if ap := local.AddrPort; ap.IsValid() && family != unix.AF_UNIX {
		if local.Transparent {
			level, opt := unix.SOL_IP, unix.IP_TRANSPARENT
			if family == unix.AF_INET6 {
				level, opt = unix.SOL_IPV6, unix.IPV6_TRANSPARENT
			}
			if err := unix.SetsockoptInt(fd, level, opt, 1); err != nil {
				c.closeNow(&OpError{Op: "setsockopt", Msg: "setsockopt(IP_TRANSPARENT)", Err: err})
				return c
			}
		}
		var lsa unix.Sockaddr
		if a := ap.Addr().Unmap(); a.Is4() && family == unix.AF_INET {
			lsa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}
		} else {
			lsa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
		}
		if err := unix.Bind(fd, lsa); err != nil {
			name := ap.Addr().String()
			if ap.Port() != 0 {
				name = ap.String()
			}
			c.closeNow(&OpError{Op: "bind", Msg: "bind(" + name + ")", Err: err})
			return c
		}
	}
	if family == unix.AF_UNIX && typ == unix.SOCK_DGRAM {
		// a datagram unix socket gets an address of its own (Linux's
		// autobind) so that the peer can answer it.
		rsa := unix.RawSockaddrUnix{Family: unix.AF_UNIX}
		if _, _, e := unix.RawSyscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&rsa)), 2); e != 0 {
			c.closeNow(&OpError{Op: "bind", Err: e})
			return c
		}
	}
	err = unix.Connect(fd, sa)
	switch {
	case err == nil:
		c.syncEvents()
		l.dialDone = append(l.dialDone, c)
	case err == unix.EINPROGRESS:
		c.flags |= fConnecting
		c.syncEvents()
		if timeout > 0 {
			c.itimer.kind = tkConnect
			c.itimer.Reset(timeout)
		}
	default:
		// A unix socket whose listen queue is full fails with EAGAIN
		// here; nginx reports that as a connect() failure too.
		c.closeNow(&OpError{Op: "connect", Err: err})
	}
	return c
}

func (c *Conn) failDial(err error) {
	c.flags |= fClosed
	c.dialErr = err
	c.l.dialDone = append(c.l.dialDone, c)
}

func (c *Conn) parseDial(network, address string) (unix.Sockaddr, int, int, error) {
	typ := unix.SOCK_STREAM
	switch network {
	case "unix", "unixgram":
		if network == "unixgram" {
			typ = unix.SOCK_DGRAM
			c.flags |= fUDP
		}
		p := strings.TrimPrefix(address, "unix:")
		if p == "" {
			return nil, 0, 0, fmt.Errorf("eventloop: empty unix socket path")
		}
		c.flags |= fUnix
		c.unixPath = p
		return &unix.SockaddrUnix{Name: p}, unix.AF_UNIX, typ, nil
	case "udp", "udp4", "udp6":
		typ = unix.SOCK_DGRAM
		c.flags |= fUDP
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, 0, 0, fmt.Errorf("eventloop: unsupported network %q", network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("eventloop: dial address %q: %v", address, err)
	}
	c.raddr = ap
	if a := ap.Addr(); a.Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}, unix.AF_INET, typ, nil
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}, unix.AF_INET6, typ, nil
}

// finishConnect completes a non-blocking connect on its first writability
// (or error) report.
func (c *Conn) finishConnect() {
	v, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err == nil && v != 0 {
		err = syscall.Errno(v)
	}
	if err != nil {
		c.closeNow(&OpError{Op: "connect", Err: err})
		return
	}
	// A report meant for an earlier owner of this fd number can arrive
	// while the connect is still in progress; only a peer name proves it
	// finished.
	var rsa unix.RawSockaddrAny
	n := uint32(unix.SizeofSockaddrAny)
	if _, _, e := unix.RawSyscall(unix.SYS_GETPEERNAME, uintptr(c.fd), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&n))); e == unix.ENOTCONN {
		return
	}
	c.flags &^= fConnecting
	c.itimer.Stop()
	c.syncEvents()
	if c.flags&fClosed != 0 {
		return
	}
	cb := c.dialCB
	c.dialCB = nil
	cb(c, nil)
	c.resumeOutput()
}

// resumeOutput schedules a flush for output queued before the connection
// was ready.
func (c *Conn) resumeOutput() {
	if c.flags&fClosed == 0 && (!c.q.empty() || c.afterDrain != adNone) {
		c.markDirty()
	}
}

func (c *Conn) connectTimedOut() {
	c.closeNow(&OpError{Op: "connect", Err: syscall.ETIMEDOUT})
}
