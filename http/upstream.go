package http

// The upstream machinery (nginx's ngx_http_upstream.c): a request handed
// to an upstream module connects to a peer on the request's own loop,
// sends the request, reads and checks the response head, passes the
// status and headers through the header filters, then relays the body,
// with next-upstream retries, timeouts, client-abort detection, keepalive
// connections and protocol upgrades. This file holds the request's
// lifecycle; upstream_headers.go turns the upstream's headers into the
// response's, upstream_body.go relays the body and upstream_upgrade.go
// the upgraded byte stream.

import (
	"errors"
	"net/netip"
	"os"
	"syscall"
	"time"

	"gresty/errlog"
	"gresty/eventloop"
	"gresty/httpparse"
	"gresty/resolver"
)

// UpstreamProtocol is what an upstream module supplies to the machinery.
type UpstreamProtocol interface {
	// CreateRequest builds what is sent to the upstream before the
	// client's body: the request line, the headers and the empty line,
	// and the module's own body (proxy_set_body) when it replaces the
	// client's. It runs on the request's loop when the body has been
	// read (or as it starts to stream) and again for nothing else: a
	// retry sends the same bytes.
	CreateRequest(u *UpstreamRequest) (head, body []byte, err error)
}

// UpstreamResolved is an upstream address found at run time (proxy_pass
// with variables) that names no upstream block.
type UpstreamResolved struct {
	Host   string
	Port   int
	NoPort bool
	// Addrs holds the address when the host is a literal.
	Addrs []PeerAddr
}

// UpstreamState is one try's record, what the $upstream_* variables
// report (ngx_http_upstream_state_t). Times are milliseconds, -1 when the
// stage was not reached.
type UpstreamState struct {
	// Peer is the peer's name; HasPeer is false for the separator nginx
	// records between two upstream groups of one request.
	Peer           string
	HasPeer        bool
	Status         int
	ResponseTime   int64
	ConnectTime    int64
	HeaderTime     int64
	BytesReceived  int64
	BytesSent      int64
	ResponseLength int64
}

// UpstreamRequest is a request's exchange with an upstream, across its
// tries (nginx's ngx_http_upstream_t). It is created by NewUpstream on
// the request's loop, and every method runs there.
type UpstreamRequest struct {
	r     *Request
	Conf  *UpstreamConf
	Proto UpstreamProtocol
	// raw is Proto when its responses are not HTTP.
	raw UpstreamRawProtocol

	// Schema is the URL scheme as written ("http://"), for log lines.
	Schema string
	// URI is the request target sent to the upstream, for log lines; the
	// module sets it in CreateRequest.
	URI []byte
	// Srv is the upstream block the request goes to; the module sets it
	// (or Resolved) before Start when the address has variables.
	Srv      *UpstreamSrvConf
	Resolved *UpstreamResolved
	// HeadRequest tells that the method sent is HEAD, so the response
	// has no body.
	HeadRequest bool
	// RewriteRedirect rewrites a Location value, or a Refresh value from
	// prefix on (proxy_redirect); RewriteCookie a Set-Cookie value. They
	// return the new value and OK, Declined (unchanged) or Error.
	RewriteRedirect func(r *Request, value []byte, prefix int) ([]byte, int)
	RewriteCookie   func(r *Request, value []byte) ([]byte, int)

	states   []UpstreamState
	state    int
	stateBuf [2]UpstreamState

	peer Peer
	pc   PeerConn
	ec   *eventloop.Conn

	dialImmediate bool
	resolving     *resolver.Request
	startMs       int64
	peerStart     time.Time

	head        []byte
	setBody     []byte
	noBuffering bool
	started     bool
	// confOwned: Conf is this request's own copy (OwnConf).
	confOwned bool
	// the proxy_store file being written (upstream_store.go)
	storeFile *os.File
	storeName string
	storeOff  int64
	// streamed request body: streamBuf gathers what one read of the
	// client brought (and everything read before the request is sent),
	// which goes out as one piece (one chunk when chunked), as nginx
	// sends each read's buffers.
	streamBuf     []byte
	streamDone    bool
	streamChunked bool
	clientPaused  bool

	requestSent     bool
	requestBodySent bool
	queuedSent      int64

	buf        []byte
	resp       httpparse.Response
	headerDone bool
	headerSent bool
	keepalive  bool
	upgrade    bool
	buffering  bool
	// proxy_limit_rate: the second the body started, the body bytes
	// read since, and whether reading waits for the rate.
	limitStart  int64
	limitRead   int64
	rateDelayed bool
	connClose   bool
	http09      bool
	length      int64
	framing     httpparse.BodyFraming
	chunked     httpparse.ChunkedDecoder
	eof         bool
	// eofWhileSending: an unbuffered relay met the upstream's FIN along
	// with the bytes that came with the head (see startBody).
	eofWhileSending bool
	paused          bool
	clientError     bool
	finished        bool
	waitDrain       bool

	pend []byte
	// held is the decoded body kept back from a request that is not the
	// connection's active one (see output).
	held      []byte
	tf        *os.File
	tfBuf     *File // tf as response buffers refer to it
	tfOff     int64
	fileMode  bool
	fileSince int64

	upgraded      bool
	drainHook     uint8 // what a drain of the client's queue does (dh*)
	clientEOF     bool
	upstreamEOF   bool
	disableNotMod bool

	obuf [1]Buf

	action    string
	timerKind uint8
	progress  int64

	// store outlives the request: see recycle.
	store upstreamStore
}

