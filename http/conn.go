package http

import (
	"bytes"
	"errors"
	"net/netip"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"gresty/errlog"
	"gresty/eventloop"
	"gresty/httpparse"
)

// Connection states.
const (
	stIdle    = iota // keepalive, waiting for the next request
	stHead           // reading a request head
	stRequest        // a request is being processed
	stClosing        // closing after the response drains
)

// Conn is an HTTP/1.x connection on a loop (nginx's ngx_http_connection_t
// with its ngx_connection_t). It reads request heads, runs requests one
// at a time (pipelined requests in order), and keeps or closes the
// connection as nginx does.
type Conn struct {
	ec  *eventloop.Conn
	srv *LoopServer
	// closeLogged is set once the failure that closed ec is logged.
	closeLogged bool
	// cfg is the configuration the connection serves requests with; a
	// reload switches it between requests.
	cfg *Config
	la  *ListenAddr
	vs  *VirtualServers

	head httpparse.Request
	// data holds the input not yet consumed; when dataOwned is false it
	// aliases the loop's read buffer and must be copied before OnData
	// returns if anything still needs it. headStart is the offset in data
	// where the current request's head begins; pos where unconsumed bytes
	// begin.
	data      []byte
	dataOwned bool
	// action is nginx's c->log->action: what the connection is doing,
	// said as " while <action>" in its error-log lines.
	action string
	// failed is nginx's c->error: a body filter failed, and the request
	// ends at its next finalization, its subrequests' included.
	failed    bool
	headStart int
	pos       int

	r        *Request
	requests int
	start    time.Time

	timer     *eventloop.Timer
	timerKind uint8
	state     uint8
	pipelined bool
	eof       bool
	// lingering asks for a lingering close when the connection closes
	// after its response.
	lingering bool
	timedout  bool
	// nopush and nodelay are the socket's TCP_CORK and TCP_NODELAY
	// states (nginx's c->tcp_nopush and c->tcp_nodelay).
	nopush  uint8
	nodelay uint8
	// sentBase is the output count where the current request's bytes
	// begin; paceReq and paceRate are the limit_rate last applied.
	sentBase int64
	paceReq  *Request
	paceRate int64
	// waitDrain is set when processing stopped because the output queue
	// is above the high watermark; OnDrain resumes it.
	waitDrain bool
	// inProcess is set while process runs, so that a request finishing
	// inside it does not start the next one re-entrantly.
	inProcess bool
	processFn func()
	// keepaliveTimeout is the keepalive_timeout of the last request's
	// location.
	keepaliveTimeout time.Duration

	// active is the request that may write to the connection now
	// (nginx's c->data): the main request, or the subrequest whose turn
	// it is.
	active        *Request
	postScheduled bool
	runPostedFn   func()

	remoteIP string
	// ppWait is set until the PROXY protocol header of a proxy_protocol
	// listener was read; pp is what it said.
	ppWait bool
	pp     *ProxyProtocol
	// realip is the client address a module set for the current request
	// (SetRemoteAddr); requestDone forgets it.
	realip realAddr
	// stat is the state stub_status counts the connection in.
	stat uint8

	// sentHooks run when the output queue drains or the connection
	// closes (Request.ReleaseAfterSend).
	sentHooks []func()
	// sentFiles are request descriptors closed when the output drains.
	sentFiles []*ownedFD
}

// Timer purposes.
const (
	tmNone = iota
	tmHeader
	tmKeepalive
	tmBody
	tmSend
	tmDiscard
)

// ID returns the connection's serial number ($connection, "*N" in logs).
func (c *Conn) ID() uint64 { return c.ec.ID() }

func (c *Conn) loopID() int { return c.srv.loop.ID() }

func (c *Conn) loopNow() time.Time { return c.srv.loop.Now() }

// Loop returns the connection's event loop.
func (c *Conn) Loop() *eventloop.Loop { return c.srv.loop }

// EventConn returns the underlying connection (for upgrades and tunnels).
func (c *Conn) EventConn() *eventloop.Conn { return c.ec }

// Server returns the loop's HTTP state.
func (c *Conn) Server() *LoopServer { return c.srv }

func (c *Conn) closed() bool { return c.ec.Closed() }

