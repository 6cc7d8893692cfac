package headers

import (
	"strconv"
	"time"

	"gresty/conf"
	"gresty/core"
	"gresty/http"
	"gresty/httpparse"
)

func setExpiresDirective(p *core.Parser, d *conf.Directive, c *LocConf) error {
	if c.Expires != expiresUnset {
		return p.Invalid(d, "is duplicate")
	}
	n := 0
	c.Expires = expiresAccess
	if len(d.Args) == 2 {
		if d.Args[0] != "modified" {
			return p.Invalid(d, "invalid value")
		}
		c.Expires = expiresModified
		n = 1
	}
	t, err := http.CompileTemplateP(p, d.Args[n])
	if err != nil {
		return err
	}
	if !t.Static() {
		c.ExpiresValue = t
		return nil
	}
	mode, secs, msg := parseExpires(d.Args[n], c.Expires)
	if msg != "" {
		return p.Invalid(d, msg)
	}
	c.Expires, c.ExpiresTime = mode, secs
	return nil
}

// parseExpires reads an expires value (ngx_http_parse_expires) given the
// mode so far (access or modified): epoch, max, off, [+-]time or @time.
// It returns the mode, the seconds and nginx's error text, if any.
func parseExpires(v string, mode int) (int, int64, string) {
	if mode != expiresModified {
		switch v {
		case "epoch":
			return expiresEpoch, 0, ""
		case "max":
			return expiresMax, 0, ""
		case "off":
			return expiresOff, 0, ""
		}
	}
	minus := false
	switch {
	case len(v) > 0 && v[0] == '@':
		v = v[1:]
		if mode == expiresModified {
			return mode, 0, "daily time cannot be used with \"modified\" parameter"
		}
		mode = expiresDaily
	case len(v) > 0 && v[0] == '+':
		v = v[1:]
	case len(v) > 0 && v[0] == '-':
		v = v[1:]
		minus = true
	}
	secs, ok := core.ParseTime(v, true)
	if !ok {
		return mode, 0, "invalid value"
	}
	if mode == expiresDaily && secs > 24*60*60 {
		return mode, 0, "daily time value must be less than 24 hours"
	}
	if minus {
		secs = -secs
	}
	return mode, secs, ""
}

// Fixed values nginx sends for "expires epoch" and "expires max".
var (
	epochExpires = []byte("Thu, 01 Jan 1970 00:00:01 GMT")
	maxExpires   = []byte("Thu, 31 Dec 2037 23:55:55 GMT")
	noCache      = []byte("no-cache")
	maxAgeMax    = []byte("max-age=315360000")
	maxAgeZero   = []byte("max-age=0")
)

// setExpires sets Expires and Cache-Control (ngx_http_set_expires): an
// existing Expires header is reused, the first Cache-Control is reused and
// any further ones are dropped.
func setExpires(r *http.Request, c *LocConf) {
	mode, secs := c.Expires, c.ExpiresTime
	if c.ExpiresValue != nil {
		m, s, msg := parseExpires(string(c.ExpiresValue.EvalBytes(r)), mode)
		if msg != "" || m == expiresOff {
			return
		}
		mode, secs = m, s
	}
	out := &r.Out
	ei := -1
	if e := out.Known(httpparse.HdrExpires); e != nil {
		ei = indexOf(out, e)
	} else {
		out.Headers = append(out.Headers, http.Header{Name: []byte("Expires"), Known: httpparse.HdrExpires})
		ei = len(out.Headers) - 1
	}
	ci := -1
	for i := range out.Headers {
		h := &out.Headers[i]
		if h.Name == nil || h.Known != httpparse.HdrCacheControl {
			continue
		}
		if ci < 0 {
			ci = i
		} else {
			h.Name = nil
		}
	}
	if ci < 0 {
		out.Headers = append(out.Headers, http.Header{Name: []byte("Cache-Control"), Known: httpparse.HdrCacheControl})
		ci = len(out.Headers) - 1
	}
	e, cc := &out.Headers[ei], &out.Headers[ci]

	switch {
	case mode == expiresEpoch:
		e.Value, cc.Value = epochExpires, noCache
		return
	case mode == expiresMax:
		e.Value, cc.Value = maxExpires, maxAgeMax
		return
	}
	now := r.Conn.Loop().Now()
	if secs == 0 && mode != expiresDaily {
		e.Value = appendHTTPTime(r.Alloc(len(epochExpires))[:0], now.Unix())
		cc.Value = maxAgeZero
		return
	}
	var at, maxAge int64
	switch {
	case mode == expiresDaily:
		at = nextTime(now, secs)
		maxAge = at - now.Unix()
	case mode == expiresAccess || out.LastModified == -1:
		maxAge = secs
		at = now.Unix() + secs
	default:
		at = out.LastModified + secs
		maxAge = at - now.Unix()
	}
	e.Value = appendHTTPTime(r.Alloc(len(epochExpires))[:0], at)
	if c.ExpiresTime < 0 || maxAge < 0 {
		cc.Value = noCache
		return
	}
	b := r.Alloc(len("max-age=") + 20)[:0]
	b = append(b, "max-age="...)
	cc.Value = strconv.AppendInt(b, maxAge, 10)
}

func indexOf(out *http.ResponseHeaders, h *http.Header) int {
	for i := range out.Headers {
		if &out.Headers[i] == h {
			return i
		}
	}
	return -1
}

// nextTime is ngx_next_time: the next moment, in local time, at secs past
// midnight, today if it is still ahead, else tomorrow.
func nextTime(now time.Time, secs int64) int64 {
	lt := now.Local()
	y, m, d := lt.Date()
	h, rest := int(secs/3600), secs%3600
	next := time.Date(y, m, d, h, int(rest/60), int(rest%60), 0, time.Local)
	if next.Unix()-now.Unix() > 0 {
		return next.Unix()
	}
	return time.Date(y, m, d+1, h, int(rest/60), int(rest%60), 0, time.Local).Unix()
}

// appendHTTPTime appends a Unix time as an HTTP date.
func appendHTTPTime(b []byte, sec int64) []byte {
	return time.Unix(sec, 0).UTC().AppendFormat(b, "Mon, 02 Jan 2006 15:04:05 GMT")
}