// upstreamStore is what an UpstreamRequest keeps from one request to the
// next while its Request is pooled: memory and loop objects whose reuse
// makes a proxied request allocate nothing. Nothing in it refers to a
// request; the timers are stopped whenever a request ends.
type upstreamStore struct {
	// loop owns the timers.
	loop *eventloop.Loop
	// timer is the send and read timeout, ctimer the client's
	// send_timeout while output waits, wtimer the send timeout of an
	// upgraded connection.
	timer, ctimer, wtimer *eventloop.Timer
	// the methods the request and the loop call back, bound once
	cleanup func()
	dialed  func(*eventloop.Conn, error)
	stream  func(r *Request, data []byte, last bool)
	// mem holds the response head and the buffered relay's gathering
	// buffer (buf and pend).
	mem []byte
	// proto is the protocol of the previous request, for
	// RecycledProto.
	proto UpstreamProtocol
	// contentType is the last upstream Content-Type made a string,
	// reused while the upstream sends the same.
	contentType string
	// gen counts the requests served, so that a callback made for one
	// of them knows it when it comes late.
	gen uint64
}

// upstream timer purposes
const (
	utNone = iota
	utSend
	utRead
	utDelay // proxy_limit_rate's pause
)

// NewUpstream creates r's upstream for module conf and protocol proto
// (ngx_http_upstream_create); the records of an earlier upstream of the
// same request are kept for the $upstream_* variables. proto may be nil
// when the module sets Proto before Start (reusing RecycledProto). The
// first upstream of a request reuses the state the pooled request kept
// from an earlier one. Request loop only.
func (r *Request) NewUpstream(conf *UpstreamConf, proto UpstreamProtocol) *UpstreamRequest {
	old, _ := r.upstream.(*UpstreamRequest)
	var u *UpstreamRequest
	if old == nil && r.upstreamSpare != nil {
		u = r.upstreamSpare
	} else {
		// a second upstream of the same request, whose first one the
		// variables still read: a new one, kept by nobody.
		u = &UpstreamRequest{}
		if r.upstreamSpare == nil {
			r.upstreamSpare = u
		}
	}
	u.recycle(r)
	u.Conf, u.Proto = conf, proto
	if old != nil {
		if !old.finished {
			old.release(false)
		}
		u.states = old.states
	}
	r.upstream = u
	return u
}

// recycle clears u for a new request, keeping its store. The request it
// served before is over (its cleanup stopped the timers; its connection
// went to a cache or was closed, and connection callbacks compare the
// connection they report with u.ec), but the timers are stopped again, so
// that nothing armed for that request can fire on this one.
func (u *UpstreamRequest) recycle(r *Request) {
	st := u.store
	st.stopTimers()
	if st.loop != r.Conn.Loop() {
		st.loop, st.timer, st.ctimer, st.wtimer = r.Conn.Loop(), nil, nil, nil
	}
	st.proto = u.Proto
	st.gen++
	if st.cleanup == nil {
		st.cleanup, st.dialed, st.stream = u.cleanup, u.dialed, u.streamBody
	}
	resp := u.resp
	reuse := u.pc.reuse
	*u = UpstreamRequest{store: st, resp: resp, r: r, state: -1, length: -1}
	u.pc.reuse = reuse
	u.pc.r = r
}

func (st *upstreamStore) stopTimers() {
	for _, t := range [...]*eventloop.Timer{st.timer, st.ctimer, st.wtimer} {
		if t != nil {
			t.Stop()
		}
	}
}

// RecycledProto returns the protocol value of the request this upstream
// state served before, nil when there was none: a module may reinitialize
// it and set Proto instead of allocating one, as that request is over.
// Request loop only, between NewUpstream and Start.
func (u *UpstreamRequest) RecycledProto() UpstreamProtocol { return u.store.proto }

// UpstreamRequest returns the request's upstream, nil when none served it.
func (r *Request) UpstreamRequest() *UpstreamRequest {
	u, _ := r.upstream.(*UpstreamRequest)
	return u
}

// OwnConf gives the request its own copy of Conf, made on the first
// call, for settings changed for this request only (ngx.balancer's
// set_timeouts, as ngx_lua clones the upstream configuration). Request
// loop only.
func (u *UpstreamRequest) OwnConf() *UpstreamConf {
	if !u.confOwned {
		c := *u.Conf
		u.Conf = &c
		u.confOwned = true
	}
	return u.Conf
}

// RecreateRequest builds the request to the upstream again, from the
// request as it is now (ngx.balancer's recreate_request). Request loop
// only.
func (u *UpstreamRequest) RecreateRequest() error {
	head, body, err := u.Proto.CreateRequest(u)
	if err != nil {
		return err
	}
	u.head, u.setBody = head, body
	return nil
}

// PeerTries is how many more peers the request may try (nginx's
// u->peer.tries). Request loop only.
func (u *UpstreamRequest) PeerTries() int { return u.pc.Tries }

// PreviousStatus is the status the try before the current one ended
// with, 0 when this is the first (ngx.balancer's get_last_failure).
// Request loop only.
func (u *UpstreamRequest) PreviousStatus() int {
	if len(u.states) > 1 {
		return u.states[len(u.states)-2].Status
	}
	return 0
}

// Request returns the request the upstream serves.
func (u *UpstreamRequest) Request() *Request { return u.r }

// PeerConn returns the peer connection, for balancers that need the
// request's state.
func (u *UpstreamRequest) PeerConn() *PeerConn { return &u.pc }

