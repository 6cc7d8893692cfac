package http

import (
	"strconv"
	"time"

	"gresty/errlog"
	"gresty/httpparse"
)

// Buf is one piece of response body (nginx's ngx_buf_t in a chain): bytes
// in memory or a range of a file, and the markers that travel with them.
type Buf struct {
	Data []byte
	// File, FilePos and FileLen describe a file range (sendfile).
	File    *File
	FilePos int64
	FileLen int64

	// Owned means Data stays unchanged for the rest of the response, so a
	// filter may keep it without copying; otherwise Data is valid only
	// during the filter call.
	Owned bool
	// Flush asks for the output so far to be sent now.
	Flush bool
	// Last marks the end of the response; LastInChain the end of a
	// subrequest's output.
	Last        bool
	LastInChain bool
}

// Size returns the number of body bytes in the buffer.
func (b *Buf) Size() int64 {
	if b.File != nil {
		return b.FileLen
	}
	return int64(len(b.Data))
}

// IsSpecial tells whether the buffer carries only markers.
func (b *Buf) IsSpecial() bool { return b.File == nil && len(b.Data) == 0 }

// HeaderFilterFunc is one stage of the header filter chain.
type HeaderFilterFunc func(r *Request) int

// BodyFilterFunc is one stage of the body filter chain. in is valid only
// during the call (see Buf.Owned).
type BodyFilterFunc func(r *Request, in []Buf) int

// AddHeaderFilter installs a header filter in front of the chain, as an
// nginx filter module's postconfiguration does: modules later in the module
// list run earlier.
func (cf *Conf) AddHeaderFilter(f func(next HeaderFilterFunc) HeaderFilterFunc) {
	cf.AddHeaderFilterIf(nil, f)
}

// AddBodyFilter installs a body filter in front of the chain.
func (cf *Conf) AddBodyFilter(f func(next BodyFilterFunc) BodyFilterFunc) {
	cf.AddBodyFilterIf(nil, f)
}

// AddHeaderFilterIf installs a header filter that only a location for
// which active reports true needs: in any other location it must pass
// every response on untouched, and that location's chain leaves it out
// (nginx calls every filter, each testing its own configuration). A nil
// active means every location.
func (cf *Conf) AddHeaderFilterIf(active func(*LocConf) bool, f func(next HeaderFilterFunc) HeaderFilterFunc) {
	cf.Main.HeaderFilter = f(cf.Main.HeaderFilter)
	cf.Main.filters = append(cf.Main.filters, filterReg{header: f, active: active})
}

// AddBodyFilterIf is AddHeaderFilterIf for a body filter.
func (cf *Conf) AddBodyFilterIf(active func(*LocConf) bool, f func(next BodyFilterFunc) BodyFilterFunc) {
	cf.Main.BodyFilter = f(cf.Main.BodyFilter)
	cf.Main.filters = append(cf.Main.filters, filterReg{body: f, active: active})
}

// Anywhere turns on, a test of one location's configuration, into a
// filter's active test that holds in every location as soon as on holds in
// any: for a filter whose work may fall on a request in another location
// (a subrequest's output that a parent's filter watches).
func (cf *Conf) Anywhere(on func(*LocConf) bool) func(*LocConf) bool {
	known, used := false, false
	return func(*LocConf) bool {
		if !known {
			known = true
			for _, lc := range cf.locs {
				if on(lc) {
					used = true
					break
				}
			}
		}
		return used
	}
}

// LocLog returns the error log of a location once the loops run (a
// filter's active test runs then).
func (cf *Conf) LocLog(lc *LocConf) *errlog.Log {
	if lc.ErrorLog != nil {
		return lc.ErrorLog
	}
	return cf.Cycle.Log
}

// addPostponeFilter installs the postpone filter, the point below which
// a location's body chain carries the main request's output.
func (cf *Conf) addPostponeFilter(f func(next BodyFilterFunc) BodyFilterFunc) {
	cf.AddBodyFilter(f)
	cf.Main.filters[len(cf.Main.filters)-1].postpone = true
}

// filterReg is one installed filter, kept to build the locations' chains.
type filterReg struct {
	header func(next HeaderFilterFunc) HeaderFilterFunc
	body   func(next BodyFilterFunc) BodyFilterFunc
	active func(*LocConf) bool
	// postpone marks the postpone filter: what it passes on goes through
	// the main request's chain below it (see postponeFilter).
	postpone bool
}

// filterChains are one location's header and body filter chains, and the
// part of the body chain below the postpone filter.
type filterChains struct {
	header HeaderFilterFunc
	body   BodyFilterFunc
	below  BodyFilterFunc
}

