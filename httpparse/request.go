package httpparse

// Config holds the server{} settings that shape how a request head is read.
// The zero value is nginx's defaults.
type Config struct {
	// ClientHeaderBufferSize is client_header_buffer_size; 0 means 1k.
	ClientHeaderBufferSize int
	// LargeHeaderBuffers and LargeHeaderBufferSize are
	// large_client_header_buffers; 0 means 4 and 8k.
	LargeHeaderBuffers    int
	LargeHeaderBufferSize int
	// UnderscoresInHeaders is underscores_in_headers (default off).
	UnderscoresInHeaders bool
	// KeepInvalidHeaders is "ignore_invalid_headers off": header lines whose
	// names hold bytes other than letters, digits, '-' (and '_' when
	// allowed) are kept instead of being skipped. (nginx does not reject
	// them in either mode; control bytes and spaces in names always are.)
	KeepInvalidHeaders bool
	// NoMergeSlashes is "merge_slashes off".
	NoMergeSlashes bool
	// SelectServer, if set, is called once the request's host is known:
	// with the host of an absolute request URI, or else of the first Host
	// header, after validation and without port or trailing dot (case is
	// preserved). If it returns a Config, that Config governs the rest of the
	// head, as nginx reads the remaining header lines with the settings of
	// the server{} the host selects. It runs on the caller's goroutine
	// during Parse.
	SelectServer func(host []byte) *Config
}

// maxHeadSize bounds every buffer size; with the buffer count bounded as
// well, offsets within a head fit in int32.
const maxHeadSize = 1 << 30

func (c *Config) sizes() (first, largeNum, largeSize int) {
	first, largeNum, largeSize = 1024, 4, 8192
	if c == nil {
		return
	}
	if c.ClientHeaderBufferSize > 0 {
		first = min(c.ClientHeaderBufferSize, maxHeadSize)
	}
	if c.LargeHeaderBuffers > 0 {
		largeNum = c.LargeHeaderBuffers
	}
	if c.LargeHeaderBufferSize > 0 {
		largeSize = min(c.LargeHeaderBufferSize, maxHeadSize)
	}
	// a head, with all its buffers, must stay addressable by int32
	largeNum = min(largeNum, (1<<31-1-first)/largeSize)
	return
}

// State is the outcome of a Parse call.
type State uint8

const (
	// NeedMore means the head is incomplete and no error has been found
	// in the bytes seen so far: call Parse again with more bytes.
	NeedMore State = iota
	// Done means the head is complete and passed every check nginx makes
	// before running the request's phases.
	Done
	// Failed means the head was rejected; Status and Reason say how.
	Failed
)

// ConnectionType is what the Connection header asked for.
type ConnectionType uint8

// Connection header verdicts, as nginx's NGX_HTTP_CONNECTION_*.
const (
	ConnectionDefault ConnectionType = iota
	ConnectionClose
	ConnectionKeepAlive
)

// HeaderField is one header line of a parsed head. Name and Value alias the
// buffer given to Parse.
type HeaderField struct {
	Name  []byte
	Value []byte
	Known KnownHeader
}

type header struct {
	nameStart, nameEnd int32
	valStart, valEnd   int32
	known              KnownHeader
}

type span struct{ start, end int32 }

// request-line parser states
const (
	rlStart = iota
	rlMethod
	rlSpacesBeforeURI
	rlSchema
	rlSchemaSlash
	rlSchemaSlashSlash
	rlHostStart
	rlHost
	rlHostEnd
	rlHostIPLiteral
	rlPort
	rlAfterSlashInURI
	rlCheckURI
	rlURI
	rlHTTP09
	rlHTTPH
	rlHTTPHT
	rlHTTPHTT
	rlHTTPHTTP
	rlFirstMajorDigit
	rlMajorDigit
	rlFirstMinorDigit
	rlMinorDigit
	rlSpacesAfterDigit
	rlAlmostDone
)

