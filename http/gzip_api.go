package http

import (
	"gresty/errlog"
	"gresty/httpparse"
)

// GzipCheck decides whether the response to r may be gzipped, as nginx's
// ngx_http_gzip_ok, and caches the answer in r.GzipTested and r.GzipOK:
// the client must accept gzip (Accept-Encoding with nginx's own parsing of
// "gzip;q=..."), must not be MSIE 4-6 when "gzip_disable msie6" is set,
// must speak at least gzip_http_version, a proxied request (one with Via)
// must pass gzip_proxied, and the User-Agent must match no gzip_disable
// regex. gzip, gzip_static and the other content encodings share it.
// Loop goroutine only.
func (r *Request) GzipCheck() bool {
	r.GzipTested = true
	if r != r.Main {
		return false
	}
	ae, ok := r.KnownIn(httpparse.HdrAcceptEncoding)
	if !ok || len(ae) < len("gzip") {
		return false
	}
	// browsers nearly all send "gzip," first: skip the full parse then.
	if !(len(ae) >= 5 && string(ae[:5]) == "gzip,") && !AcceptsGzip(ae) {
		return false
	}
	if !r.EncodingAllowed() {
		return false
	}
	r.GzipOK = true
	return true
}

// EncodingAllowed applies the checks of GzipCheck that do not depend on
// the encoding (msie6, gzip_http_version, gzip_proxied, gzip_disable), for
// content encodings other than gzip that follow the same rules. Loop
// goroutine only.
func (r *Request) EncodingAllowed() bool {
	if r != r.Main {
		return false
	}
	loc := r.Loc
	if loc.GzipDisableMsie6 == 1 && r.msie6() {
		return false
	}
	if r.HTTPVersion < loc.GzipHTTPVersion.V {
		return false
	}
	if _, via := r.KnownIn(httpparse.HdrVia); via && !r.gzipProxiedOK() {
		return false
	}
	if res := loc.GzipDisable.V; len(res) > 0 {
		if ua, ok := r.KnownIn(httpparse.HdrUserAgent); ok {
			for _, re := range res {
				if r.matchesPlain(re, ua) {
					return false
				}
			}
		}
	}
	return true
}

// matchesPlain runs re on subject without touching the request's
// captures (ngx_regex_exec_array); a failing match counts as a match, as
// nginx treats an execution error as not declining.
func (r *Request) matchesPlain(re *Regex, subject []byte) bool {
	var small [30]int
	ovec := small[:]
	if n := re.Re.OvectorLen(); n > len(small) {
		ovec = make([]int, n)
	} else {
		ovec = small[:n]
	}
	n, err := re.Re.Match(r.Conn.srv.matcher, subject, 0, ovec)
	if err != nil {
		r.Logf(errlog.Alert, "regex match failed: %s on \"%s\" using \"%s\"", err.Error(), subject, re.Source)
		return true
	}
	return n > 0
}

// gzipProxiedOK is the gzip_proxied part of ngx_http_gzip_ok for a request
// that came through a proxy.
func (r *Request) gzipProxiedOK() bool {
	p := r.Loc.GzipProxied.V
	if p&GzipProxiedOff != 0 {
		return false
	}
	if p&GzipProxiedAny != 0 {
		return true
	}
	if _, ok := r.KnownIn(httpparse.HdrAuthorization); ok && p&GzipProxiedAuth != 0 {
		return true
	}
	out := &r.Out
	if e := out.Known(httpparse.HdrExpires); e != nil {
		if p&GzipProxiedExpired == 0 {
			return false
		}
		expires := ParseHTTPTime(e.Value)
		if expires < 0 {
			return false
		}
		var date int64
		if d := out.Known(httpparse.HdrDate); d != nil {
			if date = ParseHTTPTime(d.Value); date < 0 {
				return false
			}
		} else {
			date = r.Conn.loopNow().Unix()
		}
		return expires < date
	}
	hasCC := false
	for i := range out.Headers {
		h := &out.Headers[i]
		if h.Name == nil || h.Known != httpparse.HdrCacheControl {
			continue
		}
		hasCC = true
		if p&GzipProxiedNoCache != 0 && hasDirective(h.Value, "no-cache") ||
			p&GzipProxiedNoStore != 0 && hasDirective(h.Value, "no-store") ||
			p&GzipProxiedPrivate != 0 && hasDirective(h.Value, "private") {
			return true
		}
	}
	if hasCC {
		return false
	}
	if p&GzipProxiedNoLM != 0 && out.Known(httpparse.HdrLastModified) != nil {
		return false
	}
	if p&GzipProxiedNoEtag != 0 && out.Known(httpparse.HdrETag) != nil {
		return false
	}
	return true
}

