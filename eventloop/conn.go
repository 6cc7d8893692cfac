//go:build linux

package eventloop

import (
	"net"
	"net/netip"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Handler receives a connection's events. Every method is called on the
// connection's loop goroutine, never re-entrantly from inside a Conn method
// of the same goroutine's call stack.
type Handler interface {
	// OnData delivers bytes read from the connection (for UDP: one
	// datagram). b aliases the loop's shared read buffer and is valid only
	// during the call: copy what must outlive it.
	OnData(c *Conn, b []byte)
	// OnReadEOF reports that the peer closed its write side. The
	// connection stays open for writing; the handler decides when to
	// close. Reading stops.
	OnReadEOF(c *Conn)
	// OnDrain reports that everything queued for writing has been handed
	// to the kernel. It fires once each time the queue empties after data
	// was queued.
	OnDrain(c *Conn)
	// OnClose reports that the connection is closed, with the error that
	// closed it or nil for a close the owner asked for. It is called
	// exactly once for every connection that had a handler, after the
	// dispatch that closed it.
	OnClose(c *Conn, err error)
}

// HandlerFuncs is a Handler made of optional functions; a nil field ignores
// the event.
type HandlerFuncs struct {
	Data    func(c *Conn, b []byte)
	ReadEOF func(c *Conn)
	Drain   func(c *Conn)
	Close   func(c *Conn, err error)
}

// OnData calls h.Data. Loop goroutine only.
func (h *HandlerFuncs) OnData(c *Conn, b []byte) {
	if h.Data != nil {
		h.Data(c, b)
	}
}

// OnReadEOF calls h.ReadEOF. Loop goroutine only.
func (h *HandlerFuncs) OnReadEOF(c *Conn) {
	if h.ReadEOF != nil {
		h.ReadEOF(c)
	}
}

// OnDrain calls h.Drain. Loop goroutine only.
func (h *HandlerFuncs) OnDrain(c *Conn) {
	if h.Drain != nil {
		h.Drain(c)
	}
}

// OnClose calls h.Close. Loop goroutine only.
func (h *HandlerFuncs) OnClose(c *Conn, err error) {
	if h.Close != nil {
		h.Close(c, err)
	}
}

// Conn flags.
const (
	fClosed      uint32 = 1 << iota // fd closed; the Conn is dead for good
	fReadPaused                     // the owner paused reading
	fReadEOF                        // the peer's FIN was read
	fConnecting                     // non-blocking connect in progress
	fWriteArmed                     // output is blocked: wait for EPOLLOUT
	fRegistered                     // the fd is in the poller
	fDirty                          // queued in Loop.dirty for a flush
	fDrainNotify                    // data was queued since the last OnDrain
	fWriteClosed                    // no more writes accepted
	fLingering                      // discarding input before closing
	fUDP                            // connected datagram socket
	fUnix                           // unix-domain socket
	fIdle                           // closed at once by a graceful shutdown
	fReusable                       // may be reclaimed when slots run out
	fUncork                         // clear TCP_CORK once the queue is sent
	fHold                           // keep queued output back (SetHold)
	fPaced                          // a flush stopped at the rate limit
	fReadReady                      // input may wait in the socket, unread
	fHangup                         // the poller saw the peer's FIN
)

// What happens when the output queue drains.
const (
	adNone uint8 = iota
	adCloseWrite
	adClose
	adLinger
)

// Conn is a connection owned by one loop: accepted from a Listener, or made
// with Loop.Dial. Unless stated otherwise, methods must be called on the
// owning loop's goroutine. A closed Conn is never reused: its methods fail
// with ErrClosed, and nothing it writes can reach another connection.
type Conn struct {
	l          *Loop
	h          Handler
	ctx        any
	ln         *Listener
	fd         int
	id         uint64
	flags      uint32
	events     uint32 // interest currently registered
	afterDrain uint8
	q          outq
	raddr      netip.AddrPort
	laddr      netip.AddrPort
	laddrOK    bool
	unixPath   string // the dialed path of a unix socket
	closeErr   error
	unsent     int64 // bytes still queued when the connection closed

	dialCB  func(*Conn, error)
	dialErr error

	itimer    Timer // connect timeout or lingering close
	lingerEnd int64
	lingerTo  time.Duration

	waiters []flowWaiter

	// sent counts the bytes handed to the kernel; rate paces them
	// (SetRateLimit).
	sent int64
	rate *ratePace
	// readMax bounds one read (SetReadMax); 0 for the loop's buffer.
	readMax int
	// nodelay is TCP_NODELAY as SetNoDelay last set it.
	nodelay uint8

	reusePrev, reuseNext *Conn
}

type flowWaiter struct {
	src *Conn
	low int64
}

func (l *Loop) newConn(fd int, h Handler) *Conn {
	c := &Conn{l: l, h: h, fd: fd, id: l.serial.Add(1)}
	c.itimer = Timer{l: l, idx: -1, c: c}
	return c
}

// ID returns the connection's number, a per-process serial starting at 1
// (nginx's connection number, logged as "*N"). Any goroutine.
func (c *Conn) ID() uint64 { return c.id }

// Loop returns the loop that owns the connection. Any goroutine.
func (c *Conn) Loop() *Loop { return c.l }

// Listener returns the listener that accepted the connection, nil for a
// dialed one. Loop goroutine only.
func (c *Conn) Listener() *Listener { return c.ln }

// Fd returns the socket descriptor, -1 once closed. Loop goroutine only.
func (c *Conn) Fd() int { return c.fd }

// Closed reports whether the connection is closed. Loop goroutine only.
func (c *Conn) Closed() bool { return c.flags&fClosed != 0 }

// Handler returns the connection's handler. Loop goroutine only.
func (c *Conn) Handler() Handler { return c.h }

// SetHandler replaces the connection's handler, e.g. when a TLS layer hands
// the connection on. Loop goroutine only.
func (c *Conn) SetHandler(h Handler) { c.h = h }

// SetContext stores the owner's value. Loop goroutine only.
func (c *Conn) SetContext(v any) { c.ctx = v }

// Context returns the value stored with SetContext. Loop goroutine only.
func (c *Conn) Context() any { return c.ctx }

// IsDatagram reports whether the connection is a connected UDP socket. Loop
// goroutine only.
func (c *Conn) IsDatagram() bool { return c.flags&fUDP != 0 }

// RemoteAddrPort returns the peer address kept from accept or dial, without
// a system call or allocation; the zero AddrPort for unix sockets. Loop
// goroutine only.
func (c *Conn) RemoteAddrPort() netip.AddrPort { return c.raddr }

// RemoteAddr returns the peer address as a net.Addr (allocates). For unix
// sockets it is the dialed path, or "" for accepted ones (nginx shows
// "unix:"). Loop goroutine only.
func (c *Conn) RemoteAddr() net.Addr {
	switch {
	case c.flags&fUnix != 0:
		return &net.UnixAddr{Name: c.unixPath, Net: "unix"}
	case c.flags&fUDP != 0:
		return net.UDPAddrFromAddrPort(c.raddr)
	}
	return net.TCPAddrFromAddrPort(c.raddr)
}

// LocalAddrPort returns the socket's local address, asking the kernel
// (getsockname) on first use: for a wildcard listen it is the address the
// client connected to, which nginx's $server_addr needs. The zero value for
// unix sockets or on error. Loop goroutine only.
func (c *Conn) LocalAddrPort() netip.AddrPort {
	if !c.laddrOK && c.fd >= 0 && c.flags&fUnix == 0 {
		var rsa unix.RawSockaddrAny
		n := uint32(unix.SizeofSockaddrAny)
		_, _, e := unix.RawSyscall(unix.SYS_GETSOCKNAME, uintptr(c.fd), uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&n)))
		if e == 0 {
			c.laddr = addrPortFromRaw(&rsa)
			c.laddrOK = true
		}
	}
	return c.laddr
}

