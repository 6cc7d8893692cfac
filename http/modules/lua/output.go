package lua

import (
	"gresty/http"
	"gresty/httpparse"
)

// outState is the response side of a request's Lua context.
type outState struct {
	mimeSet    bool
	headersSet bool
	// failed is set when sending the head failed (a header filter
	// answered with another response instead): nothing more goes out and
	// the request ends in error, as nginx's closed output does.
	failed bool
	// buffering holds the whole body of an HTTP/1.0 response of unknown
	// length so that it goes out with a Content-Length
	// (lua_http10_buffering).
	buffering bool
	buffered  []byte
	// seenBody is set once ngx.say or ngx.print had bytes to send
	// (ctx->seen_body_data): ngx.flush() has nothing to do before.
	seenBody bool
}

// sendHeaderIfNeeded sends the response head before the first output
// (ngx_http_lua_send_header_if_needed).
func (c *reqCtx) sendHeaderIfNeeded() int {
	r := c.r
	if r.HeaderSent || c.headersSent {
		return http.OK
	}
	if r.Out.Status == 0 {
		r.Out.Status = 200
	}
	if !c.out.mimeSet {
		c.setContentType()
	}
	if !c.out.headersSet {
		r.Out.ContentLength = -1
		r.Out.DelKnown(httpparse.HdrContentLength)
		r.Out.DelKnown(httpparse.HdrAcceptRanges)
	}
	if c.out.buffering {
		return http.OK
	}
	// the header filters see the headers as not sent yet: they may
	// still change them.
	rc := r.SendHeader()
	c.headersSent = true
	if rc == http.Error {
		c.out.failed = true
	}
	return rc
}

// setContentType applies the location's type for the URI unless
// lua_use_default_type is off (ngx_http_lua_set_content_type).
func (c *reqCtx) setContentType() {
	c.out.mimeSet = true
	r := c.r
	lc := r.Loc.LocConfOf(Module).(*LocConf)
	if lc.UseDefaultType.V && r.Out.Status != 304 {
		r.SetContentType()
	}
}

// output sends body bytes (ngx.say, ngx.print); data is copied as the
// caller's buffer is Lua's. A nil data with last ends the response.
func (c *reqCtx) output(data []byte, last bool) int {
	r := c.r
	if c.out.failed {
		return http.Error
	}
	if c.eof {
		return http.OK
	}
	if r.Method == httpparse.MethodHEAD {
		r.HeaderOnly = true
	}
	lc := r.Loc.LocConfOf(Module).(*LocConf)
	if lc.HTTP10Buffering.V && !c.out.buffering && !r.HeaderSent && !c.headersSent &&
		r.HTTPVersion < 1001 && r.Out.ContentLength < 0 {
		c.out.buffering = true
	}
	if rc := c.sendHeaderIfNeeded(); rc == http.Error || rc >= 300 {
		return rc
	}
	if r.HeaderOnly {
		c.eof = true
		if c.out.buffering {
			return c.sendHTTP10Headers()
		}
		return http.OK
	}
	if last && data == nil {
		if r == r.Main && r.Body == nil {
			r.DiscardBody()
		}
		if c.out.buffering {
			if rc := c.sendHTTP10Headers(); rc == http.Error || rc >= 300 {
				return rc
			}
			if len(c.out.buffered) > 0 {
				b := c.out.buffered
				c.out.buffered = nil
				if rc := r.OutputBytes(b, true, false); rc == http.Error || rc >= 300 {
					return rc
				}
			}
		}
		c.eof = true
		return r.SendLast()
	}
	if c.out.buffering {
		c.logDebug("lua buffering output bufs for the HTTP 1.0 request")
		c.out.buffered = append(c.out.buffered, data...)
		return http.OK
	}
	return r.OutputBytes(data, false, false)
}

// sendHTTP10Headers sends the head of a buffered HTTP/1.0 response with
// its length (ngx_http_lua_send_http10_headers).
func (c *reqCtx) sendHTTP10Headers() int {
	r := c.r
	if r.HeaderSent || c.headersSent {
		return http.OK
	}
	if !r.HeaderOnly && r.Out.Known(httpparse.HdrContentLength) == nil {
		r.Out.ContentLength = int64(len(c.out.buffered))
	}
	rc := r.SendHeader()
	c.headersSent = true
	return rc
}

// sendEOF ends the response body (ngx.eof, and the end of content).
func (c *reqCtx) sendEOF() int {
	return c.output(nil, true)
}

// finishOutput is the end of content_by_lua: the response ends unless
// ngx.eof already ended it.
func (c *reqCtx) finishOutput() int {
	if !c.eof {
		if rc := c.sendEOF(); rc == http.Error || rc >= 300 {
			return rc
		}
	}
	return http.OK
}
