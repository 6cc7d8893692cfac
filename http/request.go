package http

import (
	"time"

	"gresty/errlog"
	"gresty/httpparse"
)

// Header is one request or response header line.
type Header struct {
	Name  []byte
	Value []byte
	// Known is the header's identity when it is one nginx treats
	// specially.
	Known httpparse.KnownHeader
}

// Result codes of handlers, as nginx's NGX_OK, NGX_DECLINED, ... Any value
// of 100 or more is an HTTP status.
const (
	OK       = 0
	Declined = -5
	Again    = -2
	Done     = -4
	Error    = -1
)

// Handler is a content handler, or a phase handler's body. It returns OK,
// Declined, Again (the request will be resumed later), Done, Error or an
// HTTP status.
type Handler func(r *Request) int

// Request is one HTTP request: its head, its location, its variables, its
// response headers and the state of its output. A Request belongs to the
// loop of its connection and is recycled when the connection finishes it.
type Request struct {
	Conn *Conn
	// Head is the parsed request head. Its slices alias the connection's
	// buffer, which the connection keeps valid for the request's life.
	Head *httpparse.Request

	Main   *Request
	Parent *Request

	Srv *SrvConf
	Loc *LocConf

	// Method is the method; MethodName its name (which set_method or a
	// subrequest may change).
	Method     httpparse.Method
	MethodName string
	// URI is the current normalised path ($uri); Args the query string
	// ($args), Exten the extension of the last path segment. They alias
	// the request head or request memory; assign new slices to change
	// them, never write into them.
	URI   []byte
	Args  []byte
	Exten []byte
	// HTTPVersion is nginx's http_version: 9, 1000, 1001.
	HTTPVersion int

	// In holds the request headers (mutable, for modules that rewrite
	// them).
	In []Header
	// Host is the server name the request asked for (lowercase, no
	// port), empty when it named none.
	Host []byte
	// ContentLength is the request body length, -1 when chunked or absent.
	ContentLength int64
	Chunked       bool
	KeepAlive     bool

	// Out holds the response.
	Out ResponseHeaders

	// bodyInFile puts the body in a temporary file whatever its size,
	// without a log line (BodyInFile).
	bodyInFile bool

	Internal     bool
	uriChanged   bool
	uriChanges   int
	accessCode   int
	discardBody  bool
	expectTested bool
	headerSize   int
	subrequests  int
	count        int

	// locationInvalid is nginx's !r->valid_location: a rewrite changed
	// the URI without a new location search, so alias cannot map it.
	locationInvalid bool
	// addURIToAlias makes a regex location's alias map the whole URI
	// after try_files chose a file (r->add_uri_to_alias).
	addURIToAlias bool

	HeaderOnly bool
	HeaderSent bool
	// lastSent is set once the final buffer of the response went to the
	// body filters.
	lastSent bool
	// errorPage is set while an error_page redirect is processed, so that
	// a failing error page is not redirected again (unless
	// recursive_error_pages).
	errorPage bool
	// finalized is set once the request's processing ended; the
	// connection then only waits for output to drain.
	finalized bool
	// done is set once the log phase ran.
	done bool

	phase int
	// ContentHandler is set by the find-config phase from the location's
	// Handler.
	contentHandler Handler

	StartTime time.Time

	vars     []varValue
	captures []int
	capSubj  []byte
	ctx      []any

	// body state
	Body *RequestBody

	arena []byte

	// BytesSent counts bytes written for this response, BodyBytesSent the
	// body part.
	BytesSent     int64
	BodyBytesSent int64
	// RequestLength is the number of bytes of the request read so far.
	RequestLength int64

	// Status overrides for logging when the response was cut short (499,
	// 444...).
	logStatus int

	postponed []*postponedNode
	// posted are the requests to wake after the current event (nginx's
	// posted_requests of the main request); subs are the subrequests to
	// recycle with the main request.
	posted []*Request
	subs   []*Request
	// writeHandler runs when the request is posted (r->write_event_handler).
	writeHandler func(r *Request)
	waited       bool
	background   bool
	// resume, when set, is called by the connection when a suspended
	// request is woken (Request.Wake).
	resume func(r *Request)
	// cleanups run when the request is finished or aborted.
	cleanups []func()
	// poolCleanups run last, after the log phase (nginx's cleanups of
	// the request's pool); the main request holds them.
	poolCleanups []func()
	// files are the descriptors the main request opened without a cache,
	// closed once its output has been sent.
	files []*ownedFD

	// LimitRate is the current response rate limit in bytes per second,
	// 0 for none ($limit_rate).
	LimitRate    int64
	limitRateSet bool

	// LimitReqStatus and LimitConnStatus are what the limit_req and
	// limit_conn modules decided for the main request (r->limit_req_status,
	// r->limit_conn_status): 0 until they looked at it, then their
	// module's code. They survive internal redirects.
	LimitReqStatus  uint8
	LimitConnStatus uint8

	// upstream is set by an upstream module while it serves the request.
	upstream Upstream
	// upstreamSpare is the upstream state the pooled request keeps for
	// the next request it serves (NewUpstream), and bodyStore the memory
	// of the Body ReadBody makes: reused, they cost a proxied request no
	// allocation.
	upstreamSpare *UpstreamRequest
	bodyStore     RequestBody

	// GzipVary is set by gzip and gzip_static when they looked at the
	// request, so that gzip_vary adds "Vary: Accept-Encoding".
	GzipVary bool
	// GzipTested and GzipOK cache the gzip decision for the request.
	GzipTested, GzipOK bool
	// ExpectTrailers is set by a header filter that will add trailers
	// (add_trailer): the chunked filter then frames the response even when
	// its length is known (r->expect_trailers).
	ExpectTrailers bool

	errStatus      int
	filterFinalize bool
	// buffered counts filters holding response data (r->buffered).
	buffered int
	pipeline bool
	freed    bool
	logged   bool

	// discarding is set while an unread body is being discarded.
	discarding  bool
	discard     *RequestBody
	discardHeld bool

	// readHandler, eofHandler and drainHandler let modules take over the
	// connection's events while they own the request (upgrades, client
	// abort checks, flow control).
	readHandler  func(r *Request)
	eofHandler   func(r *Request)
	drainHandler func(r *Request)

	// postSubrequest is called when a subrequest finalizes, with its rc.
	postSubrequest func(r *Request, rc int) int
	inMemory       bool
	// SubBody collects an in-memory subrequest's response body.
	SubBody []byte
}

