package httpparse

// Accessors for a parsed request. Unless said otherwise they are meaningful
// once Parse has returned Done (the request-line ones as soon as the request
// line is complete), and return slices that alias the buffer given to Parse
// or the Request's scratch space (see Request).

func (r *Request) bytes(s span) []byte { return r.buf[s.start:s.end:s.end] }

// HeadLen returns the length of the head (including any CRs and LFs before
// the request line), so that buf[HeadLen():] is the start of the body or of
// the next request.
func (r *Request) HeadLen() int { return r.headEnd }

// Status returns the verdict: 0 while the head is incomplete or has passed,
// else the status nginx answers with (400, 405, 414, 494, 501 or 505; see
// WireStatus for 494).
func (r *Request) Status() int { return r.status }

// Reason returns why the head was rejected, or ReasonNone.
func (r *Request) Reason() Reason { return r.reason }

// ErrorText returns what nginx quotes after Reason in its log line: the
// request line, or the offending header line as far as nginx had read it.
// prev is the earlier header line for duplicate-header reasons (else nil);
// bad is the byte nginx prints as "\xNN" after an invalid header line, or
// -1.
func (r *Request) ErrorText() (text, prev []byte, bad int) {
	if r.phase != phaseFailed {
		return nil, nil, -1
	}
	text = r.bytes(r.errA)
	if r.errB.end > 0 {
		prev = r.bytes(r.errB)
	}
	return text, prev, r.errByte
}

// RequestLine returns the request line without its CRLF.
func (r *Request) RequestLine() []byte { return r.buf[r.reqStart:r.reqEnd:r.reqEnd] }

// RequestStart returns the offset of the request line in the buffer (after
// any leading CRs and LFs).
func (r *Request) RequestStart() int { return r.reqStart }

// MethodName returns the method as sent.
func (r *Request) MethodName() []byte { return r.buf[r.reqStart:r.methodEnd:r.methodEnd] }

// RawURI returns the request target as sent, nginx's $request_uri (for an
// absolute URI without a path, the single "/").
func (r *Request) RawURI() []byte { return r.buf[r.uriStart:r.uriEnd:r.uriEnd] }

// ValidRawURI reports whether RawURI can be sent upstream as is; it cannot
// when the absolute URI had no path (nginx's valid_unparsed_uri).
func (r *Request) ValidRawURI() bool { return !r.EmptyPathInURI }

// Path returns the normalised, percent-decoded path: nginx's $uri at the
// start of the request.
func (r *Request) Path() []byte {
	if r.pathInBuf {
		return r.bytes(r.path)
	}
	return r.scratch[r.path.start:r.path.end:r.path.end]
}

// Args returns the query string without '?' and fragment ($args), or nil.
func (r *Request) Args() []byte {
	if !r.hasArgs {
		return nil
	}
	return r.bytes(r.args)
}

// Exten returns the extension of the path's last segment ($exten
// material), or nil.
func (r *Request) Exten() []byte {
	if r.exten.end == 0 {
		return nil
	}
	if r.extenInBuf {
		return r.bytes(r.exten)
	}
	return r.scratch[r.exten.start:r.exten.end:r.exten.end]
}

// Schema returns the scheme of an absolute request URI, or nil.
func (r *Request) Schema() []byte {
	if r.schemaStart < 0 {
		return nil
	}
	return r.buf[r.schemaStart:r.schemaEnd:r.schemaEnd]
}

// Host returns the host of an absolute request URI as sent (without port),
// or nil.
func (r *Request) Host() []byte {
	if r.hostEnd < 0 {
		return nil
	}
	return r.buf[r.hostStart:r.hostEnd:r.hostEnd]
}

// Port returns the port of an absolute request URI, or nil.
func (r *Request) Port() []byte {
	if r.portEnd < 0 {
		return nil
	}
	return r.buf[r.hostEnd+1 : r.portEnd : r.portEnd]
}

// Protocol returns "HTTP/x.y" as sent, or nil for HTTP/0.9.
func (r *Request) Protocol() []byte {
	if r.protoStart < 0 {
		return nil
	}
	return r.buf[r.protoStart:r.reqEnd:r.reqEnd]
}

// Server returns the host the request names, lower-cased, without port and
// trailing dot: from an absolute URI, else from the Host header; nil if
// neither (nginx then uses the default server's name).
func (r *Request) Server() []byte {
	if !r.hasServer {
		return nil
	}
	if r.serverLow {
		return r.hostScratch
	}
	return r.bytes(r.server)
}

// NumHeaders returns the number of header lines kept, in order.
func (r *Request) NumHeaders() int { return len(r.headers) }

// Header returns header line i, 0 <= i < NumHeaders().
func (r *Request) Header(i int) HeaderField {
	h := &r.headers[i]
	return HeaderField{
		Name:  r.buf[h.nameStart:h.nameEnd:h.nameEnd],
		Value: r.buf[h.valStart:h.valEnd:h.valEnd],
		Known: h.known,
	}
}

// Get returns the value of the first header named k, as nginx's
// r->headers_in fields hold it, or nil.
func (r *Request) Get(k KnownHeader) []byte {
	if k >= numKnown || r.known[k] == 0 {
		return nil
	}
	h := &r.headers[r.known[k]-1]
	return r.buf[h.valStart:h.valEnd:h.valEnd]
}

// Index returns the index of the first header named k, or -1.
func (r *Request) Index(k KnownHeader) int {
	if k >= numKnown {
		return -1
	}
	return int(r.known[k]) - 1
}

// Lookup returns the value of the first header whose name equals name
// without regard to ASCII case.
func (r *Request) Lookup(name []byte) ([]byte, bool) {
	for i := range r.headers {
		h := &r.headers[i]
		n := r.buf[h.nameStart:h.nameEnd]
		if len(n) == len(name) && asciiEqualFold(n, name) {
			return r.buf[h.valStart:h.valEnd:h.valEnd], true
		}
	}
	return nil, false
}

// NumIgnored returns the number of header lines skipped as invalid
// (ignore_invalid_headers, underscores_in_headers); nginx logs each.
func (r *Request) NumIgnored() int { return len(r.ignored) }

// Ignored returns skipped header line i as nginx quotes it in its log.
func (r *Request) Ignored(i int) []byte { return r.bytes(r.ignored[i]) }

// KeepAlive reports whether the connection may be kept open after this
// request, by the rule of nginx's ngx_http_handler (before keepalive_timeout,
// keepalive_requests and error handling have their say).
func (r *Request) KeepAlive() bool {
	switch r.Connection {
	case ConnectionClose:
		return false
	case ConnectionKeepAlive:
		return true
	}
	return r.Version > 1000
}

func asciiEqualFold(a, b []byte) bool {
	for i := range a {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// BufferEnd returns the offset in the buffer at which nginx's current header
// buffer ends, and LargeBuffers the number of large header buffers the head
// used. A caller that finds a pipelined request at offset off < BufferEnd()
// after this one's head and body starts it with
// ResetPipelined(cfg, BufferEnd()-off, min(LargeBuffers(), 1)).
func (r *Request) BufferEnd() int { return r.winEnd }

// LargeBuffers returns how many large header buffers the head used.
func (r *Request) LargeBuffers() int { return r.large }