// RemoteIP returns the client address as text ($remote_addr): the one
// realip set for the current request, else the peer's.
func (c *Conn) RemoteIP() string {
	if c.realip.set {
		return c.realip.text
	}
	return c.PeerIP()
}

// RemoteAddrIP returns the client's IP address bytes (4 or 16), nil for
// unix sockets.
func (c *Conn) RemoteAddrIP() []byte {
	if c.realip.set {
		return c.realip.bin[:c.realip.nbin]
	}
	ap := c.ec.RemoteAddrPort()
	if !ap.IsValid() {
		return nil
	}
	a := ap.Addr().Unmap()
	if a.Is4() {
		b := a.As4()
		return b[:]
	}
	b := a.As16()
	return b[:]
}

// RemoteAddrPort returns the client's address and port.
func (c *Conn) RemoteAddrPort() netip.AddrPort {
	if c.realip.set {
		return c.realip.ap
	}
	return c.ec.RemoteAddrPort()
}

// RemotePort returns the client's port, 0 for unix sockets.
func (c *Conn) RemotePort() int { return int(c.RemoteAddrPort().Port()) }

// LocalIP returns the server address the client connected to
// ($server_addr).
func (c *Conn) LocalIP() string {
	if c.la.Opt.Network == "unix" {
		return "unix:"
	}
	ap := c.ec.LocalAddrPort()
	if !ap.IsValid() {
		return ""
	}
	return ap.Addr().Unmap().String()
}

// LocalIPForURL is LocalIP with brackets around IPv6 addresses.
func (c *Conn) LocalIPForURL() string {
	s := c.LocalIP()
	ap := c.ec.LocalAddrPort()
	if ap.IsValid() && ap.Addr().Unmap().Is6() {
		return "[" + s + "]"
	}
	return s
}

// LocalPort returns the server port the client connected to.
func (c *Conn) LocalPort() int {
	if c.la.Opt.Network == "unix" {
		return 0
	}
	return int(c.ec.LocalAddrPort().Port())
}

// Scheme returns "http" (TLS arrives with the ssl package).
func (c *Conn) Scheme() string { return "http" }

// Requests returns how many requests the connection has served.
func (c *Conn) Requests() int { return c.requests }

func (c *Conn) tcpInfo(which int) (uint32, bool) { return tcpInfo(c.ec.Fd(), which) }

// timerLazy is nginx's NGX_TIMER_LAZY_DELAY: a timer re-armed within it
// of its deadline keeps that deadline.
const timerLazy = 300 * time.Millisecond

func (c *Conn) setTimer(kind uint8, d time.Duration) {
	c.timerKind = kind
	if c.timer == nil {
		c.timer = c.srv.loop.NewTimer(c.onTimer)
	}
	c.timer.ResetLazy(d, timerLazy)
}

// stopTimer ends the wait the timer was set for. The timer itself stays
// armed until it fires, which then does nothing, or is set again: on a
// keepalive connection, the keepalive wait set after a response, stopped
// by the next request and set again after it, keeps one deadline and
// never moves in the loop's timer heap. OnClose disarms it for good.
func (c *Conn) stopTimer() {
	c.timerKind = tmNone
}

func (c *Conn) onTimer() {
	kind := c.timerKind
	c.timerKind = tmNone
	switch kind {
	case tmHeader:
		// nginx closes without a response; the access log sees 408.
		c.logInfo("client timed out " + eventloop.ErrnoText(syscall.ETIMEDOUT))
		c.timedout = true
		c.closeNow()
	case tmKeepalive:
		c.closeNow()
	case tmBody:
		if r := c.r; r != nil {
			// nginx's body reader finalizes with 408 and logs nothing
			c.timedout = true
			r.Finalize(408)
		}
	case tmSend:
		if r := c.r; r != nil {
			c.timedout = true
			r.Logf(errlog.Info, "client timed out %s", eventloop.ErrnoText(syscall.ETIMEDOUT))
			r.Terminate(408)
		} else {
			c.closeNow()
		}
	case tmDiscard:
		if r := c.r; r != nil {
			r.discardTimedOut()
		}
	}
}

func (c *Conn) logInfo(msg string) { c.logf(errlog.Info, "%s", msg) }

