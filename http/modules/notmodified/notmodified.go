// Package notmodified is nginx's ngx_http_not_modified_filter_module: a
// header filter that answers conditional requests for 200 responses of the
// main request. If-Unmodified-Since and If-Match failures become 412;
// If-Modified-Since (per if_modified_since: exact, before or off) and
// If-None-Match (weak comparison) turn the response into 304.
//
// The module has no directives of its own; if_modified_since and etag
// belong to the core module. The filter runs on the request's loop.
package notmodified

import (
	"gresty/core"
	"gresty/http"
	"gresty/httpparse"
)

// Module is ngx_http_not_modified_filter_module.
var Module = &core.Module{
	Name: "ngx_http_not_modified_filter_module",
	Type: core.HTTPType,
	HTTP: &http.Hooks{
		Postconfiguration: func(cf *http.Conf) error {
			cf.AddHeaderFilter(func(next http.HeaderFilterFunc) http.HeaderFilterFunc {
				return func(r *http.Request) int { return filter(r, next) }
			})
			return nil
		},
	},
}

// filter is ngx_http_not_modified_header_filter.
func filter(r *http.Request, next http.HeaderFilterFunc) int {
	if r.Out.Status != 200 || r != r.Main || r.NotModifiedDisabled() {
		return next(r)
	}
	if v, ok := r.KnownIn(httpparse.HdrIfUnmodifiedSince); ok && !unmodified(r, v) {
		return r.FilterFinalize(412)
	}
	if v, ok := r.KnownIn(httpparse.HdrIfMatch); ok && !Match(r, v, false) {
		return r.FilterFinalize(412)
	}
	ims, hasIMS := r.KnownIn(httpparse.HdrIfModifiedSince)
	inm, hasINM := r.KnownIn(httpparse.HdrIfNoneMatch)
	if !hasIMS && !hasINM {
		return next(r)
	}
	if hasIMS && modified(r, ims) {
		return next(r)
	}
	if hasINM && !Match(r, inm, true) {
		return next(r)
	}
	out := &r.Out
	out.Status = 304
	out.StatusLine = ""
	out.ContentType = ""
	out.ClearContentLength()
	out.ClearAcceptRanges()
	out.DelKnown(httpparse.HdrContentEncoding)
	return next(r)
}

// unmodified is ngx_http_test_if_unmodified.
func unmodified(r *http.Request, v []byte) bool {
	lm := r.Out.LastModified
	if lm == -1 {
		return false
	}
	return http.ParseHTTPTime(v) >= lm
}

// modified is ngx_http_test_if_modified.
func modified(r *http.Request, v []byte) bool {
	lm := r.Out.LastModified
	if lm == -1 {
		return true
	}
	mode := r.Loc.IfModifiedSince.V
	if mode == http.IMSOff {
		return true
	}
	ims := http.ParseHTTPTime(v)
	if ims == lm {
		return false
	}
	return mode == http.IMSExact || ims < lm
}

// Match is ngx_http_test_if_match: whether the response's ETag is in the
// comma-separated list (or the list is "*"). With weak set (If-None-Match)
// "W/" prefixes on either side are ignored.
func Match(r *http.Request, list []byte, weak bool) bool {
	if len(list) == 1 && list[0] == '*' {
		return true
	}
	h := r.Out.Known(httpparse.HdrETag)
	if h == nil {
		return false
	}
	return matchList(h.Value, list, weak)
}

// matchList is Match with the response's ETag in hand.
func matchList(etag, list []byte, weak bool) bool {
	if len(list) == 1 && list[0] == '*' {
		return true
	}
	if weak && len(etag) > 2 && etag[0] == 'W' && etag[1] == '/' {
		etag = etag[2:]
	}
	p := 0
	for p < len(list) {
		if weak && len(list)-p > 2 && list[p] == 'W' && list[p+1] == '/' {
			p += 2
		}
		if len(etag) > len(list)-p {
			return false
		}
		if string(list[p:p+len(etag)]) == string(etag) {
			p += len(etag)
			for p < len(list) && (list[p] == ' ' || list[p] == '\t') {
				p++
			}
			if p == len(list) || list[p] == ',' {
				return true
			}
		}
		for p < len(list) && list[p] != ',' {
			p++
		}
		for p < len(list) && (list[p] == ' ' || list[p] == '\t' || list[p] == ',') {
			p++
		}
	}
	return false
}
