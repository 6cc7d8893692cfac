// Package headers is nginx's ngx_http_headers_filter_module: add_header,
// add_trailer and expires. Its header filter adds the configured response
// headers (and Expires/Cache-Control) to responses whose status nginx
// considers safe, or to any response for entries marked "always"; its body
// filter adds the trailers at the end of a chunked response.
//
// Configuration runs on the goroutine that builds the cycle; the filters
// run on the request's loop.
package headers

import (
	"strings"

	"gresty/conf"
	"gresty/core"
	"gresty/http"
	"gresty/httpparse"
)

// Module is ngx_http_headers_filter_module.
var Module = &core.Module{
	Name: "ngx_http_headers_filter_module",
	Type: core.HTTPType,
}

// The tables refer back to the module value, so they are filled in
// init.
func init() {
	Module.Directives = []core.Directive{
		core.Custom("expires", core.HTTPMainSrvLoc|core.HTTPLif, core.Take12, core.LocLevel, setExpiresDirective, nil),
		core.Custom("add_header", core.HTTPMainSrvLoc|core.HTTPLif, core.Take23, core.LocLevel, setAddHeader, nil),
		core.Custom("add_trailer", core.HTTPMainSrvLoc|core.HTTPLif, core.Take23, core.LocLevel, setAddTrailer, nil),
	}
	Module.HTTP = &http.Hooks{
		CreateLocConf:     func(*http.Conf) any { return &LocConf{Expires: expiresUnset} },
		MergeLocConf:      mergeLocConf,
		Postconfiguration: postconfiguration,
	}
}

// LocConf is the module's configuration at one level.
type LocConf struct {
	// Expires is the expires mode; ExpiresTime its seconds (the time of
	// day for @time); ExpiresValue the value when it has variables, parsed
	// per request.
	Expires      int
	ExpiresTime  int64
	ExpiresValue *http.Template
	// Headers and Trailers are the add_header and add_trailer entries of
	// this level, nil when the level has none and inherits its parent's.
	// The two lists are inherited independently, as in nginx.
	Headers  []*HeaderVal
	Trailers []*HeaderVal
}

// HeaderVal is one add_header or add_trailer entry.
type HeaderVal struct {
	// Key is the name as written in the configuration.
	Key []byte
	// Value is the value template; static holds its bytes when it has no
	// variables, so the common case evaluates without allocating.
	Value  *http.Template
	static []byte
	isStat bool
	kind   headerKind
	Always bool
}

// headerKind selects how a header is set, as nginx's ngx_http_set_headers
// table: most are appended, Cache-Control and Link are appended and
// recorded as multi-line headers, Last-Modified and ETag replace the
// response's own.
type headerKind uint8

const (
	kindAdd headerKind = iota
	kindMulti
	kindLastModified
	kindETag
)

// The expires modes (ngx_http_expires_t).
const (
	expiresOff = iota
	expiresEpoch
	expiresMax
	expiresAccess
	expiresModified
	expiresDaily
	expiresUnset
)

func mergeLocConf(_ *http.Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	if c.Expires == expiresUnset {
		c.Expires, c.ExpiresTime, c.ExpiresValue = p.Expires, p.ExpiresTime, p.ExpiresValue
		if c.Expires == expiresUnset {
			c.Expires = expiresOff
		}
	}
	core.MergeSlice(&p.Headers, &c.Headers)
	core.MergeSlice(&p.Trailers, &c.Trailers)
	return nil
}

func postconfiguration(cf *http.Conf) error {
	cf.AddHeaderFilterIf(func(lc *http.LocConf) bool {
		c := lc.Confs[Module.TypeIndex].(*LocConf)
		return c.Expires != expiresOff || c.Headers != nil || c.Trailers != nil
	}, func(next http.HeaderFilterFunc) http.HeaderFilterFunc {
		return func(r *http.Request) int { return headerFilter(r, next) }
	})
	cf.AddBodyFilterIf(func(lc *http.LocConf) bool {
		return lc.Confs[Module.TypeIndex].(*LocConf).Trailers != nil
	}, func(next http.BodyFilterFunc) http.BodyFilterFunc {
		return func(r *http.Request, in []http.Buf) int { return trailersFilter(r, in, next) }
	})
	return nil
}

func locConf(r *http.Request) *LocConf { return r.Loc.Confs[Module.TypeIndex].(*LocConf) }

// safeStatus tells whether add_header entries without "always" and
// expires apply to a response with this status.
func safeStatus(st int) bool {
	switch st {
	case 200, 201, 204, 206, 301, 302, 303, 304, 307, 308:
		return true
	}
	return false
}

