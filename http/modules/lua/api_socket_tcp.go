package lua

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	glua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"gresty/errlog"
	"gresty/eventloop"
	"gresty/http"
	"gresty/luavm"
	"gresty/luavm/ltable"
	"gresty/resolver"
)

// The TCP cosocket, ngx.socket.tcp() (ngx_http_lua_socket_tcp.c): a
// non-blocking connection on the request's loop whose operations suspend
// the calling thread until the loop completes them.

// sockKind tells an upstream socket from the request's own connection.
type sockKind uint8

const (
	kindUpstream sockKind = iota
	kindBody              // ngx.req.socket(): the request body
	kindRaw               // ngx.req.socket(true): the client connection
)

// Results of a read filter.
const (
	opAgain = iota
	opOK
	opClosed
	opError
	opTimeout
	opAbort
	// opMore: a request socket took more of the client's input.
	opMore
)

// readMode is what receive* asked for.
type readMode uint8

const (
	modeLine readMode = iota
	modeAll
	modeBytes
	modeAny
	modeUntil
)

// readOp is a read in progress: its filter and what it gathered.
type readOp struct {
	mode readMode
	// rest is what modeBytes still wants, modeAny's maximum and
	// modeUntil's size limit left; length is modeUntil's limit.
	rest   int
	length int
	out    []byte
	pat    *untilPattern
}

// readHighWater is how much unread input a socket buffers before it stops
// reading from the kernel until the Lua code consumes it.
const readHighWater = 64 << 10

// fastSendMax is the largest send that returns at once when nothing is
// waiting to be written: the kernel's socket buffer takes it whole.
const fastSendMax = 64 << 10

// tcpSock is one cosocket's state (ngx_http_lua_socket_tcp_upstream_t).
// All of it lives on the request's loop.
type tcpSock struct {
	ss   *sockState
	c    *reqCtx
	conf *LocConf
	kind sockKind
	// res holds a read's results while they are handed to the thread;
	// boxes boxes the data read, a few reads per allocation.
	res   [3]glua.LValue
	boxes ltable.Strings

	conn *eventloop.Conn
	// peerName is the peer as nginx names it in connect errors; addr and
	// port are what the connect timeout message shows.
	peerName string
	addrText string
	// local is the address sock:bind asked connects to start from.
	local  netip.Addr
	port   int
	pool   *sockPool
	reused int

	connectTimeout, sendTimeout, readTimeout time.Duration

	// in[inPos:] is input read and not yet consumed.
	in    []byte
	inPos int
	eof   bool
	// connErr is the error the connection closed with.
	connErr    error
	readClosed bool
	// writeClosed: the write side was finalized.
	writeClosed bool
	nodelaySet  bool

	// the threads waiting: for the connect (or a queued connect), a
	// read, a write.
	connWait, readWait, writeWait *sockWait
	op                            readOp
	rtimer, wtimer                *eventloop.Timer
	sendLen                       int
	// dialImmediate: the connect failed inside connect(2).
	dialImmediate bool
	resolving     *resolver.Request
	cleanupSet    bool
	// cleanupFreed: the request cleanup is idle until the next connect
	// (ngx_lua frees it on close into the request's free list, where the
	// next connect of any socket of the request takes it again).
	cleanupFreed bool
	// queued is the connect waiting for a free slot of its pool.
	queued *connOp
	// bodyRest is what a request body socket has still to read.
	bodyRest int64
}

// cur returns the context of the running code for a socket method: the
// request's or the timer's, "no request found" otherwise.
func (ss *sockState) cur(L *glua.LState) *reqCtx {
	c := ss.st.cur()
	if c == nil || c.r == nil && c.phase&(PhaseTimer|PhaseInitWorker) == 0 {
		luavm.Raise(L, "no request found")
	}
	return c
}

func (ss *sockState) installTCP(L *glua.LState) {
	vm := ss.st.vm
	mt := L.NewTable()
	m := func(name string, f glua.LGFunction) { mt.RawSetString(name, L.NewFunction(f)) }
	y := func(name string, f glua.LGFunction) { vm.RegisterYielding(mt, name, f) }
	y("connect", ss.tcpConnect)
	y("receive", ss.tcpReceive)
	y("receiveany", ss.tcpReceiveAny)
	m("receiveuntil", ss.tcpReceiveUntil)
	y("send", ss.tcpSend)
	m("close", ss.tcpClose)
	m("settimeout", tcpSetTimeout)
	m("settimeouts", tcpSetTimeouts)
	m("getreusedtimes", ss.tcpGetReusedTimes)
	m("setkeepalive", ss.tcpSetKeepalive)
	m("bind", ss.tcpBind)
	m("getoption", ss.tcpGetOption)
	m("setoption", ss.tcpSetOption)
	m("setclientcert", tcpSetClientCert)
	m("sslhandshake", ss.tcpSSLHandshake)
	mt.RawSetString("__index", mt)
	ss.tcpMT = mt
}

// newTCP is ngx.socket.tcp().
func (ss *sockState) newTCP(L *glua.LState) int {
	if n := L.GetTop(); n != 0 {
		luavm.Raise(L, "expecting zero arguments, but got %d", n)
	}
	ss.st.request(L, sockPhases)
	t := L.CreateTable(7, 1)
	L.SetMetatable(t, ss.tcpMT)
	L.Push(t)
	return 1
}

// sockOf returns the state in a socket object's first slot, nil when it
// never connected.
func sockOf(t *glua.LTable) *tcpSock {
	if ud, ok := t.RawGetInt(slotCtx).(*glua.LUserData); ok {
		u, _ := ud.Value.(*tcpSock)
		return u
	}
	return nil
}

func checkSockTable(L *glua.LState) *glua.LTable {
	t, ok := L.Get(1).(*glua.LTable)
	if !ok {
		luavm.TypeError(L, 1, "table")
	}
	return t
}

// busy is ngx_lua's check that no other operation of a kind is pending.
func (u *tcpSock) busy(L *glua.LState, connect, read, write bool) bool {
	switch {
	case connect && u.connWait.alive():
		pushErr(L, "socket busy connecting")
	case read && u.readWait.alive():
		pushErr(L, "socket busy reading")
	case write && (u.writeWait.alive() || u.kind == kindRaw && u.c.r != nil && u.c.r.Conn.EventConn().Buffered() > 0 && u.writeWait != nil):
		pushErr(L, "socket busy writing")
	default:
		return false
	}
	return true
}

