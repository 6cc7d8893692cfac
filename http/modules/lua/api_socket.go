package lua

import (
	"strings"

	glua "github.com/yuin/gopher-lua"

	"gresty/errlog"
	"gresty/eventloop"
	"gresty/luavm"
)

// This file holds what the cosockets share: the ngx.socket table, the
// per-VM socket state (metatables, connection pools), how a socket
// operation waits for the loop and wakes its thread, and the error texts
// ngx_lua returns. The TCP socket is in api_socket_tcp.go, its keepalive
// pool in api_socket_pool.go, receiveuntil in api_socket_until.go, UDP in
// api_socket_udp.go and ngx.req.socket in api_socket_req.go.

func init() {
	registerAPI(installSocket)
	exitHooks = append(exitHooks, func(st *loopState) { sockStateOf(st).shutdown() })
}

// sockPhases are where cosockets may be created and used
// (NGX_HTTP_LUA_CONTEXT_YIELDABLE).
const sockPhases = PhaseRewrite | PhaseServerRewrite | PhaseAccess | PhaseContent | PhaseTimer

// Slots of a TCP socket object, as ngx_lua lays them out: the state in 1,
// the pool key in 3, the timeouts settimeout(s) stored before a connect in
// 2, 4 and 5, the local address of sock:bind in 8.
const (
	slotCtx            = 1
	slotConnectTimeout = 2
	slotKey            = 3
	slotSendTimeout    = 4
	slotReadTimeout    = 5
	slotBind           = 8
)

// sockState is what the cosockets keep per VM.
type sockState struct {
	st *loopState
	// tcpMT, reqMT and rawMT are the metatables of TCP sockets, of
	// ngx.req.socket() and of ngx.req.socket(true); udpMT of UDP sockets.
	tcpMT, reqMT, rawMT, udpMT *glua.LTable
	// pools are the keepalive connection pools by key.
	pools map[string]*sockPool
	// reqInfos are the request sockets' records of the requests that
	// have some.
	reqInfos map[*reqCtx]*reqSockInfo
	// freeItems are parked-connection records to use again.
	freeItems []*poolItem
}

func sockStateOf(st *loopState) *sockState { return st.sock }

func installSocket(st *loopState) {
	L := st.vm.L
	ss := &sockState{st: st, pools: map[string]*sockPool{}, reqInfos: map[*reqCtx]*reqSockInfo{}}
	st.sock = ss

	sock := L.NewTable()
	tcp := L.NewFunction(func(L *glua.LState) int { return ss.newTCP(L) })
	sock.RawSetString("tcp", tcp)
	sock.RawSetString("stream", tcp)
	sock.RawSetString("udp", L.NewFunction(func(L *glua.LState) int { return ss.newUDP(L) }))
	// ngx.socket.connect is Lua in ngx_lua too: a new socket and its
	// connect, so that the connect can wait.
	fn, err := L.Load(strings.NewReader(
		"local sock = ngx.socket.tcp() local ok, err = sock:connect(...) "+
			"if ok then return sock else return nil, err end"), "=ngx.socket.connect")
	if err == nil {
		sock.RawSetString("connect", fn)
	}
	st.ngx.RawSetString("socket", sock)

	ss.installTCP(L)
	ss.installUDP(L)
	ss.installReq(L)
}

// shutdown closes the pooled connections when the loop stops serving the
// configuration.
func (ss *sockState) shutdown() {
	for _, p := range ss.pools {
		p.shutdown()
	}
}

// sockWait is a thread waiting for a socket operation. A thread can be
// killed while it waits (ngx.exit from another thread, ngx.thread.kill)
// and its Thread reused by another; the coroutine it ran on identifies it.
type sockWait struct {
	c  *reqCtx
	th *luavm.Thread
	co *glua.LState
}

func (st *loopState) newWait(c *reqCtx) *sockWait {
	th := st.vm.Current()
	return &sockWait{c: c, th: th, co: th.Co()}
}

// newSockWait is newWait for an operation on u: killing the waiting
// thread finalizes u, as ngx_lua's cleanup of the waiting coroutine does.
func (st *loopState) newSockWait(c *reqCtx, u interface{ abortWait() }) *sockWait {
	if co := st.curCo(); co != nil {
		co.sock = u
	}
	return st.newWait(c)
}

// alive reports whether the waiting thread still waits.
func (w *sockWait) alive() bool {
	return w != nil && w.th.Alive() && w.th.Co() == w.co
}

// wake resumes the waiting thread with the operation's results.
func (w *sockWait) wake(vals ...glua.LValue) {
	if w.alive() {
		w.c.resume(w.th, vals...)
	}
}

// errnoText is an errno as ngx_lua returns it: strerror lowercased (for
// LuaSocket compatibility).
func errnoText(err error) string {
	if en, ok := eventloop.Errno(err); ok {
		return strings.ToLower(eventloop.Strerror(en))
	}
	return "error"
}

// logf logs in the context of the code's request, or of its timer.
func (c *reqCtx) logf(level errlog.Level, format string, args ...any) {
	if c.r != nil {
		c.r.Logf(level, format, args...)
		return
	}
	c.st.logf(level, format+"%s", append(args, c.detachedContext())...)
}

// debugOn reports whether debug lines would be written, so that their
// arguments are not formatted for nothing.
func (c *reqCtx) debugOn() bool {
	if c.r != nil {
		return c.r.Log().Enabled(errlog.Debug)
	}
	return c.st.cycle.Log.Enabled(errlog.Debug)
}

// sockConf returns the lua_socket_* settings that apply to the code: the
// request's location's, or for a timer the http block's defaults.
func (c *reqCtx) sockConf() *LocConf {
	if c.r != nil && c.r.Loc != nil {
		if lc, ok := c.r.Loc.LocConfOf(Module).(*LocConf); ok {
			return lc
		}
	}
	if c.sc.loc != nil {
		return c.sc.loc
	}
	return defaultSockConf
}

// defaultSockConf holds the lua_socket_* defaults, for code that runs
// without a request.
var defaultSockConf = func() *LocConf {
	lc := &LocConf{}
	lc.SocketConnectTimeout.V = 60e9
	lc.SocketSendTimeout.V = 60e9
	lc.SocketReadTimeout.V = 60e9
	lc.SocketKeepaliveTimeout.V = 60e9
	lc.SocketPoolSize.V = 30
	lc.SocketBufferSize.V = 4096
	lc.SocketLogErrors.V = true
	return lc
}()

// pushErr returns nil, msg.
func pushErr(L *glua.LState, msg string) int {
	L.Push(glua.LNil)
	L.Push(glua.LString(msg))
	return 2
}

// errVals are nil, msg as resume values.
func errVals(msg string) []glua.LValue {
	return []glua.LValue{glua.LNil, glua.LString(msg)}
}

// timeoutArg reads a settimeout argument as ngx_lua does: truncated to an
// integer, and anything that does not fit 31 bits is an error.
func timeoutArg(L *glua.LState, n int) int64 {
	var f float64
	if v, ok := L.Get(n).(glua.LNumber); ok {
		f = float64(v)
	} else {
		f, _ = luavm.ParseNumber(L.ToString(n))
	}
	t := int64(f)
	if t>>31 != 0 {
		luavm.Raise(L, "bad timeout value")
	}
	return t
}