func headerFilter(r *http.Request, next http.HeaderFilterFunc) int {
	if r != r.Main {
		return next(r)
	}
	c := locConf(r)
	if c.Expires == expiresOff && c.Headers == nil && c.Trailers == nil {
		return next(r)
	}
	safe := safeStatus(r.Out.Status)
	if c.Expires != expiresOff && safe {
		setExpires(r, c)
	}
	for _, h := range c.Headers {
		if !safe && !h.Always {
			continue
		}
		h.apply(r, h.eval(r))
	}
	for _, h := range c.Trailers {
		if safe || h.Always {
			r.ExpectTrailers = true
			break
		}
	}
	return next(r)
}

// trailersFilter adds the add_trailer entries once the end of the body
// passes; the chunked filter writes them in the last chunk.
func trailersFilter(r *http.Request, in []http.Buf, next http.BodyFilterFunc) int {
	if len(in) == 0 || !r.ExpectTrailers || r.HeaderOnly {
		return next(r, in)
	}
	c := locConf(r)
	if c.Trailers == nil {
		return next(r, in)
	}
	last := false
	for i := range in {
		if in[i].Last {
			last = true
			break
		}
	}
	if !last {
		return next(r, in)
	}
	safe := safeStatus(r.Out.Status)
	for _, h := range c.Trailers {
		if !safe && !h.Always {
			continue
		}
		if v := h.eval(r); len(v) > 0 {
			r.Out.Trailers = append(r.Out.Trailers, http.Header{Name: h.Key, Value: v})
		}
	}
	return next(r, in)
}

// eval returns the entry's value for r; the bytes live as long as the
// request (or the configuration, for a static value) and are never
// written to.
func (h *HeaderVal) eval(r *http.Request) []byte {
	if h.isStat {
		return h.static
	}
	return h.Value.EvalBytes(r)
}

func (h *HeaderVal) apply(r *http.Request, v []byte) {
	out := &r.Out
	switch h.kind {
	case kindAdd:
		if len(v) > 0 {
			out.Headers = append(out.Headers, http.Header{Name: h.Key, Value: v})
		}
	case kindMulti:
		if len(v) > 0 {
			out.Headers = append(out.Headers, http.Header{Name: h.Key, Value: v, Known: httpparse.LookupHeader(h.Key)})
		}
	case kindETag:
		setResponseHeader(out, httpparse.HdrETag, h.Key, v)
	case kindLastModified:
		setResponseHeader(out, httpparse.HdrLastModified, h.Key, v)
		out.LastModified = -1
		if len(v) > 0 {
			out.LastModified = http.ParseHTTPTime(v)
		}
	}
}

// setResponseHeader replaces the response's own header k (renamed as the
// configuration spells it), adds it when missing, or deletes it for an
// empty value.
func setResponseHeader(out *http.ResponseHeaders, k httpparse.KnownHeader, key, v []byte) {
	old := out.Known(k)
	if len(v) == 0 {
		if old != nil {
			out.DelKnown(k)
		}
		return
	}
	if old != nil {
		old.Name, old.Value = key, v
		return
	}
	out.Add(key, v)
}

func setAddHeader(p *core.Parser, d *conf.Directive, c *LocConf) error {
	return addHeader(p, d, &c.Headers, true)
}

func setAddTrailer(p *core.Parser, d *conf.Directive, c *LocConf) error {
	return addHeader(p, d, &c.Trailers, false)
}

// specialHeaders are the names nginx's add_header handles as the
// response's own headers rather than appending a line.
var specialHeaders = []struct {
	name string
	kind headerKind
}{
	{"Cache-Control", kindMulti},
	{"Link", kindMulti},
	{"Last-Modified", kindLastModified},
	{"ETag", kindETag},
}

func addHeader(p *core.Parser, d *conf.Directive, list *[]*HeaderVal, special bool) error {
	if *list == nil {
		*list = []*HeaderVal{}
	}
	hv := &HeaderVal{Key: []byte(d.Args[0]), kind: kindAdd}
	if special {
		for _, s := range specialHeaders {
			if strings.EqualFold(d.Args[0], s.name) {
				hv.kind = s.kind
				break
			}
		}
	}
	t, err := http.CompileTemplateP(p, d.Args[1])
	if err != nil {
		return err
	}
	hv.Value = t
	if t.Static() {
		hv.isStat = true
		hv.static = []byte(d.Args[1])
	}
	*list = append(*list, hv)
	if len(d.Args) == 3 {
		if d.Args[2] != "always" {
			return p.Errorf(d, "invalid parameter \"%s\"", d.Args[2])
		}
		hv.Always = true
	}
	return nil
}
