package http

import (
	"strings"

	"gresty/conf"
	"gresty/core"
	"gresty/httpparse"
)

// ErrorPage is one status of an error_page directive.
type ErrorPage struct {
	Status int
	// Overwrite is the "=code" answer: -1 keep the status, 0 take the
	// status of the page's own response ("=").
	Overwrite int
	Value     *Template
	Args      []byte
}

func setErrorPage(p *core.Parser, d *conf.Directive, c any) error {
	l := c.(*LocConf)
	args := d.Args
	i := len(args) - 2
	overwrite, n := -1, 1
	if strings.HasPrefix(args[i], "=") {
		if i == 0 {
			return p.Errorf(d, "invalid value \"%s\"", args[i])
		}
		if len(args[i]) > 1 {
			v, ok := core.Atoi(args[i][1:])
			if !ok {
				return p.Errorf(d, "invalid value \"%s\"", args[i])
			}
			overwrite = v
		} else {
			overwrite = 0
		}
		n = 2
	}
	uri := args[len(args)-1]
	t, err := CompileTemplateP(p, uri)
	if err != nil {
		return err
	}
	var qargs []byte
	if t.Static() && strings.HasPrefix(uri, "/") {
		if q := strings.IndexByte(uri, '?'); q >= 0 {
			t, _ = CompileTemplateP(p, uri[:q])
			qargs = []byte(uri[q+1:])
		}
	}
	if l.ErrorPages == nil {
		l.ErrorPages = []*ErrorPage{}
	}
	for _, a := range args[:len(args)-n] {
		st, ok := core.Atoi(a)
		if !ok || st == 499 {
			return p.Errorf(d, "invalid value \"%s\"", a)
		}
		if st < 300 || st > 599 {
			return p.Errorf(d, "value \"%s\" must be between 300 and 599", a)
		}
		ep := &ErrorPage{Status: st, Overwrite: overwrite, Value: t, Args: qargs}
		if overwrite == -1 {
			switch st {
			case 497, 495, 496, 494:
				ep.Overwrite = 400
			}
		}
		l.ErrorPages = append(l.ErrorPages, ep)
	}
	return nil
}

const crlf = "\r\n"

func errorPage(title, h1, extra string) string {
	s := "<html>" + crlf + "<head><title>" + title + "</title></head>" + crlf + "<body>" + crlf +
		"<center><h1>" + h1 + "</h1></center>" + crlf
	if extra != "" {
		s += "<center>" + extra + "</center>" + crlf
	}
	return s
}

var errorPages = func() map[int][]byte {
	m := map[int][]byte{}
	simple := map[int]string{
		301: "301 Moved Permanently", 302: "302 Found", 303: "303 See Other", 307: "307 Temporary Redirect",
		308: "308 Permanent Redirect", 400: "400 Bad Request", 401: "401 Authorization Required",
		402: "402 Payment Required", 403: "403 Forbidden", 404: "404 Not Found", 405: "405 Not Allowed",
		406: "406 Not Acceptable", 408: "408 Request Time-out", 409: "409 Conflict", 410: "410 Gone",
		411: "411 Length Required", 412: "412 Precondition Failed", 413: "413 Request Entity Too Large",
		414: "414 Request-URI Too Large", 415: "415 Unsupported Media Type",
		416: "416 Requested Range Not Satisfiable", 421: "421 Misdirected Request", 429: "429 Too Many Requests",
		500: "500 Internal Server Error", 501: "501 Not Implemented", 502: "502 Bad Gateway",
		503: "503 Service Temporarily Unavailable", 504: "504 Gateway Time-out",
		505: "505 HTTP Version Not Supported", 507: "507 Insufficient Storage",
	}
	for k, v := range simple {
		m[k] = []byte(errorPage(v, v, ""))
	}
	m[494] = []byte(errorPage("400 Request Header Or Cookie Too Large", "400 Bad Request", "Request Header Or Cookie Too Large"))
	m[495] = []byte(errorPage("400 The SSL certificate error", "400 Bad Request", "The SSL certificate error"))
	m[496] = []byte(errorPage("400 No required SSL certificate was sent", "400 Bad Request", "No required SSL certificate was sent"))
	m[497] = []byte(errorPage("400 The plain HTTP request was sent to HTTPS port", "400 Bad Request", "The plain HTTP request was sent to HTTPS port"))
	m[498] = m[404]
	return m
}()