// LogName implements Upstream: the upstream part of log lines, scheme,
// peer and URI ("http://127.0.0.1:8080/path").
func (u *UpstreamRequest) LogName() string {
	if u.pc.Name == "" {
		return ""
	}
	sep := ""
	if u.pc.Addr != nil && u.pc.Addr.Network == "unix" || u.lastUnix() {
		sep = ":"
	}
	return u.Schema + u.pc.Name + sep + string(u.URI)
}

func (u *UpstreamRequest) lastUnix() bool {
	return len(u.pc.Name) > 5 && u.pc.Name[:5] == "unix:"
}

// States returns the records of the request's tries.
func (u *UpstreamRequest) States() []UpstreamState { return u.states }

// Start reads the client's body as the location says, then connects
// (ngx_http_read_client_request_body with ngx_http_upstream_init).
// streamable tells that the module could send the body as it arrives
// (proxy_request_buffering off applies). It returns what the content
// handler returns: Done, or a status to finalize with.
func (u *UpstreamRequest) Start(streamable bool) int {
	r := u.r
	mr := r.Main
	// client_body_in_file_only has no effect then, as in nginx.
	u.noBuffering = streamable && !u.Conf.RequestBuffering && r == mr && mr.Body == nil && !mr.discardBody
	var rc int
	if u.noBuffering {
		rc = r.readBodyStream(u.store.stream, true)
		if rc == OK && !u.started {
			u.init()
		}
	} else {
		rc = r.ReadBody(upstreamInit)
	}
	if rc >= 300 {
		return rc
	}
	return Done
}

// upstreamInit starts the request's upstream once its body is read; a
// plain function, so that reading the body allocates no closure.
func upstreamInit(r *Request) {
	if u := r.UpstreamRequest(); u != nil {
		u.init()
	}
}

// NoBuffering tells whether the client's body is sent as it arrives, so
// the module frames it (r->request_body_no_buffering).
func (u *UpstreamRequest) NoBuffering() bool { return u.noBuffering }

// BodyReading tells whether the client's body goes to the upstream as it
// arrives: it is still being read, or it came whole but larger than
// client_body_buffer_size (nginx sent its buffers on as they filled).
// With a body that came whole and small, nginx proceeds as if it were
// buffered (a Content-Length, $request_body).
func (u *UpstreamRequest) BodyReading() bool {
	b := u.r.Main.Body
	return b != nil && (b.reading || (b.streaming && !b.whole))
}

// StreamChunked makes a streamed body go out in chunked framing (the
// module sent "Transfer-Encoding: chunked").
func (u *UpstreamRequest) StreamChunked() { u.streamChunked = true }

func (u *UpstreamRequest) nowMs() int64 { return u.r.Conn.loopNow().UnixMilli() }

// setAction records what the upstream is doing for the error log's
// " while <action>"; like nginx's c->log->action it belongs to the client
// connection, so the request's later lines say it too.
func (u *UpstreamRequest) setAction(a string) {
	u.action = a
	u.r.Conn.action = a
}

// upstreamWarn logs a balancer's warning in the upstream's context.
func (r *Request) upstreamWarn(msg string) {
	if u, ok := r.upstream.(*UpstreamRequest); ok && u != nil {
		u.r.Logf(errlog.Warn, "%s", msg)
		return
	}
	r.Logf(errlog.Warn, "%s", msg)
}

// init is ngx_http_upstream_init_request.
func (u *UpstreamRequest) init() {
	if u.started {
		return
	}
	u.started = true
	r := u.r
	r.eofHandler = upstreamClientEOF
	r.readHandler = upstreamClientRead
	head, body, err := u.Proto.CreateRequest(u)
	if err != nil {
		r.Finalize(500)
		return
	}
	u.head, u.setBody = head, body
	u.raw, _ = u.Proto.(UpstreamRawProtocol)
	u.buffering = u.Conf.Buffering
	if u.states != nil {
		u.states = append(u.states, UpstreamState{ResponseTime: -1, ConnectTime: -1, HeaderTime: -1})
		u.state = len(u.states) - 1
	} else {
		u.states = u.stateBuf[:0]
	}
	r.AddCleanup(u.store.cleanup)
	if u.Resolved != nil && u.Srv == nil {
		res := u.Resolved
		if len(res.Addrs) > 0 {
			u.peer = NewRRPeerData(ResolvedPeers(res.Host, res.Addrs), &u.pc)
			u.startPeer()
			return
		}
		if res.Port == 0 {
			r.Logf(errlog.Error, "no port in upstream \"%s\"", res.Host)
			u.finalize(500)
			return
		}
		u.resolve(res)
		return
	}
	us := u.Srv
	if us == nil {
		us = u.Conf.Upstream
		u.Srv = us
	}
	if us == nil || us.Balancer == nil {
		r.Logf(errlog.Alert, "no upstream configuration")
		u.finalize(500)
		return
	}
	p, err := us.Balancer.NewPeer(r, &u.pc)
	if err != nil {
		u.finalize(500)
		return
	}
	u.peer = p
	u.startPeer()
}

// startPeer begins the tries once the peers are known.
func (u *UpstreamRequest) startPeer() {
	u.peerStart = u.r.Conn.loopNow()
	if n := u.Conf.NextUpstreamTries; n > 0 && u.pc.Tries > n {
		u.pc.Tries = n
	}
	u.connect()
}

