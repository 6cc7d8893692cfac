package lua

import (
	glua "github.com/yuin/gopher-lua"

	"gresty/errlog"
	"gresty/http"
	"gresty/luavm"
)

// ngx.req.socket() reads the request body through a cosocket, and
// ngx.req.socket(true) takes the client connection over for raw,
// full-duplex I/O (ngx_http_lua_req_socket). Both read what the client
// sent past the request head: the body socket up to Content-Length, the
// raw socket without limit. The raw socket writes straight to the
// connection; nothing else may answer the request afterwards.

// reqSockInfo is what a request remembers of its request sockets.
type reqSockInfo struct {
	rawAcquired bool
}

func (ss *sockState) installReq(L *glua.LState) {
	vm := ss.st.vm
	mk := func(raw bool) *glua.LTable {
		mt := L.NewTable()
		vm.RegisterYielding(mt, "receive", ss.tcpReceive)
		vm.RegisterYielding(mt, "receiveany", ss.tcpReceiveAny)
		mt.RawSetString("receiveuntil", L.NewFunction(ss.tcpReceiveUntil))
		if raw {
			vm.RegisterYielding(mt, "send", ss.tcpSend)
		}
		mt.RawSetString("settimeout", L.NewFunction(tcpSetTimeout))
		mt.RawSetString("settimeouts", L.NewFunction(tcpSetTimeouts))
		mt.RawSetString("__index", mt)
		return mt
	}
	ss.reqMT = mk(false)
	ss.rawMT = mk(true)
	req, ok := ss.st.ngx.RawGetString("req").(*glua.LTable)
	if !ok {
		req = L.NewTable()
		ss.st.ngx.RawSetString("req", req)
	}
	req.RawSetString("socket", L.NewFunction(ss.reqSocket))
}

// reqSocket is ngx.req.socket(raw?).
func (ss *sockState) reqSocket(L *glua.LState) int {
	raw := false
	switch n := L.GetTop(); n {
	case 0:
	case 1:
		raw = glua.LVAsBool(L.Get(1))
		L.Pop(1)
	default:
		luavm.Raise(L, "expecting zero arguments, but got %d", n)
	}
	c := ss.st.cur()
	if c == nil || c.r == nil && c.phase&(PhaseTimer|PhaseInitWorker) == 0 {
		luavm.Raise(L, "no request found")
	}
	if c.r == nil {
		// a timer has a (fake) request in ngx_lua: the phase check
		// answers.
		ss.st.request(L, PhaseRewrite|PhaseServerRewrite|PhaseAccess|PhaseContent)
	}
	r := c.r
	if r != r.Main {
		luavm.Raise(L, "attempt to read the request body in a subrequest")
	}
	if !raw && r.Chunked {
		return pushErr(L, "chunked request bodies not supported yet")
	}
	ss.st.request(L, PhaseRewrite|PhaseServerRewrite|PhaseAccess|PhaseContent)
	var bodyRest int64
	if raw {
		if r.BodyReading() {
			return pushErr(L, "pending request body reading in some other thread")
		}
		if r.Body == nil {
			r.Body = &http.RequestBody{Done: true}
		}
		info := ss.reqInfo(c)
		// output queued in this dispatch is not "pending" as in nginx,
		// where it would have gone to the kernel already: only a backlog
		// the client does not take counts.
		if !info.rawAcquired && r.Conn.EventConn().Buffered() > fastSendMax {
			return pushErr(L, "pending data to write")
		}
		if c.out.buffering {
			return pushErr(L, "http 1.0 buffering")
		}
		// nothing else may send a response head from now on.
		r.HeaderSent = true
		c.headersSent = true
		if info.rawAcquired {
			return pushErr(L, "duplicate call")
		}
		info.rawAcquired = true
		r.NoKeepalive()
	} else {
		if r.Body != nil {
			return pushErr(L, "request body already exists")
		}
		if r.Discarding() {
			return pushErr(L, "request body discarded")
		}
		if r.ContentLength <= 0 {
			return pushErr(L, "no body")
		}
		if r.TestExpect() != http.OK {
			return pushErr(L, "test expect failed")
		}
		r.Body = &http.RequestBody{Done: true}
		bodyRest = r.ContentLength
	}
	t := L.CreateTable(2, 3)
	if raw {
		L.SetMetatable(t, ss.rawMT)
	} else {
		L.SetMetatable(t, ss.reqMT)
	}
	conf := c.sockConf()
	c.pin()
	u := &tcpSock{ss: ss, c: c, conf: conf, kind: kindBody, bodyRest: bodyRest,
		readTimeout: conf.SocketReadTimeout.V, sendTimeout: conf.SocketSendTimeout.V,
		connectTimeout: conf.SocketConnectTimeout.V}
	if raw {
		u.kind = kindRaw
	}
	ud := L.NewUserData()
	ud.Value = u
	t.RawSetInt(slotCtx, ud)
	r.SetReadHandler(func(r *http.Request) { u.reqInput() })
	r.SetEOFHandler(func(r *http.Request) { u.reqInput() })
	c.onCleanup(func() {
		if u.kind == kindBody && u.bodyRest > 0 && c.r != nil {
			// the rest of the body is still on the wire.
			c.r.NoKeepalive()
		}
		u.finalize()
	})
	L.Push(t)
	return 1
}

