package headersmore

import (
	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// outputSetters are the response headers the original treats as nginx's
// own fields (headers_out.server, .date, ...) rather than plain lines,
// by lower-cased name. "E-Tag" (sic) is the original's spelling: it
// reaches the ETag field, while "ETag" is a plain header there.
var outputSetters = map[string]setFunc{
	"server":           builtinOut(httpparse.HdrServer),
	"date":             builtinOut(httpparse.HdrDate),
	"content-encoding": builtinOut(httpparse.HdrContentEncoding),
	"location":         builtinOut(httpparse.HdrLocation),
	"refresh":          builtinOut(httpparse.HdrRefresh),
	"last-modified":    builtinOut(httpparse.HdrLastModified),
	"content-range":    builtinOut(httpparse.HdrContentRange),
	"accept-ranges":    setAcceptRanges,
	"www-authenticate": builtinOut(httpparse.HdrWWWAuthenticate),
	"expires":          builtinOut(httpparse.HdrExpires),
	"e-tag":            builtinOut(httpparse.HdrETag),
	"content-length":   setContentLength,
	"content-type":     setContentType,
	"cache-control":    setCacheControl,
}

// outputFilter runs the output directives of the request's location in
// order (the filter of ngx_http_headers_more_filter_module).
func outputFilter(r *http.Request) int {
	r.Logf(errlog.Debug, "headers more header filter, uri \"%s\"", r.URI)
	lc := locConf(r)
	for _, cmd := range lc.cmds {
		if cmd.input || cmd.headers == nil {
			continue
		}
		if cmd.types != nil && !outTypeMatches(r, cmd.types) {
			continue
		}
		if cmd.statuses != nil && !statusMatches(r.Out.Status, cmd.statuses) {
			continue
		}
		for _, hv := range cmd.headers {
			if rc := hv.set(r, hv, hv.eval(r)); rc != http.OK {
				return rc
			}
		}
	}
	return http.OK
}

// outTypeMatches compares the response's media type, without its
// parameters, with the -t list.
func outTypeMatches(r *http.Request, types [][]byte) bool {
	ct := r.Out.ContentType
	for i := 0; i < len(ct); i++ {
		if ct[i] == ';' {
			ct = ct[:i]
			break
		}
	}
	for _, t := range types {
		if string(t) == ct {
			return true
		}
	}
	return false
}

func statusMatches(st int, statuses []int) bool {
	for _, s := range statuses {
		if s == st {
			return true
		}
	}
	return false
}

// nameMatches compares a header name with the directive's key: equal
// without case, or for "Prefix*" starting with the prefix.
func (hv *headerVal) nameMatches(name []byte) bool {
	k := hv.key
	if hv.wildcard {
		k = k[:len(k)-1]
		return len(name) >= len(k) && equalFold(name[:len(k)], k)
	}
	return len(name) == len(k) && equalFold(name, k)
}

func equalFold(a, b []byte) bool {
	for i := range a {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// hide removes a response header line. The Server, Date and
// Last-Modified lines nginx points at stay "present but hidden" there,
// which keeps the header writer from adding its own: so do we.
func hide(out *http.ResponseHeaders, h *http.Header) {
	switch h.Known {
	case httpparse.HdrServer:
		out.OmitServer = true
	case httpparse.HdrDate:
		out.OmitDate = true
	case httpparse.HdrLastModified:
		out.LastModified = -1
	}
	h.Name = nil
}

// setOutput sets (or with an empty value clears) every response line
// the key matches: the first matching line takes the value and keeps its
// own spelling of the name, later ones go; without a match a new line is
// added (ngx_http_set_header_helper).
func setOutput(r *http.Request, hv *headerVal, v []byte) int {
	out := &r.Out
	matched := false
	for i := range out.Headers {
		h := &out.Headers[i]
		if h.Name == nil || !hv.nameMatches(h.Name) {
			continue
		}
		if len(v) == 0 || matched {
			hide(out, h)
		} else {
			h.Value = v
		}
		matched = true
	}
	if matched || len(v) == 0 {
		// an empty new line would be hidden at once.
		return http.OK
	}
	out.Add(hv.key, v)
	return http.OK
}

// builtinOut handles a header nginx keeps a field for: the field's line is
// renamed and changed in place, or hidden; without one the lines of that
// name are set as plain ones, and a new line becomes the field.
func builtinOut(k httpparse.KnownHeader) setFunc {
	return func(r *http.Request, hv *headerVal, v []byte) int {
		setBuiltinOut(r, hv, k, v)
		return http.OK
	}
}

func setBuiltinOut(r *http.Request, hv *headerVal, k httpparse.KnownHeader, v []byte) {
	out := &r.Out
	if old := out.Known(k); old != nil {
		if len(v) == 0 {
			hide(out, old)
			return
		}
		old.Name, old.Value = hv.key, v
		return
	}
	matched := false
	for i := range out.Headers {
		h := &out.Headers[i]
		if h.Name == nil || !hv.nameMatches(h.Name) {
			continue
		}
		if len(v) == 0 || matched {
			hide(out, h)
		} else {
			h.Value = v
		}
		matched = true
	}
	if matched {
		// the matched line now stands for the field.
		switch k {
		case httpparse.HdrServer:
			out.OmitServer = true
		case httpparse.HdrDate:
			out.OmitDate = true
		case httpparse.HdrLastModified:
			out.LastModified = -1
		}
		return
	}
	if len(v) == 0 {
		// nginx adds a hidden line and points the field at it: the
		// header writer then adds no line of its own.
		switch k {
		case httpparse.HdrServer:
			out.OmitServer = true
		case httpparse.HdrDate:
			out.OmitDate = true
		case httpparse.HdrLastModified:
			out.LastModified = -1
		}
		return
	}
	out.Set(k, string(hv.key), v)
}

// setAcceptRanges clearing Accept-Ranges also turns ranges off.
func setAcceptRanges(r *http.Request, hv *headerVal, v []byte) int {
	if len(v) == 0 {
		r.Out.AllowRanges = false
	}
	setBuiltinOut(r, hv, httpparse.HdrAcceptRanges, v)
	return http.OK
}

// setContentLength sets the response length the header writer and the
// chunked filter use, as nginx's content_length_n.
func setContentLength(r *http.Request, hv *headerVal, v []byte) int {
	if len(v) == 0 {
		r.Out.ContentLength = -1
		setBuiltinOut(r, hv, httpparse.HdrContentLength, nil)
		return http.OK
	}
	n, ok := httpparse.Atoof(v)
	if !ok {
		return http.Error
	}
	r.Out.ContentLength = n
	setBuiltinOut(r, hv, httpparse.HdrContentLength, v)
	return http.OK
}

// setContentType replaces the response's Content-Type field with the
// whole value. A charset parameter in it replaces the response's charset,
// which the header writer then does not append again; without one, a
// charset the response had is still appended, as nginx does.
func setContentType(r *http.Request, hv *headerVal, v []byte) int {
	out := &r.Out
	out.ContentType = string(v)
	if hasCharsetParam(v) {
		out.Charset = ""
	}
	// lines named Content-Type go; none is added.
	for i := range out.Headers {
		h := &out.Headers[i]
		if h.Name != nil && hv.nameMatches(h.Name) {
			h.Name = nil
		}
	}
	return http.OK
}

// hasCharsetParam tells whether a Content-Type value has a "; charset="
// parameter after its type, as the original's scan finds it.
func hasCharsetParam(v []byte) bool {
	for i := 0; i < len(v); i++ {
		if v[i] != ';' {
			continue
		}
		j := i + 1
		for j < len(v) && v[j] == ' ' {
			j++
		}
		if j == len(v) {
			return false
		}
		if len(v)-j >= 8 && equalFold(v[j:j+8], []byte("charset=")) {
			return true
		}
		// the byte after the blanks is not looked at again.
		i = j
	}
	return false
}

// setCacheControl handles Cache-Control as nginx 1.22's multi-valued
// field: the first line takes the value (or is hidden), later ones go;
// without any, a "Cache-Control" line is added even for an empty value.
func setCacheControl(r *http.Request, hv *headerVal, v []byte) int {
	out := &r.Out
	first := true
	for i := range out.Headers {
		h := &out.Headers[i]
		if h.Name == nil || len(h.Name) != len(cacheControl) || !equalFold(h.Name, cacheControl) {
			continue
		}
		if first && len(v) > 0 {
			h.Value = v
		} else {
			h.Name = nil
		}
		first = false
	}
	if first {
		out.Headers = append(out.Headers, http.Header{Name: cacheControl, Value: v, Known: httpparse.HdrCacheControl})
	}
	return http.OK
}

var cacheControl = []byte("Cache-Control")