// resolve finds the addresses of a name given at run time with the
// location's resolver; without one nginx gives up with 502.
func (u *UpstreamRequest) resolve(res *UpstreamResolved) {
	r := u.r
	gen := u.store.gen
	q, ok := r.Resolve(res.Host, func(addrs []netip.Addr, err error) {
		if u.store.gen != gen {
			// the answer for an earlier request: a safety net, as
			// release cancels the query
			return
		}
		u.resolving = nil
		if u.finished {
			return
		}
		if err != nil {
			r.Logf(errlog.Error, "%s", err)
			u.finalize(502)
			return
		}
		peers := make([]PeerAddr, len(addrs))
		for i, a := range addrs {
			peers[i] = PeerAddrFor(a, res.Port)
		}
		u.peer = NewRRPeerData(ResolvedPeers(res.Host, peers), &u.pc)
		u.startPeer()
	})
	if !ok {
		r.Logf(errlog.Error, "no resolver defined to resolve %s", res.Host)
		u.finalize(502)
		return
	}
	if u.peer == nil && !u.finished {
		u.resolving = q
	}
}

// connect is ngx_http_upstream_connect: a new try.
func (u *UpstreamRequest) connect() {
	r := u.r
	u.setAction("connecting to upstream")
	now := u.nowMs()
	if u.state >= 0 && u.states[u.state].ResponseTime == -1 {
		u.states[u.state].ResponseTime = now - u.startMs
	}
	u.states = append(u.states, UpstreamState{ResponseTime: -1, ConnectTime: -1, HeaderTime: -1})
	u.state = len(u.states) - 1
	u.startMs = now
	rc := u.peer.Get(&u.pc)
	if rc == PeerError {
		u.finalize(500)
		return
	}
	st := &u.states[u.state]
	st.Peer, st.HasPeer = u.pc.Name, true
	if rc == PeerBusy {
		u.r.Logf(errlog.Error, "no live upstreams")
		u.next(UpstreamFTNoLive)
		return
	}
	if rc == PeerDeclined {
		// nginx does not count a declined try (no peer was chosen, so
		// none is freed) and loops until its stack overflows; counting
		// it keeps a balancer that always declines from taking the
		// process down.
		if u.pc.Tries > 0 {
			u.pc.Tries--
		}
		u.next(UpstreamFTError)
		return
	}
	u.resetResponse()
	u.requestSent, u.requestBodySent = false, false
	u.queuedSent = 0
	if rc == PeerCached {
		u.ec = u.pc.Conn
		u.ec.SetHandler(u)
		u.pc.ConnRequests++
		u.sendRequest()
		return
	}
	addr := u.pc.Addr
	u.pc.ConnRequests = 1
	u.pc.ConnStart = r.Conn.loopNow()
	u.dialImmediate = false
	var local eventloop.Local
	if l := u.Conf.Local; l != nil && addr.Network != "unix" {
		// ngx_http_upstream_set_local
		if v := l.Value.EvalBytes(r); len(v) > 0 {
			if ap, ok := ParseAddrPort(v); ok {
				local = eventloop.Local{AddrPort: ap, Transparent: l.Transparent}
			} else {
				r.Logf(errlog.Error, "invalid local address \"%s\"", v)
			}
		}
	}
	ec := r.Conn.Loop().DialBind(addr.Network, addr.Address, local, u.Conf.ConnectTimeout, u, u.store.dialed)
	u.ec = ec
	u.pc.Conn = ec
	u.dialImmediate = ec.Closed()
}

// dialed completes a connect started by connect.
func (u *UpstreamRequest) dialed(ec *eventloop.Conn, err error) {
	if ec != u.ec || u.finished {
		return
	}
	if err == nil {
		if u.Conf.SocketKeepalive {
			setSocketKeepalive(ec)
		}
		u.sendRequest()
		return
	}
	var le *eventloop.LimitError
	switch {
	case errors.As(err, &le):
		u.r.Logf(errlog.Alert, "%s", le.Error())
		u.pc.Conn, u.ec = nil, nil
		u.finalize(500)
	case errors.Is(err, eventloop.ErrClosed):
	case isLocalError(err):
		// ngx_event_connect_peer fails the request when it cannot bind.
		u.r.Logf(errlog.Crit, "%s", err.Error())
		u.pc.Conn, u.ec = nil, nil
		u.finalize(500)
	case u.dialImmediate:
		level := errlog.Crit
		if en, ok := eventloop.Errno(err); ok {
			switch en {
			case syscall.ECONNREFUSED, syscall.EAGAIN, syscall.ECONNRESET, syscall.ENETDOWN,
				syscall.ENETUNREACH, syscall.EHOSTDOWN, syscall.EHOSTUNREACH:
				level = errlog.Error
			}
		}
		u.r.Logf(level, "connect() to %s failed %s", u.pc.Name, eventloop.ErrnoText(err))
		u.pc.Conn, u.ec = nil, nil
		u.next(UpstreamFTError)
	case isTimeout(err):
		u.pc.Conn, u.ec = nil, nil
		u.next(UpstreamFTTimeout)
	default:
		u.connError(err, "connect() failed")
		u.pc.Conn, u.ec = nil, nil
		u.next(UpstreamFTError)
	}
}

// isLocalError tells a failure to set up the local end (proxy_bind).
func isLocalError(err error) bool {
	var oe *eventloop.OpError
	return errors.As(err, &oe) && (oe.Op == "bind" || oe.Op == "setsockopt")
}

func isTimeout(err error) bool {
	var oe *eventloop.OpError
	return errors.As(err, &oe) && oe.Timeout()
}

// connError logs a socket error as ngx_connection_error does for an
// upstream connection: expected network failures at error level, others
// as alerts.
func (u *UpstreamRequest) connError(err error, text string) {
	u.r.Logf(connErrorLevel(err, errlog.Error), "%s %s", text, eventloop.ErrnoText(err))
}

