package http

// The upstream's response head: reading and checking it, the
// next-upstream and intercept decisions on its status, X-Accel-Redirect,
// and copying its headers into the response as nginx's
// ngx_http_upstream_headers_in handlers do.

import (
	"strconv"

	"gresty/errlog"
	"gresty/httpparse"
)

// processHeader reads the response head (ngx_http_upstream_process_header
// with the proxy module's status line and header parsers).
func (u *UpstreamRequest) processHeader(b []byte) {
	if u.raw != nil {
		u.processRawHeader(b)
		return
	}
	u.setAction("reading response header from upstream")
	room := cap(u.buf) - len(u.buf)
	n := len(b)
	if n > room {
		n = room
	}
	u.buf = append(u.buf, b[:n]...)
	rest := b[n:]
	switch u.resp.Parse(u.buf) {
	case httpparse.NeedMore:
		if len(u.buf) == cap(u.buf) {
			u.r.Logf(errlog.Error, "upstream sent too big header")
			u.next(UpstreamFTInvalidHeader)
		}
		return
	case httpparse.Failed:
		if u.resp.Failure() == httpparse.UpstreamTooBigHeader {
			u.r.Logf(errlog.Error, "upstream sent too big header")
		} else {
			line, bad := u.resp.InvalidHeader()
			u.r.Logf(errlog.Error, "upstream sent invalid header: \"%s\\x%02x...\"", line, bad)
		}
		u.next(UpstreamFTInvalidHeader)
		return
	}
	u.headerDone = true
	u.limitStart, u.limitRead = u.r.Conn.loopNow().Unix(), 0
	resp := &u.resp
	st := &u.states[u.state]
	st.HeaderTime = u.nowMs() - u.startMs
	if resp.Version == 9 {
		u.r.Logf(errlog.Error, "upstream sent no valid HTTP/1.0 header")
		u.http09 = true
		st.Status = 200
		// nginx answers such a response as HTTP/0.9: the bytes alone.
		u.r.HTTPVersion = 9
	} else if st.Status == 0 {
		st.Status = resp.StatusCode
	}
	u.connClose = resp.ConnectionClose
	status := u.status()
	if status == 204 || status == 304 || u.HeadRequest || (!resp.Chunked && resp.ContentLength == 0 && !u.http09) {
		u.keepalive = !u.connClose
	}
	if status == 101 {
		u.keepalive = false
		if _, ok := u.r.KnownIn(httpparse.HdrUpgrade); ok {
			u.upgrade = true
		}
	}
	// what followed the head in the buffer, then what did not fit in it
	pre := u.buf[resp.HeadLen():]
	if status >= 300 {
		if u.testNext(status) || u.interceptErrors(status) {
			return
		}
	}
	if !u.processHeaders() {
		return
	}
	u.sendResponse(pre, rest)
}

func (u *UpstreamRequest) status() int {
	if u.http09 {
		return 200
	}
	return u.resp.StatusCode
}

// nextErrors maps statuses to their proxy_next_upstream bits, in nginx's
// order.
var nextErrors = []struct {
	status int
	mask   uint32
}{
	{500, UpstreamFTHTTP500}, {502, UpstreamFTHTTP502}, {503, UpstreamFTHTTP503}, {504, UpstreamFTHTTP504},
	{403, UpstreamFTHTTP403}, {404, UpstreamFTHTTP404}, {429, UpstreamFTHTTP429},
}

// testNext is ngx_http_upstream_test_next: a status proxy_next_upstream
// names sends the request to the next peer while tries remain.
func (u *UpstreamRequest) testNext(status int) bool {
	for _, ne := range nextErrors {
		if ne.status != status {
			continue
		}
		mask := ne.mask
		if u.requestSent && nonIdempotent(u.r) {
			mask |= UpstreamFTNonIdempotent
		}
		timeout := u.Conf.NextUpstreamTimeout
		if u.pc.Tries > 1 && u.Conf.NextUpstream&mask == mask && !(u.requestSent && u.noBuffering) &&
			!(timeout > 0 && u.r.Conn.loopNow().Sub(u.peerStart) >= timeout) {
			u.next(ne.mask)
			return true
		}
		return false
	}
	return false
}