// phases of a request head
const (
	phaseRequestLine = iota
	phaseHeaders
	phaseDone
	phaseFailed
)

// Request parses one request head, incrementally, and holds what nginx
// derives from it. A Request is reused across requests with Reset; after
// the first few requests it allocates nothing. The zero value parses with
// nginx's defaults.
//
// Every byte slice a Request returns aliases either the buffer passed to
// Parse or the Request's own scratch space; it is valid until the next
// Reset, and only while the caller leaves the buffer's bytes unchanged.
//
// A Request belongs to the goroutine that owns the connection.
type Request struct {
	cfg *Config

	phase uint8
	state uint8 // request-line state
	pos   int   // next byte to examine

	// nginx's header buffers, as a window over the byte stream: bytes at
	// or past winEnd have not been read by nginx yet.
	winEnd   int
	winCap   int
	large    int
	started  bool // a header line has been started
	reqStart int
	reqEnd   int

	methodEnd   int
	uriStart    int
	uriEnd      int
	argsStart   int
	schemaStart int
	schemaEnd   int
	hostStart   int
	hostEnd     int
	portEnd     int
	protoStart  int
	uriExt      int
	httpMajor   int
	httpMinor   int

	// Method is the request method; MethodUnknown for names nginx does
	// not know.
	Method Method
	// Version is nginx's http_version: major*1000+minor, 9 for HTTP/0.9.
	Version int
	// ComplexURI, QuotedURI, PlusInURI and EmptyPathInURI are nginx's
	// request-line flags: the raw URI holds "//", "/." or '#' (complex),
	// '%' (quoted), '+', or is an absolute URI with no path ("empty path").
	ComplexURI     bool
	QuotedURI      bool
	PlusInURI      bool
	EmptyPathInURI bool

	line    lineState
	headers []header
	ignored []span
	known   [numKnown]int32

	headEnd int
	status  int
	reason  Reason
	errA    span
	errB    span
	errByte int

	// ContentLength is the parsed Content-Length, or -1 without one.
	ContentLength int64
	// Chunked reports "Transfer-Encoding: chunked".
	Chunked bool
	// Connection is the verdict of the Connection headers.
	Connection ConnectionType

	path       span
	pathInBuf  bool // path aliases the input, not scratch
	args       span
	hasArgs    bool
	exten      span
	extenInBuf bool
	server     span
	serverLow  bool // server is in hostScratch
	hasServer  bool

	scratch     []byte // decoded URI
	hostScratch []byte // lower-cased server name
	buf         []byte
}

// Reset prepares r for a new request whose first byte is at the start of a
// fresh client header buffer (a new connection, or a keepalive connection
// with nothing buffered). cfg may be nil for nginx's defaults; r keeps the
// pointer until the next Reset.
func (r *Request) Reset(cfg *Config) {
	first, _, _ := cfg.sizes()
	r.reset(cfg, first, 0, first)
}

// ResetPipelined prepares r for a pipelined request whose bytes already sit
// in nginx's current header buffer: window is the room from the request's
// first byte to the end of that buffer, and large is the number of large
// header buffers it counts against (1 if the previous request had moved to
// a large buffer, else 0), as nginx's ngx_http_set_keepalive hands them on.
func (r *Request) ResetPipelined(cfg *Config, window, large int) {
	first, _, largeSize := cfg.sizes()
	capacity := first
	if large > 0 {
		capacity = largeSize
	}
	if window <= 0 || window > capacity {
		window = capacity
	}
	r.reset(cfg, window, large, capacity)
}