// connErrorLevel is ngx_connection_error's choice: expected for the
// network failures a peer causes, alert for anything else.
func connErrorLevel(err error, expected errlog.Level) errlog.Level {
	if en, ok := eventloop.Errno(err); ok {
		switch en {
		case 0, syscall.ECONNRESET, syscall.EPIPE, syscall.ENOTCONN, syscall.ETIMEDOUT, syscall.ECONNREFUSED,
			syscall.ENETDOWN, syscall.ENETUNREACH, syscall.EHOSTDOWN, syscall.EHOSTUNREACH:
			return expected
		}
	}
	return errlog.Alert
}

func (u *UpstreamRequest) resetResponse() {
	u.resp.Reset()
	u.resp.MaxHeadSize = int(u.Conf.BufferSize)
	if cap(u.buf) < int(u.Conf.BufferSize) {
		// the head buffer and, buffered, the body's gathering buffer in
		// one piece of memory, which the pooled upstream state keeps:
		// what refers to it (response headers, queued output) is done
		// with before the request is over.
		n, m := int(u.Conf.BufferSize), 0
		if u.Conf.Buffering {
			m = int(u.Conf.Bufs.Size)
		}
		mem := u.store.mem
		if cap(mem) < n+m {
			mem = make([]byte, n+m)
			u.store.mem = mem
		}
		u.buf = mem[:0:n]
		u.pend = mem[n : n : n+m]
	}
	u.buf = u.buf[:0]
	u.headerDone, u.keepalive, u.upgrade, u.connClose, u.http09 = false, false, false, false, false
	u.eof = false
	u.length = -1
	u.chunked.Reset()
}

// sendRequest is ngx_http_upstream_send_request: the head, then the body.
func (u *UpstreamRequest) sendRequest() {
	st := &u.states[u.state]
	if st.ConnectTime == -1 {
		st.ConnectTime = u.nowMs() - u.startMs
	}
	u.setAction("sending request to upstream")
	ec := u.ec
	u.requestSent = true
	if u.Conf.LimitRate > 0 && u.Conf.Buffering {
		// the head is read into proxy_buffer_size, as nginx reads it,
		// so the body's pace starts with what came with the head.
		ec.SetReadMax(int(u.Conf.BufferSize))
	}
	u.write(u.head, false)
	switch {
	case u.setBody != nil:
		u.write(u.setBody, true)
		u.streamDone = true
	case u.noBuffering:
		u.flushStream()
		if u.clientPaused {
			u.clientPaused = false
			u.r.Conn.ec.ResumeRead()
		}
	case u.Conf.PassRequestBody:
		// the request's own body: a subrequest may have one of its own
		// (echo_subrequest -b, ngx.location.capture's body).
		if b := u.r.Body; b != nil {
			if b.File != nil {
				if fi, err := b.File.Stat(); err == nil && fi.Size() > 0 {
					if ec.Sendfile(b.File, 0, fi.Size()) == nil {
						u.queuedSent += fi.Size()
					}
				}
			} else if len(b.mem) > 0 {
				if ec.WriteRef(b.mem) == nil {
					u.queuedSent += int64(len(b.mem))
				}
			}
		}
	}
	u.armTimer(utSend, u.Conf.SendTimeout)
}

// write queues bytes for the upstream, copied unless owned says they stay
// unchanged until sent.
func (u *UpstreamRequest) write(b []byte, owned bool) {
	if len(b) == 0 || u.ec == nil {
		return
	}
	var err error
	if owned {
		err = u.ec.WriteRef(b)
	} else {
		_, err = u.ec.Write(b)
	}
	if err == nil {
		u.queuedSent += int64(len(b))
	}
}

// requestWritten tells whether everything of the request is queued.
func (u *UpstreamRequest) requestWritten() bool {
	return !u.noBuffering || u.streamDone
}

// streamBody receives the client's body as it arrives when it is not
// buffered (proxy_request_buffering off), and forwards it.
func (u *UpstreamRequest) streamBody(r *Request, data []byte, last bool) {
	if u.finished {
		return
	}
	u.streamBuf = append(u.streamBuf, data...)
	if last {
		u.streamDone = true
	} else if len(data) > 0 {
		// more of this read may follow; a call without data ends it.
		return
	}
	if !u.started || u.ec == nil || !u.requestSent {
		if len(u.streamBuf) > int(r.Loc.ClientBodyBufferSize.V) && !u.clientPaused {
			u.clientPaused = true
			r.Conn.ec.PauseRead()
		}
		return
	}
	u.flushStream()
	if u.ec.Buffered() > int(r.Loc.ClientBodyBufferSize.V) {
		u.ec.Throttle(r.Conn.ec, int(r.Loc.ClientBodyBufferSize.V), 0)
	}
	if !u.requestBodySent {
		u.armTimer(utSend, u.Conf.SendTimeout)
	}
}

// flushStream queues the gathered body for the upstream, framed as one
// chunk when the request is chunked, with the last chunk once the body
// has ended.
func (u *UpstreamRequest) flushStream() {
	if u.streamChunked {
		var b []byte
		if len(u.streamBuf) > 0 {
			b = httpparse.AppendChunkHeader(nil, int64(len(u.streamBuf)))
			b = append(b, u.streamBuf...)
			b = append(b, '\r', '\n')
		}
		if u.streamDone {
			b = append(b, "0\r\n\r\n"...)
		}
		u.write(b, true)
	} else {
		u.write(u.streamBuf, false)
	}
	u.streamBuf = u.streamBuf[:0]
}

