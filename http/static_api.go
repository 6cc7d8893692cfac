package http

// Helpers for the modules that serve files (static, index, autoindex,
// not_modified, range, try_files, gzip_static): path mapping, ETags,
// the header-clearing macros of ngx_http_core_module.h, filter-time
// finalization, and hooks that keep file descriptors alive until the
// bytes that refer to them have left.

import (
	"strconv"

	"gresty/errlog"
	"gresty/httpparse"
)

// AppendPath maps the request URI to a file path with the location's root
// or alias and appends it to dst, as ngx_http_map_uri_to_path and
// MapURIToPath (which allocates): a static root is prefixed to the URI, an
// alias replaces the location's prefix, an alias in a regex location is
// the whole path, and a root or alias with variables is evaluated and made
// absolute against the prefix. It returns the path, the length of its
// root part, and false when the path cannot be built (answer 500).
//
// The returned slice aliases dst's storage. Request loop only.
func (r *Request) AppendPath(dst []byte) (path []byte, rootLen int, ok bool) {
	loc := r.Loc
	root := loc.Root.V
	if root == nil {
		return dst, 0, false
	}
	alias := 0
	if loc.Alias {
		alias = loc.AliasLen
	}
	if alias != 0 && r.locationInvalid {
		r.Logf(errlog.Alert, "\"alias\" cannot be used in location \"%s\" where URI was rewritten", loc.Name)
		return dst, 0, false
	}
	start := len(dst)
	if root.Static() {
		dst = append(dst, root.raw...)
	} else {
		dst = root.Eval(r, dst)
		if len(dst) == start || dst[start] != '/' {
			full := r.Conn.cfg.cycle.FullName(string(dst[start:]), false)
			dst = append(dst[:start], full...)
		}
	}
	rootLen = len(dst) - start
	if alias == AliasRegex {
		if !r.addURIToAlias {
			return dst, rootLen, true
		}
		alias = 0
	}
	uri := r.URI
	if alias > len(uri) {
		alias = len(uri)
	}
	return append(dst, uri[alias:]...), rootLen, true
}

// SetETag adds the strong ETag nginx derives from the response's
// Last-Modified time and length ("\"%xT-%xO\"", ngx_http_set_etag), when
// the location has "etag on". Request loop only.
func (r *Request) SetETag() {
	if !r.Loc.Etag.V {
		return
	}
	b := r.Alloc(2*17 + 4)[:0]
	b = append(b, '"')
	b = appendSignedHex(b, r.Out.LastModified)
	b = append(b, '-')
	b = appendSignedHex(b, r.Out.ContentLength)
	b = append(b, '"')
	r.Out.Add(etagHeaderName, b)
}

var etagHeaderName = []byte("ETag")

// AppendETag appends the ETag value SetETag would send for a file of the
// given mtime and size.
func AppendETag(dst []byte, mtime, size int64) []byte {
	dst = append(dst, '"')
	dst = appendSignedHex(dst, mtime)
	dst = append(dst, '-')
	dst = appendSignedHex(dst, size)
	return append(dst, '"')
}

// appendSignedHex is nginx's "%xT"/"%xO": lowercase hex, a minus sign
// before the magnitude of a negative value.
func appendSignedHex(b []byte, v int64) []byte {
	if v < 0 {
		b = append(b, '-')
		return strconv.AppendUint(b, uint64(-v), 16)
	}
	return strconv.AppendUint(b, uint64(v), 16)
}

// WeakETag turns a strong ETag into a weak one and drops an ETag that is
// not a quoted string, as ngx_http_weak_etag (filters that change the body
// call it). Request loop only.
func (r *Request) WeakETag() {
	h := r.Out.Known(httpparse.HdrETag)
	if h == nil {
		return
	}
	v := h.Value
	if len(v) > 2 && v[0] == 'W' && v[1] == '/' {
		return
	}
	if len(v) < 1 || v[0] != '"' {
		r.Out.DelKnown(httpparse.HdrETag)
		return
	}
	w := r.Alloc(len(v) + 2)
	w[0], w[1] = 'W', '/'
	copy(w[2:], v)
	h.Value = w
}

// ClearContentLength drops the response length (ngx_http_clear_content_length).
func (h *ResponseHeaders) ClearContentLength() {
	h.ContentLength = -1
	h.DelKnown(httpparse.HdrContentLength)
}

// ClearAcceptRanges drops Accept-Ranges (ngx_http_clear_accept_ranges).
func (h *ResponseHeaders) ClearAcceptRanges() {
	h.AllowRanges = false
	h.DelKnown(httpparse.HdrAcceptRanges)
}

// ClearLastModified drops Last-Modified (ngx_http_clear_last_modified).
func (h *ResponseHeaders) ClearLastModified() {
	h.LastModified = -1
	h.DelKnown(httpparse.HdrLastModified)
}

// ClearETag drops the ETag (ngx_http_clear_etag).
func (h *ResponseHeaders) ClearETag() { h.DelKnown(httpparse.HdrETag) }

// FilterFinalize answers the request with status from inside a header or
// body filter, as ngx_http_filter_finalize_request: the response headers
// built so far are dropped, module contexts are cleared, and the special
// response (or error_page) for status goes out through the filters from
// the top. The filter returns the result; Error tells the caller that the
// connection will not be kept. Request loop only.
func (r *Request) FilterFinalize(status int) int {
	r.Out.reset()
	r.clearModuleCtx()
	r.filterFinalize = true
	rc := r.specialResponse(status)
	if rc == OK || rc == Done {
		return Error
	}
	return rc
}

// NextTempNumber returns the next number of the process-wide sequence
// nginx shares between temporary file names and multipart boundaries
// (ngx_next_temp_number). Any goroutine.
func NextTempNumber() uint64 { return tempSeq.Add(1) }

// ReleaseAfterSend runs f once everything queued on r's connection so far
// has been handed to the kernel, or the connection closed: the moment a
// file descriptor queued for sendfile may be closed. It runs at once when
// nothing is queued. Request loop only.
func (r *Request) ReleaseAfterSend(f func()) {
	c := r.Conn
	if c.closed() || c.ec.Buffered() == 0 {
		f()
		return
	}
	c.sentHooks = append(c.sentHooks, f)
}

// releaseFile closes a request's descriptor once the output queued so far
// has been sent.
func (c *Conn) releaseFile(o *ownedFD) {
	if c.closed() || c.ec.Buffered() == 0 {
		c.srv.files.closeOwned(o)
		return
	}
	c.sentFiles = append(c.sentFiles, o)
}

// runSentHooks runs the ReleaseAfterSend functions and closes the files
// waiting for the output; the connection calls it when its output queue
// drained or it closed.
func (c *Conn) runSentHooks() {
	for len(c.sentHooks) > 0 {
		hs := c.sentHooks
		c.sentHooks = nil
		for _, f := range hs {
			f()
		}
	}
	if len(c.sentFiles) > 0 {
		for i, o := range c.sentFiles {
			c.srv.files.closeOwned(o)
			c.sentFiles[i] = nil
		}
		c.sentFiles = c.sentFiles[:0]
	}
}

// SetDrainHandler makes the connection call f when its output queue has
// drained while r is its current request, so that a module that stopped
// producing output because the queue was full (Output returned Again) can
// go on; nil removes it. Request loop only.
func (r *Request) SetDrainHandler(f func(r *Request)) { r.drainHandler = f }
