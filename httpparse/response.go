package httpparse

// status-line parser states
const (
	slStart = iota
	slH
	slHT
	slHTT
	slHTTP
	slFirstMajorDigit
	slMajorDigit
	slFirstMinorDigit
	slMinorDigit
	slStatus
	slSpaceAfterStatus
	slStatusText
	slAlmostDone
)

// BodyFraming says how an upstream response body is delimited.
type BodyFraming uint8

// Body framings, as nginx's proxy module decides them.
const (
	// BodyNone: no body (1xx, 204, 304, a reply to HEAD, or
	// "Content-Length: 0").
	BodyNone BodyFraming = iota
	// BodyLength: ContentLength bytes.
	BodyLength
	// BodyChunked: chunked transfer coding (decode with ChunkedDecoder).
	BodyChunked
	// BodyClose: everything until the upstream closes the connection.
	BodyClose
)

// Upstream failures, in nginx's log wording; both lead to 502.
const (
	UpstreamInvalidHeader = "upstream sent invalid header"
	UpstreamTooBigHeader  = "upstream sent too big header"
)

// Response parses the head of an upstream HTTP response incrementally, as
// nginx's proxy module reads it (ngx_http_parse_status_line, then header
// lines with underscores allowed and IIS's repeated status lines skipped).
// The zero value is ready to use; reuse it with Reset. Slices it returns
// alias the buffer given to Parse and are valid until the next Reset while
// that buffer is unchanged.
//
// A Response belongs to the goroutine that owns the upstream connection.
type Response struct {
	// MaxHeadSize is proxy_buffer_size: a head that does not end within
	// that many bytes fails with UpstreamTooBigHeader. 0 means no limit.
	MaxHeadSize int

	phase     uint8
	state     uint8
	pos       int
	callStart int

	httpMajor, httpMinor int
	count                int
	statusStart          int
	statusEnd            int

	// StatusCode is the status code; 200 for an HTTP/0.9 response.
	StatusCode int
	// Version is major*1000+minor; 9 when the upstream sent no valid
	// status line (nginx then treats everything as the body).
	Version int
	// ContentLength is the last Content-Length header's value, or -1 if
	// absent, invalid, or overridden by chunked coding.
	ContentLength int64
	// Chunked reports a Transfer-Encoding header containing "chunked".
	Chunked bool
	// ConnectionClose reports that the upstream connection cannot be
	// reused: HTTP/1.0 or older, or a Connection header containing
	// "close".
	ConnectionClose bool

	line    lineState
	headers []header
	known   [numKnown]int32
	headEnd int
	failure string
	buf     []byte
	ready   bool // Reset has run
}

// Reset prepares r for a new response, keeping MaxHeadSize and its storage.
func (r *Response) Reset() {
	headers := r.headers[:0]
	if headers == nil {
		headers = make([]header, 0, 16)
	}
	*r = Response{MaxHeadSize: r.MaxHeadSize, headers: headers, ContentLength: -1, ready: true}
}

// Parse continues parsing the response head in buf, which must begin with
// the response's first byte and keep earlier bytes unchanged across calls.
// It returns Done when the head is complete (HeadLen marks the body's
// start), NeedMore, or Failed (see Failure).
func (r *Response) Parse(buf []byte) State {
	if !r.ready {
		r.Reset()
	}
	r.buf = buf
	if r.phase == phaseDone {
		return Done
	}
	if r.phase == phaseFailed {
		return Failed
	}
	maxSize := maxHeadSize
	if r.MaxHeadSize > 0 {
		maxSize = min(r.MaxHeadSize, maxHeadSize)
	}
	limit := min(len(buf), maxSize)
	r.callStart = r.pos
	if r.phase == phaseRequestLine && !r.parseStatusLine(buf, limit) {
		return r.result()
	}
	if r.phase == phaseHeaders {
		r.parseHeaders(buf, limit)
	}
	if r.phase < phaseDone && r.pos >= maxSize {
		r.phase = phaseFailed
		r.failure = UpstreamTooBigHeader
	}
	return r.result()
}

func (r *Response) result() State {
	switch r.phase {
	case phaseDone:
		return Done
	case phaseFailed:
		return Failed
	}
	return NeedMore
}