// OnDrain implements eventloop.Handler: the upstream took everything
// queued for it.
func (u *UpstreamRequest) OnDrain(ec *eventloop.Conn) {
	if ec != u.ec || u.finished {
		return
	}
	if u.upgraded {
		u.upgradedUpstreamDrained()
		return
	}
	if u.requestBodySent || !u.requestWritten() {
		if !u.requestBodySent && u.timerKind == utSend {
			u.stopTimer()
		}
		return
	}
	u.requestBodySent = true
	if u.timerKind == utSend {
		u.stopTimer()
	}
	if !u.headerSent && !u.headerDone {
		u.armTimer(utRead, u.Conf.ReadTimeout)
	}
}

// OnData implements eventloop.Handler.
func (u *UpstreamRequest) OnData(ec *eventloop.Conn, b []byte) {
	if ec != u.ec || u.finished {
		return
	}
	u.states[u.state].BytesReceived += int64(len(b))
	switch {
	case u.upgraded:
		u.upgradedFromUpstream(b)
	case !u.headerDone:
		u.processHeader(b)
	default:
		u.states[u.state].ResponseLength += int64(len(b))
		u.setAction("reading upstream")
		u.eofWhileSending = false
		if u.body(b) && u.Conf.LimitRate > 0 && u.buffering {
			u.paceRead(int64(len(b)))
		}
	}
}

// paceRead applies proxy_limit_rate after n body bytes were read, as
// nginx's event pipe does: each read is followed by a pause of the time
// the rate gives its bytes, and by the end of second k of the body
// (counted from when the head was read) at most rate*(k+1) bytes are
// read, each read taking no more than what is left of that and one
// proxy buffer.
func (u *UpstreamRequest) paceRead(n int64) {
	if u.finished || u.ec == nil || u.eof {
		return
	}
	u.limitRead += n
	if d := n * 1000 / u.Conf.LimitRate; d > 0 {
		u.delayRead(d)
		return
	}
	u.readAllowance()
}

// readAllowance lets the next read take what the rate allows this
// second, or waits until it allows some.
func (u *UpstreamRequest) readAllowance() {
	rate := u.Conf.LimitRate
	limit := rate*(u.r.Conn.loopNow().Unix()-u.limitStart+1) - u.limitRead
	if limit <= 0 {
		u.delayRead(-limit*1000/rate + 1)
		return
	}
	// a read fills one proxy buffer at most, as the pipe reads into its
	// buffers, so the pauses after reads spread the body over time even
	// when a new second allows much at once.
	u.ec.SetReadMax(int(min(limit, max(u.Conf.Bufs.Size, 1))))
	if !u.paused && u.ec.ReadPaused() {
		u.ec.ResumeRead()
	}
}

func (u *UpstreamRequest) delayRead(ms int64) {
	u.rateDelayed = true
	u.ec.PauseRead()
	u.armTimer(utDelay, time.Duration(ms)*time.Millisecond)
}

// OnReadEOF implements eventloop.Handler: the upstream closed its side.
func (u *UpstreamRequest) OnReadEOF(ec *eventloop.Conn) {
	if ec != u.ec || u.finished {
		return
	}
	u.eof = true
	switch {
	case u.upgraded:
		u.upgradedUpstreamEOF()
	case !u.headerDone:
		u.setAction("reading response header from upstream")
		u.r.Logf(errlog.Error, "upstream prematurely closed connection")
		u.next(UpstreamFTError)
	default:
		u.bodyEOF()
	}
}

// OnClose implements eventloop.Handler: the connection failed (a close
// asked for by the machinery is not reported).
func (u *UpstreamRequest) OnClose(ec *eventloop.Conn, err error) {
	if ec != u.ec || u.finished || err == nil {
		return
	}
	u.ec, u.pc.Conn = nil, nil
	var oe *eventloop.OpError
	if errors.As(err, &oe) {
		u.connError(err, oe.Op+"() failed")
	} else {
		u.r.Logf(errlog.Error, "%s", err)
	}
	switch {
	case u.upgraded:
		u.finalize(Error)
	case !u.headerDone:
		u.next(UpstreamFTError)
	default:
		u.finalize(502)
	}
}

func (u *UpstreamRequest) armTimer(kind uint8, d time.Duration) {
	st := &u.store
	if st.timer == nil {
		st.timer = st.loop.NewTimer(u.onTimer)
	}
	u.timerKind = kind
	st.timer.Reset(d)
}

func (u *UpstreamRequest) stopTimer() {
	if t := u.store.timer; t != nil {
		t.Stop()
	}
	u.timerKind = utNone
}

func (u *UpstreamRequest) onTimer() {
	kind := u.timerKind
	u.timerKind = utNone
	if u.finished {
		return
	}
	if kind == utDelay {
		u.rateDelayed = false
		if u.ec != nil {
			u.armTimer(utRead, u.Conf.ReadTimeout)
			u.readAllowance()
		}
		return
	}
	if kind == utRead && u.paused {
		// reading stopped because the client is slow: no timeout
		// while the relay waits on the client.
		u.armTimer(utRead, u.Conf.ReadTimeout)
		return
	}
	switch {
	case u.upgraded:
		u.r.Logf(errlog.Error, "upstream timed out %s", eventloop.ErrnoText(syscall.ETIMEDOUT))
		u.finalize(504)
	case !u.headerDone:
		if kind == utRead {
			u.setAction("reading response header from upstream")
		}
		u.next(UpstreamFTTimeout)
	default:
		u.setAction("reading upstream")
		u.r.Logf(errlog.Error, "upstream timed out %s", eventloop.ErrnoText(syscall.ETIMEDOUT))
		u.finalize(504)
	}
}