// logf writes a line about the connection outside any request.
func (c *Conn) logf(level errlog.Level, format string, args ...any) {
	l := c.cfg.cycle.Log
	if l.Enabled(level) {
		l.Printf(level, errlog.Entry{Loop: c.loopID(), Conn: c.ID(), Ctx: connCtx{c}}, format, args...)
	}
}

// connCtx is the log context of a connection with no request yet.
type connCtx struct{ c *Conn }

// Before a request's first byte nginx names the listening address; once
// bytes came it names the request as far as it got: the request line read
// so far and a Host header already complete.
func (x connCtx) AppendLogContext(b []byte) []byte {
	c := x.c
	var head []byte
	if c.state == stHead && len(c.data) > c.headStart {
		head = c.data[c.headStart:]
	}
	line, host, lineDone := partialHead(head)
	switch {
	case c.action != "":
		b = append(b, " while "...)
		b = append(b, c.action...)
	case head == nil && c.requests == 0:
		b = append(b, " while waiting for request"...)
	case head == nil:
		b = append(b, " while keepalive"...)
	case lineDone:
		b = append(b, " while reading client request headers"...)
	default:
		b = append(b, " while reading client request line"...)
	}
	b = append(b, ", client: "...)
	b = append(b, c.RemoteIP()...)
	b = append(b, ", server: "...)
	if head == nil {
		return append(b, c.la.Opt.Text...)
	}
	b = append(b, ", request: \""...)
	b = append(b, line...)
	b = append(b, '"')
	if host != nil {
		b = append(b, ", host: \""...)
		b = append(b, host...)
		b = append(b, '"')
	}
	return b
}

// partialHead reads an incomplete request head: its request line (all of
// it that came), whether that line is complete, and the value of a
// complete Host header line.
func partialHead(head []byte) (line, host []byte, lineDone bool) {
	for len(head) > 0 && (head[0] == '\r' || head[0] == '\n') {
		head = head[1:] // nginx skips empty lines before a request
	}
	end := bytes.IndexAny(head, "\r\n")
	if end < 0 {
		return head, nil, false
	}
	line, head = head[:end], head[end:]
	for {
		nl := bytes.IndexByte(head, '\n')
		if nl < 0 {
			return line, host, true
		}
		head = head[nl+1:]
		next := bytes.IndexByte(head, '\n')
		if next < 0 {
			return line, host, true
		}
		h := bytes.TrimRight(head[:next], "\r")
		if len(h) > 5 && bytes.EqualFold(h[:5], []byte("host:")) {
			host = bytes.TrimSpace(h[5:])
		}
	}
}

// OnData implements eventloop.Handler.
func (c *Conn) OnData(ec *eventloop.Conn, b []byte) {
	if r := c.r; r != nil {
		if r.Body != nil && r.Body.wantData() {
			c.dropConsumedInput()
			c.appendInput(b)
			r.Body.pump(r)
			c.releaseTransient()
			return
		}
		if r.discarding {
			c.dropConsumedInput()
			c.appendInput(b)
			if r.discardInput() != OK {
				// a malformed body after the answer: the connection
				// cannot go on (nginx finalizes with NGX_ERROR).
				r.Terminate(Error)
			}
			c.releaseTransient()
			return
		}
		if r.readHandler != nil {
			c.appendInput(b)
			r.readHandler(r)
			c.releaseTransient()
			return
		}
		// input for a later request: keep it, stop reading until the
		// current request is done.
		c.appendInput(b)
		c.ensureOwned()
		ec.PauseRead()
		return
	}
	c.appendInput(b)
	c.process()
	c.releaseTransient()
}

// appendInput adds newly read bytes to the pending input. With nothing
// pending, the bytes are used where they are (the loop's buffer).
func (c *Conn) appendInput(b []byte) {
	if c.pos == len(c.data) && c.r == nil {
		c.data, c.dataOwned, c.pos, c.headStart = b, false, 0, 0
		return
	}
	if !c.dataOwned {
		c.ensureOwned()
	}
	c.data = append(c.data, b...)
}