// buildFilterChains gives every location the chains of just the filters
// it needs; locations that need the same filters share them. The chains
// start from the write and header filters, which every chain ends in.
func (cf *Conf) buildFilterChains() {
	regs := cf.Main.filters
	shared := map[string]*filterChains{}
	key := make([]byte, len(regs))
	for _, lc := range cf.locs {
		for i, f := range regs {
			key[i] = '0'
			if f.active == nil || f.active(lc) {
				key[i] = '1'
			}
		}
		fc := shared[string(key)]
		if fc == nil {
			fc = &filterChains{header: headerWriter, body: writeFilter}
			fc.below = fc.body
			for i, f := range regs {
				if key[i] == '0' {
					continue
				}
				if f.header != nil {
					fc.header = f.header(fc.header)
				}
				if f.body != nil {
					if f.postpone {
						fc.below = fc.body
					}
					fc.body = f.body(fc.body)
				}
			}
			shared[string(key)] = fc
		}
		lc.filters = fc
	}
}

// SendHeader runs the header filters (ngx_http_send_header).
func (r *Request) SendHeader() int {
	if r.HeaderSent {
		r.Logf(errlog.Alert, "header already sent")
		return Error
	}
	if r.errStatus != 0 {
		r.Out.Status = r.errStatus
		r.Out.StatusLine = ""
	}
	if r.Out.Status == 0 {
		r.Out.Status = 200
	}
	if lc := r.Loc; lc != nil && lc.filters != nil {
		return lc.filters.header(r)
	}
	return r.Conn.cfg.Main.HeaderFilter(r)
}

// Output runs the body filters (ngx_http_output_filter).
func (r *Request) Output(in []Buf) int {
	var rc int
	if lc := r.Loc; lc != nil && lc.filters != nil {
		rc = lc.filters.body(r, in)
	} else {
		rc = r.Conn.cfg.Main.BodyFilter(r, in)
	}
	if rc == Error {
		// any filter may fail the output (ngx_http_output_filter)
		r.Conn.failed = true
	}
	return rc
}

// OutputBytes sends one buffer of body bytes, with last set on the final
// one.
func (r *Request) OutputBytes(b []byte, owned, last bool) int {
	bufs := r.Conn.srv.bufScratch[:1]
	bufs[0] = Buf{Data: b, Owned: owned, Last: last && r == r.Main, LastInChain: last}
	return r.Output(bufs)
}

// OutputFile sends n bytes of f from pos, the last of the response when
// last is set (as OutputBytes).
func (r *Request) OutputFile(f *File, pos, n int64, last bool) int {
	bufs := r.Conn.srv.bufScratch[:1]
	bufs[0] = Buf{File: f, FilePos: pos, FileLen: n, Last: last && r == r.Main, LastInChain: last}
	return r.Output(bufs)
}

// statusLines are nginx's status lines by status, "" for a status it has
// none for: an array, since every response looks one up.
var statusLines = func() (m [600]string) {
	for _, s := range []string{
		"200 OK", "201 Created", "202 Accepted", "204 No Content", "206 Partial Content",
		"301 Moved Permanently", "302 Moved Temporarily", "303 See Other", "304 Not Modified",
		"307 Temporary Redirect", "308 Permanent Redirect",
		"400 Bad Request", "401 Unauthorized", "402 Payment Required", "403 Forbidden", "404 Not Found",
		"405 Not Allowed", "406 Not Acceptable", "408 Request Time-out", "409 Conflict", "410 Gone",
		"411 Length Required", "412 Precondition Failed", "413 Request Entity Too Large",
		"414 Request-URI Too Large", "415 Unsupported Media Type", "416 Requested Range Not Satisfiable",
		"421 Misdirected Request", "429 Too Many Requests",
		"500 Internal Server Error", "501 Not Implemented", "502 Bad Gateway",
		"503 Service Temporarily Unavailable", "504 Gateway Time-out", "505 HTTP Version Not Supported",
		"507 Insufficient Storage",
	} {
		n, _ := strconv.Atoi(s[:3])
		m[n] = "HTTP/1.1 " + s + "\r\n"
	}
	return
}()

// statusLine returns nginx's status line for status, if it has one.
func statusLine(status int) (string, bool) {
	if status < 0 || status >= len(statusLines) || statusLines[status] == "" {
		return "", false
	}
	return statusLines[status], true
}

// StatusText returns nginx's reason phrase for a status, "" if it has none.
func StatusText(status int) string {
	if s, ok := statusLine(status); ok {
		return s[13 : len(s)-2]
	}
	return ""
}

// Server header strings as nginx's.
const (
	serverFull  = "Server: nginx/" + NginxVersion + "\r\n"
	serverBuild = "Server: nginx/" + NginxVersion + " (gresty/" + Version + ")\r\n"
	serverShort = "Server: nginx\r\n"
)

// Version is gresty's own version.
const Version = "0.1.0"