// next is ngx_http_upstream_next: the try failed with ft; try another
// peer or answer.
func (u *UpstreamRequest) next(ft uint32) {
	r := u.r
	if r.Log().Enabled(errlog.Debug) {
		r.Logf(errlog.Debug, "http next upstream, %x", ft)
	}
	if u.pc.Addr != nil {
		if u.ec != nil {
			u.states[u.state].BytesSent = u.sentBytes()
		}
		state := PeerFailed
		if ft == UpstreamFTHTTP403 || ft == UpstreamFTHTTP404 {
			state = PeerNext
		}
		u.pc.Keepalive = false
		u.peer.Free(&u.pc, state)
		u.pc.Addr = nil
	}
	if ft == UpstreamFTTimeout {
		u.r.Logf(errlog.Error, "upstream timed out %s", eventloop.ErrnoText(syscall.ETIMEDOUT))
	}
	if u.pc.Cached && ft == UpstreamFTError {
		u.pc.Tries++
	}
	status := 502
	switch ft {
	case UpstreamFTTimeout, UpstreamFTHTTP504:
		status = 504
	case UpstreamFTHTTP500:
		status = 500
	case UpstreamFTHTTP503:
		status = 503
	case UpstreamFTHTTP403:
		status = 403
	case UpstreamFTHTTP404:
		status = 404
	case UpstreamFTHTTP429:
		status = 429
	}
	if r.Conn.closed() || u.clientError {
		u.finalize(499)
		return
	}
	u.states[u.state].Status = status
	if u.requestSent && nonIdempotent(r) {
		ft |= UpstreamFTNonIdempotent
	}
	timeout := u.Conf.NextUpstreamTimeout
	if u.pc.Tries == 0 || u.Conf.NextUpstream&ft != ft || (u.requestSent && u.noBuffering) ||
		(timeout > 0 && r.Conn.loopNow().Sub(u.peerStart) >= timeout) {
		u.finalize(status)
		return
	}
	u.closeConn()
	u.connect()
}

func nonIdempotent(r *Request) bool {
	switch r.Method {
	case httpparse.MethodPOST, httpparse.MethodLOCK, httpparse.MethodPATCH:
		return true
	}
	return false
}

// sentBytes is how much of what was queued for the current connection
// left it.
func (u *UpstreamRequest) sentBytes() int64 {
	if u.ec == nil {
		return u.queuedSent
	}
	n := u.queuedSent - int64(u.ec.Buffered())
	if n < 0 {
		n = 0
	}
	return n
}

// closeConn closes the try's connection without a keepalive.
func (u *UpstreamRequest) closeConn() {
	u.stopTimer()
	if ec := u.ec; ec != nil {
		u.ec, u.pc.Conn = nil, nil
		ec.Close()
	}
	u.paused = false
}

// cleanup runs when the request ends, under the upstream (the client went
// away, or the request was terminated: the upstream side is released
// without touching the request) or after it (the client timer that
// watched the last output is stopped, as the pooled upstream state must
// not be reached by it once the request is over).
func (u *UpstreamRequest) cleanup() {
	if !u.finished {
		u.release(false)
	}
	u.waitDrain = false
	u.store.stopTimers()
}

// release frees the peer and the connection (a clean one may go to a
// keepalive cache) and stops the upstream's timers and handlers.
func (u *UpstreamRequest) release(clean bool) {
	u.finished = true
	r := u.r
	u.storeDrop()
	if u.resolving != nil {
		u.resolving.Cancel()
		u.resolving = nil
	}
	if u.state >= 0 {
		st := &u.states[u.state]
		if st.ResponseTime == -1 {
			st.ResponseTime = u.nowMs() - u.startMs
			if u.ec != nil {
				st.BytesSent = u.sentBytes()
			}
		}
	}
	u.stopTimer()
	u.store.stopTimers()
	if u.pc.Addr != nil {
		ec := u.ec
		u.pc.Keepalive = clean && u.keepalive && u.requestBodySent && !u.eof && ec != nil && !ec.Closed() &&
			ec.Buffered() == 0 && !u.upgraded
		if u.pc.Keepalive && (u.paused || u.rateDelayed) {
			ec.ResumeRead()
		}
		if u.pc.Keepalive && u.Conf.LimitRate > 0 {
			ec.SetReadMax(0)
		}
		u.peer.Free(&u.pc, 0)
		u.pc.Addr = nil
		if u.pc.Conn == nil {
			// a keepalive cache took the connection
			u.ec = nil
		}
	}
	u.closeConn()
	if u.clientPaused {
		u.clientPaused = false
		r.Conn.ec.ResumeRead()
	}
	if u.tf != nil {
		// a filter may still hold ranges of the file (the copy filter
		// waiting for the client): it closes once the request is done
		// and its output sent.
		f := u.tf
		u.tf, u.tfBuf = nil, nil
		mr := r.Main
		if mr.freed {
			mr.ReleaseAfterSend(func() { f.Close() })
		} else {
			mr.AddCleanup(func() { mr.ReleaseAfterSend(func() { f.Close() }) })
		}
	}
	u.drainHook = dhNone
	if r.upstream == u {
		r.readHandler, r.eofHandler = nil, nil
		if u.upgraded {
			r.drainHandler = nil
		}
	}
}

