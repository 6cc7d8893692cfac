package http

import (
	"os"

	"gresty/httpparse"
)

// This file is what the echo module (echo_location, echo_subrequest,
// echo_sleep, echo_exec, $echo_client_request_headers) needs of a request
// and its subrequests beyond the public fields; a module driving
// subrequests the way ngx.location.capture does needs the same. Every
// method here runs on the request's loop.

// Active tells whether r is the request that may write to the connection
// now (nginx's r == c->data): the main request, or the subrequest whose
// turn it is.
func (r *Request) Active() bool { return r.Conn.active == r }

// HasPostponed tells whether subrequests or output of r wait their turn
// (r->postponed).
func (r *Request) HasPostponed() bool { return len(r.postponed) > 0 }

// FlushPostponed runs the body filters with no new data when r is the
// active request and has postponed parts (ngx_http_output_filter(r,
// NULL)): the postpone filter sends the output it holds, or hands the
// connection to the next subrequest and wakes it. It returns the filters'
// result, OK when there was nothing to do.
func (r *Request) FlushPostponed() int {
	if r.Conn.active != r || len(r.postponed) == 0 {
		return OK
	}
	return r.Output(nil)
}

// Release drops a reference on the main request taken by Hold or
// ReadBody without finalizing anything (r->main->count--), for a handler
// that goes on by itself once the operation completed at once.
func (r *Request) Release() { r.Main.count-- }

// FreshVariables gives a subrequest variable values of its own, all
// unset, instead of sharing its parent's (echo's subrequests and
// ngx.location.capture do not inherit the parent's values). It is called
// right after Subrequest, before the subrequest runs.
func (r *Request) FreshVariables() {
	r.vars = make([]varValue, len(r.Conn.cfg.Main.vars.indexed))
}

// NewMemoryBody returns a complete request body holding data, for a
// request whose body a module provides (a subrequest's). data must stay
// unchanged for the request's life.
func NewMemoryBody(data []byte) *RequestBody {
	return &RequestBody{Done: true, Received: int64(len(data)), mem: data}
}

// NewFileBody returns a complete request body of size bytes held in f.
// The caller owns f and closes it when the request ends.
func NewFileBody(f *os.File, size int64) *RequestBody {
	return &RequestBody{Done: true, Received: size, File: f, keepFile: true}
}

// ClientHead returns the main request's head as the client sent it, from
// the request line to the empty line that ends it, with the client's own
// line breaks and spacing; nil when it is no longer at hand. The slice
// aliases the connection's input and is valid while the request is
// being processed; callers copy what they keep.
func (r *Request) ClientHead() []byte {
	mr := r.Main
	c := mr.Conn
	h := mr.Head
	if h != &c.head || h.HeadLen() == 0 {
		return nil
	}
	start, end := c.headStart+h.RequestStart(), c.headStart+h.HeadLen()
	if start < 0 || end > len(c.data) || start > end {
		return nil
	}
	head := c.data[start:end:end]
	line := h.RequestLine()
	if len(head) < len(line) || string(head[:len(line)]) != string(line) {
		return nil
	}
	return head
}

// ParseUnsafeURI splits a URI a module was given (echo_location,
// echo_exec, ngx.location.capture) at its "?" and checks it as
// ngx_http_parse_unsafe_uri does: it must not be empty, start with "?",
// hold a NUL or a "/../" or "/.." segment, before or after %XX decoding,
// which is applied when the path has a '%'. path is the decoded path
// (request memory when decoded, else a subslice of uri); args is nil when
// there is no "?".
func (r *Request) ParseUnsafeURI(uri []byte) (path, args []byte, ok bool) {
	if len(uri) == 0 || uri[0] == '?' || dotDotAt(uri, 0) {
		return nil, nil, false
	}
	quoted := false
	path = uri
	for i := 0; i < len(uri); i++ {
		ch := uri[i]
		if ch == '%' {
			quoted = true
			continue
		}
		if usualURIByte(ch) {
			continue
		}
		if ch == '?' {
			path, args = uri[:i], uri[i+1:]
			break
		}
		if ch == 0 {
			return nil, nil, false
		}
		if ch == '/' && len(uri)-i > 2 && dotDotAt(uri, i+1) {
			return nil, nil, false
		}
	}
	if !quoted {
		return path, args, true
	}
	dec, _ := httpparse.AppendUnescape(r.Alloc(len(path))[:0], path, httpparse.UnescapePlain)
	if len(dec) > 0 && dotDotAt(dec, 0) {
		return nil, nil, false
	}
	for i, ch := range dec {
		if ch == 0 {
			return nil, nil, false
		}
		if ch == '/' && len(dec)-i > 2 && dotDotAt(dec, i+1) {
			return nil, nil, false
		}
	}
	return dec, args, true
}

// dotDotAt tells whether b has a ".." segment at i: ".." at the end, or
// "../".
func dotDotAt(b []byte, i int) bool {
	return len(b)-i >= 2 && b[i] == '.' && b[i+1] == '.' && (len(b)-i == 2 || b[i+2] == '/')
}

// usualURIByte is nginx's "usual" table of URI bytes needing no special
// care: all but controls, space, '#', '%', '+', '.', '/', '?' and DEL.
func usualURIByte(c byte) bool {
	return usualURI[c>>5]&(1<<(c&0x1f)) != 0
}

var usualURI = [8]uint32{
	0x00000000, 0x7fff37d6, 0xffffffff, 0x7fffffff,
	0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
}