func (u *tcpSock) loop() *eventloop.Loop { return u.ss.st.ls.Loop() }

func (u *tcpSock) logErrors() bool { return u.conf.SocketLogErrors.V }

// tcpConnect is sock:connect(host, port, opts?) and
// sock:connect("unix:/path", opts?).
func (ss *sockState) tcpConnect(L *glua.LState) int {
	n := L.GetTop()
	if n != 2 && n != 3 && n != 4 {
		luavm.Raise(L, "ngx.socket connect: expecting 2, 3, or 4 arguments (including the object), but seen %d", n)
	}
	c := ss.st.request(L, sockPhases)
	t := checkSockTable(L)
	host := checkLuaString(L, 2)
	conf := c.sockConf()

	backlog, poolSize := -1, 0
	key := ""
	customPool := false
	if opts, ok := L.Get(n).(*glua.LTable); ok {
		switch v := opts.RawGetString("pool_size").(type) {
		case glua.LNumber:
			poolSize = int(v)
			if poolSize <= 0 {
				luavm.ArgError(L, n, fmt.Sprintf("bad \"pool_size\" option value: %d", poolSize))
			}
		case *glua.LNilType:
		default:
			if f, ok := luavm.ParseNumber(L.ToString(-1)); ok && v.Type() == glua.LTString {
				poolSize = int(f)
				if poolSize <= 0 {
					luavm.ArgError(L, n, fmt.Sprintf("bad \"pool_size\" option value: %d", poolSize))
				}
				break
			}
			luavm.ArgError(L, n, "bad \"pool_size\" option type: "+v.Type().String())
		}
		if v, ok := numberValue(opts.RawGetString("backlog")); ok {
			backlog = int(v)
			if backlog < 0 {
				luavm.ArgError(L, n, fmt.Sprintf("bad \"backlog\" option value: %d", backlog))
			}
			if poolSize == 0 {
				poolSize = conf.SocketPoolSize.V
			}
		}
		switch v := opts.RawGetString("pool").(type) {
		case glua.LNumber:
			key = luavm.FormatNumber(float64(v))
			customPool = true
		case glua.LString:
			key = string(v)
			customPool = true
		case *glua.LNilType:
		default:
			luavm.ArgError(L, n, "bad \"pool\" option type: "+v.Type().String())
		}
		n--
	}
	port, hasPort := 0, false
	if _, isNum := numberValue(L.Get(3)); n >= 3 && isNum {
		hasPort = true
		pv, _ := numberValue(L.Get(3))
		port = int(pv)
		if port < 0 || port > 65535 {
			return pushErr(L, fmt.Sprintf("bad port number: %d", port))
		}
	} else if len(host) < 5 || !strings.EqualFold(host[:5], "unix:") {
		return pushErr(L, "missing the port number")
	}
	var keyv glua.LValue
	switch {
	case customPool:
		keyv = glua.LString(key)
	case !hasPort:
		keyv = ss.st.keys.String(host)
	default:
		// host:port, as nginx names the pool; interned, since a loop
		// talks to few backends.
		var buf [64]byte
		b := append(append(buf[:0], host...), ':')
		if v, ok := L.Get(3).(glua.LNumber); ok && float64(v) == float64(port) {
			b = strconv.AppendInt(b, int64(port), 10)
		} else {
			b = append(b, L.ToString(3)...)
		}
		keyv = ss.st.keys.Bytes(b)
	}
	key = string(keyv.(glua.LString))
	t.RawSetInt(slotKey, keyv)

	u := sockOf(t)
	if u != nil {
		if u.c != c {
			luavm.Raise(L, "bad request")
		}
		if u.busy(L, true, true, true) {
			return 2
		}
		if u.kind != kindUpstream {
			luavm.Raise(L, "attempt to re-connect a request socket")
		}
		if u.conn != nil {
			if c.debugOn() {
				c.logf(errlog.Debug, "lua tcp socket reconnect without shutting down")
			}
			u.finalize()
		}
		if c.debugOn() {
			c.logf(errlog.Debug, "lua reuse socket upstream ctx")
		}
		*u = tcpSock{rtimer: u.rtimer, wtimer: u.wtimer, in: u.in[:0], cleanupSet: u.cleanupSet, cleanupFreed: u.cleanupFreed}
	} else {
		u = &tcpSock{}
		ud := L.NewUserData()
		ud.Value = u
		t.RawSetInt(slotCtx, ud)
	}
	u.ss, u.c, u.conf, u.kind = ss, c, conf, kindUpstream
	c.pin()
	u.connectTimeout = slotTimeout(t, slotConnectTimeout, conf.SocketConnectTimeout.V)
	u.sendTimeout = slotTimeout(t, slotSendTimeout, conf.SocketSendTimeout.V)
	u.readTimeout = slotTimeout(t, slotReadTimeout, conf.SocketReadTimeout.V)
	if s, ok := t.RawGetInt(slotBind).(glua.LString); ok {
		u.local, _ = netip.ParseAddr(string(s))
	}

	if p := ss.pools[key]; p != nil {
		u.pool = p
	} else if poolSize > 0 {
		u.pool = ss.newPool(c, key, poolSize, backlog)
	}
	vals, pending := u.connectStart(L, host, port, false)
	if pending {
		return u.vm().Suspend(L)
	}
	for _, v := range vals {
		L.Push(v)
	}
	return len(vals)
}

// numberValue is lua_isnumber plus lua_tonumber: numbers and numeric
// strings.
func numberValue(v glua.LValue) (float64, bool) {
	switch x := v.(type) {
	case glua.LNumber:
		return float64(x), true
	case glua.LString:
		return luavm.ParseNumber(string(x))
	}
	return 0, false
}

// slotTimeout is a timeout settimeout stored in the object, or the
// location's when none (or not a positive one) is.
func slotTimeout(t *glua.LTable, slot int, def time.Duration) time.Duration {
	if v, ok := numberValue(t.RawGetInt(slot)); ok && int64(v) > 0 {
		return time.Duration(int64(v)) * time.Millisecond
	}
	return def
}

// connectStart takes a pooled connection, queues behind the pool's
// backlog, or connects (ngx_http_lua_socket_tcp_connect_helper). It
// returns the connect's results, or pending when the thread must wait: then
// u.connWait is the waiting thread. L is nil when a queued connect
// resumes from the loop.
// oneResult is the result list of a call that answers 1; read only.
var oneResult = []glua.LValue{ltable.Number(1)}

