package lua

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	glua "github.com/yuin/gopher-lua"

	"gresty/errlog"
	"gresty/eventloop"
	"gresty/luavm"
	"gresty/resolver"
)

// The UDP cosocket, ngx.socket.udp() (ngx_http_lua_socket_udp.c): a
// connected datagram socket; receive waits for one datagram.

// udpMaxDatagram is the largest datagram receive returns.
const udpMaxDatagram = 65536

// slotUDPTimeout is where settimeout keeps a timeout before setpeername.
const slotUDPTimeout = 2

// udpSock is one UDP cosocket's state.
type udpSock struct {
	ss          *sockState
	c           *reqCtx
	conf        *LocConf
	conn        *eventloop.Conn
	readTimeout time.Duration
	// pending holds datagrams that arrived with no receive waiting.
	pending [][]byte
	bufSize int
	connErr error
	wait    *sockWait
	timer   *eventloop.Timer
	// resolving is the resolution of the peer's name in progress.
	resolving  *resolver.Request
	cleanupSet bool
}

func (ss *sockState) installUDP(L *glua.LState) {
	mt := L.NewTable()
	m := func(name string, f glua.LGFunction) { mt.RawSetString(name, L.NewFunction(f)) }
	ss.st.vm.RegisterYielding(mt, "setpeername", ss.udpSetPeerName)
	ss.st.vm.RegisterYielding(mt, "receive", ss.udpReceive)
	m("send", ss.udpSend)
	m("settimeout", udpSetTimeout)
	m("close", ss.udpClose)
	mt.RawSetString("__index", mt)
	ss.udpMT = mt
}

// newUDP is ngx.socket.udp().
func (ss *sockState) newUDP(L *glua.LState) int {
	if n := L.GetTop(); n != 0 {
		luavm.Raise(L, "expecting zero arguments, but got %d", n)
	}
	ss.st.request(L, sockPhases)
	t := L.CreateTable(3, 1)
	L.SetMetatable(t, ss.udpMT)
	L.Push(t)
	return 1
}

func udpOf(t *glua.LTable) *udpSock {
	if ud, ok := t.RawGetInt(slotCtx).(*glua.LUserData); ok {
		u, _ := ud.Value.(*udpSock)
		return u
	}
	return nil
}

// udpSetPeerName is sock:setpeername(host, port) or
// sock:setpeername("unix:/path").
func (ss *sockState) udpSetPeerName(L *glua.LState) int {
	n := L.GetTop()
	if n != 2 && n != 3 {
		luavm.Raise(L, "ngx.socket.udp setpeername: expecting 2 or 3 arguments (including the object), but seen %d", n)
	}
	c := ss.st.request(L, sockPhases)
	t := checkSockTable(L)
	host := checkLuaString(L, 2)
	port := 0
	if n == 3 {
		pv, ok := numberValue(L.Get(3))
		if !ok {
			luavm.TypeError(L, 3, "number")
		}
		port = int(pv)
		if port < 0 || port > 65535 {
			return pushErr(L, fmt.Sprintf("bad port number: %d", port))
		}
	}
	u := udpOf(t)
	if u != nil {
		if u.c != c {
			luavm.Raise(L, "bad request")
		}
		if u.wait.alive() {
			return pushErr(L, "socket busy")
		}
		if u.conn != nil {
			if c.debugOn() {
				c.logf(errlog.Debug, "lua udp socket reconnect without shutting down")
			}
			u.finalize()
		}
		if c.debugOn() {
			c.logf(errlog.Debug, "lua reuse socket upstream ctx")
		}
		*u = udpSock{timer: u.timer}
	} else {
		u = &udpSock{}
		ud := L.NewUserData()
		ud.Value = u
		t.RawSetInt(slotCtx, ud)
	}
	u.ss, u.c = ss, c
	c.pin()
	u.conf = c.sockConf()
	u.readTimeout = slotTimeout(t, slotUDPTimeout, u.conf.SocketReadTimeout.V)
	u.registerCleanup()

	dest, msg := parseSockHost(host, port)
	switch {
	case msg != "":
		return pushErr(L, msg)
	case dest.unix != "":
		vals := u.dialTo("unixgram", dest.unix)
		for _, v := range vals {
			L.Push(v)
		}
		return len(vals)
	case dest.addr.IsValid():
		if c.debugOn() {
			c.logf(errlog.Debug, "lua udp socket network address given directly")
		}
		return u.connect(L, dest.addr, dest.port)
	}
	res := c.resolver()
	if res == nil {
		return pushErr(L, fmt.Sprintf("no resolver defined to resolve \"%s\"", host))
	}
	var sync []glua.LValue
	inCall := true
	var w *sockWait
	req := res.Resolve(host, func(addrs []netip.Addr, err error) {
		u.resolving = nil
		var vals []glua.LValue
		if err != nil {
			vals = errVals(err.Error())
		} else {
			addr := addrs[0]
			if len(addrs) > 1 {
				addr = addrs[rand.IntN(len(addrs))]
			}
			vals = u.dial(addr, port)
		}
		if inCall {
			sync = vals
			return
		}
		w.wake(vals...)
	})
	inCall = false
	if sync != nil {
		for _, v := range sync {
			L.Push(v)
		}
		return len(sync)
	}
	// ngx_lua yields once the query is out: a thread that cannot yield
	// fails now, and the request's cleanup gives the query up.
	u.resolving = req
	ss.st.vm.CheckYieldable(L)
	w = ss.st.newSockWait(c, u)
	return ss.st.vm.Suspend(L)
}