// ensureOwned copies the input the connection still needs (from the
// current request's head on) out of the loop's buffer, and moves every
// slice that pointed into it.
func (c *Conn) ensureOwned() {
	if c.dataOwned {
		return
	}
	from := c.pos
	if (c.r != nil || c.state == stHead) && c.headStart < from {
		from = c.headStart
	}
	old := c.data[from:]
	nb := c.srv.getBuf(len(old))
	nb = append(nb, old...)
	if c.r != nil {
		c.r.rebase(old, nb)
		if c.r.Head == &c.head && c.headStart >= from {
			c.head.Parse(nb[c.headStart-from:])
		}
	}
	c.data, c.dataOwned = nb, true
	c.pos -= from
	c.headStart -= from
	if c.headStart < 0 {
		c.headStart = 0
	}
}

// releaseTransient is called before OnData returns: whatever still refers
// to the loop's buffer is copied out.
func (c *Conn) releaseTransient() {
	if c.dataOwned || c.closed() {
		if c.pos == len(c.data) && c.r == nil && c.dataOwned {
			c.srv.putBuf(c.data)
			c.data, c.dataOwned, c.pos, c.headStart = nil, false, 0, 0
		}
		return
	}
	if c.pos == len(c.data) && c.r == nil {
		c.data, c.pos, c.headStart = nil, 0, 0
		return
	}
	c.ensureOwned()
}

// process parses and runs requests from the pending input until it runs
// out, a request suspends, or the connection closes.
func (c *Conn) process() {
	if c.inProcess {
		return
	}
	c.inProcess = true
	defer func() { c.inProcess = false }()
	// a request that ended the connection (a lingering close reading
	// what follows) leaves the rest of the input unparsed.
	if c.ppWait && c.pos < len(c.data) && !c.readProxyProtocol() {
		return
	}
	for !c.closed() && c.r == nil && c.state != stClosing {
		if c.pos == len(c.data) {
			if c.state != stHead {
				c.setIdle()
			}
			return
		}
		if c.waitDrain {
			return
		}
		if c.state != stHead {
			c.startHead()
		}
		c.setStat(statReading)
		buf := c.data[c.headStart:]
		switch c.head.Parse(buf) {
		case httpparse.NeedMore:
			if c.timerKind != tmHeader {
				c.setTimer(tmHeader, c.defaultSrv().ClientHeaderTimeout.V)
			}
			return
		case httpparse.Failed:
			c.headFailed()
			return
		}
		c.stopTimer()
		c.pos = c.headStart + c.head.HeadLen()
		r := c.newRequest()
		c.r = r
		c.active = r
		c.state = stRequest
		r.start()
		if c.r != nil {
			// suspended: the rest of the input waits, unless the
			// request still reads (its body, a discarded body) or
			// watches the connection.
			rr := c.r
			reading := (rr.Body != nil && rr.Body.wantData()) || rr.discarding || rr.readHandler != nil
			if c.pos < len(c.data) || !reading {
				c.ec.PauseRead()
			}
			return
		}
		if c.ec.Buffered() > c.srv.outHigh {
			c.waitDrain = true
			c.setTimer(tmSend, r.Loc.SendTimeout.V)
			return
		}
	}
}

// startHead prepares the parser for a request starting at pos.
func (c *Conn) startHead() {
	c.state = stHead
	c.action = ""
	prev := c.headStart
	c.headStart = c.pos
	cfg := &c.defaultSrv().parserConf
	// a pipelined request that starts inside the previous request's
	// header buffer counts against that buffer, as nginx's
	// ngx_http_set_keepalive hands it on; otherwise a fresh buffer.
	off := c.pos - prev
	if c.requests > 0 && c.pipelined && off >= 0 && off < c.head.BufferEnd() {
		c.head.ResetPipelined(cfg, c.head.BufferEnd()-off, min(c.head.LargeBuffers(), 1))
	} else {
		c.head.Reset(cfg)
	}
	if c.timerKind == tmKeepalive {
		c.stopTimer()
	}
	c.ec.SetIdle(false)
	c.ec.SetReusable(false)
}