// ResponseHeaders is the response status and headers (ngx_http_headers_out_t).
type ResponseHeaders struct {
	Status     int
	StatusLine string
	// Headers in order. A header whose Name is nil was deleted.
	Headers  []Header
	Trailers []Header

	ContentType   string
	Charset       string
	ContentLength int64
	// LastModified is a Unix time, -1 when absent.
	LastModified int64
	// Location, ETag and other specially treated headers are kept in
	// Headers; these indexes find them fast (-1 when absent).
	location        int
	etag            int
	server          int
	date            int
	contentEncoding int
	acceptRanges    int

	// AllowRanges enables the range filter for this response.
	AllowRanges bool
	// OmitServer and OmitDate keep the header writer from adding its own
	// Server and Date lines: a module cleared them (nginx's
	// headers_out.server or date set to a header it then hid).
	OmitServer, OmitDate bool
	// Chunked is set by the chunked filter when the body is framed.
	Chunked bool
}

func (h *ResponseHeaders) reset() {
	hs, ts := h.Headers[:0], h.Trailers[:0]
	*h = ResponseHeaders{Headers: hs, Trailers: ts, ContentLength: -1, LastModified: -1,
		location: -1, etag: -1, server: -1, date: -1, contentEncoding: -1, acceptRanges: -1}
}

// Add appends a response header.
func (h *ResponseHeaders) Add(name, value []byte) {
	k := httpparse.LookupHeader(name)
	h.Headers = append(h.Headers, Header{Name: name, Value: value, Known: k})
	h.index(len(h.Headers)-1, k)
}

// AddString is Add for strings.
func (h *ResponseHeaders) AddString(name, value string) {
	h.Add([]byte(name), []byte(value))
}