// contentTypeHeader returns the Content-Type value with its charset.
func (r *Request) contentTypeHeader() string {
	if r.Out.Charset != "" {
		return r.Out.ContentType + "; charset=" + r.Out.Charset
	}
	return r.Out.ContentType
}

// headerWriter is ngx_http_header_filter: it serialises the status line
// and headers and hands them to the write filter. It is the last header
// filter.
func headerWriter(r *Request) int {
	if r.HeaderSent {
		return OK
	}
	r.HeaderSent = true
	if r != r.Main {
		return OK
	}
	if r.HTTPVersion < 1000 {
		return OK
	}
	if r.Method == httpparse.MethodHEAD {
		r.HeaderOnly = true
	}
	out := &r.Out
	if out.LastModified != -1 && out.Status != 200 && out.Status != 206 && out.Status != 304 {
		out.LastModified = -1
		out.DelKnown(httpparse.HdrLastModified)
	}
	if r.KeepAlive && r.Conn.srv.exiting() {
		r.KeepAlive = false
	}
	c := r.Conn
	b := c.srv.hdrScratch[:0]
	if out.StatusLine != "" {
		b = append(b, "HTTP/1.1 "...)
		b = append(b, out.StatusLine...)
		b = append(b, "\r\n"...)
	} else {
		st := out.Status
		if st == 204 {
			r.HeaderOnly = true
			out.ContentType = ""
			out.LastModified = -1
			out.ContentLength = -1
			out.DelKnown(httpparse.HdrLastModified)
			out.DelKnown(httpparse.HdrContentLength)
		} else if st == 304 {
			r.HeaderOnly = true
		}
		if sl, ok := statusLine(st); ok {
			b = append(b, sl...)
		} else {
			b = append(b, "HTTP/1.1 "...)
			if st < 100 {
				b = append(b, '0')
				if st < 10 {
					b = append(b, '0')
				}
			}
			b = strconv.AppendInt(b, int64(st), 10)
			b = append(b, " \r\n"...)
		}
	}
	loc := r.Loc
	if out.Known(httpparse.HdrServer) == nil && !out.OmitServer {
		switch loc.ServerTokens.V {
		case TokensOn:
			b = append(b, serverFull...)
		case TokensBuild:
			b = append(b, serverBuild...)
		default:
			b = append(b, serverShort...)
		}
	}
	if out.Known(httpparse.HdrDate) == nil && !out.OmitDate {
		b = append(b, "Date: "...)
		b = append(b, c.srv.httpDate()...)
		b = append(b, "\r\n"...)
	}
	if out.ContentType != "" {
		b = append(b, "Content-Type: "...)
		b = append(b, out.ContentType...)
		if out.Charset != "" {
			b = append(b, "; charset="...)
			b = append(b, out.Charset...)
		}
		b = append(b, "\r\n"...)
	}
	if out.ContentLength >= 0 && out.Known(httpparse.HdrContentLength) == nil {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, out.ContentLength, 10)
		b = append(b, "\r\n"...)
	}
	if out.LastModified != -1 && out.Known(httpparse.HdrLastModified) == nil {
		b = append(b, "Last-Modified: "...)
		b = appendHTTPTime(b, time.Unix(out.LastModified, 0))
		b = append(b, "\r\n"...)
	}
	var hiddenLocation *Header
	if lh := out.Known(httpparse.HdrLocation); lh != nil && len(lh.Value) > 0 && lh.Value[0] == '/' && loc.AbsoluteRedirect.V {
		start := len(b)
		b = append(b, "Location: "...)
		b = append(b, c.Scheme()...)
		b = append(b, "://"...)
		switch {
		case loc.ServerNameInRedirect.V:
			b = append(b, r.Srv.Name...)
		case len(r.Main.Host) > 0:
			b = append(b, r.Main.Host...)
		default:
			b = append(b, c.LocalIPForURL()...)
		}
		port := c.LocalPort()
		if !loc.PortInRedirect.V || (port == 80 && c.Scheme() == "http") || (port == 443 && c.Scheme() == "https") {
			port = 0
		}
		if port != 0 {
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(port), 10)
		}
		b = append(b, lh.Value...)
		// the absolute value is what the access log sees.
		lh.Value = r.Keep(b[start+len("Location: "):])
		b = append(b, "\r\n"...)
		hiddenLocation = lh
	}
	if out.Chunked {
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	switch {
	case out.Status == 101:
		b = append(b, "Connection: upgrade\r\n"...)
	case r.KeepAlive:
		b = append(b, "Connection: keep-alive\r\n"...)
		if loc.KeepaliveHeader > 0 {
			b = append(b, "Keep-Alive: timeout="...)
			b = strconv.AppendInt(b, int64(loc.KeepaliveHeader/time.Second), 10)
			b = append(b, "\r\n"...)
		}
	default:
		b = append(b, "Connection: close\r\n"...)
	}
	if r.gzipVary() {
		b = append(b, "Vary: Accept-Encoding\r\n"...)
	}
	for i := range out.Headers {
		h := &out.Headers[i]
		if h.Name == nil || h == hiddenLocation {
			continue
		}
		b = append(b, h.Name...)
		b = append(b, ':', ' ')
		b = append(b, h.Value...)
		b = append(b, '\r', '\n')
	}
	b = append(b, '\r', '\n')
	c.srv.hdrScratch = b
	r.headerSize = len(b)
	return c.writeHeader(r, b)
}