func (c *Conn) setIdle() {
	c.state = stIdle
	c.action = ""
	c.setStat(statWaiting)
	c.ec.SetIdle(true)
	c.ec.SetReusable(true)
	// the last request's location decides, as ngx_http_set_keepalive.
	timeout := c.keepaliveTimeout
	if timeout == 0 {
		timeout = c.defaultSrv().Loc().KeepaliveTimeout.V
	}
	if c.timerKind != tmKeepalive {
		c.setTimer(tmKeepalive, timeout)
	}
	if c.dataOwned && c.pos == len(c.data) {
		c.srv.putBuf(c.data)
		c.data, c.dataOwned, c.pos, c.headStart = nil, false, 0, 0
	}
}

// defaultSrv returns the server whose settings govern reading a head
// before the Host is known: the default server of the address.
func (c *Conn) defaultSrv() *SrvConf {
	if c.vs == nil {
		c.vs = c.la.virtualServers(c)
	}
	return c.vs.Default
}

// headFailed answers a rejected request head as nginx: the status page,
// a log line, and the connection closed.
func (c *Conn) headFailed() {
	c.stopTimer()
	status := c.head.Status()
	reason := c.head.Reason()
	text, prev, bad := c.head.ErrorText()
	r := c.newRequest()
	c.r = r
	c.active = r
	c.state = stRequest
	c.action = "reading client request headers"
	if reason.InRequestLine() {
		c.action = "reading client request line"
	}
	if msg := reason.String(); msg != "" {
		line := msg
		if text != nil {
			if prev != nil {
				line += ": \"" + string(prev) + "\", previous value: \"" + string(text) + "\""
			} else {
				line += ": \"" + string(text)
				if bad >= 0 {
					line += "\\x" + strconv.FormatUint(uint64(bad)>>4, 16) + strconv.FormatUint(uint64(bad)&15, 16) + "..."
				}
				line += "\""
			}
		}
		r.Logf(errlog.Info, "%s", line)
	}
	r.KeepAlive = false
	c.lingering = true
	r.Finalize(status)
}

// newRequest makes the Request for the head just parsed (or failed).
func (c *Conn) newRequest() *Request {
	r := c.srv.getRequest()
	r.Conn = c
	r.Main = r
	r.Head = &c.head
	r.count = 1
	r.uriChanges = 11
	r.subrequests = 51
	r.StartTime = c.loopNow()
	// limit_rate counts this request's bytes from here (nginx resets
	// c->sent for each request).
	c.sentBase = c.ec.Sent() + int64(c.ec.Buffered())
	c.paceReq = nil
	r.Srv = c.defaultSrv()
	r.Loc = r.Srv.Loc()
	r.Out.reset()
	c.setStat(statWriting)
	c.requests++
	if c.requests > 1 {
		r.pipeline = c.pipelined
	}
	r.RequestLength = int64(c.head.HeadLen())
	if c.head.Status() != 0 {
		r.HTTPVersion = 1000
		r.Method = httpparse.MethodGET
		r.MethodName = "GET"
		return r
	}
	h := &c.head
	r.Method = h.Method
	r.MethodName = methodName(h)
	r.HTTPVersion = h.Version
	r.URI = h.Path()
	r.Args = h.Args()
	r.Exten = h.Exten()
	r.Host = h.Server()
	r.ContentLength = h.ContentLength
	r.Chunked = h.Chunked
	r.KeepAlive = h.KeepAlive()
	n := h.NumHeaders()
	in := r.In[:0]
	for i := 0; i < n; i++ {
		f := h.Header(i)
		in = append(in, Header{Name: f.Name, Value: f.Value, Known: f.Known})
	}
	r.In = in
	return r
}

func methodName(h *httpparse.Request) string {
	if s := h.Method.String(); s != "" && h.Method != httpparse.MethodUnknown {
		return s
	}
	return string(h.MethodName())
}

// resume continues with pending input after a request finished outside
// process (in a timer, an upstream event, a body read).
func (c *Conn) resume() {
	if c.closed() || c.r != nil {
		return
	}
	c.ec.ResumeRead()
	c.process()
	c.releaseTransient()
}

// OnReadEOF implements eventloop.Handler: the client closed its side.
func (c *Conn) OnReadEOF(ec *eventloop.Conn) {
	c.eof = true
	if r := c.r; r != nil {
		if r.Body != nil && r.Body.wantData() {
			r.Body.eof(r)
			return
		}
		if r.discarding {
			r.discardEOF()
			return
		}
		if r.eofHandler != nil {
			r.eofHandler(r)
		}
		return
	}
	if c.state == stHead && len(c.data) > c.headStart {
		c.logInfo("client prematurely closed connection")
	}
	c.closeNow()
}