func (r *Request) reset(cfg *Config, window, large, capacity int) {
	headers, ignored := r.headers[:0], r.ignored[:0]
	scratch, hostScratch := r.scratch, r.hostScratch
	if headers == nil {
		headers = make([]header, 0, 32)
	}
	// Clear, then set the few non-zero fields one by one: assigning a
	// composite literal makes the compiler build it on the stack and copy
	// it, which costs more than the whole header parse of a small request.
	*r = Request{}
	r.cfg = cfg
	r.winEnd, r.winCap, r.large = window, capacity, large
	r.argsStart, r.schemaStart, r.hostStart, r.hostEnd = -1, -1, -1, -1
	r.portEnd, r.protoStart, r.uriExt, r.errByte = -1, -1, -1, -1
	r.headers, r.ignored = headers, ignored
	r.scratch, r.hostScratch = scratch[:0], hostScratch[:0]
	r.ContentLength = -1
}

// Parse continues parsing the request head held in buf, which must begin
// with the request's first byte and, on every call for this request, hold
// the bytes of the previous call unchanged followed by any new ones (the
// caller may move them to a bigger buffer). Work done on earlier calls is
// not repeated. Bytes after the head (a body, a pipelined request) are left
// alone; HeadLen says where they start.
//
// Parse applies nginx's header-buffer limits from the Config: it looks at
// no byte nginx would not yet have read into its buffers, and fails with 414
// or 494 exactly when nginx would run out of them.
func (r *Request) Parse(buf []byte) State {
	if r.winCap == 0 {
		// a zero Request: nginx's defaults
		r.Reset(nil)
	}
	r.buf = buf
	for {
		switch r.phase {
		case phaseDone:
			return Done
		case phaseFailed:
			return Failed
		}
		end := min(len(buf), r.winEnd)
		var again bool
		if r.phase == phaseRequestLine {
			again = r.parseRequestLine(buf, end)
		} else {
			again = r.parseHeaders(buf, end)
		}
		if !again {
			continue
		}
		if r.pos < r.winEnd {
			return NeedMore
		}
		r.nextBuffer()
	}
}

// nextBuffer applies nginx's ngx_http_alloc_large_header_buffer once the
// current header buffer is full.
func (r *Request) nextBuffer() {
	_, largeNum, largeSize := r.cfg.sizes()
	if r.phase == phaseRequestLine {
		if r.state == rlStart {
			// The buffer held nothing but CRs and LFs: nginx reuses it
			// from the start. (Offsets are int32 in header records, so
			// gresty gives up after 2GB of empty lines.)
			if r.pos > 1<<31-1-r.winCap {
				r.fail(414, ReasonTooLongURI, 0, 0)
				return
			}
			r.winEnd = r.pos + r.winCap
			return
		}
		if r.winEnd-r.reqStart >= largeSize || r.large >= largeNum {
			r.fail(414, ReasonTooLongURI, r.reqStart, r.winEnd)
			return
		}
		r.large++
		r.winCap = largeSize
		r.winEnd = r.reqStart + largeSize
		return
	}
	if r.line.state == hStart {
		if r.large >= largeNum {
			reason := ReasonTooLongHeader
			if !r.started {
				reason = ReasonTooLargeRequest
			}
			r.fail(StatusRequestHeaderTooLarge, reason, r.line.nameStart, r.winEnd)
			return
		}
		r.large++
		r.winCap = largeSize
		r.winEnd += largeSize
		return
	}
	old := r.line.nameStart
	if r.winEnd-old >= largeSize || r.large >= largeNum {
		r.fail(StatusRequestHeaderTooLarge, ReasonTooLongHeader, old, r.winEnd)
		return
	}
	r.large++
	r.winCap = largeSize
	r.winEnd = old + largeSize
}

func (r *Request) fail(status int, reason Reason, errStart, errEnd int) {
	r.phase = phaseFailed
	r.status = status
	r.reason = reason
	r.errA = span{int32(errStart), int32(errEnd)}
}

func isMethodChar(c byte) bool {
	return (c >= 'A' && c <= 'Z') || c == '_' || c == '-'
}