// LocalAddr is LocalAddrPort as a net.Addr (allocates); for unix sockets it
// is the listener's path. Loop goroutine only.
func (c *Conn) LocalAddr() net.Addr {
	if c.flags&fUnix != 0 {
		name := ""
		if c.ln != nil {
			name = c.ln.set.unixPath
		}
		return &net.UnixAddr{Name: name, Net: "unix"}
	}
	ap := c.LocalAddrPort()
	if c.flags&fUDP != 0 {
		return net.UDPAddrFromAddrPort(ap)
	}
	return net.TCPAddrFromAddrPort(ap)
}

func addrPortFromRaw(rsa *unix.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(p[0])<<8|uint16(p[1]))
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(p[0])<<8|uint16(p[1]))
	}
	return netip.AddrPort{}
}

// Buffered returns the number of bytes queued and not yet handed to the
// kernel, file ranges included. Loop goroutine only.
func (c *Conn) Buffered() int { return int(c.q.size) }

// WriteNow hands the queued output of a stream connection to the kernel
// at once, as nginx's output chain writes as it goes (ngx_lua's
// ngx.flush), instead of when the dispatch ends, and reports whether
// nothing is left queued. Drain and close notifications still come when
// the dispatch ends, so a handler may call it while it runs. Loop
// goroutine only.
func (c *Conn) WriteNow() bool {
	if c.flags&(fClosed|fConnecting|fUDP) != 0 || c.dialCB != nil {
		return c.q.empty()
	}
	c.flags &^= fHold
	if !c.q.empty() {
		c.flushStream()
	}
	return c.q.empty()
}