func (u *tcpSock) connectStart(L *glua.LState, host string, port int, resuming bool) (vals []glua.LValue, pending bool) {
	c := u.c
	wait := func() {
		if L != nil {
			u.vm().CheckYieldable(L)
			u.connWait = u.ss.st.newSockWait(c, u)
		}
	}
	if p := u.pool; p != nil {
		if p.take(u) {
			return oneResult, false
		}
		p.connections++
		if p.backlog >= 0 && !resuming {
			if p.connections > p.size+p.backlog {
				p.connections--
				return errVals("too many waiting connect operations"), false
			}
			if p.connections > p.size {
				if c.debugOn() {
					c.logf(errlog.Debug, "lua tcp socket queue connect operation for connection pool \"%s\", connections: %d", p.key, p.connections)
				}
				wait()
				p.queue(u, host, port)
				return nil, true
			}
		}
	}
	dest, msg := parseSockHost(host, port)
	if msg != "" {
		return u.connError(msg), false
	}
	if c.debugOn() {
		c.logf(errlog.Debug, "lua tcp socket connect timeout: %d", u.connectTimeout.Milliseconds())
	}
	if dest.unix != "" {
		u.peerName = "unix:" + dest.unix
		u.addrText = u.peerName
		wait()
		u.startDial("unix", dest.unix)
		return nil, true
	}
	if dest.addr.IsValid() {
		if c.debugOn() {
			c.logf(errlog.Debug, "lua tcp socket network address given directly")
		}
		wait()
		u.dialAddr(dest.addr, dest.port)
		return nil, true
	}
	res := c.resolver()
	if res == nil {
		return u.connError(fmt.Sprintf("no resolver defined to resolve \"%s\"", host)), false
	}
	var sync []glua.LValue
	inCall := true
	u.registerCleanup()
	req := res.Resolve(host, func(addrs []netip.Addr, err error) {
		u.resolving = nil
		if !inCall && !u.connWait.alive() {
			return
		}
		var vals []glua.LValue
		if err != nil {
			if c.debugOn() {
				c.logf(errlog.Debug, "lua tcp socket resolver error: %s", err)
			}
			vals = u.connError(err.Error())
		} else {
			addr := addrs[0]
			if len(addrs) > 1 {
				addr = addrs[rand.IntN(len(addrs))]
			}
			if c.debugOn() {
				c.logf(errlog.Debug, "name was resolved to %s", addr)
			}
			u.dialAddr(addr, port)
			return // the connect's callback wakes the thread
		}
		if inCall {
			sync = vals
			return
		}
		w := u.connWait
		u.connWait = nil
		w.wake(vals...)
	})
	inCall = false
	if sync != nil {
		u.connWait = nil
		return sync, false
	}
	if u.conn == nil {
		u.resolving = req
	}
	// ngx_lua yields once the query is out: a thread that cannot yield
	// fails now, and the request's cleanup gives the query up.
	wait()
	return nil, true
}

// sockDest is where a cosocket's host argument leads: a unix socket
// path, an address given directly (with the port the host named, else
// the port argument), or neither, a name for the resolver.
type sockDest struct {
	unix string
	addr netip.Addr
	port int
}

// parseSockHost reads a cosocket's host through nginx's URL parser, as
// ngx_lua's connect and setpeername do (ngx_parse_url without a URI part
// and without resolving): "unix:path", an IPv4 address or "[IPv6]", each
// with an optional ":port" that overrides port. A name is resolved whole,
// port suffix included, and connected to on port. msg is the error
// string of a host nginx rejects.
func parseSockHost(host string, port int) (d sockDest, msg string) {
	u, err := http.ParseURL(host, port, false, false)
	if err != nil {
		return d, fmt.Sprintf("failed to parse host name \"%s\": %s", host, err)
	}
	switch {
	case u.Unix:
		d.unix = u.Host
	case len(u.Addrs) > 0:
		ap, err := netip.ParseAddrPort(u.Addrs[0].Address)
		if err != nil {
			return d, fmt.Sprintf("failed to parse host name \"%s\"", host)
		}
		d.addr, d.port = ap.Addr(), int(ap.Port())
	default:
		d.port = port
	}
	return d, ""
}

func (u *tcpSock) vm() *luavm.VM { return u.ss.st.vm }

// connError finalizes a failed connect and returns nil, msg.
func (u *tcpSock) connError(msg string) []glua.LValue {
	u.finalizeConnectFailure()
	return errVals(msg)
}

// finalizeConnectFailure closes what a failed connect opened and gives
// its pool slot back.
func (u *tcpSock) finalizeConnectFailure() {
	hadConn := u.conn != nil || u.resolving != nil // finalize gives those slots back
	u.finalize()
	if !hadConn && u.pool != nil {
		p := u.pool
		p.connections--
		p.resumeConnOp()
	}
}

// dialAddr connects to addr:port.
func (u *tcpSock) dialAddr(addr netip.Addr, port int) {
	ap := netip.AddrPortFrom(addr.Unmap(), uint16(port))
	u.peerName = ap.String()
	u.addrText = addr.Unmap().String()
	u.port = port
	network := "tcp4"
	if addr.Is6() && !addr.Is4In6() {
		network = "tcp6"
	}
	u.startDial(network, ap.String())
}

func (u *tcpSock) startDial(network, addr string) {
	u.registerCleanup()
	u.dialImmediate = false
	var local eventloop.Local
	if u.local.IsValid() && network != "unix" {
		local.AddrPort = netip.AddrPortFrom(u.local, 0)
	}
	u.conn = u.loop().DialBind(network, addr, local, u.connectTimeout, u, u.onConnect)
	u.dialImmediate = u.conn.Closed()
}

// registerCleanup closes the socket when its request ends.
func (u *tcpSock) registerCleanup() {
	if u.cleanupSet && !u.cleanupFreed {
		return
	}
	if u.c.freeCleanups > 0 {
		u.c.freeCleanups--
		if u.c.debugOn() {
			u.c.logf(errlog.Debug, "lua http cleanup reuse")
		}
	}
	u.cleanupFreed = false
	if u.cleanupSet {
		return // the socket's closure is still registered
	}
	u.cleanupSet = true
	u.c.onCleanup(func() {
		if u.conn != nil || u.resolving != nil || u.queued != nil {
			if u.c.debugOn() {
				u.c.logf(errlog.Debug, "cleanup lua tcp socket request: \"%s\"", u.uri())
			}
			u.finalize()
		}
	})
}