// OnDrain implements eventloop.Handler.
func (c *Conn) OnDrain(ec *eventloop.Conn) {
	c.runSentHooks()
	if c.state == stClosing {
		c.setStat(statNone)
	}
	if c.timerKind == tmSend {
		c.stopTimer()
	}
	if r := c.r; r != nil {
		h := r.drainHandler
		if h != nil {
			h(r)
		}
		// the upstream's own wait comes after the filters had their
		// turn (the copy filter queues more output first).
		hooked := false
		if c.r == r && !r.freed {
			if u := r.UpstreamRequest(); u != nil && u.drainHook != dhNone {
				hooked = true
				u.onClientDrain()
			}
		}
		if h != nil || hooked {
			return
		}
	}
	if c.waitDrain {
		c.waitDrain = false
		c.resume()
	}
}

// OnClose implements eventloop.Handler.
func (c *Conn) OnClose(ec *eventloop.Conn, err error) {
	defer c.runSentHooks()
	c.stopTimer()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	// a failed recv or write, as ngx_connection_error logs it for a
	// client: the failures a client causes at info level.
	var oe *eventloop.OpError
	if errors.As(err, &oe) && !c.closeLogged {
		level := connErrorLevel(oe, errlog.Info)
		switch {
		case c.r != nil:
			c.r.Logf(level, "%s", oe.Error())
		case ec.Unsent() > 0:
			// a response still going out, its request done here
			// (nginx's would still be sending it).
			c.action = "sending response to client"
			if oe.Op == "recv" {
				c.logf(level, "client prematurely closed connection %s", eventloop.ErrnoText(oe.Err))
			} else {
				c.logf(level, "%s", oe.Error())
			}
		default:
			c.logf(level, "%s", oe.Error())
		}
	}
	if r := c.r; r != nil {
		c.r = nil
		r.connClosed()
	}
	if c.dataOwned {
		c.srv.putBuf(c.data)
	}
	c.data = nil
	c.srv.conns--
	c.setStat(statNone)
	c.srv.stats.active.Add(-1)
}

func (c *Conn) closeNow() {
	c.stopTimer()
	c.ec.Close()
}

// requestDone is called when the main request is freed: the connection
// keeps alive, lingers or closes.
func (c *Conn) requestDone(r *Request, keepalive bool) {
	c.r = nil
	c.realip = realAddr{}
	c.state = stIdle
	c.action = ""
	if c.closed() {
		return
	}
	// whatever the request queued goes out now.
	c.ec.SetHold(false)
	if keepalive {
		c.keepaliveTimeout = r.Loc.KeepaliveTimeout.V
		c.pipelined = c.pos < len(c.data)
		c.state = stIdle
		c.action = ""
		if !c.pipelined && !c.keepaliveSockopts(r.Loc) {
			c.closeNow()
			return
		}
		if !c.inProcess {
			if c.processFn == nil {
				c.processFn = c.resume
			}
			c.srv.loop.Defer(c.processFn)
		}
		return
	}
	c.state = stClosing
	if c.ec.Buffered() == 0 {
		c.setStat(statNone)
	}
	// else the connection still writes the response (stub_status's
	// writing, as nginx keeps the request until it is sent) until
	// OnDrain.
	loc := r.Loc
	lc := loc.LingeringClose.V
	if lc == LingeringAlways || (lc == LingeringOn && (c.lingering || c.pos < len(c.data) || r.discarding || (r.Body != nil && !r.Body.Done))) {
		c.ec.LingeringClose(loc.LingeringTime.V, loc.LingeringTimeout.V)
		return
	}
	if c.timedout && loc.ResetTimedoutConnection.V {
		c.ec.Abort()
		return
	}
	c.ec.CloseAfterDrain()
}

// TCP_CORK states of a connection (nginx's NGX_TCP_NOPUSH_*).
const (
	nopushUnset uint8 = iota
	nopushSet
	nopushDisabled
)

