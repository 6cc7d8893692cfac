// Package rangefilter is nginx's ngx_http_range_filter_module, which nginx
// builds as two modules: the range header filter turns a 200 response the
// handler marked as rangeable (Request.Out.AllowRanges) into 206 with
// Content-Range for one range, into multipart/byteranges for several, or
// into 416 with "Content-Range: bytes */N"; it honours If-Range and
// max_ranges and adds "Accept-Ranges: bytes" otherwise. The range body
// filter cuts the body to the ranges.
//
// Multipart boundaries are nginx's: a 20-digit number from the process's
// temporary-number sequence (http.NextTempNumber).
//
// The filters run on the request's loop.
package rangefilter

import (
	"strconv"

	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// HeaderModule is ngx_http_range_header_filter_module.
var HeaderModule = &core.Module{
	Name: "ngx_http_range_header_filter_module",
	Type: core.HTTPType,
	HTTP: &http.Hooks{
		Postconfiguration: func(cf *http.Conf) error {
			cf.AddHeaderFilter(func(next http.HeaderFilterFunc) http.HeaderFilterFunc {
				return func(r *http.Request) int { return headerFilter(r, next) }
			})
			return nil
		},
	},
}

// BodyModule is ngx_http_range_body_filter_module; it also owns the
// request context the header filter creates.
var BodyModule = &core.Module{
	Name: "ngx_http_range_body_filter_module",
	Type: core.HTTPType,
}

func init() {
	// the body filter finds its context through the module's index.
	BodyModule.HTTP = &http.Hooks{
		Postconfiguration: func(cf *http.Conf) error {
			cf.AddBodyFilter(func(next http.BodyFilterFunc) http.BodyFilterFunc {
				return func(r *http.Request, in []http.Buf) int { return bodyFilter(r, in, next) }
			})
			return nil
		},
	}
}

// Range is one byte range, End exclusive; ContentRange is the
// "SSSS-EEEE/TTTT\r\n\r\n" part of its multipart header.
type Range struct {
	Start, End   int64
	contentRange []byte
}

// ctx is a request's range state (ngx_http_range_filter_ctx_t).
type ctx struct {
	offset   int64
	boundary []byte
	ranges   []Range
}

// results of Parse besides a list.
const (
	parseOK = iota
	parseDeclined
	parseNotSatisfiable
)

var (
	acceptRangesName  = []byte("Accept-Ranges")
	acceptRangesBytes = []byte("bytes")
	contentRangeName  = []byte("Content-Range")
)

// headerFilter is ngx_http_range_header_filter.
func headerFilter(r *http.Request, next http.HeaderFilterFunc) int {
	out := &r.Out
	if r.HTTPVersion < 1000 || out.Status != 200 || r != r.Main || out.ContentLength == -1 || !out.AllowRanges {
		return next(r)
	}
	loc := r.Loc
	if loc.MaxRanges.V == 0 {
		return next(r)
	}
	rng, ok := r.KnownIn(httpparse.HdrRange)
	if !ok || len(rng) < 7 || !equalFold(rng[:6], "bytes=") {
		return acceptRanges(r, next)
	}
	if ir, ok := r.KnownIn(httpparse.HdrIfRange); ok {
		if len(ir) >= 2 && ir[len(ir)-1] == '"' {
			h := out.Known(httpparse.HdrETag)
			if h == nil || string(ir) != string(h.Value) {
				return acceptRanges(r, next)
			}
		} else {
			if out.LastModified == -1 || http.ParseHTTPTime(ir) != out.LastModified {
				return acceptRanges(r, next)
			}
		}
	}
	c := &ctx{}
	ranges, rc := Parse(rng[6:], out.ContentLength, loc.MaxRanges.V)
	switch rc {
	case parseOK:
		c.ranges = ranges
		r.SetCtx(BodyModule.TypeIndex, c)
		out.Status = 206
		out.StatusLine = ""
		if len(ranges) == 1 {
			return singlepartHeader(r, c, next)
		}
		return multipartHeader(r, c, next)
	case parseNotSatisfiable:
		return notSatisfiable(r)
	}
	return acceptRanges(r, next)
}

func acceptRanges(r *http.Request, next http.HeaderFilterFunc) int {
	r.Out.Add(acceptRangesName, acceptRangesBytes)
	return next(r)
}

func equalFold(b []byte, s string) bool {
	for i := range b {
		if b[i]|0x20 != s[i]|0x20 {
			return false
		}
	}
	return true
}

// maxOff is NGX_MAX_OFF_T_VALUE.
const maxOff = int64(^uint64(0) >> 1)

// Parse is ngx_http_range_parse: the ranges of a "bytes=" value (what
// follows "bytes=") for a body of length n, at most max of them. It
// returns the list, or declines (serve the whole body: too many ranges,
// an unbounded first range, ranges that add up to more than the body), or
// finds the value not satisfiable.
func Parse(v []byte, n int64, max int) ([]Range, int) {
	at := func(i int) byte {
		if i < len(v) {
			return v[i]
		}
		return 0
	}
	cutoff, cutlim := maxOff/10, maxOff%10
	var ranges []Range
	var size int64
	p := 0
	for {
		var start, end int64
		suffix := false
		for at(p) == ' ' {
			p++
		}
		if at(p) != '-' {
			if at(p) < '0' || at(p) > '9' {
				return nil, parseNotSatisfiable
			}
			for at(p) >= '0' && at(p) <= '9' {
				d := int64(at(p) - '0')
				if start >= cutoff && (start > cutoff || d > cutlim) {
					return nil, parseNotSatisfiable
				}
				start = start*10 + d
				p++
			}
			for at(p) == ' ' {
				p++
			}
			if at(p) != '-' {
				return nil, parseNotSatisfiable
			}
			p++
			for at(p) == ' ' {
				p++
			}
			if at(p) == ',' || at(p) == 0 {
				end = n
				goto found
			}
		} else {
			suffix = true
			p++
		}
		if at(p) < '0' || at(p) > '9' {
			return nil, parseNotSatisfiable
		}
		for at(p) >= '0' && at(p) <= '9' {
			d := int64(at(p) - '0')
			if end >= cutoff && (end > cutoff || d > cutlim) {
				return nil, parseNotSatisfiable
			}
			end = end*10 + d
			p++
		}
		for at(p) == ' ' {
			p++
		}
		if at(p) != ',' && at(p) != 0 {
			return nil, parseNotSatisfiable
		}
		if suffix {
			if end < n {
				start = n - end
			} else {
				start = 0
			}
			end = n - 1
		}
		if end >= n {
			end = n
		} else {
			end++
		}
	found:
		if start < end {
			ranges = append(ranges, Range{Start: start, End: end})
			if size > maxOff-(end-start) {
				return nil, parseNotSatisfiable
			}
			size += end - start
			if max == 0 {
				return nil, parseDeclined
			}
			max--
		} else if start == 0 {
			return nil, parseDeclined
		}
		c := at(p)
		p++
		if c != ',' {
			break
		}
	}
	if len(ranges) == 0 {
		return nil, parseNotSatisfiable
	}
	if size > n {
		return nil, parseDeclined
	}
	return ranges, parseOK
}

// singlepartHeader is ngx_http_range_singlepart_header.
func singlepartHeader(r *http.Request, c *ctx, next http.HeaderFilterFunc) int {
	out := &r.Out
	rg := &c.ranges[0]
	v := r.Alloc(6 + 3*20 + 2)[:0]
	v = append(v, "bytes "...)
	v = strconv.AppendInt(v, rg.Start, 10)
	v = append(v, '-')
	v = strconv.AppendInt(v, rg.End-1, 10)
	v = append(v, '/')
	v = strconv.AppendInt(v, out.ContentLength, 10)
	out.Add(contentRangeName, v)
	out.ContentLength = rg.End - rg.Start
	out.DelKnown(httpparse.HdrContentLength)
	return next(r)
}

// multipartHeader is ngx_http_range_multipart_header: the boundary, each
// part's header and the total length.
func multipartHeader(r *http.Request, c *ctx, next http.HeaderFilterFunc) int {
	out := &r.Out
	boundary := http.NextTempNumber()
	var num [20]byte
	digits := strconv.AppendUint(num[:0], boundary, 10)
	bnd := make([]byte, 0, 20)
	for k := len(digits); k < 20; k++ {
		bnd = append(bnd, '0')
	}
	bnd = append(bnd, digits...)

	h := make([]byte, 0, 128)
	h = append(h, "\r\n--"...)
	h = append(h, bnd...)
	h = append(h, "\r\n"...)
	if out.ContentType != "" {
		h = append(h, "Content-Type: "...)
		h = append(h, out.ContentType...)
		if out.Charset != "" {
			h = append(h, "; charset="...)
			h = append(h, out.Charset...)
		}
		h = append(h, "\r\n"...)
	}
	h = append(h, "Content-Range: bytes "...)
	c.boundary = h

	out.ContentType = "multipart/byteranges; boundary=" + string(bnd)
	out.Charset = ""

	length := int64(len("\r\n--") + 20 + len("--\r\n"))
	for i := range c.ranges {
		rg := &c.ranges[i]
		cr := make([]byte, 0, 64)
		cr = strconv.AppendInt(cr, rg.Start, 10)
		cr = append(cr, '-')
		cr = strconv.AppendInt(cr, rg.End-1, 10)
		cr = append(cr, '/')
		cr = strconv.AppendInt(cr, out.ContentLength, 10)
		cr = append(cr, "\r\n\r\n"...)
		rg.contentRange = cr
		length += int64(len(c.boundary)+len(cr)) + rg.End - rg.Start
	}
	out.ContentLength = length
	out.DelKnown(httpparse.HdrContentLength)
	return next(r)
}

// notSatisfiable is ngx_http_range_not_satisfiable: 416 with the length
// of the whole body.
func notSatisfiable(r *http.Request) int {
	out := &r.Out
	out.Status = 416
	v := r.Alloc(len("bytes */") + 20)[:0]
	v = append(v, "bytes */"...)
	v = strconv.AppendInt(v, out.ContentLength, 10)
	out.Add(contentRangeName, v)
	out.ClearContentLength()
	return 416
}

// bodyFilter is ngx_http_range_body_filter.
func bodyFilter(r *http.Request, in []http.Buf, next http.BodyFilterFunc) int {
	if len(in) == 0 {
		return next(r, in)
	}
	c, _ := r.Ctx(BodyModule.TypeIndex).(*ctx)
	if c == nil {
		return next(r, in)
	}
	if len(c.ranges) == 1 {
		return singlepartBody(r, c, in, next)
	}
	// several ranges need the whole body in one buffer.
	if in[0].IsSpecial() {
		return next(r, in)
	}
	if !testOverlapped(r, c, in) {
		return http.Error
	}
	return multipartBody(r, c, in, next)
}

// testOverlapped is ngx_http_range_test_overlapped.
func testOverlapped(r *http.Request, c *ctx, in []http.Buf) bool {
	if c.offset != 0 {
		r.Logf(errlog.Alert, "range in overlapped buffers")
		return false
	}
	b := &in[0]
	if !b.Last {
		last := b.Size()
		for _, rg := range c.ranges {
			if 0 > rg.Start || last < rg.End {
				r.Logf(errlog.Alert, "range in overlapped buffers")
				return false
			}
		}
	}
	c.offset = b.Size()
	return true
}

// singlepartBody is ngx_http_range_singlepart_body: buffers are trimmed to
// the range, and the one that reaches its end becomes the last.
func singlepartBody(r *http.Request, c *ctx, in []http.Buf, next http.BodyFilterFunc) int {
	rg := &c.ranges[0]
	out := make([]http.Buf, 0, len(in))
	for i := range in {
		b := in[i]
		start := c.offset
		last := c.offset + b.Size()
		c.offset = last
		if b.IsSpecial() {
			if rg.End <= start {
				continue
			}
			out = append(out, b)
			continue
		}
		if rg.End <= start || rg.Start >= last {
			continue
		}
		if rg.Start > start {
			skip := rg.Start - start
			if b.File != nil {
				b.FilePos += skip
				b.FileLen -= skip
			} else {
				b.Data = b.Data[skip:]
			}
		}
		if rg.End <= last {
			cut := last - rg.End
			if b.File != nil {
				b.FileLen -= cut
			} else {
				b.Data = b.Data[:int64(len(b.Data))-cut]
			}
			b.Last = r == r.Main
			b.LastInChain = true
			out = append(out, b)
			continue
		}
		out = append(out, b)
	}
	return next(r, out)
}

// multipartBody is ngx_http_range_multipart_body: each range is preceded
// by its part header, and the closing boundary ends the body.
func multipartBody(r *http.Request, c *ctx, in []http.Buf, next http.BodyFilterFunc) int {
	b := &in[0]
	out := make([]http.Buf, 0, 3*len(c.ranges)+1)
	for i := range c.ranges {
		rg := &c.ranges[i]
		out = append(out, http.Buf{Data: c.boundary, Owned: true}, http.Buf{Data: rg.contentRange, Owned: true})
		d := http.Buf{Owned: b.Owned}
		if b.File != nil {
			d.File = b.File
			d.FilePos = b.FilePos + rg.Start
			d.FileLen = rg.End - rg.Start
		} else {
			d.Data = b.Data[rg.Start:rg.End]
		}
		out = append(out, d)
	}
	tail := make([]byte, 0, 4+20+4)
	tail = append(tail, c.boundary[:4+20]...)
	tail = append(tail, "--\r\n"...)
	out = append(out, http.Buf{Data: tail, Owned: true, Last: true, LastInChain: true})
	return next(r, out)
}