func (u *tcpSock) uri() string {
	if u.c.r != nil {
		return string(u.c.r.URI)
	}
	return ""
}

// onConnect is the dial's completion.
func (u *tcpSock) onConnect(conn *eventloop.Conn, err error) {
	if conn != u.conn {
		return
	}
	w := u.connWait
	u.connWait = nil
	c := u.c
	if err == nil {
		if c.debugOn() {
			c.logf(errlog.Debug, "lua tcp socket connected: fd:%d", conn.Fd())
		}
		w.wake(glua.LNumber(1))
		return
	}
	msg := "error"
	var op *eventloop.OpError
	isOp := false
	if e, ok := err.(*eventloop.OpError); ok {
		op, isOp = e, true
	}
	switch {
	case isOp && op.Op == "bind":
		c.logf(errlog.Crit, "%s", err.Error())
		msg = errnoText(err)
	case u.dialImmediate:
		level := errlog.Crit
		if en, ok := eventloop.Errno(err); ok {
			switch en {
			case syscall.ECONNREFUSED, syscall.EAGAIN, syscall.ECONNRESET, syscall.ENETDOWN,
				syscall.ENETUNREACH, syscall.EHOSTDOWN, syscall.EHOSTUNREACH:
				level = errlog.Error
			}
		}
		c.logf(level, "connect() to %s failed %s", u.peerName, eventloop.ErrnoText(err))
		msg = errnoText(err)
	case isOp && op.Timeout():
		if u.logErrors() {
			c.logf(errlog.Error, "lua tcp socket connect timed out, when connecting to %s:%d", u.addrText, u.port)
		}
		msg = "timeout"
	case isOp:
		if u.logErrors() {
			c.logf(errlog.Error, "%s", err.Error())
		}
		msg = errnoText(err)
	default:
		if le, ok := err.(*eventloop.LimitError); ok {
			c.logf(errlog.Alert, "%s", le.Error())
		}
	}
	vals := u.connError(msg)
	w.wake(vals...)
}

// finalize closes the socket (ngx_http_lua_socket_tcp_finalize).
func (u *tcpSock) finalize() {
	c := u.c
	if c.debugOn() {
		c.logf(errlog.Debug, "lua finalize socket")
	}
	if u.cleanupSet && !u.cleanupFreed {
		u.cleanupFreed = true
		c.freeCleanups++
		if c.debugOn() {
			c.logf(errlog.Debug, "lua http cleanup free")
		}
	}
	u.finalizeRead()
	u.finalizeWrite()
	if u.kind != kindUpstream {
		u.conn = nil
		u.dropReqHandlers()
		return
	}
	u.abortResolve()
	if u.queued != nil {
		u.queued.cancel()
	}
	conn := u.conn
	if conn == nil {
		return
	}
	if c.debugOn() {
		c.logf(errlog.Debug, "lua close socket connection")
	}
	u.conn = nil
	if conn.Buffered() > 0 {
		// what send queued still goes out, as it would have been
		// written before send returned.
		conn.CloseAfterDrain()
	} else {
		conn.Close()
	}
	if p := u.pool; p != nil {
		p.connections--
		if p.connections == 0 {
			p.free()
			return
		}
		p.resumeConnOp()
	}
}

func (u *tcpSock) finalizeRead() {
	if u.readClosed {
		return
	}
	u.readClosed = true
	u.in, u.inPos = u.in[:0], 0
	if u.rtimer != nil {
		u.rtimer.Stop()
	}
}

func (u *tcpSock) finalizeWrite() {
	if u.writeClosed {
		return
	}
	u.writeClosed = true
	if u.wtimer != nil {
		u.wtimer.Stop()
	}
}

// OnData implements eventloop.Handler: input is buffered for the reads.
func (u *tcpSock) OnData(conn *eventloop.Conn, b []byte) {
	if conn != u.conn || u.readClosed {
		return
	}
	u.feed(b)
}

// feed adds input and completes a waiting read.
func (u *tcpSock) feed(b []byte) {
	if u.inPos == len(u.in) {
		u.in, u.inPos = u.in[:0], 0
	}
	u.in = append(u.in, b...)
	u.readReady()
}

// readReady runs the waiting read on what is buffered and wakes it when it
// is done; otherwise it bounds how much is buffered.
func (u *tcpSock) readReady() {
	if u.readWait == nil {
		u.checkPause()
		return
	}
	if !u.readWait.alive() {
		u.readWait = nil
		u.checkPause()
		return
	}
	rc := u.pump()
	if rc == opAgain {
		u.checkPause()
		return
	}
	u.rtimer.Stop()
	w := u.readWait
	u.readWait = nil
	w.wake(u.readResult(rc)...)
}

func (u *tcpSock) checkPause() {
	if len(u.in)-u.inPos >= readHighWater && u.readWait == nil {
		u.pauseInput()
	}
}

// OnReadEOF implements eventloop.Handler.
func (u *tcpSock) OnReadEOF(conn *eventloop.Conn) {
	if conn != u.conn {
		return
	}
	u.eof = true
	if c := u.c; c.debugOn() {
		c.logf(errlog.Debug, "lua tcp socket closed")
	}
	u.readReady()
}

// OnDrain implements eventloop.Handler: a waiting send is complete.
func (u *tcpSock) OnDrain(conn *eventloop.Conn) {
	if conn != u.conn {
		return
	}
	u.writeDone()
}

func (u *tcpSock) writeDone() {
	w := u.writeWait
	if w == nil {
		return
	}
	u.writeWait = nil
	u.wtimer.Stop()
	if u.c.debugOn() {
		u.c.logf(errlog.Debug, "lua tcp socket sent all the data")
	}
	w.wake(glua.LNumber(u.sendLen))
}

// OnClose implements eventloop.Handler: the connection failed.
func (u *tcpSock) OnClose(conn *eventloop.Conn, err error) {
	if conn != u.conn {
		return
	}
	if err == nil {
		err = syscall.ECONNRESET
	}
	u.connErr = err
	if w := u.writeWait; w != nil {
		u.writeWait = nil
		u.wtimer.Stop()
		u.finalizeWrite()
		w.wake(errVals(errnoText(err))...)
	}
	u.readReady()
}

