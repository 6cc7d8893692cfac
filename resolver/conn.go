//go:build linux

package resolver

import (
	"encoding/binary"
	"errors"

	"gresty/eventloop"
)

// tcpMaxBuffer bounds what a TCP connection to a name server may hold
// unparsed: one length prefix and the largest message.
const tcpMaxBuffer = 2 + 65535

// nameServer is one name server as seen from one loop: a connected UDP
// socket, opened on first use, and a TCP connection for answers that did
// not fit in a datagram. Loop goroutine only.
type nameServer struct {
	c    *instance
	s    Server
	dial string
	udp  *eventloop.Conn
	tcp  *eventloop.Conn
	tbuf []byte
	idle bool
}

// send sends one query over UDP, or over TCP when tcp is set; false
// means the socket failed at once (the caller may try another server).
func (ns *nameServer) send(q []byte, tcp bool) bool {
	if tcp {
		return ns.sendTCP(q)
	}
	return ns.sendUDP(q)
}

func (ns *nameServer) context() string { return " while resolving, resolver: " + ns.s.Name }

func (ns *nameServer) sendUDP(q []byte) bool {
	if ns.s.Unix != "" {
		ns.c.logf(eventloop.LogCrit, "connect() failed (97: Address family not supported by protocol)%s", ns.context())
		return false
	}
	if ns.udp == nil {
		h := &udpHandler{ns}
		c := ns.c.set.l.Dial("udp", ns.dial, 0, h, h.dialed)
		if c.Closed() {
			return false
		}
		ns.udp = c
		if ns.idle {
			c.SetIdle(true)
		}
	}
	if _, err := ns.udp.Write(q); err != nil {
		ns.udp.Close()
		ns.udp = nil
		return false
	}
	return true
}

func (ns *nameServer) sendTCP(q []byte) bool {
	if ns.s.Unix != "" {
		ns.c.logf(eventloop.LogCrit, "connect() to %s failed (97: Address family not supported by protocol)%s", ns.s.Name, ns.context())
		return false
	}
	if ns.tcp == nil {
		h := &tcpHandler{ns}
		c := ns.c.set.l.Dial("tcp", ns.dial, tcpTimeout, h, h.dialed)
		if c.Closed() {
			return false
		}
		ns.tcp = c
		ns.tbuf = ns.tbuf[:0]
		if ns.idle {
			c.SetIdle(true)
		}
	}
	frame := make([]byte, 2+len(q))
	binary.BigEndian.PutUint16(frame, uint16(len(q)))
	copy(frame[2:], q)
	if _, err := ns.tcp.Write(frame); err != nil {
		ns.tcp.Close()
		ns.tcp = nil
		return false
	}
	return true
}

func (ns *nameServer) setIdle(idle bool) {
	ns.idle = idle
	if ns.udp != nil {
		ns.udp.SetIdle(idle)
	}
	if ns.tcp != nil {
		ns.tcp.SetIdle(idle)
	}
}

func (ns *nameServer) close() {
	if ns.udp != nil {
		ns.udp.Close()
		ns.udp = nil
	}
	if ns.tcp != nil {
		ns.tcp.Close()
		ns.tcp = nil
	}
}

// logClose logs why a socket to the server closed, as nginx's recv() and
// send() failures are logged.
func (ns *nameServer) logClose(err error) {
	if err == nil || errors.Is(err, eventloop.ErrLoopStopped) {
		return
	}
	ns.c.logf(eventloop.LogErr, "%v%s", err, ns.context())
}

type udpHandler struct{ ns *nameServer }

func (h *udpHandler) dialed(c *eventloop.Conn, err error) {
	if err == nil {
		return
	}
	if !errors.Is(err, eventloop.ErrClosed) && !errors.Is(err, eventloop.ErrLoopStopped) {
		h.ns.c.logf(eventloop.LogCrit, "%v%s", err, h.ns.context())
	}
	if h.ns.udp == c {
		h.ns.udp = nil
	}
}

// OnData handles one datagram. Loop goroutine.
func (h *udpHandler) OnData(c *eventloop.Conn, b []byte) {
	if h.ns.udp != c || len(b) == 0 {
		return
	}
	h.ns.c.onResponse(b, false)
}

// OnReadEOF cannot happen on a datagram socket. Loop goroutine.
func (h *udpHandler) OnReadEOF(c *eventloop.Conn) {}

// OnDrain is not needed: queries are small. Loop goroutine.
func (h *udpHandler) OnDrain(c *eventloop.Conn) {}

// OnClose forgets the socket; the next query opens another. Loop
// goroutine.
func (h *udpHandler) OnClose(c *eventloop.Conn, err error) {
	h.ns.logClose(err)
	if h.ns.udp == c {
		h.ns.udp = nil
	}
}

type tcpHandler struct{ ns *nameServer }

func (h *tcpHandler) dialed(c *eventloop.Conn, err error) {
	if err == nil {
		return
	}
	if !errors.Is(err, eventloop.ErrClosed) && !errors.Is(err, eventloop.ErrLoopStopped) {
		msg := err.Error()
		var oe *eventloop.OpError
		if errors.As(err, &oe) && oe.Op == "connect" {
			msg = "connect() to " + h.ns.s.Name + " failed " + eventloop.ErrnoText(oe.Err)
		}
		h.ns.c.logf(eventloop.LogErr, "%s%s", msg, h.ns.context())
	}
	if h.ns.tcp == c {
		h.ns.tcp = nil
	}
}

// OnData collects length-prefixed messages and handles each complete
// one. Loop goroutine.
func (h *tcpHandler) OnData(c *eventloop.Conn, b []byte) {
	ns := h.ns
	if ns.tcp != c {
		return
	}
	if len(ns.tbuf)+len(b) > tcpMaxBuffer {
		// Cannot happen with a length prefix of 16 bits unless the
		// server sends more than it was asked; nginx's buffer is this
		// size too.
		c.Close()
		return
	}
	ns.tbuf = append(ns.tbuf, b...)
	buf := ns.tbuf
	for len(buf) >= 2 {
		l := int(binary.BigEndian.Uint16(buf))
		if len(buf) < 2+l {
			break
		}
		ns.c.onResponse(buf[2:2+l], true)
		if ns.tcp != c {
			// A callback closed the resolver.
			return
		}
		buf = buf[2+l:]
	}
	ns.tbuf = append(ns.tbuf[:0], buf...)
}

// OnReadEOF closes the connection; a later truncated answer opens a new
// one. Loop goroutine.
func (h *tcpHandler) OnReadEOF(c *eventloop.Conn) { c.Close() }

// OnDrain is not needed. Loop goroutine.
func (h *tcpHandler) OnDrain(c *eventloop.Conn) {}

// OnClose forgets the connection. Loop goroutine.
func (h *tcpHandler) OnClose(c *eventloop.Conn, err error) {
	h.ns.logClose(err)
	if h.ns.tcp == c {
		h.ns.tcp = nil
		h.ns.tbuf = h.ns.tbuf[:0]
	}
}