func (h *ResponseHeaders) index(i int, k httpparse.KnownHeader) {
	switch k {
	case httpparse.HdrLocation:
		h.location = i
	case httpparse.HdrETag:
		h.etag = i
	case httpparse.HdrServer:
		h.server = i
	case httpparse.HdrDate:
		h.date = i
	case httpparse.HdrContentEncoding:
		h.contentEncoding = i
	case httpparse.HdrAcceptRanges:
		h.acceptRanges = i
	}
}

// Get returns the value of the first live header with name (any case).
func (h *ResponseHeaders) Get(name string) ([]byte, bool) {
	for i := range h.Headers {
		hd := &h.Headers[i]
		if hd.Name != nil && len(hd.Name) == len(name) && equalFoldBS(hd.Name, name) {
			return hd.Value, true
		}
	}
	return nil, false
}

// Known returns the header identified by k, or nil.
func (h *ResponseHeaders) Known(k httpparse.KnownHeader) *Header {
	var i int
	switch k {
	case httpparse.HdrLocation:
		i = h.location
	case httpparse.HdrETag:
		i = h.etag
	case httpparse.HdrServer:
		i = h.server
	case httpparse.HdrDate:
		i = h.date
	case httpparse.HdrContentEncoding:
		i = h.contentEncoding
	case httpparse.HdrAcceptRanges:
		i = h.acceptRanges
	default:
		for j := range h.Headers {
			if h.Headers[j].Known == k && h.Headers[j].Name != nil {
				return &h.Headers[j]
			}
		}
		return nil
	}
	if i < 0 || h.Headers[i].Name == nil {
		return nil
	}
	return &h.Headers[i]
}

// Set replaces the value of the known header k, adding it if missing.
func (h *ResponseHeaders) Set(k httpparse.KnownHeader, name string, value []byte) {
	if hd := h.Known(k); hd != nil {
		hd.Value = value
		return
	}
	h.Headers = append(h.Headers, Header{Name: []byte(name), Value: value, Known: k})
	h.index(len(h.Headers)-1, k)
}

// Del deletes every header named name (any case).
func (h *ResponseHeaders) Del(name string) {
	for i := range h.Headers {
		hd := &h.Headers[i]
		if hd.Name != nil && len(hd.Name) == len(name) && equalFoldBS(hd.Name, name) {
			hd.Name = nil
		}
	}
}

// DelKnown deletes the header identified by k.
func (h *ResponseHeaders) DelKnown(k httpparse.KnownHeader) {
	for i := range h.Headers {
		if h.Headers[i].Known == k {
			h.Headers[i].Name = nil
		}
	}
}

func equalFoldBS(b []byte, s string) bool {
	for i := 0; i < len(b); i++ {
		c1, c2 := b[i], s[i]
		if c1 >= 'A' && c1 <= 'Z' {
			c1 += 'a' - 'A'
		}
		if c2 >= 'A' && c2 <= 'Z' {
			c2 += 'a' - 'A'
		}
		if c1 != c2 {
			return false
		}
	}
	return true
}

// HeaderIn returns the first request header named name (any case).
func (r *Request) HeaderIn(name string) ([]byte, bool) {
	for i := range r.In {
		h := &r.In[i]
		if len(h.Name) == len(name) && equalFoldBS(h.Name, name) {
			return h.Value, true
		}
	}
	return nil, false
}

// KnownIn returns the first request header identified by k.
func (r *Request) KnownIn(k httpparse.KnownHeader) ([]byte, bool) {
	for i := range r.In {
		if r.In[i].Known == k {
			return r.In[i].Value, true
		}
	}
	return nil, false
}

// Alloc returns n bytes of request-lifetime memory. The bytes stay valid
// until the request is released.
func (r *Request) Alloc(n int) []byte {
	if cap(r.arena)-len(r.arena) < n {
		size := 1024
		for size < n {
			size *= 2
		}
		r.arena = make([]byte, 0, size)
	}
	b := r.arena[len(r.arena) : len(r.arena)+n : len(r.arena)+n]
	r.arena = r.arena[:len(r.arena)+n]
	return b
}