func (u *udpSock) connect(L *glua.LState, addr netip.Addr, port int) int {
	vals := u.dial(addr, port)
	for _, v := range vals {
		L.Push(v)
	}
	return len(vals)
}

// dial opens the connected datagram socket; a UDP connect completes at
// once.
func (u *udpSock) dial(addr netip.Addr, port int) []glua.LValue {
	ap := netip.AddrPortFrom(addr.Unmap(), uint16(port))
	network := "udp4"
	if addr.Is6() && !addr.Is4In6() {
		network = "udp6"
	}
	return u.dialTo(network, ap.String())
}

// dialTo opens the connected datagram socket to address on network.
func (u *udpSock) dialTo(network, address string) []glua.LValue {
	var derr error
	u.conn = u.ss.st.ls.Loop().Dial(network, address, 0, u, func(c *eventloop.Conn, err error) {
		if err != nil && c == u.conn {
			u.connErr = err
			u.wakeRead()
		}
	})
	if u.conn.Closed() {
		derr = u.conn.CloseErr()
		if derr == nil {
			derr = fmt.Errorf("connect failed")
		}
	}
	if derr != nil {
		u.conn = nil
		if _, ok := eventloop.Errno(derr); ok {
			u.c.logf(errlog.Crit, "connect() failed %s", eventloop.ErrnoText(derr))
			return errVals(errnoText(derr))
		}
		return errVals("connect failed")
	}
	u.conn.PauseRead()
	return []glua.LValue{glua.LNumber(1)}
}

func (u *udpSock) registerCleanup() {
	if u.cleanupSet {
		return
	}
	u.cleanupSet = true
	u.c.onCleanup(func() {
		u.cleanupSet = false
		if u.conn != nil || u.resolving != nil {
			if u.c.debugOn() {
				u.c.logf(errlog.Debug, "lua udp socket cleanup")
			}
			u.finalize()
		}
	})
}

func (u *udpSock) finalize() {
	if u.c.debugOn() {
		u.c.logf(errlog.Debug, "lua udp socket finalize")
	}
	if u.timer != nil {
		u.timer.Stop()
	}
	if u.resolving != nil {
		u.resolving.Cancel()
		u.resolving = nil
	}
	if u.conn != nil {
		u.conn.Close()
		u.conn = nil
	}
	u.pending = nil
}

// OnData implements eventloop.Handler: one datagram.
func (u *udpSock) OnData(c *eventloop.Conn, b []byte) {
	if c != u.conn {
		return
	}
	if u.wait != nil {
		w := u.wait
		u.wait = nil
		u.timer.Stop()
		if len(b) > u.bufSize {
			b = b[:u.bufSize]
		}
		u.conn.PauseRead()
		w.wake(glua.LString(b))
		return
	}
	u.pending = append(u.pending, append([]byte(nil), b...))
	u.conn.PauseRead()
}

// OnReadEOF implements eventloop.Handler; datagram sockets have none.
func (u *udpSock) OnReadEOF(c *eventloop.Conn) {}

// OnDrain implements eventloop.Handler.
func (u *udpSock) OnDrain(c *eventloop.Conn) {}

// OnClose implements eventloop.Handler: a send or receive failed (an ICMP
// error reported on the connected socket).
func (u *udpSock) OnClose(c *eventloop.Conn, err error) {
	if c != u.conn {
		return
	}
	if err == nil {
		return
	}
	u.connErr = err
	{
		u.c.logf(errlog.Error, "%s", err.Error())
	}
	u.wakeRead()
}

func (u *udpSock) wakeRead() {
	w := u.wait
	if w == nil {
		return
	}
	u.wait = nil
	u.timer.Stop()
	err := u.connErr
	u.connErr = nil
	u.conn = nil
	w.wake(errVals(errnoText(err))...)
}

// udpSend is sock:send(data).
func (ss *sockState) udpSend(L *glua.LState) int {
	if n := L.GetTop(); n != 2 {
		luavm.Raise(L, "expecting 2 arguments (including the object), but got %d", n)
	}
	c := ss.st.cur()
	if c == nil {
		luavm.Raise(L, "request object not found")
	}
	t := checkSockTable(L)
	u := udpOf(t)
	if u == nil || u.conn == nil {
		if c.sockConf().SocketLogErrors.V {
			c.logf(errlog.Error, "attempt to send data on a closed socket: u:%s, c:%s", udpPtr(u), nilConn(u))
		}
		return pushErr(L, "closed")
	}
	if u.c != c {
		luavm.Raise(L, "bad request")
	}
	if u.wait.alive() {
		return pushErr(L, "socket busy")
	}
	data := ss.st.sendBytes(L, 2, false)
	if u.connErr != nil {
		err := u.connErr
		u.connErr = nil
		return pushErr(L, errnoText(err))
	}
	if u.conn.Closed() {
		return pushErr(L, "closed")
	}
	// ngx_udp_send: the debug line, then a failure logged and returned;
	// the socket stays usable
	err := u.conn.SendDatagram(data)
	if c.debugOn() {
		n := len(data)
		if err != nil {
			n = -1
		}
		c.logf(errlog.Debug, "send: fd:%d %d of %d", u.conn.Fd(), n, len(data))
	}
	if err != nil {
		if en, ok := eventloop.Errno(err); ok {
			c.logf(errlog.Error, "send() failed %s", eventloop.ErrnoText(en))
		}
		return pushErr(L, errnoText(err))
	}
	L.Push(glua.LNumber(1))
	return 1
}

