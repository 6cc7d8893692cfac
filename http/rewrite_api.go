package http

import "gresty/httpparse"

// This file is what the rewrite module (and other script-running modules)
// needs of a request beyond the public fields: nginx's r->uri_changed,
// r->valid_location, r->loc_conf switches and the regex captures. Every
// method here runs on the request's loop.

// SetLocConf makes l the request's location configuration and applies it
// (r->loc_conf = l; ngx_http_update_location_config), as a matching if
// block in a location does.
func (r *Request) SetLocConf(l *LocConf) {
	r.Loc = l
	r.updateLocationConfig()
}

// InServerLocationRewrite tells whether r stands at the first handler of
// the location rewrite phase while it still uses its server's own
// location configuration (no location matched). nginx's rewrite module
// declines there: the server-level script already ran in the
// server-rewrite phase.
func (r *Request) InServerLocationRewrite() bool {
	return r.phase == r.Conn.cfg.Main.engine.locationRewriteIndex && r.Loc == r.Srv.Loc()
}

// URIChanged tells whether a rewrite changed the URI in this pass, so that
// the post-rewrite phase searches the location again (r->uri_changed).
func (r *Request) URIChanged() bool { return r.uriChanged }

// SetURIChanged sets or clears r->uri_changed.
func (r *Request) SetURIChanged(v bool) { r.uriChanged = v }

// InvalidateLocation records that the URI no longer belongs to the
// selected location (r->valid_location = 0, as "rewrite ... break" does):
// an alias location then refuses to map it to a file.
func (r *Request) InvalidateLocation() { r.locationInvalid = true }

// RegexExec matches re against subject as ngx_http_regex_exec does for
// scripts: on a match the match becomes r's captures ($1...) even when re
// has no groups, and named groups are stored in their variables. subject
// must stay unchanged for the rest of the request, as captures and named
// variables alias it.
func (r *Request) RegexExec(re *Regex, subject []byte) (bool, error) {
	return r.regexMatch(re, subject, true)
}

// ClearCaptures forgets the captures of the last match (r->ncaptures = 0).
func (r *Request) ClearCaptures() { r.captures = r.captures[:0] }

// QuotedURI tells whether the client's request line had "%" escapes or a
// "+" in its path (r->quoted_uri || r->plus_in_uri); scripts then escape
// the captures they copy into arguments or redirects. Subrequests have
// neither.
func (r *Request) QuotedURI() bool {
	return r == r.Main && r.Head != nil && (r.Head.QuotedURI || r.Head.PlusInURI)
}

// SendResponse answers with status and body as ngx_http_send_response:
// the request body is discarded; a redirect status (301, 302, 303, 307,
// 308) takes body as its Location and returns the status for the special
// response; otherwise the body goes out with contentType, or the type of
// the URI's extension when contentType is "". body must stay unchanged
// until the response is sent. It returns the result for Finalize.
func (r *Request) SendResponse(status int, contentType string, body []byte) int {
	if rc := r.DiscardBody(); rc != OK {
		return rc
	}
	r.Out.Status = status
	switch status {
	case 301, 302, 303, 307, 308:
		r.Out.DelKnown(httpparse.HdrLocation)
		r.Out.Set(httpparse.HdrLocation, "Location", body)
		return status
	}
	r.Out.ContentLength = int64(len(body))
	if contentType != "" {
		r.Out.ContentType = contentType
	} else {
		r.SetContentType()
	}
	if r != r.Main && len(body) == 0 {
		return r.SendHeader()
	}
	rc := r.SendHeader()
	if rc == Error || rc > OK || r.HeaderOnly {
		return rc
	}
	return r.OutputBytes(body, true, true)
}