// pump runs the read filter over the buffered input
// (ngx_http_lua_socket_tcp_read without the recv).
func (u *tcpSock) pump() int {
	for {
		if u.inPos < len(u.in) {
			if rc := u.filter(false); rc != opAgain {
				return rc
			}
			continue
		}
		if u.eof {
			return u.filter(true)
		}
		if u.connErr != nil {
			return opError
		}
		if u.kind != kindUpstream {
			if rc := u.reqSockState(); rc != opMore {
				return rc
			}
			continue
		}
		return opAgain
	}
}

// filter consumes buffered input for the read in progress.
func (u *tcpSock) filter(eof bool) int {
	op := &u.op
	avail := u.in[u.inPos:]
	if u.c.debugOn() {
		u.debugFilter(len(avail))
	}
	if eof {
		switch op.mode {
		case modeAll:
			return opOK
		}
		return opClosed
	}
	switch op.mode {
	case modeLine:
		for i, ch := range avail {
			switch ch {
			case '\n':
				u.inPos += i + 1
				return opOK
			case '\r':
			default:
				op.out = append(op.out, ch)
			}
		}
		u.inPos += len(avail)
		return opAgain
	case modeAll:
		op.out = append(op.out, avail...)
		u.inPos += len(avail)
		return opAgain
	case modeBytes:
		n := len(avail)
		if n >= op.rest {
			op.out = append(op.out, avail[:op.rest]...)
			u.inPos += op.rest
			op.rest = 0
			return opOK
		}
		op.out = append(op.out, avail...)
		u.inPos += n
		op.rest -= n
		return opAgain
	case modeAny:
		n := len(avail)
		if n > op.rest {
			n = op.rest
		}
		op.out = append(op.out, avail[:n]...)
		u.inPos += n
		return opOK
	case modeUntil:
		n, rc := op.pat.scan(u, avail)
		u.inPos += n
		return rc
	}
	return opError
}

// debugFilter logs the read filter's debug line.
func (u *tcpSock) debugFilter(n int) {
	switch u.op.mode {
	case modeLine:
		u.c.logf(errlog.Debug, "lua tcp socket read line")
	case modeAll:
		u.c.logf(errlog.Debug, "lua tcp socket read all")
	case modeBytes:
		u.c.logf(errlog.Debug, "lua tcp socket read chunk %d", n)
	case modeAny:
		u.c.logf(errlog.Debug, "lua tcp socket read any")
	case modeUntil:
		u.c.logf(errlog.Debug, "lua tcp socket read until")
	}
}

// readResult turns a finished read into its Lua results
// (ngx_http_lua_socket_tcp_receive_retval_handler).
func (u *tcpSock) readResult(rc int) []glua.LValue {
	out := glua.LString(u.op.out)
	u.op.out = u.op.out[:0]
	u.afterReqRead()
	var err glua.LValue
	switch rc {
	case opOK:
		u.boxes.Reserve(1, 4)
		u.res[0] = u.boxes.Box(string(out))
		return u.res[:1]
	case opTimeout:
		err = glua.LString("timeout")
	case opClosed:
		u.finalizeRead()
		err = glua.LString("closed")
	case opAbort:
		u.finalizeRead()
		err = glua.LString("client aborted")
	default:
		u.finalizeRead()
		err = glua.LString(errnoText(u.connErr))
	}
	u.res = [3]glua.LValue{glua.LNil, err, out}
	return u.res[:]
}

// readable checks that the socket can be read, logging as ngx_lua when it
// cannot; it pushes nil, "closed" and returns false then.
func (ss *sockState) readable(L *glua.LState, u *tcpSock) (*reqCtx, bool) {
	c := ss.cur(L)
	if u == nil || u.conn == nil && u.kind == kindUpstream || u.readClosed {
		conf := c.sockConf()
		if u != nil {
			conf = u.conf
		}
		if conf.SocketLogErrors.V {
			c.logf(errlog.Error, "attempt to receive data on a closed socket: u:%s, c:%s, ft:%d eof:%d", ptrText(u), connPtr(u), 0, eofFlag(u))
		}
		pushErr(L, "closed")
		return c, false
	}
	if u.c != c {
		luavm.Raise(L, "bad request")
	}
	return c, true
}

func ptrText(u *tcpSock) string {
	if u == nil {
		return ptrHex(nil)
	}
	return ptrHex(u)
}

func connPtr(u *tcpSock) string {
	if u == nil || u.conn == nil {
		return ptrHex(nil)
	}
	return ptrHex(u.conn)
}

// ptrHex formats a pointer as nginx's %p does: 16 upper-case hex digits.
func ptrHex(p any) string {
	if p == nil {
		return "0000000000000000"
	}
	return fmt.Sprintf("%016X", reflect.ValueOf(p).Pointer())
}

func eofFlag(u *tcpSock) int {
	if u != nil && u.eof {
		return 1
	}
	return 0
}

// tcpReceive is sock:receive(pattern?).
func (ss *sockState) tcpReceive(L *glua.LState) int {
	n := L.GetTop()
	if n != 1 && n != 2 {
		luavm.Raise(L, "expecting 1 or 2 arguments (including the object), but got %d", n)
	}
	ss.cur(L)
	t := checkSockTable(L)
	u := sockOf(t)
	c, ok := ss.readable(L, u)
	if !ok {
		return 2
	}
	if u.busy(L, true, true, false) {
		return 2
	}
	if c.debugOn() {
		c.logf(errlog.Debug, "lua tcp socket read timeout: %d", u.readTimeout.Milliseconds())
	}
	op := readOp{mode: modeLine, out: u.op.out[:0]}
	if n > 1 {
		v := L.Get(2)
		if num, isNum := numberValue(v); isNum {
			bytes := int(num)
			if bytes < 0 {
				luavm.ArgError(L, 2, "bad pattern argument")
			}
			if bytes == 0 {
				L.Push(glua.LString(""))
				return 1
			}
			op.mode, op.rest = modeBytes, bytes
		} else if s, isStr := v.(glua.LString); isStr {
			if len(s) != 2 || s[0] != '*' {
				luavm.ArgError(L, 2, "bad pattern argument: "+cString(string(s)))
			}
			switch s[1] {
			case 'l':
				op.mode = modeLine
			case 'a':
				op.mode = modeAll
			default:
				luavm.ArgError(L, 2, "bad pattern argument")
			}
		} else {
			luavm.ArgError(L, 2, "bad pattern argument")
		}
	}
	return u.startRead(L, op)
}