// Delayed reports whether the rate limit holds the output back until its
// timer fires (nginx's write->delayed). Loop goroutine only.
func (c *Conn) Delayed() bool { return c.rate != nil && c.rate.timer.Active() }

// DelayedUntil returns when the rate limit's delay ends, if Delayed.
// Loop goroutine only.
func (c *Conn) DelayedUntil() time.Time { return c.rate.timer.Deadline() }

// Held reports whether SetHold keeps the queued output back.
func (c *Conn) Held() bool { return c.flags&fHold != 0 }

// Dispatching reports whether the connection's own event is being
// handled: output written meanwhile goes out when the dispatch ends,
// together with that of the requests pipelined behind it.
func (c *Conn) Dispatching() bool { return c.l.dispatching == c }

func (c *Conn) writable() error {
	if c.flags&(fClosed|fWriteClosed) != 0 {
		return ErrClosed
	}
	return nil
}

func (c *Conn) queued() {
	c.flags |= fDrainNotify
	c.markDirty()
}

func (c *Conn) markDirty() {
	if c.flags&fDirty == 0 {
		c.flags |= fDirty
		c.l.dirty = append(c.l.dirty, c)
	}
}

// Write copies b into the connection's output queue; it is sent when the
// current dispatch ends, together with everything else written during it.
// For UDP, b is one datagram. It returns ErrClosed on a closed connection
// (nothing is written anywhere). Loop goroutine only.
func (c *Conn) Write(b []byte) (int, error) {
	if err := c.writable(); err != nil {
		return 0, err
	}
	if c.flags&fUDP != 0 {
		c.q.appendDgram(c.l, [][]byte{b})
	} else if len(b) == 0 {
		return 0, nil
	} else {
		c.q.appendCopy(c.l, b)
	}
	c.queued()
	return len(b), nil
}