// parseStatusLine returns true when the status line is complete and header
// parsing should follow.
func (r *Response) parseStatusLine(b []byte, end int) bool {
	p, st := r.pos, int(r.state)
	for ; p < end; p++ {
		ch := b[p]
		switch st {
		case slStart, slH, slHT, slHTT, slHTTP:
			if ch != "HTTP/"[st] {
				return r.http09()
			}
			st++
		case slFirstMajorDigit:
			if ch < '1' || ch > '9' {
				return r.http09()
			}
			r.httpMajor = int(ch - '0')
			st = slMajorDigit
		case slMajorDigit:
			if ch == '.' {
				st = slFirstMinorDigit
				continue
			}
			if ch < '0' || ch > '9' || r.httpMajor > 99 {
				return r.http09()
			}
			r.httpMajor = r.httpMajor*10 + int(ch-'0')
		case slFirstMinorDigit:
			if ch < '0' || ch > '9' {
				return r.http09()
			}
			r.httpMinor = int(ch - '0')
			st = slMinorDigit
		case slMinorDigit:
			if ch == ' ' {
				st = slStatus
				continue
			}
			if ch < '0' || ch > '9' || r.httpMinor > 99 {
				return r.http09()
			}
			r.httpMinor = r.httpMinor*10 + int(ch-'0')
		case slStatus:
			if ch == ' ' {
				continue
			}
			if ch < '0' || ch > '9' {
				return r.http09()
			}
			r.StatusCode = r.StatusCode*10 + int(ch-'0')
			r.count++
			if r.count == 3 {
				st = slSpaceAfterStatus
				r.statusStart = p - 2
			}
		case slSpaceAfterStatus:
			switch ch {
			case ' ', '.': // IIS may send "403.1"
				st = slStatusText
			case '\r':
				st = slAlmostDone
			case '\n':
				return r.statusLineDone(p, p)
			default:
				return r.http09()
			}
		case slStatusText:
			switch ch {
			case '\r':
				st = slAlmostDone
			case '\n':
				return r.statusLineDone(p, p)
			}
		case slAlmostDone:
			if ch != '\n' {
				return r.http09()
			}
			return r.statusLineDone(p, p-1)
		}
	}
	r.pos = p
	r.state = uint8(st)
	return false
}

// http09 handles a response without a valid status line: nginx treats all
// of it, from where the failing read began, as an HTTP/0.9 body.
func (r *Response) http09() bool {
	r.Version = 9
	r.StatusCode = 200
	r.ConnectionClose = true
	r.headEnd = r.callStart
	r.pos = r.callStart
	r.phase = phaseDone
	return false
}

func (r *Response) statusLineDone(p, textEnd int) bool {
	r.pos = p + 1
	r.statusEnd = textEnd
	r.Version = r.httpMajor*1000 + r.httpMinor
	if r.Version < 1001 {
		r.ConnectionClose = true
	}
	r.phase = phaseHeaders
	return true
}

func (r *Response) parseHeaders(b []byte, end int) {
	p := r.pos
	for {
		res := lineAgain
		if r.line.state == hStart {
			if np, ok := fastHeaderLine(b, p, end, &r.line); ok {
				p, res = np, lineDone
			}
		}
		if res == lineAgain {
			p, res = parseHeaderLine(b, p, end, &r.line, true, true)
		}
		r.pos = p
		switch res {
		case lineAgain:
			return
		case lineInvalid:
			r.phase = phaseFailed
			r.failure = UpstreamInvalidHeader
			return
		case lineHeadDone:
			r.headEnd = p
			r.phase = phaseDone
			if r.Chunked {
				r.ContentLength = -1
			}
			return
		}
		l := &r.line
		k := LookupHeader(b[l.nameStart:l.nameEnd])
		r.headers = pushHeader(r.headers, l, k)
		if k == HdrOther {
			continue
		}
		if r.known[k] == 0 {
			r.known[k] = int32(len(r.headers))
		}
		v := b[l.valStart:l.valEnd]
		switch k {
		case HdrContentLength:
			if n, ok := parseOff(v); ok {
				r.ContentLength = n
			} else {
				r.ContentLength = -1
			}
		case HdrTransferEncoding:
			if indexFoldLower(v, "chunked") >= 0 {
				r.Chunked = true
			}
		case HdrConnection:
			if indexFoldLower(v, "close") >= 0 {
				r.ConnectionClose = true
			}
		}
	}
}

// HeadLen returns the length of the head; the body starts there.
func (r *Response) HeadLen() int { return r.headEnd }

// Failure returns nginx's log text for a failed head, or "".
func (r *Response) Failure() string { return r.failure }

// StatusLine returns the status line from the code on ("200 OK"), without
// CRLF, as nginx keeps it for $upstream_status's line; nil for HTTP/0.9.
func (r *Response) StatusLine() []byte {
	if r.Version == 9 || r.statusEnd == 0 {
		return nil
	}
	return r.buf[r.statusStart:r.statusEnd:r.statusEnd]
}

// NumHeaders returns the number of header lines, in order.
func (r *Response) NumHeaders() int { return len(r.headers) }

// Header returns header line i, 0 <= i < NumHeaders().
func (r *Response) Header(i int) HeaderField {
	h := &r.headers[i]
	return HeaderField{
		Name:  r.buf[h.nameStart:h.nameEnd:h.nameEnd],
		Value: r.buf[h.valStart:h.valEnd:h.valEnd],
		Known: h.known,
	}
}

// Get returns the value of the first header named k, or nil.
func (r *Response) Get(k KnownHeader) []byte {
	if k >= numKnown || r.known[k] == 0 {
		return nil
	}
	h := &r.headers[r.known[k]-1]
	return r.buf[h.valStart:h.valEnd:h.valEnd]
}

// Framing decides how the body is delimited, as nginx's proxy module does;
// headRequest reports that the request was HEAD.
func (r *Response) Framing(headRequest bool) BodyFraming {
	switch {
	case r.Version == 9:
		return BodyClose
	case headRequest, r.StatusCode == 204, r.StatusCode == 304,
		r.StatusCode >= 100 && r.StatusCode < 200:
		return BodyNone
	case r.Chunked:
		return BodyChunked
	case r.ContentLength == 0:
		return BodyNone
	case r.ContentLength > 0:
		return BodyLength
	}
	return BodyClose
}