// cString cuts s at its first NUL, as %s of a C string prints it.
func cString(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// tcpReceiveAny is sock:receiveany(max).
func (ss *sockState) tcpReceiveAny(L *glua.LState) int {
	if n := L.GetTop(); n != 2 {
		luavm.Raise(L, "expecting 2 arguments (including the object), but got %d", n)
	}
	ss.cur(L)
	t := checkSockTable(L)
	u := sockOf(t)
	c, ok := ss.readable(L, u)
	if !ok {
		return 2
	}
	if u.busy(L, true, true, false) {
		return 2
	}
	num, isNum := numberValue(L.Get(2))
	if !isNum || int64(num) <= 0 {
		luavm.ArgError(L, 2, "bad max argument")
	}
	if c.debugOn() {
		c.logf(errlog.Debug, "lua tcp socket calling receiveany() method to read at most %d bytes", int64(num))
	}
	return u.startRead(L, readOp{mode: modeAny, rest: int(num), out: u.op.out[:0]})
}

// startRead runs a read on what is buffered and waits for more when it
// needs more (ngx_http_lua_socket_tcp_receive_helper).
func (u *tcpSock) startRead(L *glua.LState, op readOp) int {
	u.op = op
	u.beforeReqRead()
	rc := u.pump()
	if rc != opAgain {
		if u.c.debugOn() && rc == opOK {
			u.c.logf(errlog.Debug, "lua tcp socket receive done in a single run")
		}
		vals := u.readResult(rc)
		for _, v := range vals {
			L.Push(v)
		}
		return len(vals)
	}
	u.vm().CheckYieldable(L)
	u.readWait = u.ss.st.newSockWait(u.c, u)
	if u.rtimer == nil {
		u.rtimer = u.loop().NewTimer(u.readTimedOut)
	}
	u.rtimer.Reset(u.readTimeout)
	u.resumeInput()
	return u.vm().Suspend(L)
}

func (u *tcpSock) readTimedOut() {
	w := u.readWait
	if w == nil {
		return
	}
	u.readWait = nil
	if !w.alive() {
		return
	}
	if u.logErrors() {
		u.c.logf(errlog.Error, "lua tcp socket read timed out")
	}
	w.wake(u.readResult(opTimeout)...)
}

// pauseInput and resumeInput start and stop reading from the kernel.
func (u *tcpSock) pauseInput() {
	switch {
	case u.kind == kindUpstream && u.conn != nil:
		u.conn.PauseRead()
	case u.kind != kindUpstream && u.c.r != nil:
		u.c.r.Conn.EventConn().PauseRead()
	}
}

func (u *tcpSock) resumeInput() {
	switch {
	case u.kind == kindUpstream && u.conn != nil:
		u.conn.ResumeRead()
	case u.kind != kindUpstream:
		u.resumeReqInput()
	}
}

// tcpSend is sock:send(data).
func (ss *sockState) tcpSend(L *glua.LState) int {
	if n := L.GetTop(); n != 2 {
		luavm.Raise(L, "expecting 2 arguments (including the object), but got %d", n)
	}
	c := ss.cur(L)
	t := checkSockTable(L)
	u := sockOf(t)
	if u == nil || u.conn == nil && u.kind == kindUpstream || u.writeClosed {
		conf := c.sockConf()
		if u != nil {
			conf = u.conf
		}
		if conf.SocketLogErrors.V {
			c.logf(errlog.Error, "attempt to send data on a closed socket: u:%s, c:%s, ft:%d eof:%d", ptrText(u), connPtr(u), 0, eofFlag(u))
		}
		return pushErr(L, "closed")
	}
	if u.c != c {
		luavm.Raise(L, "bad request")
	}
	if u.busy(L, true, false, true) {
		return 2
	}
	if u.kind == kindBody {
		luavm.Raise(L, "attempt to write to request sockets")
	}
	if c.debugOn() {
		c.logf(errlog.Debug, "lua tcp socket send timeout: %d", u.sendTimeout.Milliseconds())
	}
	// the connection copies what it is given (sendRaw's too).
	data := ss.st.sendBytes(L, 2, true)
	if len(data) == 0 {
		L.Push(glua.LNumber(0))
		return 1
	}
	if u.kind == kindRaw {
		return u.sendRaw(L, data)
	}
	if !u.nodelaySet && c.r != nil && c.r.Loc.TCPNodelay.V && !strings.HasPrefix(u.peerName, "unix:") {
		if c.debugOn() {
			c.logf(errlog.Debug, "lua socket tcp_nodelay")
		}
		u.nodelaySet = true
		if err := u.conn.SetNoDelay(true); err != nil && !u.conn.Closed() {
			if u.logErrors() {
				c.logf(errlog.Error, "setsockopt(TCP_NODELAY) failed %s", eventloop.ErrnoText(err))
			}
			return pushErr(L, "setsocketopt tcp_nodelay failed")
		}
	}
	if u.connErr != nil {
		u.finalizeWrite()
		return pushErr(L, errnoText(u.connErr))
	}
	before := u.conn.Buffered()
	if _, err := u.conn.Write(data); err != nil {
		u.finalizeWrite()
		return pushErr(L, "closed")
	}
	if before == 0 && len(data) <= fastSendMax {
		L.Push(ltable.Number(float64(len(data))))
		return 1
	}
	u.vm().CheckYieldable(L)
	u.sendLen = len(data)
	u.writeWait = ss.st.newSockWait(c, u)
	if u.wtimer == nil {
		u.wtimer = u.loop().NewTimer(u.writeTimedOut)
	}
	u.wtimer.Reset(u.sendTimeout)
	return u.vm().Suspend(L)
}

func (u *tcpSock) writeTimedOut() {
	w := u.writeWait
	if w == nil {
		return
	}
	u.writeWait = nil
	if !w.alive() {
		return
	}
	if u.logErrors() {
		u.c.logf(errlog.Error, "lua tcp socket write timed out")
	}
	u.finalizeWrite()
	w.wake(errVals("timeout")...)
}

// sendBytes formats send's argument: a string, a number, a boolean, nil
// or an array table of strings and numbers (nested arrays too). With
// scratch set the bytes are valid only until the next call and must not
// be modified (a string's own bytes, or a buffer of the loop's): for a
// caller that copies them at once.
func (st *loopState) sendBytes(L *glua.LState, n int, scratch bool) []byte {
	v := L.Get(n)
	switch x := v.(type) {
	case glua.LString:
		if scratch {
			return unsafe.Slice(unsafe.StringData(string(x)), len(x))
		}
		return []byte(x)
	case glua.LNumber:
		return luavm.AppendNumber(nil, float64(x))
	case *glua.LNilType:
		return []byte("nil")
	case glua.LBool:
		if x {
			return []byte("true")
		}
		return []byte("false")
	case *glua.LTable:
		if scratch {
			st.sendBuf = appendStrTable(L, st.sendBuf[:0], x, n)
			return st.sendBuf
		}
		return appendStrTable(L, nil, x, n)
	}
	if n > L.GetTop() {
		return []byte("nil")
	}
	luavm.ArgError(L, n, "string, number, boolean, nil, or array table expected, got "+v.Type().String())
	return nil
}

// appendStrTable flattens an array table of strings and numbers, nested
// to any depth (ngx_http_lua_calc_strlen_in_table with strict checks).
func appendStrTable(L *glua.LState, b []byte, t *glua.LTable, arg int) []byte {
	maxKey, _, ok := ltable.ArrayKeys(t)
	max := int(min(maxKey, 1<<62))
	if !ok || maxKey >= 1<<62 {
		luavm.ArgError(L, arg, "non-array table found")
	}
	for i := 1; i <= max; i++ {
		switch x := t.RawGetInt(i).(type) {
		case glua.LString:
			b = append(b, x...)
		case glua.LNumber:
			b = luavm.AppendNumber(b, float64(x))
		case *glua.LTable:
			b = appendStrTable(L, b, x, arg)
		default:
			luavm.ArgError(L, arg, "bad data type "+x.Type().String()+" found")
		}
	}
	return b
}

// tcpClose is sock:close().
func (ss *sockState) tcpClose(L *glua.LState) int {
	if n := L.GetTop(); n != 1 {
		luavm.Raise(L, "expecting 1 argument (including the object) but seen %d", n)
	}
	c := ss.cur(L)
	t := checkSockTable(L)
	u := sockOf(t)
	if u == nil || u.conn == nil && u.kind == kindUpstream || u.readClosed && u.writeClosed {
		return pushErr(L, "closed")
	}
	if u.c != c {
		luavm.Raise(L, "bad request")
	}
	if u.busy(L, true, true, true) {
		return 2
	}
	if u.kind != kindUpstream {
		return pushErr(L, "attempt to close a request socket")
	}
	u.finalize()
	L.Push(glua.LNumber(1))
	return 1
}

// tcpSetTimeout is sock:settimeout(ms).
func tcpSetTimeout(L *glua.LState) int {
	if n := L.GetTop(); n != 2 {
		luavm.Raise(L, "ngx.socket settimeout: expecting 2 arguments (including the object) but seen %d", n)
	}
	ms := timeoutArg(L, 2)
	t := checkSockTable(L)
	v := ltable.Number(float64(ms))
	t.RawSetInt(slotConnectTimeout, v)
	t.RawSetInt(slotSendTimeout, v)
	t.RawSetInt(slotReadTimeout, v)
	if u := sockOf(t); u != nil {
		if ms > 0 {
			d := time.Duration(ms) * time.Millisecond
			u.readTimeout, u.sendTimeout, u.connectTimeout = d, d, d
		} else {
			u.readTimeout = u.conf.SocketReadTimeout.V
			u.sendTimeout = u.conf.SocketSendTimeout.V
			u.connectTimeout = u.conf.SocketConnectTimeout.V
		}
	}
	return 0
}

// tcpSetTimeouts is sock:settimeouts(connect, send, read).
func tcpSetTimeouts(L *glua.LState) int {
	if n := L.GetTop(); n != 4 {
		luavm.Raise(L, "ngx.socket settimeout: expecting 4 arguments (including the object) but seen %d", n)
	}
	ct, wt, rt := timeoutArg(L, 2), timeoutArg(L, 3), timeoutArg(L, 4)
	t := checkSockTable(L)
	t.RawSetInt(slotReadTimeout, glua.LNumber(rt))
	t.RawSetInt(slotSendTimeout, glua.LNumber(wt))
	t.RawSetInt(slotConnectTimeout, glua.LNumber(ct))
	if u := sockOf(t); u != nil {
		pick := func(ms int64, def time.Duration) time.Duration {
			if ms > 0 {
				return time.Duration(ms) * time.Millisecond
			}
			return def
		}
		u.connectTimeout = pick(ct, u.conf.SocketConnectTimeout.V)
		u.sendTimeout = pick(wt, u.conf.SocketSendTimeout.V)
		u.readTimeout = pick(rt, u.conf.SocketReadTimeout.V)
	}
	return 0
}

// tcpGetReusedTimes is sock:getreusedtimes().
func (ss *sockState) tcpGetReusedTimes(L *glua.LState) int {
	if n := L.GetTop(); n != 1 {
		luavm.Raise(L, "expecting 1 argument (including the object), but got %d", n)
	}
	t := checkSockTable(L)
	u := sockOf(t)
	if u == nil || u.conn == nil && u.kind == kindUpstream || u.readClosed && u.writeClosed {
		return pushErr(L, "closed")
	}
	L.Push(glua.LNumber(u.reused))
	return 1
}

// tcpBind is sock:bind(address): ngx_lua keeps the address for the next
// connect.
func (ss *sockState) tcpBind(L *glua.LState) int {
	if n := L.GetTop(); n != 2 {
		luavm.Raise(L, "expecting 2 arguments, but got %d", n)
	}
	c := ss.st.request(L, PhaseRewrite|PhaseAccess|PhaseContent|PhaseTimer)
	t := checkSockTable(L)
	text := checkLuaString(L, 2)
	a, err := netip.ParseAddr(text)
	if err != nil {
		return pushErr(L, "bad address")
	}
	t.RawSetInt(slotBind, glua.LString(a.String()))
	if c.debugOn() {
		c.logf(errlog.Debug, "lua tcp socket bind ip: %s", text)
	}
	L.Push(glua.LTrue)
	return 1
}

// option numbers of resty.core's getoption/setoption.
var sockOptions = map[string]int{"keepalive": 1, "reuseaddr": 2, "tcp-nodelay": 3, "sndbuf": 4, "rcvbuf": 5}

// sockOpt returns the level and name of an option. ngx_lua maps "sndbuf"
// to SO_RCVBUF and "rcvbuf" to SO_SNDBUF; so do we.
func sockOpt(opt int) (int, int) {
	switch opt {
	case 1:
		return unix.SOL_SOCKET, unix.SO_KEEPALIVE
	case 2:
		return unix.SOL_SOCKET, unix.SO_REUSEADDR
	case 3:
		return unix.IPPROTO_TCP, unix.TCP_NODELAY
	case 4:
		return unix.SOL_SOCKET, unix.SO_RCVBUF
	}
	return unix.SOL_SOCKET, unix.SO_SNDBUF
}

// sockForOption is resty.core's get_tcp_socket plus the checks of the
// option functions.
func sockForOption(L *glua.LState, withValue bool) (*tcpSock, int, bool) {
	t := checkSockTable(L)
	if t.RawGetInt(slotCtx) == glua.LNil {
		L.RaiseError("socket is never created nor connected")
	}
	u := sockOf(t)
	if L.Get(2) == glua.LNil {
		pushErr(L, "missing the \"option\" argument")
		return nil, 0, false
	}
	if withValue && L.Get(3) == glua.LNil {
		pushErr(L, "missing the \"value\" argument")
		return nil, 0, false
	}
	name, _ := L.Get(2).(glua.LString)
	opt, ok := sockOptions[string(name)]
	if !ok {
		pushErr(L, "unsupported option "+L.ToString(2))
		return nil, 0, false
	}
	if u == nil || u.conn == nil || u.conn.Closed() {
		pushErr(L, "closed")
		return nil, 0, false
	}
	return u, opt, true
}

// tcpGetOption is sock:getoption(name).
func (ss *sockState) tcpGetOption(L *glua.LState) int {
	u, opt, ok := sockForOption(L, false)
	if !ok {
		return 2
	}
	level, name := sockOpt(opt)
	v, err := unix.GetsockoptInt(u.conn.Fd(), level, name)
	if err != nil {
		return pushErr(L, eventloop.Strerror(err.(syscall.Errno)))
	}
	L.Push(glua.LNumber(v))
	return 1
}

// tcpSetOption is sock:setoption(name, value).
func (ss *sockState) tcpSetOption(L *glua.LState) int {
	u, opt, ok := sockForOption(L, true)
	if !ok {
		return 2
	}
	val := 0
	switch v := L.Get(3).(type) {
	case glua.LNumber:
		val = int(v)
	case glua.LBool:
		if v {
			val = 1
		}
	default:
		f, _ := luavm.ParseNumber(L.ToString(3))
		val = int(f)
	}
	level, name := sockOpt(opt)
	if opt == 3 {
		// through the connection, which remembers the value
		if err := u.conn.SetNoDelay(val != 0); err != nil {
			var oe *eventloop.OpError
			if errors.As(err, &oe) {
				if errno, ok := oe.Err.(syscall.Errno); ok {
					return pushErr(L, eventloop.Strerror(errno))
				}
			}
			return pushErr(L, err.Error())
		}
		u.nodelaySet = true
	} else if err := unix.SetsockoptInt(u.conn.Fd(), level, name, val); err != nil {
		return pushErr(L, eventloop.Strerror(err.(syscall.Errno)))
	}
	L.Push(glua.LTrue)
	return 1
}

// tcpSetClientCert is resty.core's setclientcert; certificates only come
// from ngx.ssl, which does not exist without TLS, so only clearing works.
func tcpSetClientCert(L *glua.LState) int {
	t := checkSockTable(L)
	cert, pkey := L.Get(2), L.Get(3)
	if !glua.LVAsBool(cert) && !glua.LVAsBool(pkey) {
		t.RawSetInt(6, glua.LNil)
		t.RawSetInt(7, glua.LNil)
		L.Push(glua.LTrue)
		return 1
	}
	if !glua.LVAsBool(cert) || !glua.LVAsBool(pkey) {
		return pushErr(L, "client certificate must be supplied with corresponding private key")
	}
	return pushErr(L, "bad cert arg: cdata expected, got "+cert.Type().String())
}

// tcpSSLHandshake is sock:sslhandshake(): gresty has no TLS client yet,
// so a connected socket reports it plainly.
func (ss *sockState) tcpSSLHandshake(L *glua.LState) int {
	n := L.GetTop()
	if n < 1 || n > 5 {
		seen := 0
		if n > 0 {
			seen = n
		}
		L.RaiseError("ngx.socket sslhandshake: expecting 1 ~ 5 arguments (including the object), but seen %d", seen)
	}
	c := ss.cur(L)
	t := checkSockTable(L)
	if t.RawGetInt(slotCtx) == glua.LNil {
		L.RaiseError("socket is never created nor connected")
	}
	u := sockOf(t)
	if u == nil || u.conn == nil || u.readClosed || u.writeClosed {
		return pushErr(L, "closed")
	}
	if u.c != c {
		return pushErr(L, "bad request")
	}
	if u.busy(L, true, true, true) {
		return 2
	}
	if u.kind != kindUpstream {
		return pushErr(L, "not supported for downstream sockets")
	}
	return pushErr(L, "ssl not supported: gresty was built without TLS for cosockets")
}

// abortWait is what killing a thread waiting on u does, as ngx_lua's
// cleanups of the waiting coroutine: a queued connect leaves the queue,
// any other wait finalizes the socket.
func (u *tcpSock) abortWait() {
	u.connWait, u.readWait, u.writeWait = nil, nil, nil
	if u.queued != nil {
		u.queued.cancel()
		return
	}
	u.finalize()
}

// abortResolve stops a name resolution nobody waits for any more
// (ngx_http_lua_tcp_resolve_cleanup): the connect's pool slot goes to the
// next connect waiting.
func (u *tcpSock) abortResolve() {
	if u.resolving == nil {
		return
	}
	u.resolving.Cancel()
	u.resolving = nil
	if st := u.ss.st; st.cycle.Log.Enabled(errlog.Debug) {
		st.logf(errlog.Debug, "lua tcp socket abort resolver")
	}
	if p := u.pool; p != nil {
		p.connections--
		p.resumeConnOp()
	}
}
