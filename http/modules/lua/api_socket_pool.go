package lua

import (
	"time"
	"unsafe"

	glua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"gresty/errlog"
	"gresty/eventloop"
	"gresty/luavm"
)

// The keepalive pools of the TCP cosockets: per VM (that is, per loop and
// configuration, as ngx_lua's are per worker), by the key a socket
// connected with ("host:port", the unix socket path, or the pool option).
// setkeepalive parks a connection in its pool; connect takes the most
// recently parked one. A pool counts its connections, in use and idle;
// with a backlog, connects beyond the pool's size wait in a queue for a
// connection to close or come back.

// sockPool is one pool (ngx_http_lua_socket_pool_t).
type sockPool struct {
	ss      *sockState
	key     string
	size    int
	backlog int
	// connections counts the pool's connections, in use or idle.
	connections int
	// idle holds the parked connections, the most recent last.
	idle []*poolItem
	// waiting are the queued connects, the oldest first.
	waiting []*connOp
	freed   bool
}

// poolItem is a parked connection.
type poolItem struct {
	p      *sockPool
	conn   *eventloop.Conn
	reused int
	timer  *eventloop.Timer
	// the peer as the socket that parked the connection named it.
	peerName, addrText string
	port               int
}

// connOp is a connect waiting for a slot of its pool.
type connOp struct {
	p     *sockPool
	u     *tcpSock
	host  string
	port  int
	timer *eventloop.Timer
}

func (ss *sockState) newPool(c *reqCtx, key string, size, backlog int) *sockPool {
	if c.debugOn() {
		c.logf(errlog.Debug, "lua tcp socket connection pool size: %d, backlog: %d", size, backlog)
		c.logf(errlog.Debug, "lua tcp socket keepalive create connection pool for key \"%s\"", key)
	}
	p := &sockPool{ss: ss, key: key, size: size, backlog: backlog}
	ss.pools[key] = p
	return p
}

func (p *sockPool) debugf(format string, args ...any) {
	st := p.ss.st
	if st.cycle.Log.Enabled(errlog.Debug) {
		st.logf(errlog.Debug, format, args...)
	}
}

// take gives u the most recently parked connection, if any
// (ngx_http_lua_get_keepalive_peer).
func (p *sockPool) take(u *tcpSock) bool {
	c := u.c
	if c.debugOn() {
		c.logf(errlog.Debug, "lua tcp socket pool get keepalive peer")
	}
	n := len(p.idle)
	if n == 0 {
		if c.debugOn() {
			c.logf(errlog.Debug, "lua tcp socket keepalive: connection pool empty")
		}
		return false
	}
	it := p.idle[n-1]
	p.idle[n-1] = nil
	p.idle = p.idle[:n-1]
	if c.debugOn() {
		c.logf(errlog.Debug, "lua tcp socket get keepalive peer: using connection %p, fd:%d", it.conn, it.conn.Fd())
	}
	it.timer.Stop()
	it.conn.SetIdle(false)
	it.conn.SetHandler(u)
	u.conn = it.conn
	u.reused = it.reused + 1
	u.peerName, u.addrText, u.port = it.peerName, it.addrText, it.port
	p.ss.recycle(it)
	u.registerCleanup()
	return true
}

// recycle keeps a parked connection's record, its timer stopped, for the
// next park.
func (ss *sockState) recycle(it *poolItem) {
	it.p, it.conn = nil, nil
	ss.freeItems = append(ss.freeItems, it)
}

// park keeps u's connection for later (the heart of setkeepalive).
func (p *sockPool) park(u *tcpSock, timeout time.Duration) {
	if len(p.idle) >= p.size {
		old := p.idle[0]
		copy(p.idle, p.idle[1:])
		p.idle[len(p.idle)-1] = nil
		p.idle = p.idle[:len(p.idle)-1]
		old.timer.Stop()
		old.conn.Close()
		if u.pool != nil {
			u.pool.connections--
		}
	} else if u.pool == nil {
		// a socket connected without a pool joins this one now.
		p.connections++
	}
	conn := u.conn
	var it *poolItem
	if n := len(p.ss.freeItems); n > 0 {
		it = p.ss.freeItems[n-1]
		p.ss.freeItems[n-1] = nil
		p.ss.freeItems = p.ss.freeItems[:n-1]
	} else {
		it = &poolItem{}
		it.timer = u.loop().NewTimer(func() {
			it.p.debugf("lua tcp socket keepalive max idle timeout")
			it.close()
		})
	}
	it.p, it.conn, it.reused = p, conn, u.reused
	it.peerName, it.addrText, it.port = u.peerName, u.addrText, u.port
	if timeout > 0 {
		it.timer.Reset(timeout)
	}
	conn.SetHandler(it)
	conn.SetIdle(true)
	conn.ResumeRead()
	p.idle = append(p.idle, it)
}