// interceptErrors is ngx_http_upstream_intercept_errors: with
// proxy_intercept_errors, a status that has an error_page is answered by
// it instead of the upstream's body.
func (u *UpstreamRequest) interceptErrors(status int) bool {
	if !u.Conf.InterceptErrors {
		return false
	}
	r := u.r
	for _, ep := range r.Loc.ErrorPages {
		if ep.Status != status {
			continue
		}
		if status == 401 {
			if v := u.resp.Get(httpparse.HdrWWWAuthenticate); v != nil {
				r.Out.Add([]byte("WWW-Authenticate"), r.Keep(v))
			}
		}
		u.finalize(status)
		return true
	}
	return false
}

// processHeaders is ngx_http_upstream_process_headers: X-Accel-Redirect,
// or the headers copied into the response with the status. It reports
// false when the request went elsewhere.
func (u *UpstreamRequest) processHeaders() bool {
	r := u.r
	resp := &u.resp
	conf := u.Conf
	if xar := resp.Get(httpparse.HdrXAccelRedirect); xar != nil && conf.IgnoreHeaders&UpstreamIgnXAccelRedirect == 0 {
		u.release(true)
		for i := 0; i < resp.NumHeaders(); i++ {
			h := resp.Header(i)
			switch h.Known {
			case httpparse.HdrContentType, httpparse.HdrSetCookie, httpparse.HdrContentDisposition,
				httpparse.HdrCacheControl, httpparse.HdrExpires, httpparse.HdrAcceptRanges:
				u.copyHeader(h)
			case httpparse.HdrXAccelLimitRate:
				// nginx applies it while reading the head: it holds for
				// the location the request is redirected to.
				u.limitRate(h.Value)
			}
		}
		u.accelRedirect(r.Keep(xar))
		return false
	}
	for i := 0; i < resp.NumHeaders(); i++ {
		h := resp.Header(i)
		if InSet(conf.HideHeaders, h.Name) {
			continue
		}
		u.copyHeader(h)
	}
	out := &r.Out
	out.Status = u.status()
	if sl := resp.StatusLine(); len(sl) > 0 && !u.http09 {
		out.StatusLine = statusLineString(sl, out.Status)
	}
	out.ContentLength = resp.ContentLength
	if resp.Chunked || u.http09 {
		out.ContentLength = -1
	}
	u.disableNotMod = true
	if conf.ForceRanges {
		out.AllowRanges = true
	}
	return true
}

// limitRate applies X-Accel-Limit-Rate (bytes per second) to the request.
func (u *UpstreamRequest) limitRate(v []byte) {
	if u.Conf.IgnoreHeaders&UpstreamIgnXAccelLimitRate != 0 {
		return
	}
	if n, err := strconv.Atoi(string(v)); err == nil && n >= 0 {
		u.r.LimitRate, u.r.limitRateSet = int64(n), true
	}
}

// statusLineString returns an upstream's status line ("200 OK") as a
// string, without allocating when it is the one nginx itself would send
// for the status.
func statusLineString(sl []byte, status int) string {
	if own, ok := statusLine(status); ok {
		own = own[len("HTTP/1.1 ") : len(own)-len("\r\n")]
		if string(sl) == own {
			return own
		}
	}
	return string(sl)
}

// InSet tells whether set, keyed by lower-case header names, holds name
// in any case. It does not allocate for names of up to 64 bytes.
func InSet(set map[string]bool, name []byte) bool {
	if len(set) == 0 {
		return false
	}
	var buf [64]byte
	if len(name) > len(buf) {
		return set[string(toLower(make([]byte, len(name)), name))]
	}
	return set[string(toLower(buf[:len(name)], name))]
}