// Keep copies b into request-lifetime memory.
func (r *Request) Keep(b []byte) []byte {
	k := r.Alloc(len(b))
	copy(k, b)
	return k
}

// Ctx returns the request context of an HTTP module (its per-request
// state), or nil.
func (r *Request) Ctx(typeIndex int) any {
	if typeIndex < len(r.ctx) {
		return r.ctx[typeIndex]
	}
	return nil
}

// SetCtx stores an HTTP module's request context.
func (r *Request) SetCtx(typeIndex int, v any) {
	if typeIndex >= len(r.ctx) {
		if typeIndex < cap(r.ctx) {
			// reuse the pooled request's slice: clear what a previous
			// request left beyond the current length.
			old := len(r.ctx)
			r.ctx = r.ctx[:typeIndex+1]
			clear(r.ctx[old:])
		} else {
			n := make([]any, typeIndex+1, max(typeIndex+1, 32))
			copy(n, r.ctx)
			r.ctx = n
		}
	}
	r.ctx[typeIndex] = v
}

// AddCleanup registers f to run when the request is finished or aborted.
func (r *Request) AddCleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// AddPoolCleanup registers f to run when the main request is gone, after
// its log phase: nginx's ngx_pool_cleanup_add on r->pool, which
// subrequests share with their main request.
func (r *Request) AddPoolCleanup(f func()) {
	r.Main.poolCleanups = append(r.Main.poolCleanups, f)
}

// IsSubrequest tells whether r is a subrequest.
func (r *Request) IsSubrequest() bool { return r != r.Main }

// Log returns the error log of the request's location.
func (r *Request) Log() *errlog.Log {
	if r.Loc != nil && r.Loc.ErrorLog != nil {
		return r.Loc.ErrorLog
	}
	return r.Conn.cfg.cycle.Log
}

// Logf logs a message in the request's context (", client: ..., server:
// ..., request: ..."), as ngx_log_error with r->connection->log.
func (r *Request) Logf(level errlog.Level, format string, args ...any) {
	l := r.Log()
	if !l.Enabled(level) {
		return
	}
	l.Printf(level, errlog.Entry{Loop: r.Conn.loopID(), Conn: r.Conn.ID(), Ctx: r}, format, args...)
}

// AppendLogContext appends nginx's request context to an error-log line.
func (r *Request) AppendLogContext(b []byte) []byte {
	if a := r.Conn.action; a != "" {
		b = append(b, " while "...)
		b = append(b, a...)
	}
	b = append(b, ", client: "...)
	b = append(b, r.Conn.RemoteIP()...)
	b = append(b, ", server: "...)
	if r.Srv != nil {
		b = append(b, r.Srv.Name...)
	}
	if r.Head != nil && r.Head.RequestLine() != nil {
		b = append(b, ", request: \""...)
		b = append(b, r.Main.Head.RequestLine()...)
		b = append(b, '"')
	}
	if r != r.Main {
		b = append(b, ", subrequest: \""...)
		b = append(b, r.URI...)
		b = append(b, '"')
	}
	if up := r.upstreamLogName(); up != "" {
		b = append(b, ", upstream: \""...)
		b = append(b, up...)
		b = append(b, '"')
	}
	if h, ok := r.Main.KnownIn(httpparse.HdrHost); ok {
		b = append(b, ", host: \""...)
		b = append(b, h...)
		b = append(b, '"')
	}
	if ref, ok := r.Main.KnownIn(httpparse.HdrReferer); ok {
		b = append(b, ", referrer: \""...)
		b = append(b, ref...)
		b = append(b, '"')
	}
	return b
}

func (r *Request) upstreamLogName() string {
	if r.upstream != nil {
		return r.upstream.LogName()
	}
	return ""
}

// Upstream is what the request context needs to know of an upstream
// module's state: its name for log lines.
type Upstream interface {
	LogName() string
}

// SetLogAction says what the connection is doing from now on, as
// nginx's c->log->action: its error-log lines end " while <action>" until
// the next request or redirect.
func (r *Request) SetLogAction(action string) { r.Conn.action = action }

// SetUpstream records the upstream module state serving r (nil to clear).
func (r *Request) SetUpstream(u Upstream) { r.upstream = u }