// OnData implements eventloop.Handler: an idle connection must not talk.
// The record may serve another connection by the time an event of a
// closed one arrives, hence the check of c.
func (it *poolItem) OnData(c *eventloop.Conn, b []byte) {
	if c != it.conn {
		return
	}
	it.p.debugf("lua tcp socket keepalive close handler check stale events")
	it.close()
}

// OnReadEOF implements eventloop.Handler.
func (it *poolItem) OnReadEOF(c *eventloop.Conn) {
	if c == it.conn {
		it.close()
	}
}

// OnDrain implements eventloop.Handler.
func (it *poolItem) OnDrain(c *eventloop.Conn) {}

// OnClose implements eventloop.Handler.
func (it *poolItem) OnClose(c *eventloop.Conn, err error) {
	if c == it.conn {
		it.close()
	}
}

// close drops an idle connection (ngx_http_lua_socket_keepalive_close_handler).
func (it *poolItem) close() {
	p := it.p
	if p == nil {
		return
	}
	idx := -1
	for i, x := range p.idle {
		if x == it {
			idx = i
			break
		}
	}
	if idx < 0 {
		return
	}
	p.debugf("lua tcp socket keepalive close handler: fd:%d", it.conn.Fd())
	copy(p.idle[idx:], p.idle[idx+1:])
	p.idle[len(p.idle)-1] = nil
	p.idle = p.idle[:len(p.idle)-1]
	it.timer.Stop()
	it.conn.Close()
	p.ss.recycle(it)
	p.connections--
	if p.connections <= 0 {
		p.free()
		return
	}
	p.resumeConnOp()
}

// free forgets an empty pool (ngx_http_lua_socket_free_pool).
func (p *sockPool) free() {
	if p.freed {
		return
	}
	p.debugf("lua tcp socket keepalive: free connection pool for \"%s\"", p.key)
	p.freed = true
	if p.ss.pools[p.key] == p {
		delete(p.ss.pools, p.key)
	}
}

// shutdown closes the idle connections and drops the queued connects.
func (p *sockPool) shutdown() {
	for _, it := range p.idle {
		it.timer.Stop()
		it.conn.Close()
	}
	p.idle = nil
	for _, op := range p.waiting {
		op.timer.Stop()
		op.u.queued = nil
	}
	p.waiting = nil
}

// queue makes u's connect wait for a slot.
func (p *sockPool) queue(u *tcpSock, host string, port int) {
	op := &connOp{p: p, u: u, host: host, port: port}
	u.queued = op
	u.registerCleanup()
	op.timer = u.loop().AfterFunc(u.connectTimeout, op.timedOut)
	if u.c.debugOn() {
		u.c.logf(errlog.Debug, "lua tcp socket queued connect operation for %d(ms), u: %p, ctx: %p", u.connectTimeout.Milliseconds(), u, op)
	}
	p.waiting = append(p.waiting, op)
}

func (op *connOp) remove() bool {
	p := op.p
	for i, x := range p.waiting {
		if x == op {
			copy(p.waiting[i:], p.waiting[i+1:])
			p.waiting[len(p.waiting)-1] = nil
			p.waiting = p.waiting[:len(p.waiting)-1]
			return true
		}
	}
	return false
}

func (op *connOp) timedOut() {
	u := op.u
	if !op.remove() {
		return
	}
	u.queued = nil
	op.p.connections--
	w := u.connWait
	u.connWait = nil
	if u.logErrors() {
		u.c.logf(errlog.Error, "lua tcp socket queued connect timed out, when trying to connect to %s:%d", op.host, op.port)
	}
	w.wake(errVals("timeout")...)
}

// cancel drops a queued connect whose socket, thread or request went
// away; the slot it held in the count goes to the next one waiting.
func (op *connOp) cancel() {
	op.u.queued = nil
	if !op.remove() {
		return
	}
	op.timer.Stop()
	p := op.p
	p.debugf("lua tcp socket abort queueing, conn_op_ctx: %p, u: %p", op, op.u)
	p.connections--
	p.resumeConnOp()
}

// resumeConnOp lets the oldest queued connect go on once a slot is free
// (ngx_http_lua_socket_tcp_resume_conn_op); it runs after the current
// dispatch, as nginx posts the event.
func (p *sockPool) resumeConnOp() {
	if p.connections < 0 {
		p.ss.st.logf(errlog.Error, "lua tcp socket connections count mismatched for connection pool \"%s\", connections: %d, size: %d", p.key, p.connections, p.size)
		p.connections = 0
	}
	if len(p.waiting) == 0 {
		return
	}
	op := p.waiting[0]
	op.timer.Stop()
	if p.ss.st.cycle.Log.Enabled(errlog.Debug) {
		p.debugf("lua tcp socket post connect operation resumption u: %p, ctx: %p for connection pool \"%s\", connections: %d", op.u, op, p.key, p.connections)
	}
	p.ss.st.ls.Loop().Defer(func() { op.resume() })
}