// WriteString is Write for a string. Loop goroutine only.
func (c *Conn) WriteString(s string) (int, error) {
	return c.Write(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// WriteRef queues b without copying it (a few bytes are copied all the
// same: see smallRef). The caller must not modify b until it has been
// written (OnDrain, or the connection closed); immutable bytes such as a
// cached response body are the intended use. For UDP, b is one datagram.
// Loop goroutine only.
func (c *Conn) WriteRef(b []byte) error {
	if err := c.writable(); err != nil {
		return err
	}
	if len(b) == 0 && c.flags&fUDP == 0 {
		return nil
	}
	c.q.appendRef(c.l, b, c.flags&fUDP != 0)
	c.queued()
	return nil
}

// Writev copies bufs into the output queue in order (for UDP: one datagram
// made of all of them) and returns the byte count. Loop goroutine only.
func (c *Conn) Writev(bufs [][]byte) (int, error) {
	if err := c.writable(); err != nil {
		return 0, err
	}
	n := 0
	if c.flags&fUDP != 0 {
		c.q.appendDgram(c.l, bufs)
		for _, b := range bufs {
			n += len(b)
		}
	} else {
		for _, b := range bufs {
			if len(b) > 0 {
				c.q.appendCopy(c.l, b)
				n += len(b)
			}
		}
	}
	c.queued()
	return n, nil
}

// Sendfile queues n bytes of f from offset off, sent with sendfile(2) in
// order with the data written before and after it. f must stay open until
// the range is sent; the queue keeps a reference so it is not collected.
// Loop goroutine only.
func (c *Conn) Sendfile(f *os.File, off, n int64) error {
	if err := c.writable(); err != nil {
		return err
	}
	if c.flags&fUDP != 0 {
		return ErrNotSupported
	}
	if n <= 0 {
		return nil
	}
	c.q.appendFile(f, int(f.Fd()), off, n)
	c.queued()
	return nil
}

// SendfileFd is Sendfile for a raw descriptor, which the caller keeps open
// until the range is sent (OnDrain, or the connection closed). Loop
// goroutine only.
func (c *Conn) SendfileFd(fd int, off, n int64) error {
	if err := c.writable(); err != nil {
		return err
	}
	if c.flags&fUDP != 0 {
		return ErrNotSupported
	}
	if n <= 0 {
		return nil
	}
	c.q.appendFile(nil, fd, off, n)
	c.queued()
	return nil
}

// PauseRead stops reading. The read interest leaves the poller lazily:
// only when the socket next reports readiness (data, the peer's close)
// is it removed, unread; a connection paused and resumed with nothing
// arriving in between (a client waiting for its response) costs no
// system call. Loop goroutine only.
func (c *Conn) PauseRead() {
	if c.flags&(fClosed|fReadPaused) != 0 {
		return
	}
	c.flags |= fReadPaused
}

// ResumeRead undoes PauseRead; data that arrived meanwhile is delivered by
// the next loop iteration. Loop goroutine only.
func (c *Conn) ResumeRead() {
	if c.flags&fClosed != 0 || c.flags&fReadPaused == 0 {
		return
	}
	c.flags &^= fReadPaused
	c.syncEvents()
}

// ReadPaused reports whether reading is paused. Loop goroutine only.
func (c *Conn) ReadPaused() bool { return c.flags&fReadPaused != 0 }

// Throttle is high/low watermark flow control for a proxy: call it after
// writing to c what was read from src. If c holds more than high bytes,
// src's reading is paused, and the loop resumes it once c's queue falls to
// low bytes or below. It reports whether src was paused. If c closes first,
// src stays paused: its owner learns of it from c's OnClose. Loop goroutine
// only.
func (c *Conn) Throttle(src *Conn, high, low int) bool {
	if c.q.size <= int64(high) || src.flags&fClosed != 0 || c.flags&fClosed != 0 {
		return false
	}
	for _, w := range c.waiters {
		if w.src == src {
			src.PauseRead()
			return true
		}
	}
	src.PauseRead()
	c.waiters = append(c.waiters, flowWaiter{src: src, low: int64(low)})
	return true
}

func (c *Conn) wakeWaiters() {
	if len(c.waiters) == 0 {
		return
	}
	k := 0
	for _, w := range c.waiters {
		if c.q.size <= w.low {
			w.src.ResumeRead()
			continue
		}
		c.waiters[k] = w
		k++
	}
	clear(c.waiters[k:])
	c.waiters = c.waiters[:k]
}

// SetNoDelay sets TCP_NODELAY (nginx's tcp_nodelay); setting the value
// the connection already has makes no system call (a pooled upstream
// connection keeps it from request to request). Loop goroutine only.
func (c *Conn) SetNoDelay(on bool) error {
	if c.fd < 0 {
		return ErrClosed
	}
	v, state := 0, noDelayOff
	if on {
		v, state = 1, noDelayOn
	}
	if c.nodelay == state {
		return nil
	}
	if err := unix.SetsockoptInt(c.fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, v); err != nil {
		return &OpError{Op: "setsockopt", Msg: "setsockopt(TCP_NODELAY)", Err: err}
	}
	c.nodelay = state
	return nil
}

// TCP_NODELAY as last set by SetNoDelay.
const (
	noDelayUnknown uint8 = iota
	noDelayOn
	noDelayOff
)

// Sent returns how many bytes of output the connection has handed to the
// kernel so far. Loop goroutine only.
func (c *Conn) Sent() int64 { return c.sent }

// ratePace is nginx's limit_rate as its write filter applies it: by the
// end of second k after start, at most rate*(k+1) bytes past the first
// after bytes counted from base; after each write the connection pauses for
// as long as the bytes written take at rate.
type ratePace struct {
	rate, after int64
	start       int64 // unix seconds
	base        int64 // Sent() where counting starts
	timer       Timer
}

// SetRateLimit paces the output at rate bytes per second from now on
// (nginx's limit_rate): the first after bytes counted from base, a value
// of Sent(), go at full speed, and the allowance is counted in whole
// seconds from start (unix seconds), as nginx counts from the request's
// start. rate 0 removes the limit. Loop goroutine only.
func (c *Conn) SetRateLimit(rate, after, start, base int64) {
	if rate <= 0 {
		if c.rate != nil {
			c.rate.timer.Stop()
			c.rate = nil
			if !c.q.empty() {
				c.markDirty()
			}
		}
		return
	}
	if c.rate == nil {
		c.rate = &ratePace{}
		c.rate.timer = Timer{l: c.l, idx: -1, c: c, kind: tkRate}
	}
	p := c.rate
	p.rate, p.after, p.start, p.base = rate, after, start, base
}

// rateAllowance returns how many bytes the pace lets the connection write
// now; 0 arms the timer for when it may go on.
func (c *Conn) rateAllowance() int64 {
	p := c.rate
	if p.timer.Active() {
		return 0
	}
	limit := p.rate*(c.l.now.Unix()-p.start+1) - (c.sent - p.base - p.after)
	if limit <= 0 {
		p.timer.Reset(time.Duration(-limit*1000/p.rate+1) * time.Millisecond)
		return 0
	}
	return min(limit, maxSendfile)
}

func (c *Conn) rateResume() {
	if c.flags&fClosed == 0 {
		c.flush()
	}
}

// SetHold keeps the output queued from now on back until SetHold(false),
// as nginx's write filter holds a response's first small pieces
// (postpone_output): held output goes out with what follows it, or is
// lost if the connection is closed meanwhile. CloseAfterDrain,
// LingeringClose, CloseWrite and WriteNow send it regardless, and output
// already waiting for the socket to become writable is not held back.
// Loop goroutine only.
func (c *Conn) SetHold(on bool) {
	if on {
		c.flags |= fHold
		return
	}
	if c.flags&fHold != 0 {
		c.flags &^= fHold
		if !c.q.empty() {
			c.markDirty()
		}
	}
}

// DropHeld discards the queued output if SetHold is keeping it back, as
// the output an nginx worker still holds is lost when it closes a
// connection on an error. Loop goroutine only.
func (c *Conn) DropHeld() {
	if c.flags&(fHold|fWriteArmed) == fHold && c.flags&fClosed == 0 {
		c.q.release(c.l)
	}
}

// Cork sets TCP_CORK (nginx's tcp_nopush on Linux): the kernel sends only
// full segments until the cork is removed, so a response head and the file
// that follows it leave in the same packets. A pending UncorkWhenSent is
// cancelled. Loop goroutine only.
func (c *Conn) Cork() error {
	if c.fd < 0 {
		return ErrClosed
	}
	c.flags &^= fUncork
	if err := unix.SetsockoptInt(c.fd, unix.IPPROTO_TCP, unix.TCP_CORK, 1); err != nil {
		return &OpError{Op: "setsockopt", Msg: "setsockopt(TCP_CORK)", Err: err}
	}
	return nil
}

// UncorkWhenSent clears TCP_CORK, which pushes out a partial last segment,
// once everything queued so far has been written: at once when the queue
// is empty, otherwise when a flush empties it (nginx's ngx_tcp_push after
// a response). Loop goroutine only.
func (c *Conn) UncorkWhenSent() error {
	if c.fd < 0 {
		return ErrClosed
	}
	if !c.q.empty() {
		c.flags |= fUncork
		return nil
	}
	return c.uncork()
}

func (c *Conn) uncork() error {
	c.flags &^= fUncork
	if err := unix.SetsockoptInt(c.fd, unix.IPPROTO_TCP, unix.TCP_CORK, 0); err != nil {
		return &OpError{Op: "setsockopt", Msg: "setsockopt(!TCP_CORK)", Err: err}
	}
	return nil
}

// SetIdle marks the connection idle (a keepalive connection between
// requests): a graceful shutdown closes idle connections at once. Marking a
// connection idle while the loop is exiting closes it when the dispatch
// ends. Loop goroutine only.
func (c *Conn) SetIdle(idle bool) {
	if c.flags&fClosed != 0 {
		return
	}
	if !idle {
		c.flags &^= fIdle
		return
	}
	c.flags |= fIdle
	if c.l.exiting {
		c.l.Defer(func() {
			if c.flags&fIdle != 0 {
				c.closeNow(nil)
			}
		})
	}
}

// SetReusable marks the connection as one the loop may close when
// worker_connections runs out, oldest first (nginx's reusable keepalive
// and lingering connections). Loop goroutine only.
func (c *Conn) SetReusable(on bool) {
	if c.flags&fClosed != 0 {
		return
	}
	if c.flags&fReusable != 0 {
		c.unlinkReusable()
	}
	if on {
		l := c.l
		c.flags |= fReusable
		c.reuseNext = l.reuseHead
		if l.reuseHead != nil {
			l.reuseHead.reusePrev = c
		} else {
			l.reuseTail = c
		}
		l.reuseHead = c
		l.nreusable++
	}
}

func (c *Conn) unlinkReusable() {
	l := c.l
	if c.reusePrev != nil {
		c.reusePrev.reuseNext = c.reuseNext
	} else {
		l.reuseHead = c.reuseNext
	}
	if c.reuseNext != nil {
		c.reuseNext.reusePrev = c.reusePrev
	} else {
		l.reuseTail = c.reusePrev
	}
	c.reusePrev, c.reuseNext = nil, nil
	c.flags &^= fReusable
	l.nreusable--
}

// CloseWrite shuts down the write side (shutdown SHUT_WR) once the output
// queue has drained; reading continues. Later writes fail with ErrClosed.
// Loop goroutine only.
func (c *Conn) CloseWrite() error {
	if err := c.writable(); err != nil {
		return err
	}
	if c.flags&fUDP != 0 {
		return ErrNotSupported
	}
	c.flags |= fWriteClosed
	c.afterDrain = adCloseWrite
	c.markDirty()
	return nil
}

// CloseAfterDrain closes the connection once everything queued has been
// handed to the kernel, which then delivers it before the FIN. If the peer
// may still be sending, prefer LingeringClose: closing a socket with unread
// input makes the kernel send a reset that can destroy the response in
// flight. OnClose gets a nil error. Loop goroutine only.
func (c *Conn) CloseAfterDrain() error {
	if c.flags&fClosed != 0 {
		return ErrClosed
	}
	c.flags |= fWriteClosed
	c.afterDrain = adClose
	c.markDirty()
	return nil
}

// LingeringClose is nginx's lingering close: once the output has drained,
// shut down the write side, then read and discard input until the peer
// closes, until no data came for timeout (lingering_timeout), or until
// total has passed since the drain (lingering_time); then close. OnClose
// gets a nil error. Loop goroutine only.
func (c *Conn) LingeringClose(total, timeout time.Duration) error {
	if c.flags&fClosed != 0 {
		return ErrClosed
	}
	if c.flags&fUDP != 0 {
		return ErrNotSupported
	}
	c.flags |= fWriteClosed
	c.afterDrain = adLinger
	c.lingerEnd = int64(total)
	c.lingerTo = timeout
	c.markDirty()
	return nil
}

// Close closes the connection now, discarding queued output. OnClose
// follows after the current dispatch with a nil error. Closing a dialed
// connection that has not connected yet cancels the dial: its done
// callback gets ErrClosed. Loop goroutine only.
func (c *Conn) Close() error {
	if c.flags&fClosed != 0 {
		return ErrClosed
	}
	c.closeNow(nil)
	return nil
}

// CloseErr returns the error the connection was closed with, nil for a
// close asked for or none yet. Loop goroutine only.
func (c *Conn) CloseErr() error { return c.closeErr }

// Unsent returns the bytes of output still queued when the connection
// closed, lost with it. Loop goroutine only.
func (c *Conn) Unsent() int64 { return c.unsent }

// Abort closes the connection with a reset (SO_LINGER 0), discarding queued
// output. Loop goroutine only.
func (c *Conn) Abort() error {
	if c.flags&fClosed != 0 {
		return ErrClosed
	}
	if c.flags&fUDP == 0 {
		unix.SetsockoptLinger(c.fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	}
	c.closeNow(nil)
	return nil
}

func (c *Conn) closeNow(err error) {
	if c.flags&fClosed != 0 {
		return
	}
	l := c.l
	c.flags |= fClosed
	c.unsent = c.q.size
	if c.fd >= 0 {
		l.fds[c.fd] = fdEntry{}
		closeFd(c.fd)
		c.fd = -1
		l.nconns--
	}
	c.q.release(l)
	c.itimer.Stop()
	if c.rate != nil {
		c.rate.timer.Stop()
	}
	if c.flags&fReusable != 0 {
		c.unlinkReusable()
	}
	clear(c.waiters)
	c.waiters = nil
	c.closeErr = err
	if c.dialCB != nil {
		if err == nil {
			err = ErrClosed
		}
		c.dialErr = err
		l.dialDone = append(l.dialDone, c)
		return
	}
	l.closing = append(l.closing, c)
}

// wantEvents computes the poller interest the connection's state calls for.
func (c *Conn) wantEvents() uint32 {
	f := c.flags
	if f&fClosed != 0 {
		return 0
	}
	if f&fConnecting != 0 {
		return evWrite
	}
	var ev uint32
	if f&fLingering != 0 || f&(fReadPaused|fReadEOF) == 0 {
		ev |= evRead
	}
	if f&fWriteArmed != 0 {
		ev |= evWrite
	}
	return ev
}

// syncEvents brings the poller in line with wantEvents. A connection that
// wants nothing is removed from the poller altogether, so a hang-up on an
// idle or paused socket cannot make a level-triggered wait spin.
func (c *Conn) syncEvents() {
	want := c.wantEvents()
	if c.flags&fRegistered != 0 && want == c.events {
		return
	}
	var err error
	switch {
	case want == 0:
		if c.flags&fRegistered != 0 {
			err = c.l.p.Del(c.fd)
			c.flags &^= fRegistered
		}
	case c.flags&fRegistered == 0:
		err = c.l.p.Add(c.fd, want)
		c.flags |= fRegistered
	default:
		err = c.l.p.Mod(c.fd, want)
	}
	c.events = want
	if err != nil {
		c.closeNow(err)
	}
}

// onEvent handles one readiness report.
func (c *Conn) onEvent(ev uint32) {
	if c.flags&fConnecting != 0 {
		c.finishConnect()
		return
	}
	if ev&(unix.EPOLLIN|unix.EPOLLERR|unix.EPOLLHUP|unix.EPOLLRDHUP) != 0 && c.events&evRead != 0 {
		if ev&(unix.EPOLLRDHUP|unix.EPOLLHUP) != 0 {
			c.flags |= fHangup
		}
		switch {
		case c.flags&fLingering != 0:
			c.lingerRead()
			return
		case c.flags&fReadPaused != 0:
			// paused since the last wait: the interest goes now and
			// the data stays in the socket.
			c.flags |= fReadReady
			c.syncEvents()
		default:
			c.readOnce()
		}
	}
	if ev&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) != 0 && c.flags&(fWriteArmed|fClosed) == fWriteArmed {
		c.markDirty()
	}
}

// ReadReady reports whether input may be waiting in the socket: the poller
// signalled some while reading was paused, or the last read filled its
// buffer (nginx's read event "ready"). After a short read it is false
// until the next event. Loop goroutine only.
func (c *Conn) ReadReady() bool { return c.flags&fReadReady != 0 }

// PeerClosed reports whether the poller has reported the peer's FIN
// (EPOLLRDHUP or EPOLLHUP), read or not yet (nginx's pending_eof). Loop
// goroutine only.
func (c *Conn) PeerClosed() bool { return c.flags&fHangup != 0 }

// SetReadMax bounds each read of the connection to n bytes (n > 0), for a
// reader that paces itself (proxy_limit_rate reads no more than the rate
// allows); 0 reads as much as the loop's buffer takes. Loop goroutine
// only.
func (c *Conn) SetReadMax(n int) { c.readMax = max(n, 0) }

func (c *Conn) readOnce() {
	l := c.l
	buf := l.buf
	if c.readMax > 0 && c.readMax < len(buf) {
		buf = buf[:c.readMax]
	}
	n, errno := recvFd(c.fd, buf)
	// a short read drained the socket, a full one may have left more; a
	// FIN the poller reported is still to be read (nginx's pending_eof).
	if n == len(buf) || c.flags&fHangup != 0 && n > 0 {
		c.flags |= fReadReady
	} else {
		c.flags &^= fReadReady
	}
	switch {
	case n > 0:
		c.h.OnData(c, buf[:n])
	case errno == 0:
		if c.flags&fUDP != 0 {
			c.h.OnData(c, l.buf[:0])
			return
		}
		c.flags |= fReadEOF
		c.syncEvents()
		c.h.OnReadEOF(c)
	case errno == unix.EAGAIN || errno == unix.EINTR:
	default:
		op := "recv"
		c.closeNow(&OpError{Op: op, Err: errno})
	}
}

// flush writes the queue until it is empty or the socket would block.
func (c *Conn) flush() {
	if c.flags&(fClosed|fConnecting) != 0 || c.dialCB != nil {
		return
	}
	if c.flags&(fHold|fWriteArmed) == fHold && c.afterDrain == adNone {
		return
	}
	blocked := false
	if !c.q.empty() {
		if c.flags&fUDP != 0 {
			blocked = c.flushDgrams()
		} else {
			blocked = c.flushStream()
		}
		if c.flags&fClosed != 0 {
			return
		}
		if c.flags&fPaced != 0 {
			// the rate limit's timer resumes the output.
			c.flags &^= fPaced
			if c.flags&fWriteArmed != 0 {
				c.flags &^= fWriteArmed
				c.syncEvents()
			}
			return
		}
	}
	if blocked {
		if c.flags&fWriteArmed == 0 {
			c.flags |= fWriteArmed
			c.syncEvents()
		}
		c.wakeWaiters()
		return
	}
	if c.flags&fWriteArmed != 0 {
		c.flags &^= fWriteArmed
		c.syncEvents()
	}
	c.wakeWaiters()
	if c.flags&fUncork != 0 && c.flags&fClosed == 0 {
		if err := c.uncork(); err != nil {
			c.closeNow(err)
			return
		}
	}
	switch c.afterDrain {
	case adClose:
		c.closeNow(nil)
		return
	case adCloseWrite:
		c.afterDrain = adNone
		c.flags &^= fDrainNotify
		unix.Shutdown(c.fd, unix.SHUT_WR)
		return
	case adLinger:
		c.afterDrain = adNone
		c.flags &^= fDrainNotify
		c.startLinger()
		return
	}
	if c.flags&fDrainNotify != 0 {
		c.flags &^= fDrainNotify
		c.h.OnDrain(c)
	}
}

// flushStream sends byte and file segments in order. It returns true when
// the socket would block.
func (c *Conn) flushStream() bool {
	p := c.rate
	if p == nil {
		return c.writeQueue(-1)
	}
	budget := c.rateAllowance()
	if budget == 0 {
		c.flags |= fPaced
		return false
	}
	from := c.sent
	blocked := c.writeQueue(budget)
	if c.flags&fClosed != 0 {
		return blocked
	}
	// pause for as long as what was written takes at the rate, as
	// nginx's write filter delays its write event after every write,
	// even one that emptied the queue (Delayed); with no pause due and
	// the allowance spent, go on at the next iteration.
	lo, hi := max(from-p.base-p.after, 0), max(c.sent-p.base-p.after, 0)
	d := (hi - lo) * 1000 / p.rate
	if c.q.empty() {
		if d > 0 {
			p.timer.Reset(time.Duration(d) * time.Millisecond)
		}
		return blocked
	}
	if d > 0 || !blocked {
		p.timer.Reset(time.Duration(d) * time.Millisecond)
		c.flags |= fPaced
		return false
	}
	return blocked
}

// writeQueue writes the queue until it is empty, the socket would block
// (true) or budget bytes (negative: no limit) are written.
func (c *Conn) writeQueue(budget int64) bool {
	l := c.l
	for !c.q.empty() {
		if budget == 0 {
			return false
		}
		s := &c.q.segs[c.q.head]
		if s.kind == segFile {
			chunk := s.n
			if chunk > maxSendfile {
				chunk = maxSendfile
			}
			if budget > 0 && chunk > budget {
				chunk = budget
			}
			n, err := unix.Sendfile(c.fd, s.ffd, &s.off, int(chunk))
			if n > 0 {
				s.n -= int64(n)
				c.q.size -= int64(n)
				c.sent += int64(n)
				if budget > 0 {
					budget -= int64(n)
				}
				if s.n == 0 {
					c.q.pop(l)
				}
			}
			switch {
			case err == unix.EAGAIN:
				return true
			case err == unix.EINTR:
			case err != nil:
				c.closeNow(&OpError{Op: "sendfile", Err: err})
				return false
			case n == 0:
				c.closeNow(ErrFileTruncated)
				return false
			case int64(n) < chunk:
				return true
			}
			continue
		}
		niov, want := c.q.gather(l.iov)
		if niov == 0 {
			c.q.advance(l, 0)
			continue
		}
		if budget > 0 && int64(want) > budget {
			niov, want = trimIov(l.iov[:niov], int(budget))
		}
		n, errno := sendIov(c.fd, l.iov[:niov])
		clear(l.iov[:niov])
		switch errno {
		case 0:
		case unix.EAGAIN:
			return true
		case unix.EINTR:
			continue
		default:
			c.closeNow(&OpError{Op: "writev", Err: errno})
			return false
		}
		c.q.advance(l, n)
		c.sent += int64(n)
		if budget > 0 {
			budget -= int64(n)
		}
		if n < want {
			// The kernel buffer is full; asking again now would only
			// return EAGAIN.
			return true
		}
	}
	return false
}

// SendDatagram sends b on a connected datagram socket now, as nginx's
// ngx_udp_send: a failure (the kernel reporting a refused port from an
// earlier datagram's ICMP answer) is returned as an *OpError and the
// socket stays open. Behind datagrams already queued, or when the socket
// would block, b is queued as Write does. Loop goroutine only.
//
// Write queues every datagram until the loop's dispatch ends; a socket
// closed before then (a request that sends and ends) loses them.
func (c *Conn) SendDatagram(b []byte) error {
	if err := c.writable(); err != nil {
		return err
	}
	if c.flags&fUDP == 0 {
		return ErrNotSupported
	}
	// a datagram socket's connect completes at once: its dial callback
	// may still be pending, but the kernel has the peer.
	if c.q.empty() && c.flags&(fConnecting|fClosed) == 0 {
		for {
			err := sendDgram(c.fd, b)
			switch err {
			case 0:
				return nil
			case unix.EINTR:
				continue
			case unix.EAGAIN:
			default:
				return &OpError{Op: "send", Err: err}
			}
			break
		}
	}
	c.q.appendDgram(c.l, [][]byte{b})
	c.queued()
	return nil
}

// flushDgrams sends one datagram per queued segment.
func (c *Conn) flushDgrams() bool {
	l := c.l
	for !c.q.empty() {
		s := &c.q.segs[c.q.head]
		_, err := sendFd(c.fd, s.b[s.r:s.w])
		switch err {
		case 0:
		case unix.EAGAIN:
			return true
		case unix.EINTR:
			continue
		default:
			c.closeNow(&OpError{Op: "send", Err: err})
			return false
		}
		c.q.size -= int64(s.w - s.r)
		c.q.pop(l)
	}
	return false
}

func (c *Conn) startLinger() {
	if c.flags&fReadEOF != 0 {
		c.closeNow(nil)
		return
	}
	unix.Shutdown(c.fd, unix.SHUT_WR)
	c.flags |= fLingering
	c.flags &^= fReadPaused
	c.lingerEnd += c.l.mono
	c.itimer.kind = tkLinger
	c.armLinger()
	c.syncEvents()
}

func (c *Conn) armLinger() {
	left := time.Duration(c.lingerEnd - c.l.mono)
	if left <= 0 {
		c.closeNow(nil)
		return
	}
	if left > c.lingerTo {
		left = c.lingerTo
	}
	c.itimer.Reset(left)
}

func (c *Conn) lingerRead() {
	n, err := recvFd(c.fd, c.l.buf)
	switch {
	case n > 0:
		c.armLinger()
	case err == unix.EAGAIN || err == unix.EINTR:
	default:
		c.closeNow(nil)
	}
}

func (c *Conn) lingerTimedOut() { c.closeNow(nil) }