func nilConn(u *udpSock) string {
	if u == nil || u.conn == nil {
		return ptrHex(nil)
	}
	return ptrHex(u.conn)
}

func udpPtr(u *udpSock) string {
	if u == nil {
		return ptrHex(nil)
	}
	return ptrHex(u)
}

// udpReceive is sock:receive(size?).
func (ss *sockState) udpReceive(L *glua.LState) int {
	n := L.GetTop()
	if n != 1 && n != 2 {
		luavm.Raise(L, "expecting 1 or 2 arguments (including the object), but got %d", n)
	}
	c := ss.cur(L)
	if c.debugOn() {
		c.logf(errlog.Debug, "lua udp socket calling receive() method")
	}
	t := checkSockTable(L)
	u := udpOf(t)
	if u == nil || u.conn == nil {
		if c.sockConf().SocketLogErrors.V {
			c.logf(errlog.Error, "attempt to receive data on a closed socket: u:%s, c:%s", udpPtr(u), nilConn(u))
		}
		return pushErr(L, "closed")
	}
	if u.c != c {
		luavm.Raise(L, "bad request")
	}
	if u.wait.alive() {
		return pushErr(L, "socket busy")
	}
	size := udpMaxDatagram
	if n == 2 {
		size = int(L.CheckNumber(2))
		if size > udpMaxDatagram || size < 0 {
			size = udpMaxDatagram
		}
	}
	u.bufSize = size
	if c.debugOn() {
		c.logf(errlog.Debug, "lua udp socket read timeout: %d", u.readTimeout.Milliseconds())
		c.logf(errlog.Debug, "lua udp socket receive buffer size: %d", size)
	}
	if u.connErr != nil {
		err := u.connErr
		u.connErr = nil
		u.conn = nil
		return pushErr(L, errnoText(err))
	}
	if len(u.pending) > 0 {
		b := u.pending[0]
		u.pending = u.pending[1:]
		if len(b) > size {
			b = b[:size]
		}
		L.Push(glua.LString(b))
		return 1
	}
	ss.st.vm.CheckYieldable(L)
	u.wait = ss.st.newSockWait(c, u)
	if u.timer == nil {
		u.timer = ss.st.ls.Loop().NewTimer(u.timedOut)
	}
	u.timer.Reset(u.readTimeout)
	u.conn.ResumeRead()
	return ss.st.vm.Suspend(L)
}

func (u *udpSock) timedOut() {
	w := u.wait
	if w == nil {
		return
	}
	u.wait = nil
	if u.conn != nil {
		u.conn.PauseRead()
	}
	if !w.alive() {
		return
	}
	if u.conf.SocketLogErrors.V {
		u.c.logf(errlog.Error, "lua udp socket read timed out")
	}
	w.wake(errVals("timeout")...)
}

// udpSetTimeout is sock:settimeout(ms).
func udpSetTimeout(L *glua.LState) int {
	if n := L.GetTop(); n != 2 {
		luavm.Raise(L, "ngx.socket settimeout: expecting at least 2 arguments (including the object) but seen %d", n)
	}
	ms := timeoutArg(L, 2)
	t := checkSockTable(L)
	t.RawSetInt(slotUDPTimeout, glua.LNumber(ms))
	if u := udpOf(t); u != nil {
		if ms > 0 {
			u.readTimeout = time.Duration(ms) * time.Millisecond
		} else {
			u.readTimeout = u.conf.SocketReadTimeout.V
		}
	}
	return 0
}

// udpClose is sock:close().
func (ss *sockState) udpClose(L *glua.LState) int {
	if n := L.GetTop(); n != 1 {
		luavm.Raise(L, "expecting 1 argument (including the object) but seen %d", n)
	}
	c := ss.cur(L)
	t := checkSockTable(L)
	u := udpOf(t)
	if u == nil || u.conn == nil {
		return pushErr(L, "closed")
	}
	if u.c != c {
		luavm.Raise(L, "bad request")
	}
	if u.wait.alive() {
		return pushErr(L, "socket busy")
	}
	u.finalize()
	L.Push(glua.LNumber(1))
	return 1
}

// abortWait finalizes u when the thread waiting in receive is killed
// (ngx_http_lua_udp_socket_cleanup).
func (u *udpSock) abortWait() {
	u.wait = nil
	u.finalize()
}