// parseRequestLine runs nginx's request-line state machine over buf[r.pos:end].
// It reports true when it needs more bytes (having consumed all up to end).
func (r *Request) parseRequestLine(b []byte, end int) bool {
	p, st := r.pos, int(r.state)
loop:
	for ; p < end; p++ {
		ch := b[p]
		switch st {
		case rlStart:
			r.reqStart = p
			if ch == '\r' || ch == '\n' {
				continue
			}
			if !isMethodChar(ch) {
				r.pos = p
				r.fail(400, ReasonInvalidMethod, r.reqStart, p)
				return false
			}
			st = rlMethod

		case rlMethod:
			for isMethodChar(ch) {
				p++
				if p == end {
					break loop
				}
				ch = b[p]
			}
			if ch != ' ' {
				r.pos = p
				r.fail(400, ReasonInvalidMethod, r.reqStart, p)
				return false
			}
			r.methodEnd = p
			r.Method = ParseMethod(b[r.reqStart:p])
			st = rlSpacesBeforeURI

		case rlSpacesBeforeURI:
			if ch == '/' {
				r.uriStart = p
				st = rlAfterSlashInURI
				continue
			}
			if c := ch | 0x20; c >= 'a' && c <= 'z' {
				r.schemaStart = p
				st = rlSchema
				continue
			}
			if ch != ' ' {
				return r.badRequest(p)
			}

		case rlSchema:
			if c := ch | 0x20; c >= 'a' && c <= 'z' {
				continue
			}
			if (ch >= '0' && ch <= '9') || ch == '+' || ch == '-' || ch == '.' {
				continue
			}
			if ch != ':' {
				return r.badRequest(p)
			}
			r.schemaEnd = p
			st = rlSchemaSlash

		case rlSchemaSlash:
			if ch != '/' {
				return r.badRequest(p)
			}
			st = rlSchemaSlashSlash

		case rlSchemaSlashSlash:
			if ch != '/' {
				return r.badRequest(p)
			}
			st = rlHostStart

		case rlHostStart, rlHost:
			if st == rlHostStart {
				r.hostStart = p
				if ch == '[' {
					st = rlHostIPLiteral
					continue
				}
				st = rlHost
			}
			if c := ch | 0x20; (c >= 'a' && c <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' {
				continue
			}
			if !r.hostEnded(b, p, ch, &st) {
				return false
			}

		case rlHostIPLiteral:
			if ch >= '0' && ch <= '9' {
				continue
			}
			if c := ch | 0x20; c >= 'a' && c <= 'z' {
				continue
			}
			switch ch {
			case ':', '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=':
			case ']':
				// nginx moves to its "host end" state: the next byte
				// must end the host.
				st = rlHostEnd
			default:
				return r.badRequest(p)
			}

		case rlHostEnd:
			if !r.hostEnded(b, p, ch, &st) {
				return false
			}

		case rlPort:
			if ch >= '0' && ch <= '9' {
				continue
			}
			switch ch {
			case '/':
				r.portEnd = p
				r.uriStart = p
				st = rlAfterSlashInURI
			case '?':
				r.portEnd = p
				r.uriStart = p
				r.argsStart = p + 1
				r.EmptyPathInURI = true
				st = rlURI
			case ' ':
				r.portEnd = p
				r.uriStart = r.schemaEnd + 1
				r.uriEnd = r.schemaEnd + 2
				st = rlHTTP09
			default:
				return r.badRequest(p)
			}

		case rlAfterSlashInURI:
			if uriUsual[ch] {
				st = rlCheckURI
				continue
			}
			switch ch {
			case ' ':
				r.uriEnd = p
				st = rlHTTP09
			case '\r':
				r.uriEnd = p
				r.httpMinor = 9
				st = rlAlmostDone
			case '\n':
				r.uriEnd = p
				r.httpMinor = 9
				return r.requestLineDone(p)
			case '.', '/', '#':
				r.ComplexURI = true
				st = rlURI
			case '%':
				r.QuotedURI = true
				st = rlURI
			case '?':
				r.argsStart = p + 1
				st = rlURI
			case '+':
				r.PlusInURI = true
			default:
				if ch < 0x20 || ch == 0x7f {
					return r.badRequest(p)
				}
				st = rlCheckURI
			}

		case rlCheckURI:
			for uriUsual[ch] {
				p++
				if p == end {
					break loop
				}
				ch = b[p]
			}
			switch ch {
			case '/':
				r.uriExt = -1
				st = rlAfterSlashInURI
			case '.':
				r.uriExt = p + 1
			case ' ':
				r.uriEnd = p
				st = rlHTTP09
			case '\r':
				r.uriEnd = p
				r.httpMinor = 9
				st = rlAlmostDone
			case '\n':
				r.uriEnd = p
				r.httpMinor = 9
				return r.requestLineDone(p)
			case '%':
				r.QuotedURI = true
				st = rlURI
			case '?':
				r.argsStart = p + 1
				st = rlURI
			case '#':
				r.ComplexURI = true
				st = rlURI
			case '+':
				r.PlusInURI = true
			default:
				if ch < 0x20 || ch == 0x7f {
					return r.badRequest(p)
				}
			}

		case rlURI:
			for uriUsual[ch] || ch == '%' || ch == '+' || ch == '.' || ch == '/' || ch == '?' {
				p++
				if p == end {
					break loop
				}
				ch = b[p]
			}
			switch ch {
			case ' ':
				r.uriEnd = p
				st = rlHTTP09
			case '\r':
				r.uriEnd = p
				r.httpMinor = 9
				st = rlAlmostDone
			case '\n':
				r.uriEnd = p
				r.httpMinor = 9
				return r.requestLineDone(p)
			case '#':
				r.ComplexURI = true
			default:
				if ch < 0x20 || ch == 0x7f {
					return r.badRequest(p)
				}
			}

		case rlHTTP09:
			// the usual "HTTP/1.x" CRLF in one step
			if ch == 'H' && p+10 <= end && string(b[p:p+7]) == "HTTP/1." &&
				(b[p+7] == '0' || b[p+7] == '1') && b[p+8] == '\r' && b[p+9] == '\n' {
				r.protoStart = p
				r.httpMajor, r.httpMinor = 1, int(b[p+7]-'0')
				r.reqEnd = p + 8
				return r.requestLineDone(p + 9)
			}
			switch ch {
			case ' ':
			case '\r':
				r.httpMinor = 9
				st = rlAlmostDone
			case '\n':
				r.httpMinor = 9
				return r.requestLineDone(p)
			case 'H':
				r.protoStart = p
				st = rlHTTPH
			default:
				return r.badRequest(p)
			}

		case rlHTTPH, rlHTTPHT, rlHTTPHTT, rlHTTPHTTP:
			if ch != "TTP/"[st-rlHTTPH] {
				return r.badRequest(p)
			}
			st++

		case rlFirstMajorDigit:
			if ch < '1' || ch > '9' {
				return r.badRequest(p)
			}
			r.httpMajor = int(ch - '0')
			if r.httpMajor > 1 {
				return r.badVersion(p)
			}
			st = rlMajorDigit

		case rlMajorDigit:
			if ch == '.' {
				st = rlFirstMinorDigit
				continue
			}
			if ch < '0' || ch > '9' {
				return r.badRequest(p)
			}
			r.httpMajor = r.httpMajor*10 + int(ch-'0')
			if r.httpMajor > 1 {
				return r.badVersion(p)
			}

		case rlFirstMinorDigit:
			if ch < '0' || ch > '9' {
				return r.badRequest(p)
			}
			r.httpMinor = int(ch - '0')
			st = rlMinorDigit

		case rlMinorDigit:
			switch {
			case ch == '\r':
				st = rlAlmostDone
			case ch == '\n':
				return r.requestLineDone(p)
			case ch == ' ':
				st = rlSpacesAfterDigit
			case ch < '0' || ch > '9' || r.httpMinor > 99:
				return r.badRequest(p)
			default:
				r.httpMinor = r.httpMinor*10 + int(ch-'0')
			}

		case rlSpacesAfterDigit:
			switch ch {
			case ' ':
			case '\r':
				st = rlAlmostDone
			case '\n':
				return r.requestLineDone(p)
			default:
				return r.badRequest(p)
			}

		case rlAlmostDone:
			r.reqEnd = p - 1
			if ch != '\n' {
				return r.badRequest(p)
			}
			return r.requestLineDone(p)
		}
	}
	r.pos = p
	r.state = uint8(st)
	return true
}