func toLower(dst, src []byte) []byte {
	for i, c := range src {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
	return dst
}

// copyHeader is the copy handler of one upstream header.
func (u *UpstreamRequest) copyHeader(h httpparse.HeaderField) {
	r := u.r
	out := &r.Out
	conf := u.Conf
	switch h.Known {
	case httpparse.HdrContentLength, httpparse.HdrConnection, httpparse.HdrKeepAlive, httpparse.HdrTransferEncoding:
		return
	case httpparse.HdrContentType:
		// the value goes out as the upstream sent it; filters test its
		// media type.
		st := &u.store
		if st.contentType != string(h.Value) {
			st.contentType = string(h.Value)
		}
		out.ContentType = st.contentType
		out.Charset = ""
		return
	case httpparse.HdrLastModified:
		out.Headers = append(out.Headers, Header{Name: h.Name, Value: h.Value, Known: h.Known})
		out.LastModified = ParseHTTPTime(h.Value)
		return
	case httpparse.HdrLocation:
		v := h.Value
		if u.RewriteRedirect != nil {
			nv, rc := u.RewriteRedirect(r, v, 0)
			if rc == OK {
				out.Add(h.Name, nv)
				return
			}
			out.Headers = append(out.Headers, Header{Name: h.Name, Value: v})
			return
		}
		if len(v) > 0 && v[0] == '/' {
			// a relative redirect is not made absolute, as nginx keeps
			// it out of headers_out.location.
			out.Headers = append(out.Headers, Header{Name: h.Name, Value: v})
			return
		}
		out.Add(h.Name, v)
		return
	case httpparse.HdrRefresh:
		v := h.Value
		if u.RewriteRedirect != nil {
			if i := indexFold(v, "url="); i >= 0 {
				if nv, rc := u.RewriteRedirect(r, v, i+4); rc == OK {
					v = nv
				}
			}
		}
		out.Headers = append(out.Headers, Header{Name: h.Name, Value: v, Known: h.Known})
		return
	case httpparse.HdrSetCookie:
		v := h.Value
		if u.RewriteCookie != nil {
			if nv, rc := u.RewriteCookie(r, v); rc == OK {
				v = nv
			}
		}
		out.Headers = append(out.Headers, Header{Name: h.Name, Value: v, Known: h.Known})
		return
	case httpparse.HdrAcceptRanges:
		if conf.ForceRanges {
			return
		}
	case httpparse.HdrXAccelLimitRate:
		u.limitRate(h.Value)
	case httpparse.HdrXAccelBuffering:
		if conf.IgnoreHeaders&UpstreamIgnXAccelBuffering == 0 && conf.ChangeBuffering {
			switch {
			case len(h.Value) == 2 && equalFoldBS(h.Value, "no"):
				u.buffering = false
			case len(h.Value) == 3 && equalFoldBS(h.Value, "yes"):
				u.buffering = true
			}
		}
	}
	out.Add(h.Name, h.Value)
}

// accelRedirect follows X-Accel-Redirect: a named location, or an
// internal redirect to a safe URI (method GET unless HEAD).
func (u *UpstreamRequest) accelRedirect(uri []byte) {
	r := u.r
	if len(uri) > 0 && uri[0] == '@' {
		r.NamedLocation(string(uri))
		r.Finalize(Done)
		return
	}
	path, args, ok := parseUnsafeURI(uri)
	if !ok {
		r.Logf(errlog.Error, "unsafe URI \"%s\" was detected", uri)
		r.Finalize(404)
		return
	}
	if r.Method != httpparse.MethodHEAD {
		r.Method = httpparse.MethodGET
		r.MethodName = "GET"
	}
	r.InternalRedirect(path, args)
	r.Finalize(Done)
}

// parseUnsafeURI is ngx_http_parse_unsafe_uri: split the arguments off and
// refuse "..", NUL and a leading "?", also after unescaping.
func parseUnsafeURI(uri []byte) (path, args []byte, ok bool) {
	if len(uri) == 0 || uri[0] == '?' {
		return nil, nil, false
	}
	path = uri
	if i := indexByte(uri, '?'); i >= 0 {
		path, args = uri[:i], uri[i+1:]
	}
	if dotdot(path) {
		return nil, nil, false
	}
	if indexByte(path, '%') >= 0 {
		dec, _ := httpparse.AppendUnescape(nil, path, httpparse.UnescapePlain)
		if dotdot(dec) {
			return nil, nil, false
		}
		path = dec
	}
	return path, args, true
}

func dotdot(p []byte) bool {
	if len(p) > 1 && p[0] == '.' && p[1] == '.' && (len(p) == 2 || p[2] == '/') {
		return true
	}
	for i, c := range p {
		if c == 0 {
			return true
		}
		if c == '/' && len(p)-i > 2 && p[i+1] == '.' && p[i+2] == '.' && (len(p)-i == 3 || p[i+3] == '/') {
			return true
		}
	}
	return false
}

// sendResponse is ngx_http_upstream_send_response: the head through the
// filters, then the body relay (or the upgraded stream).
func (u *UpstreamRequest) sendResponse(pre, rest []byte) {
	r := u.r
	if r.HeaderSent {
		// the request was answered meanwhile: a streamed body failed
		u.release(false)
		return
	}
	rc := r.SendHeader()
	if rc == Error || rc > OK {
		u.finalize(rc)
		return
	}
	u.headerSent = true
	if u.upgrade {
		u.startUpgrade(pre, rest)
		return
	}
	if r.HeaderOnly {
		u.finalize(rc)
		return
	}
	u.startBody(pre, rest)
}

// UpstreamHeader returns the value of the first upstream response header
// whose name matches name (lower case, "_" for "-"), the synthetic empty
// Server and Date nginx adds when the upstream sent none included
// ($upstream_http_NAME).
func (u *UpstreamRequest) UpstreamHeader(name string) ([]byte, bool) {
	if !u.headerDone || u.http09 {
		return nil, false
	}
	resp := &u.resp
	for i := 0; i < resp.NumHeaders(); i++ {
		h := resp.Header(i)
		if nameMatchesUnderscored(h.Name, name) {
			return h.Value, true
		}
	}
	if (name == "server" && resp.Get(httpparse.HdrServer) == nil) || (name == "date" && resp.Get(httpparse.HdrDate) == nil) {
		return []byte{}, true
	}
	return nil, false
}

// UpstreamCookie returns the value of cookie name from the upstream's
// Set-Cookie headers, as ngx_http_parse_set_cookie_lines
// ($upstream_cookie_NAME).
func (u *UpstreamRequest) UpstreamCookie(name string) ([]byte, bool) {
	if !u.headerDone || u.http09 {
		return nil, false
	}
	resp := &u.resp
	for i := 0; i < resp.NumHeaders(); i++ {
		h := resp.Header(i)
		if h.Known != httpparse.HdrSetCookie {
			continue
		}
		v := h.Value
		if len(name) >= len(v) || !equalFoldBS(v[:len(name)], name) {
			continue
		}
		p := len(name)
		for p < len(v) && v[p] == ' ' {
			p++
		}
		if p == len(v) || v[p] != '=' {
			continue
		}
		p++
		for p < len(v) && v[p] == ' ' {
			p++
		}
		end := p
		for end < len(v) && v[end] != ';' {
			end++
		}
		return v[p:end], true
	}
	return nil, false
}

// NotModifiedDisabled tells that the not-modified filter must let the
// response through: an upstream's response is passed as it came
// (r->disable_not_modified).
func (r *Request) NotModifiedDisabled() bool {
	u, ok := r.upstream.(*UpstreamRequest)
	return ok && u != nil && u.disableNotMod
}