// writeFilter is ngx_http_write_filter: the last body filter, which queues
// the bytes on the connection (the loop writes them with one writev at the
// end of its dispatch).
func writeFilter(r *Request, in []Buf) int {
	c := r.Conn
	if c.closed() {
		return Error
	}
	flush := false
	for i := range in {
		b := &in[i]
		if b.Flush || b.Last {
			flush = true
		}
		if r.HeaderOnly {
			if b.Last {
				r.lastSent = true
			}
			continue
		}
		if b.File != nil {
			if b.FileLen > 0 {
				if !c.corkBeforeFile(r) {
					return Error
				}
				if err := c.ec.SendfileFd(b.File.fd, b.FilePos, b.FileLen); err != nil {
					return Error
				}
				r.BytesSent += b.FileLen
				r.BodyBytesSent += b.FileLen
			}
		} else if len(b.Data) > 0 {
			var err error
			if b.Owned {
				err = c.ec.WriteRef(b.Data)
			} else {
				_, err = c.ec.Write(b.Data)
			}
			if err != nil {
				return Error
			}
			r.BytesSent += int64(len(b.Data))
			r.BodyBytesSent += int64(len(b.Data))
		}
		if b.Last {
			r.lastSent = true
		}
	}
	c.postpone(r, flush || len(in) == 0)
	c.pace(r.Main)
	if !c.writeOut(r) {
		return Error
	}
	if c.ec.Buffered() > c.srv.outHigh {
		return Again
	}
	return OK
}

// pace applies limit_rate and limit_rate_after to the response, as the
// write filter does: both are evaluated once per request (unless $limit_rate
// is set), and the connection then paces its output.
func (c *Conn) pace(mr *Request) {
	loc := mr.Loc
	if !mr.limitRateSet {
		mr.LimitRate = sizeValue(mr, loc.LimitRate.V)
		mr.limitRateSet = true
	}
	rate := mr.LimitRate
	if rate == c.paceRate && (rate == 0 || c.paceReq == mr) {
		return
	}
	c.paceReq, c.paceRate = mr, rate
	if rate == 0 {
		c.ec.SetRateLimit(0, 0, 0, 0)
		return
	}
	after := sizeValue(mr, loc.LimitRateAfter.V)
	c.ec.SetRateLimit(rate, after, mr.StartTime.Unix(), c.sentBase)
}

// sizeValue evaluates a size template, 0 for none or an invalid value
// (logged, as ngx_http_complex_value_size).
func sizeValue(r *Request, t *Template) int64 {
	if t == nil {
		return 0
	}
	n, ok := t.SizeValue(r)
	if !ok {
		r.Logf(errlog.Error, "invalid size \"%s\"", t.EvalString(r))
		return 0
	}
	return n
}

// postpone is the write filter's postpone_output rule: output that is
// neither flushed nor the end of the response stays back while less than
// postpone_output bytes wait, so that small pieces leave together, and a
// request that fails before sending more loses them, as with nginx.
func (c *Conn) postpone(r *Request, flush bool) {
	c.ec.SetHold(!flush && int64(c.ec.Buffered()) < r.Loc.PostponeOutput.V)
}

// writeOut hands output postpone let through to the kernel, and reports
// whether the connection survived it. nginx's write filter writes at once
// and its caller (an ngx.say after a sleep, an upstream's body) learns
// of a failed write then; the output of the connection's own dispatch
// waits for the dispatch's end instead, to leave together with the
// responses of the requests pipelined behind it.
func (c *Conn) writeOut(r *Request) bool {
	if c.ec.Held() || c.ec.Dispatching() || c.ec.Buffered() == 0 {
		return true
	}
	c.ec.WriteNow()
	if !c.closed() {
		return true
	}
	// the failure is logged now, in the request's context, before its
	// caller's own line; the close notification comes later.
	if err := c.ec.CloseErr(); err != nil && !c.closeLogged {
		c.closeLogged = true
		r.Logf(connErrorLevel(err, errlog.Info), "%s", err.Error())
	}
	return false
}

// appendHTTPTime appends t in the IMF-fixdate form nginx uses.
func appendHTTPTime(b []byte, t time.Time) []byte {
	return AppendHTTPDate(b, t.Unix())
}