// hostEnded handles the byte that follows the host of an absolute URI.
func (r *Request) hostEnded(b []byte, p int, ch byte, st *int) bool {
	r.hostEnd = p
	switch ch {
	case ':':
		*st = rlPort
	case '/':
		r.uriStart = p
		*st = rlAfterSlashInURI
	case '?':
		r.uriStart = p
		r.argsStart = p + 1
		r.EmptyPathInURI = true
		*st = rlURI
	case ' ':
		// The URI is the '/' of "//": a pointer into the request line,
		// as nginx keeps it.
		r.uriStart = r.schemaEnd + 1
		r.uriEnd = r.schemaEnd + 2
		*st = rlHTTP09
	default:
		r.badRequest(p)
		return false
	}
	return true
}

func (r *Request) badRequest(p int) bool {
	r.pos = p
	r.fail(400, ReasonInvalidRequest, r.reqStart, p)
	return false
}

func (r *Request) badVersion(p int) bool {
	r.pos = p
	r.fail(505, ReasonInvalidVersion, r.reqStart, p)
	return false
}

// requestLineDone finishes the request line whose LF is at p and applies
// what nginx does next: URI processing, the request-line host, and the end
// of the head for HTTP/0.9. It returns false (no more bytes needed now).
func (r *Request) requestLineDone(p int) bool {
	r.pos = p + 1
	if r.reqEnd == 0 {
		// no CR: the line ends at its LF
		r.reqEnd = p
	}
	r.Version = r.httpMajor*1000 + r.httpMinor
	r.state = rlStart
	if r.Version == 9 && r.Method != MethodGET {
		r.fail(400, ReasonInvalid09Method, r.reqStart, r.reqEnd)
		return false
	}
	if !r.processURI() {
		r.fail(400, ReasonInvalidRequest, r.reqStart, r.reqEnd)
		return false
	}
	if r.hostEnd >= 0 {
		host := r.buf[r.hostStart:r.hostEnd]
		n, ok := ValidateHost(host)
		if !ok {
			r.fail(400, ReasonInvalidHostInRequestLine, r.hostStart, r.hostEnd)
			return false
		}
		r.setServer(r.hostStart, r.hostStart+n)
	}
	if r.Version < 1000 {
		r.headEnd = r.pos
		r.phase = phaseDone
		return false
	}
	r.phase = phaseHeaders
	return false
}

