package http

// Upstream protocols whose responses are not HTTP (the memcached text
// protocol of the memc module): the module reads the response head and
// frames the body itself, as an nginx module's process_header and
// input_filter callbacks do, while connecting, retries, timeouts,
// keepalive pools and the relay to the client stay the machinery's.

import (
	"gresty/errlog"
	"gresty/httpparse"
)

// UpstreamRawProtocol is an UpstreamProtocol whose responses the module
// parses. Its methods run on the request's loop.
type UpstreamRawProtocol interface {
	UpstreamProtocol
	// ProcessHeader looks at the response read so far (buf, at most
	// the location's buffer size; it may be called again with more)
	// and tells what it is. buf is valid until the request ends; a
	// RawHead's Body may refer to it.
	ProcessHeader(u *UpstreamRequest, buf []byte) RawHead
	// FilterBody takes the response bytes that follow the head, as
	// they come, when the head announced Length of them. It returns the
	// part of b that goes to the client (a sub-slice of b, valid during
	// the call), and, once the body is complete, done, with whether the
	// connection may be kept.
	FilterBody(u *UpstreamRequest, b []byte) (data []byte, done, keepalive bool)
}

// Results of UpstreamRawProtocol.ProcessHeader.
const (
	// RawAgain: the head is incomplete; more is read while the buffer
	// has room ("upstream sent too big header" otherwise).
	RawAgain = iota
	// RawOK: the head is complete.
	RawOK
	// RawInvalid: the upstream answered something else; the try fails
	// as an invalid header (next upstream, or 502).
	RawInvalid
)

// RawHead is what a raw protocol found in a response head.
type RawHead struct {
	// Result is RawAgain, RawOK or RawInvalid.
	Result int
	// Status is the response's status.
	Status int
	// HeadLen is how many bytes of the buffer the head took; what
	// follows them is body.
	HeadLen int
	// Body, when not nil, is the whole body (the module answers with
	// what it read, e.g. a whole memcached reply); nothing more is read.
	Body []byte
	// ContentLength is the response's Content-Length, -1 for none.
	ContentLength int64
	// Length is how many raw bytes follow the head (FilterBody frames
	// them); 0 when the head was all of it.
	Length int64
	// Keepalive tells that the connection may be kept once the
	// response is over (for a body read by FilterBody, it decides).
	Keepalive bool
	// Intercept drops the response: the request is finalized with
	// Status, error pages and all (nginx's intercept_404).
	Intercept bool
}

// processRawHeader is processHeader for a raw protocol.
func (u *UpstreamRequest) processRawHeader(b []byte) {
	u.setAction("reading response header from upstream")
	room := cap(u.buf) - len(u.buf)
	n := min(len(b), room)
	u.buf = append(u.buf, b[:n]...)
	rest := b[n:]
	h := u.raw.ProcessHeader(u, u.buf)
	switch h.Result {
	case RawAgain:
		if len(u.buf) == cap(u.buf) {
			u.r.Logf(errlog.Error, "upstream sent too big header")
			u.next(UpstreamFTInvalidHeader)
		}
		return
	case RawInvalid:
		u.next(UpstreamFTInvalidHeader)
		return
	}
	u.headerDone = true
	r := u.r
	st := &u.states[u.state]
	st.HeaderTime = u.nowMs() - u.startMs
	st.Status = h.Status
	u.keepalive = h.Keepalive && h.Length == 0
	if h.Status >= 300 {
		if u.testNext(h.Status) {
			return
		}
		if h.Intercept {
			u.release(true)
			u.setAction("sending to client")
			r.Finalize(h.Status)
			return
		}
		if u.interceptErrors(h.Status) {
			return
		}
	}
	out := &r.Out
	out.Status = h.Status
	out.ContentLength = h.ContentLength
	u.disableNotMod = true
	if u.Conf.ForceRanges {
		out.AllowRanges = true
	}
	if r.HeaderSent {
		u.release(false)
		return
	}
	rc := r.SendHeader()
	if rc == Error || rc > OK {
		u.finalize(rc)
		return
	}
	u.headerSent = true
	if r.HeaderOnly {
		u.finalize(rc)
		return
	}
	r.LimitRate, r.limitRateSet = 0, true
	if r.Loc.TCPNodelay.V {
		r.Conn.ec.SetNoDelay(true)
	}
	if h.Length == 0 {
		if h.Body != nil {
			st.ResponseLength += int64(len(h.Body))
		} else {
			st.ResponseLength += int64(len(u.buf) - h.HeadLen)
		}
		if len(h.Body) > 0 && !u.output(h.Body) {
			return
		}
		u.finalize(0)
		return
	}
	// a closed connection before the end is a truncated body
	u.framing = httpparse.BodyLength
	u.length = h.Length
	u.armTimer(utRead, u.Conf.ReadTimeout)
	// what came with the head is filtered while the head is read, as
	// nginx does, the rest as read from the upstream
	for i, p := range [2][]byte{u.buf[h.HeadLen:], rest} {
		if i == 1 {
			u.setAction("reading upstream")
		}
		if len(p) == 0 {
			continue
		}
		st.ResponseLength += int64(len(p))
		if !u.rawDecode(p) {
			return
		}
	}
	u.setAction("reading upstream")
}

// rawDecode passes body bytes through the protocol's filter. It reports
// false once the relay ended.
func (u *UpstreamRequest) rawDecode(b []byte) bool {
	data, done, keep := u.raw.FilterBody(u, b)
	if done {
		u.keepalive = keep
		u.length = 0
	}
	if len(data) > 0 && !u.output(data) {
		return false
	}
	if done {
		u.finalize(0)
		return false
	}
	return true
}

// Logf logs in the request's context with what the upstream is doing
// (" while reading response header from upstream"), as the messages of
// an nginx upstream module's callbacks read.
func (u *UpstreamRequest) Logf(level errlog.Level, format string, args ...any) {
	u.r.Logf(level, format, args...)
}