var (
	errorTailFull  = []byte("<hr><center>nginx/" + NginxVersion + "</center>" + crlf + "</body>" + crlf + "</html>" + crlf)
	errorTailBuild = []byte("<hr><center>nginx/" + NginxVersion + " (gresty/" + Version + ")</center>" + crlf + "</body>" + crlf + "</html>" + crlf)
	errorTail      = []byte("<hr><center>nginx</center>" + crlf + "</body>" + crlf + "</html>" + crlf)
	msiePadding    = []byte(strings.Repeat("<!-- a padding to disable MSIE and Chrome friendly error page -->"+crlf, 6))
)

// ErrorPageBody returns nginx's built-in page for a status, nil if it has
// none.
func ErrorPageBody(status int) []byte { return errorPages[status] }

// specialResponse answers a status with error_page or nginx's built-in page
// (ngx_http_special_response_handler).
func (r *Request) specialResponse(status int) int {
	r.errStatus = status
	if r.KeepAlive {
		switch status {
		case 400, 413, 414, 497, 495, 496, 500, 501:
			r.KeepAlive = false
		}
	}
	if r.Conn.lingering {
		switch status {
		case 400, 497, 495, 496:
			r.Conn.lingering = false
		}
	}
	r.Out.ContentType, r.Out.Charset = "", ""
	loc := r.Loc
	if !r.errorPage && loc.ErrorPages != nil && r.uriChanges != 0 {
		if !loc.RecursiveErrorPages.V {
			r.errorPage = true
		}
		for _, ep := range loc.ErrorPages {
			if ep.Status == status {
				return r.sendErrorPage(ep)
			}
		}
	}
	r.expectTested = true
	if r.DiscardBody() != OK {
		r.KeepAlive = false
	}
	if loc.MsieRefresh.V && r.msie() && (status == 301 || status == 302) {
		return r.sendRefresh()
	}
	page := []byte(nil)
	switch {
	case status == 201 || status == 204:
	case status >= 301 && status < 600:
		page = errorPages[status]
		switch status {
		case 497, 495, 496, 494:
			r.errStatus = 400
		}
	}
	return r.sendSpecialResponse(page, status >= 400)
}

func (r *Request) sendErrorPage(ep *ErrorPage) int {
	overwrite := ep.Overwrite
	if overwrite != 0 && overwrite != 200 {
		r.expectTested = true
	}
	if overwrite >= 0 {
		r.errStatus = overwrite
	}
	uri := ep.Value.EvalBytes(r)
	if len(uri) > 0 && uri[0] == '/' {
		args := ep.Args
		if !ep.Value.Static() {
			if q := indexByte(uri, '?'); q >= 0 {
				uri, args = uri[:q], uri[q+1:]
			}
		}
		if r.Method != httpparse.MethodHEAD {
			r.Method = httpparse.MethodGET
			r.MethodName = "GET"
		}
		return r.InternalRedirect(uri, args)
	}
	if len(uri) > 0 && uri[0] == '@' {
		return r.NamedLocation(string(uri))
	}
	r.expectTested = true
	if r.DiscardBody() != OK {
		r.KeepAlive = false
	}
	if overwrite != 301 && overwrite != 302 && overwrite != 303 && overwrite != 307 && overwrite != 308 {
		r.errStatus = 302
	}
	r.Out.DelKnown(httpparse.HdrLocation)
	r.Out.Set(httpparse.HdrLocation, "Location", uri)
	if r.Loc.MsieRefresh.V && r.msie() {
		return r.sendRefresh()
	}
	return r.sendSpecialResponse(errorPages[r.errStatus], false)
}