// finalize is ngx_http_upstream_finalize_request: release the upstream
// and finish the request with rc (0 for a complete response).
func (u *UpstreamRequest) finalize(rc int) {
	r := u.r
	if u.finished {
		return
	}
	u.storeFinish(rc == 0)
	u.release(rc == 0)
	if rc == Declined || (!u.headerSent && r.HeaderSent) {
		// declined: the request goes on elsewhere; or it was answered
		// meanwhile (a streamed body failed) and is finished already
		return
	}
	u.setAction("sending to client")
	if !u.headerSent || rc == 408 || rc == 499 {
		r.Finalize(rc)
		return
	}
	if rc == Error {
		// nginx closes at once: what it had not written yet is lost.
		if !r.Conn.closed() {
			r.Conn.ec.Close()
		}
		r.Finalize(Error)
		return
	}
	flush := false
	if rc >= 300 {
		rc, flush = Error, true
	}
	if r.HeaderOnly {
		r.Finalize(rc)
		return
	}
	if rc == 0 {
		if len(u.held) > 0 {
			bufs := u.obuf[:]
			bufs[0] = Buf{Data: u.held}
			u.held = nil
			if r.Output(bufs) == Error {
				r.Finalize(Error)
				return
			}
		}
		rc = r.SendLast()
	} else if flush {
		r.KeepAlive = false
		rc = r.SendFlush()
	}
	u.finishRequest(rc)
}

// finishRequest finalizes the request once what the relay queued for the
// client has left, as nginx's writer keeps a request until its output is
// sent before the connection may idle or close.
//
// Output a pending subrequest holds back (an SSI include the body started
// before the upstream was done) is not waited for: it cannot leave
// before that subrequest's turn, so the request is finalized now and its
// writer sends the rest once woken, as nginx's finalize does.
func (u *UpstreamRequest) finishRequest(rc int) {
	r := u.r
	if rc == OK && r == r.Main && !r.Conn.closed() && r.Conn.ec.Buffered() > 0 && !r.bufferedOutput() {
		u.waitDrain = true
		u.drainHook = dhFinish
		u.watchClient()
		return
	}
	r.Finalize(rc)
}

// upstreamOutputSent finishes a request whose upstream is done once the
// client took the rest of the response; a plain function, so that waiting
// allocates no closure.
func upstreamOutputSent(r *Request) {
	if u := r.UpstreamRequest(); u != nil {
		u.waitDrain = false
		if t := u.store.ctimer; t != nil {
			t.Stop()
		}
	}
	r.Finalize(OK)
}

// watchClient arms the client's send_timeout while output waits for the
// client: the timer is moved on as long as the client takes bytes.
func (u *UpstreamRequest) watchClient() {
	r := u.r
	st := &u.store
	if st.ctimer == nil {
		st.ctimer = st.loop.NewTimer(u.clientTimer)
	}
	if st.ctimer.Active() {
		return
	}
	u.progress = u.clientSent()
	st.ctimer.Reset(r.Loc.SendTimeout.V)
}

func (u *UpstreamRequest) clientSent() int64 {
	c := u.r.Conn
	if c.closed() {
		return u.r.BytesSent
	}
	return u.r.BytesSent - int64(c.ec.Buffered())
}

func (u *UpstreamRequest) clientTimer() {
	r := u.r
	waiting := u.waitDrain || (!u.finished && (u.paused || u.upgraded))
	if r.Conn.closed() || !waiting || r.Conn.ec.Buffered() == 0 {
		return
	}
	if sent := u.clientSent(); sent > u.progress {
		u.progress = sent
		u.store.ctimer.Reset(r.Loc.SendTimeout.V)
		return
	}
	r.Conn.timedout = true
	if !u.upgraded {
		u.setAction("sending to client")
	}
	r.Logf(errlog.Info, "client timed out %s", eventloop.ErrnoText(syscall.ETIMEDOUT))
	if u.waitDrain {
		u.drainHook = dhNone
		u.waitDrain = false
		r.Terminate(408)
		return
	}
	u.finalize(408)
}

func upstreamClientEOF(r *Request) {
	if u := r.UpstreamRequest(); u != nil {
		u.clientEOFHandler(r)
	}
}

func upstreamClientRead(r *Request) {
	if u := r.UpstreamRequest(); u != nil {
		u.clientReadHandler(r)
	}
}

// clientEOFHandler notices the client closing while the upstream works
// (ngx_http_upstream_check_broken_connection).
func (u *UpstreamRequest) clientEOFHandler(r *Request) {
	if u.upgraded {
		u.upgradedClientEOF()
		return
	}
	if u.finished || u.Conf.IgnoreClientAbort || u.Conf.Store != nil {
		// without the check nginx notices a gone client only when
		// writing to it fails (as it does while storing).
		return
	}
	u.clientError = true
	if u.ec != nil {
		u.r.Logf(errlog.Info, "epoll_wait() reported that client prematurely closed connection, so upstream connection is closed too")
		u.finalize(499)
		return
	}
	u.r.Logf(errlog.Info, "epoll_wait() reported that client prematurely closed connection")
	u.finalize(499)
}

// clientReadHandler takes what the client sends while the upstream works:
// a pipelined request stays queued; too much of it stops reading.
func (u *UpstreamRequest) clientReadHandler(r *Request) {
	if u.upgraded {
		u.upgradedFromClient()
		return
	}
	c := r.Conn
	if len(c.data)-c.pos > int(r.Loc.ClientBodyBufferSize.V) {
		c.ec.PauseRead()
	}
}

func setSocketKeepalive(ec *eventloop.Conn) {
	if fd := ec.Fd(); fd >= 0 {
		syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1)
	}
}