// processURI derives the path, arguments and extension from the raw URI,
// normalising it when the request line says it is complex, as nginx's
// ngx_http_process_request_uri.
func (r *Request) processURI() bool {
	if r.ComplexURI || r.QuotedURI || r.EmptyPathInURI {
		raw := r.buf[r.uriStart:r.uriEnd]
		if cap(r.scratch) < len(raw)+1 {
			r.scratch = make([]byte, 0, max(len(raw)+1, 256))
		}
		res, argsAt, ok := parseComplexURI(r.scratch[:0], raw, !r.noMergeSlashes(), r.EmptyPathInURI)
		if !ok {
			return false
		}
		// the path is in scratch's array (its capacity was checked);
		// keep that capacity for the next request
		r.scratch = r.scratch[:len(res.Path)]
		r.path = span{0, int32(len(res.Path))}
		r.pathInBuf = false
		r.PlusInURI = r.PlusInURI || res.PlusInURI
		r.QuotedURI = r.QuotedURI || res.QuotedURI
		if res.Exten != nil {
			r.exten = span{int32(len(res.Path) - len(res.Exten)), int32(len(res.Path))}
		}
		if res.Args != nil {
			start := r.uriStart + argsAt
			r.args = span{int32(start), int32(start + len(res.Args))}
			r.hasArgs = len(res.Args) > 0
		}
		return true
	}
	end := r.uriEnd
	if r.argsStart >= 0 {
		end = r.argsStart - 1
	}
	r.path = span{int32(r.uriStart), int32(end)}
	r.pathInBuf = true
	if r.uriExt >= 0 {
		r.exten = span{int32(r.uriExt), int32(end)}
		r.extenInBuf = true
	}
	if r.argsStart >= 0 && r.uriEnd > r.argsStart {
		r.args = span{int32(r.argsStart), int32(r.uriEnd)}
		r.hasArgs = true
	}
	return true
}