func (r *Request) sendSpecialResponse(page []byte, padding bool) int {
	loc := r.Loc
	tail := errorTailFull
	switch loc.ServerTokens.V {
	case TokensOff:
		tail = errorTail
	case TokensBuild:
		tail = errorTailBuild
	}
	pad := false
	if page != nil {
		r.Out.ContentLength = int64(len(page) + len(tail))
		if padding && loc.MsiePadding.V && (r.msie() || r.chrome()) && r.HTTPVersion >= 1000 {
			r.Out.ContentLength += int64(len(msiePadding))
			pad = true
		}
		r.Out.ContentType = "text/html"
	} else {
		r.Out.ContentLength = 0
	}
	r.Out.DelKnown(httpparse.HdrContentLength)
	r.Out.DelKnown(httpparse.HdrAcceptRanges)
	r.Out.DelKnown(httpparse.HdrLastModified)
	r.Out.LastModified = -1
	r.Out.DelKnown(httpparse.HdrETag)
	rc := r.SendHeader()
	if rc == Error || r.HeaderOnly {
		return rc
	}
	if page == nil {
		return r.SendLast()
	}
	bufs := r.Conn.srv.bufScratch[:0]
	bufs = append(bufs, Buf{Data: page, Owned: true}, Buf{Data: tail, Owned: true})
	if pad {
		bufs = append(bufs, Buf{Data: msiePadding, Owned: true})
	}
	last := &bufs[len(bufs)-1]
	last.Last = r == r.Main
	last.LastInChain = true
	return r.Output(bufs)
}

func (r *Request) sendRefresh() int {
	loc := r.Out.Known(httpparse.HdrLocation)
	var target []byte
	if loc != nil {
		target = loc.Value
	}
	body := []byte("<html><head><meta http-equiv=\"Refresh\" content=\"0; URL=")
	body = escapeInto(body, target, escapeRefreshTable)
	body = append(body, "\"></head><body></body></html>\r\n"...)
	r.errStatus = 200
	r.Out.ContentType = "text/html"
	r.Out.DelKnown(httpparse.HdrLocation)
	r.Out.ContentLength = int64(len(body))
	r.Out.DelKnown(httpparse.HdrAcceptRanges)
	r.Out.DelKnown(httpparse.HdrLastModified)
	r.Out.LastModified = -1
	r.Out.DelKnown(httpparse.HdrETag)
	rc := r.SendHeader()
	if rc == Error || r.HeaderOnly {
		return rc
	}
	return r.OutputBytes(body, true, true)
}

// SendLast sends the end of the response with no more bytes
// (ngx_http_send_special NGX_HTTP_LAST).
func (r *Request) SendLast() int {
	bufs := r.Conn.srv.bufScratch[:1]
	bufs[0] = Buf{Last: r == r.Main, LastInChain: true}
	return r.Output(bufs)
}

// SendFlush asks the filters to send what they hold
// (ngx_http_send_special NGX_HTTP_FLUSH).
func (r *Request) SendFlush() int {
	bufs := r.Conn.srv.bufScratch[:1]
	bufs[0] = Buf{Flush: true}
	return r.Output(bufs)
}

func (r *Request) msie() bool { return r.MSIE() }

func (r *Request) chrome() bool {
	ua, ok := r.KnownIn(httpparse.HdrUserAgent)
	return ok && containsBytes(ua, "Chrome/")
}

func containsBytes(b []byte, s string) bool { return indexBytes(b, s) >= 0 }

func indexBytes(b []byte, s string) int {
	n := len(s)
	for i := 0; i+n <= len(b); i++ {
		if string(b[i:i+n]) == s {
			return i
		}
	}
	return -1
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// escapedName returns a location name escaped as nginx's escaped_name
// (NGX_ESCAPE_URI).
func escapedName(name string) string {
	return string(escapeInto(nil, []byte(name), escapeURITable))
}