// reqInfo returns the request's request-socket record.
func (ss *sockState) reqInfo(c *reqCtx) *reqSockInfo {
	if info := ss.reqInfos[c]; info != nil {
		return info
	}
	info := &reqSockInfo{}
	ss.reqInfos[c] = info
	c.onCleanup(func() { delete(ss.reqInfos, c) })
	return info
}

// rawSocketAcquired reports whether the request's code took the client
// connection with ngx.req.socket(true): ngx.say, ngx.print, ngx.eof and
// ngx.flush refuse to run then.
func (c *reqCtx) rawSocketAcquired() bool {
	ss := c.st.sock
	if ss == nil || len(ss.reqInfos) == 0 {
		return false
	}
	info := ss.reqInfos[c]
	return info != nil && info.rawAcquired
}

// reqInput is the client connection's read and EOF handler while a
// request socket exists: a waiting read takes the new bytes; otherwise the
// connection stops reading until one does.
func (u *tcpSock) reqInput() {
	if u.readWait == nil || !u.readWait.alive() || u.readClosed {
		u.readWait = nil
		if u.c.r != nil && !u.c.r.ClientEOF() {
			u.c.r.Conn.EventConn().PauseRead()
		} else if u.c.r != nil {
			// between reads ngx_lua watches the connection again as
			// lua_check_client_abort asks, for a body socket and a
			// raw one alike.
			u.c.clientClosed()
		}
		return
	}
	u.readReady()
}

// reqSockState pulls the client's pending bytes into the socket's buffer
// for pump: opMore when it got some, or what the read comes to without.
func (u *tcpSock) reqSockState() int {
	r := u.c.r
	if r == nil {
		return opClosed
	}
	in := r.PendingInput()
	if u.kind == kindBody {
		if u.bodyRest == 0 {
			u.eof = true
			if u.c.debugOn() {
				u.c.logf(errlog.Debug, "lua request body exhausted")
			}
			return opMore
		}
		if int64(len(in)) > u.bodyRest {
			in = in[:u.bodyRest]
		}
		if len(in) > 0 {
			u.in = append(u.in, in...)
			r.ConsumeInput(len(in))
			u.bodyRest -= int64(len(in))
			return opMore
		}
		if r.ClientEOF() {
			return opAbort
		}
		return opAgain
	}
	if len(in) > 0 {
		u.in = append(u.in, in...)
		r.ConsumeInput(len(in))
		return opMore
	}
	if r.ClientEOF() {
		if u.conf.CheckClientAbort.V {
			// ngx_lua's read of a raw request socket: with
			// lua_check_client_abort the client's FIN is an abort.
			return opAbort
		}
		u.eof = true
		return opMore
	}
	return opAgain
}

// beforeReqRead and afterReqRead bracket a read of a request socket.
func (u *tcpSock) beforeReqRead() {}

func (u *tcpSock) afterReqRead() {}

func (u *tcpSock) resumeReqInput() {
	if r := u.c.r; r != nil && !r.ClientEOF() {
		r.Conn.EventConn().ResumeRead()
	}
}

// dropReqHandlers detaches a request socket from the connection.
func (u *tcpSock) dropReqHandlers() {
	if r := u.c.r; r != nil {
		r.SetReadHandler(nil)
		r.SetEOFHandler(nil)
	}
}

// sendRaw writes to the client connection of a raw request socket.
func (u *tcpSock) sendRaw(L *glua.LState, data []byte) int {
	r := u.c.r
	if r == nil {
		return pushErr(L, "closed")
	}
	ec := r.Conn.EventConn()
	if !u.nodelaySet && r.Loc.TCPNodelay.V {
		u.nodelaySet = true
		if u.c.debugOn() {
			u.c.logf(errlog.Debug, "lua socket tcp_nodelay")
		}
		ec.SetNoDelay(true)
	}
	if ec.Closed() {
		u.finalizeWrite()
		return pushErr(L, "broken pipe")
	}
	// a raw socket writes past the output filters: nothing they held
	// back may stay behind its bytes.
	ec.SetHold(false)
	before := ec.Buffered()
	if _, err := ec.Write(data); err != nil {
		u.finalizeWrite()
		return pushErr(L, "broken pipe")
	}
	if before == 0 && len(data) <= fastSendMax {
		L.Push(glua.LNumber(len(data)))
		return 1
	}
	u.vm().CheckYieldable(L)
	u.sendLen = len(data)
	u.writeWait = u.ss.st.newSockWait(u.c, u)
	if u.wtimer == nil {
		u.wtimer = u.loop().NewTimer(u.writeTimedOut)
	}
	u.wtimer.Reset(u.sendTimeout)
	r.SetDrainHandler(func(r *http.Request) {
		r.SetDrainHandler(nil)
		u.writeDone()
	})
	return u.vm().Suspend(L)
}