// hasDirective tells whether a Cache-Control value holds the bare
// directive name, as ngx_http_parse_multi_header_lines looks for it: items
// are split at ',' and ';', and the name must be followed by spaces only.
func hasDirective(v []byte, name string) bool {
	if len(name) > len(v) {
		return false
	}
	i := 0
	for i < len(v) {
		if len(v)-i >= len(name) && equalFoldBS(v[i:i+len(name)], name) {
			j := i + len(name)
			for j < len(v) && v[j] == ' ' {
				j++
			}
			if j == len(v) || v[j] == ',' {
				return true
			}
		}
		for i < len(v) {
			c := v[i]
			i++
			if c == ';' || c == ',' {
				break
			}
		}
		for i < len(v) && v[i] == ' ' {
			i++
		}
	}
	return false
}

// AcceptsGzip parses an Accept-Encoding value as nginx's
// ngx_http_gzip_accept_encoding: the first "gzip" (any case) that starts
// the value or follows ',' or ' ' counts, and it is accepted unless a
// "q=" parameter follows that nginx reads as zero or as invalid. nginx
// sums the digits after the point rather than weighing them, so "q=0.5"
// passes and "q=1.5" fails; gresty keeps that.
func AcceptsGzip(ae []byte) bool {
	start := 0
	p := -1
	for {
		i := indexFold(ae[start:], "gzip")
		if i < 0 {
			return false
		}
		i += start
		if i == 0 || ae[i-1] == ',' || ae[i-1] == ' ' {
			p = i
			break
		}
		start = i + 4
	}
	p += 4
	last := len(ae)
	for p < last {
		c := ae[p]
		p++
		switch c {
		case ',':
			return true
		case ';':
			goto quantity
		case ' ':
			continue
		default:
			return false
		}
	}
	return true
quantity:
	for p < last {
		c := ae[p]
		p++
		switch c {
		case 'q', 'Q':
			goto equal
		case ' ':
			continue
		default:
			return false
		}
	}
	return true
equal:
	if p+2 > last || ae[p] != '=' {
		return false
	}
	p++
	return gzipQuantity(ae[p:]) != 0
}

// gzipQuantity is ngx_http_gzip_quantity: 0 means refused.
func gzipQuantity(b []byte) int {
	p := 0
	c := b[p]
	p++
	if c != '0' && c != '1' {
		return 0
	}
	q := int(c-'0') * 100
	if p == len(b) {
		return q
	}
	c = b[p]
	p++
	if c == ',' || c == ' ' {
		return q
	}
	if c != '.' {
		return 0
	}
	n := 0
	for p < len(b) {
		c = b[p]
		p++
		if c == ',' || c == ' ' {
			break
		}
		if c >= '0' && c <= '9' {
			q += int(c - '0')
			n++
			continue
		}
		return 0
	}
	if q > 100 || n > 3 {
		return 0
	}
	return q
}

// indexFold returns the index of the first case-insensitive occurrence of
// the lowercase ASCII word s in b, or -1.
func indexFold(b []byte, s string) int {
	n := len(s)
	for i := 0; i+n <= len(b); i++ {
		if equalFoldBS(b[i:i+n], s) {
			return i
		}
	}
	return -1
}