func (r *Request) noMergeSlashes() bool {
	return r.cfg != nil && r.cfg.NoMergeSlashes
}

func (r *Request) underscores() bool {
	return r.cfg != nil && r.cfg.UnderscoresInHeaders
}

func (r *Request) keepInvalid() bool {
	return r.cfg != nil && r.cfg.KeepInvalidHeaders
}

// setServer records the validated host b[start:end] as the server name and
// lets the caller switch configuration.
func (r *Request) setServer(start, end int) {
	r.server = span{int32(start), int32(end)}
	r.hasServer = true
	host := r.buf[start:end]
	for _, c := range host {
		if c >= 'A' && c <= 'Z' {
			r.hostScratch = append(r.hostScratch[:0], host...)
			for i, c := range r.hostScratch {
				r.hostScratch[i] = lower(c)
			}
			r.serverLow = true
			break
		}
	}
	if r.cfg != nil && r.cfg.SelectServer != nil {
		if c := r.cfg.SelectServer(host); c != nil {
			r.cfg = c
		}
	}
}

// parseHeaders parses header lines in buf[r.pos:end], applying nginx's
// per-header handlers as each line completes and its final checks at the
// end of the head. It reports true when it needs more bytes.
func (r *Request) parseHeaders(b []byte, end int) bool {
	p := r.pos
	for {
		if r.line.state == hStart && p < end {
			r.started = true
			if np, ok := fastHeaderLine(b, p, end, &r.line); ok {
				p = np
				if !r.addHeader(b) {
					r.pos = p
					return false
				}
				continue
			}
		}
		np, res := parseHeaderLine(b, p, end, &r.line, r.underscores(), false)
		p = np
		switch res {
		case lineAgain:
			r.pos = p
			return true
		case lineInvalid:
			r.pos = p
			r.fail(400, ReasonInvalidHeader, r.line.nameStart, r.line.valEnd)
			if r.line.valEnd < len(b) {
				r.errByte = int(b[r.line.valEnd])
			}
			return false
		case lineHeadDone:
			r.pos = p
			r.headEnd = p
			r.finish()
			return false
		}
		if !r.addHeader(b) {
			r.pos = p
			return false
		}
	}
}

// pushHeader appends the header line l to hs. It stores the fields in place
// rather than appending a composite value, which the compiler builds on the
// stack with narrow stores and copies with a wide load, stalling store
// forwarding on every header.
func pushHeader(hs []header, l *lineState, k KnownHeader) []header {
	n := len(hs)
	if n == cap(hs) {
		hs = append(hs, header{})
	} else {
		hs = hs[:n+1]
	}
	h := &hs[n]
	h.nameStart, h.nameEnd = int32(l.nameStart), int32(l.nameEnd)
	h.valStart, h.valEnd = int32(l.valStart), int32(l.valEnd)
	h.known = k
	return hs
}