// TCP_NODELAY states of a connection (nginx's NGX_TCP_NODELAY_*).
const (
	nodelayUnset uint8 = iota
	nodelaySet
	nodelayDisabled
)

// corkBeforeFile sets TCP_CORK when a file is about to follow bytes still
// queued (the response head), so that both leave in full segments, as
// nginx's Linux sendfile chain does with tcp_nopush on; TCP_NODELAY, which
// excludes the cork, is cleared first. A failure is logged and ends the
// connection.
func (c *Conn) corkBeforeFile(r *Request) bool {
	if c.nopush != nopushUnset || c.ec.Buffered() == 0 {
		return true
	}
	if c.nodelay == nodelaySet {
		if err := c.ec.SetNoDelay(false); err != nil {
			r.Logf(errlog.Crit, "setsockopt(TCP_NODELAY) failed %s", eventloop.ErrnoText(err))
			return false
		}
		c.nodelay = nodelayUnset
		r.Logf(errlog.Debug, "no tcp_nodelay")
	}
	if err := c.ec.Cork(); err != nil {
		r.Logf(errlog.Crit, "setsockopt(TCP_CORK) failed %s", eventloop.ErrnoText(err))
		return false
	}
	c.nopush = nopushSet
	r.Logf(errlog.Debug, "tcp_nopush")
	return true
}

// keepaliveSockopts is the socket part of ngx_http_set_keepalive: a corked
// socket is uncorked once the response is sent (on Linux TCP_NODELAY then
// stays off, as nginx leaves it), otherwise tcp_nodelay sets TCP_NODELAY
// so that the next response's last segment is not held back by Nagle's
// algorithm. False means the connection must close.
func (c *Conn) keepaliveSockopts(loc *LocConf) bool {
	if c.nopush == nopushSet {
		if err := c.ec.UncorkWhenSent(); err != nil {
			c.logf(errlog.Crit, "setsockopt(!TCP_CORK) failed %s", eventloop.ErrnoText(err))
			return false
		}
		c.nopush = nopushUnset
		return true
	}
	if loc.TCPNodelay.V && c.nodelay == nodelayUnset {
		if err := c.ec.SetNoDelay(true); err != nil {
			c.logf(errlog.Crit, "setsockopt(TCP_NODELAY) failed %s", eventloop.ErrnoText(err))
			return false
		}
		c.nodelay = nodelaySet
		c.logf(errlog.Debug, "tcp_nodelay")
	}
	return true
}

// writeHeader queues the serialised response head.
func (c *Conn) writeHeader(r *Request, b []byte) int {
	if _, err := c.ec.Write(b); err != nil {
		return Error
	}
	r.BytesSent += int64(len(b))
	if r.HeaderOnly {
		r.lastSent = true
	}
	// a head without a body is the response's last piece; a switch of
	// protocols is flushed at once (nginx's upgrade sends a flush).
	c.postpone(r, r.HeaderOnly || r.Out.Status == 101)
	if !c.writeOut(r) {
		return Error
	}
	return OK
}

// rebase moves every slice of r that points into old to the same place in
// nb (old's bytes copied to the start of nb).
func (r *Request) rebase(old, nb []byte) {
	mv := func(s []byte) []byte { return rebaseSlice(s, old, nb) }
	r.URI, r.Args, r.Exten, r.Host = mv(r.URI), mv(r.Args), mv(r.Exten), mv(r.Host)
	for i := range r.In {
		r.In[i].Name, r.In[i].Value = mv(r.In[i].Name), mv(r.In[i].Value)
	}
	r.capSubj = mv(r.capSubj)
	for i := range r.vars {
		r.vars[i].v = mv(r.vars[i].v)
	}
	for i := range r.Out.Headers {
		r.Out.Headers[i].Name, r.Out.Headers[i].Value = mv(r.Out.Headers[i].Name), mv(r.Out.Headers[i].Value)
	}
	if r.Body != nil {
		r.Body.rebase(old, nb)
	}
}

func rebaseSlice(s, old, nb []byte) []byte {
	if len(s) == 0 || len(old) == 0 {
		return s
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(old)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	if p < base || p+uintptr(len(s)) > base+uintptr(len(old)) {
		return s
	}
	off := int(p - base)
	return nb[off : off+len(s) : off+len(s)]
}