// resume runs the queued connect again, now allowed past the backlog.
func (op *connOp) resume() {
	p, u := op.p, op.u
	if len(p.waiting) == 0 || p.waiting[0] != op {
		return
	}
	op.remove()
	u.queued = nil
	w := u.connWait
	if !w.alive() {
		u.connWait = nil
		p.connections--
		return
	}
	p.connections--
	vals, pending := u.connectStart(nil, op.host, op.port, true)
	if pending {
		return
	}
	u.connWait = nil
	w.wake(vals...)
}

// peekConn looks at the socket for input nobody read yet: it reports the
// byte count (0: the peer closed) and whether there was anything.
func peekConn(c *eventloop.Conn) (int, bool) {
	// A raw recv: unix.Recvfrom allocates room for a peer address that a
	// connected socket does not report.
	var b [1]byte
	n, _, errno := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(c.Fd()), uintptr(unsafe.Pointer(&b[0])), 1,
		unix.MSG_PEEK|unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return 0, false
	}
	return int(n), true
}

// tcpSetKeepalive is sock:setkeepalive(timeout?, size?).
func (ss *sockState) tcpSetKeepalive(L *glua.LState) int {
	n := L.GetTop()
	if n < 1 || n > 3 {
		luavm.Raise(L, "expecting 1 to 3 arguments (including the object), but got %d", n)
	}
	t := checkSockTable(L)
	u := sockOf(t)
	if u == nil {
		return pushErr(L, "closed")
	}
	if u.conn == nil || u.readClosed || u.writeClosed || u.eof || u.conn.Closed() || u.connErr != nil {
		return pushErr(L, "closed")
	}
	c := ss.cur(L)
	if u.c != c {
		luavm.Raise(L, "bad request")
	}
	if u.busy(L, true, true, true) {
		return 2
	}
	if u.inPos < len(u.in) {
		return pushErr(L, "unread data in buffer")
	}
	if u.kind != kindUpstream {
		return pushErr(L, "invalid connection")
	}
	st := ss.st
	if st.exiting || st.ls.Loop().Exiting() {
		if c.debugOn() {
			c.logf(errlog.Debug, "lua tcp socket set keepalive while process exiting, closing connection %p", u.conn)
		}
		u.finalize()
		L.Push(glua.LNumber(1))
		return 1
	}
	if c.debugOn() {
		c.logf(errlog.Debug, "lua tcp socket set keepalive: saving connection %p", u.conn)
	}
	key, ok := t.RawGetInt(slotKey).(glua.LString)
	if !ok {
		if num, isNum := t.RawGetInt(slotKey).(glua.LNumber); isNum {
			key = glua.LString(luavm.FormatNumber(float64(num)))
		} else {
			return pushErr(L, "key not found")
		}
	}
	conf := u.conf
	p := ss.pools[string(key)]
	if p == nil {
		size := conf.SocketPoolSize.V
		if n >= 3 && L.Get(3) != glua.LNil {
			size = L.CheckInt(3)
		}
		if size <= 0 {
			luavm.ArgError(L, n, "bad \"pool_size\" option value: "+luavm.FormatNumber(float64(size)))
		}
		p = ss.newPool(c, string(key), size, -1)
	}
	timeout := conf.SocketKeepaliveTimeout.V
	if n >= 2 && L.Get(2) != glua.LNil {
		timeout = time.Duration(L.CheckInt64(2)) * time.Millisecond
	}
	if c.debugOn() {
		c.logf(errlog.Debug, "lua tcp socket clear current socket connection")
		if timeout == 0 {
			c.logf(errlog.Debug, "lua tcp socket keepalive timeout: unlimited")
		} else {
			c.logf(errlog.Debug, "lua tcp socket keepalive timeout: %d ms", timeout.Milliseconds())
		}
	}
	// As ngx_lua, look only when the poller said the socket has input
	// nobody read: otherwise a recv per keepalive would find nothing.
	if u.conn.ReadReady() {
		if n, ok := peekConn(u.conn); ok {
			if n == 0 {
				return pushErr(L, "closed")
			}
			// the peer spoke while nobody asked.
			u.finalize()
			return pushErr(L, "connection in dubious state")
		}
	}
	p.park(u, timeout)
	u.conn = nil
	u.finalize()
	p.resumeConnOp()
	L.Push(glua.LNumber(1))
	return 1
}