// unique headers: a second occurrence is an error.
var uniqueHeader = [numKnown]bool{
	HdrIfModifiedSince:   true,
	HdrIfUnmodifiedSince: true,
	HdrIfMatch:           true,
	HdrIfNoneMatch:       true,
	HdrContentLength:     true,
	HdrContentRange:      true,
	HdrIfRange:           true,
	HdrTransferEncoding:  true,
	HdrExpect:            true,
	HdrAuthorization:     true,
}

// requestKnown limits the request side to the names nginx's request header
// table holds; response-only names are plain headers in a request.
func requestKnown(k KnownHeader) KnownHeader {
	if k >= HdrStatus {
		return HdrOther
	}
	return k
}

// addHeader stores the header line just parsed and runs nginx's handler
// for its name. It returns false if the request must be rejected.
func (r *Request) addHeader(b []byte) bool {
	l := &r.line
	if l.invalid && !r.keepInvalid() {
		r.ignored = append(r.ignored, span{int32(l.nameStart), int32(l.valEnd)})
		return true
	}
	name := b[l.nameStart:l.nameEnd]
	k := requestKnown(LookupHeader(name))
	r.headers = pushHeader(r.headers, l, k)
	if k == HdrOther {
		return true
	}
	idx := int32(len(r.headers))
	prev := r.known[k]
	if prev == 0 {
		r.known[k] = idx
	}
	switch {
	case k == HdrHost:
		if prev != 0 {
			r.dupFail(ReasonDuplicateHost, prev)
			return false
		}
		n, ok := ValidateHost(b[l.valStart:l.valEnd])
		if !ok {
			r.fail(400, ReasonInvalidHost, l.nameStart, l.valEnd)
			return false
		}
		if !r.hasServer {
			r.setServer(l.valStart, l.valStart+n)
		}
	case uniqueHeader[k]:
		if prev != 0 {
			r.dupFail(ReasonDuplicateHeader, prev)
			return false
		}
	case k == HdrConnection:
		v := b[l.valStart:l.valEnd]
		if indexFoldLower(v, "close") >= 0 {
			r.Connection = ConnectionClose
		} else if indexFoldLower(v, "keep-alive") >= 0 {
			r.Connection = ConnectionKeepAlive
		}
	}
	return true
}

func (r *Request) dupFail(reason Reason, prev int32) {
	l := &r.line
	r.fail(400, reason, l.nameStart, l.valEnd)
	h := r.headers[prev-1]
	r.errB = span{h.nameStart, h.valEnd}
}

// finish makes the checks nginx's ngx_http_process_request_header makes once
// the head is complete.
func (r *Request) finish() {
	r.phase = phaseDone
	if r.known[HdrHost] == 0 && r.Version > 1000 {
		r.fail(400, ReasonNoHost, r.reqStart, r.reqEnd)
		return
	}
	if i := r.known[HdrContentLength]; i != 0 {
		h := r.headers[i-1]
		n, ok := parseOff(r.buf[h.valStart:h.valEnd])
		if !ok {
			r.fail(400, ReasonInvalidContentLength, int(h.nameStart), int(h.valEnd))
			return
		}
		r.ContentLength = n
	}
	if i := r.known[HdrTransferEncoding]; i != 0 {
		h := r.headers[i-1]
		if r.Version < 1001 {
			r.fail(400, ReasonTransferEncoding10, int(h.nameStart), int(h.valEnd))
			return
		}
		if !equalFoldLower(r.buf[h.valStart:h.valEnd], "chunked") {
			r.fail(501, ReasonUnknownTransferEncoding, int(h.valStart), int(h.valEnd))
			return
		}
		if r.known[HdrContentLength] != 0 {
			r.fail(400, ReasonContentLengthAndTransferEncoding, int(h.nameStart), int(h.valEnd))
			return
		}
		r.Chunked = true
	}
	switch r.Method {
	case MethodCONNECT:
		r.fail(405, ReasonConnectMethod, r.reqStart, r.reqEnd)
	case MethodTRACE:
		r.fail(405, ReasonTraceMethod, r.reqStart, r.reqEnd)
	}
}
