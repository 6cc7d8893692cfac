package charset

import (
	"slices"
	"strconv"
	"strings"

	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// state is the module's request context. For a response being recoded
// it holds the table and the bytes of a utf-8 sequence cut by the end of
// a buffer. On the main request it may also record the charset a
// subrequest reads: nginx's context (active), or, when the main
// response's Content-Type kept parameters of its own, the charset nginx
// would hold without showing it (hidden).
type state struct {
	active  bool
	charset int
	name    string

	table            *table
	toUTF8, fromUTF8 bool
	saved            []byte

	hidden    string
	hasHidden bool

	// out and scratch are one call's buffers and recoded bytes, reused
	// after the call.
	out     []http.Buf
	scratch []byte
}

// Results of the charset look-ups besides an index.
type lookup int

const (
	found lookup = iota
	declined
	failed
)

// headerFilter is ngx_http_charset_header_filter: it picks the charset
// the response should have and the one it has, marks the Content-Type
// and, when they differ and a map joins them, sets up the recoding.
func headerFilter(r *http.Request, m *MainConf, next http.HeaderFilterFunc) int {
	var dst int
	var dstName string
	var res lookup
	if r.IsSubrequest() {
		dst, dstName, res = mainRequestCharset(r, m)
	} else {
		dst, dstName, res = destination(r, m)
	}
	switch res {
	case failed:
		return http.Error
	case declined:
		return next(r)
	}
	src, srcName, res := source(r, m)
	if res == failed {
		return http.Error
	}
	if src == charsetOff {
		setCharset(r, dstName, false)
		return next(r)
	}
	if dst == noCharset || src == noCharset {
		if src != dst || len(srcName) < len(dstName) || !strings.EqualFold(dstName, srcName[:len(dstName)]) {
			logNoMap(r, srcName, dstName)
			return next(r)
		}
		setCharset(r, dstName, false)
		return next(r)
	}
	if src == dst {
		setCharset(r, dstName, true)
		return next(r)
	}
	// an encoded body cannot be recoded, and its Content-Type is left
	// alone.
	if h := r.Out.Known(httpparse.HdrContentEncoding); h != nil && len(h.Value) > 0 {
		return next(r)
	}
	tables := m.charsets[src].tables
	if tables == nil || tables[dst] == nil {
		logNoMap(r, srcName, dstName)
		return next(r)
	}
	setCharset(r, dstName, true)
	st, _ := r.Ctx(Module.TypeIndex).(*state)
	if st == nil {
		st = &state{}
		r.SetCtx(Module.TypeIndex, st)
	}
	st.active, st.charset, st.name = true, dst, m.charsets[dst].name
	st.table = tables[dst]
	st.toUTF8, st.fromUTF8 = m.charsets[dst].utf8, m.charsets[src].utf8
	r.NeedInMemory()
	if (st.toUTF8 || st.fromUTF8) && !r.IsSubrequest() {
		r.Out.ClearContentLength()
	}
	return next(r)
}

// destination is ngx_http_destination_charset: the charset the main
// response should have, from the upstream's X-Accel-Charset, or from the
// charset directive for a listed type (or any type with override_charset
// when the response names a charset already).
func destination(r *http.Request, m *MainConf) (int, string, lookup) {
	if r.Out.ContentType == "" {
		return 0, "", declined
	}
	if name := overrideCharset(r); name != "" {
		if i := m.find(name); i != noCharset {
			return i, name, found
		}
		r.Logf(errlog.Error, "unknown charset \"%s\" to override", name)
		return 0, "", declined
	}
	c := r.Loc.LocConfOf(Module).(*LocConf)
	if c.Charset.V == charsetOff {
		return 0, "", declined
	}
	if _, cs := r.ContentTypeParts(); cs != "" {
		if !c.Override.V {
			return 0, "", declined
		}
	} else if !c.Types.Match(r) {
		return 0, "", declined
	}
	return setting(r, m, c.Charset.V)
}

// setting resolves a charset or source_charset value that is a charset
// index or a variable; a variable not found fails the response.
func setting(r *http.Request, m *MainConf, v int) (int, string, lookup) {
	if v < varBase {
		return v, m.charsets[v].name, found
	}
	b, ok := r.IndexedVar(v - varBase)
	if !ok {
		return 0, "", failed
	}
	name := string(b)
	return m.find(name), name, found
}

// overrideCharset is the upstream's X-Accel-Charset, unless ignored.
func overrideCharset(r *http.Request) string {
	u := r.UpstreamRequest()
	if u == nil || u.Conf == nil || u.Conf.IgnoreHeaders&http.UpstreamIgnXAccelCharset != 0 {
		return ""
	}
	v, _ := u.UpstreamHeader("x_accel_charset")
	return string(v)
}

// mainRequestCharset is ngx_http_main_request_charset: a subrequest's
// output goes into the main response, so it is recoded to the main
// response's charset, which the main request's context remembers.
func mainRequestCharset(r *http.Request, m *MainConf) (int, string, lookup) {
	mst, _ := r.Main.Ctx(Module.TypeIndex).(*state)
	if mst != nil && mst.active {
		return mst.charset, mst.name, found
	}
	var cs string
	if mst != nil && mst.hasHidden {
		cs = mst.hidden
	} else {
		_, cs = r.Main.ContentTypeParts()
	}
	if cs == "" {
		return 0, "", declined
	}
	if mst == nil {
		mst = &state{}
		r.Main.SetCtx(Module.TypeIndex, mst)
	}
	mst.active, mst.charset, mst.name = true, m.find(cs), cs
	return mst.charset, cs, found
}

// source is ngx_http_source_charset: the charset the response names, or
// source_charset's.
func source(r *http.Request, m *MainConf) (int, string, lookup) {
	if _, cs := r.ContentTypeParts(); cs != "" {
		return m.find(cs), cs, found
	}
	c := r.Loc.LocConfOf(Module).(*LocConf)
	if c.Source.V == charsetOff {
		return charsetOff, "", found
	}
	return setting(r, m, c.Source.V)
}

// setCharset is ngx_http_set_charset, after cutting the Content-Type to
// its media type when cut is set (as nginx does for a response whose
// charset it takes over): the main response gets charset name, except a
// 301 or 302, which gets none. nginx sends the charset only after a bare
// media type; when the Content-Type keeps parameters, the charset is
// remembered for subrequests only.
func setCharset(r *http.Request, name string, cut bool) {
	out := &r.Out
	ct := out.ContentType
	n, cs := r.ContentTypeParts()
	if cut {
		ct = ct[:n]
	}
	if !r.IsSubrequest() {
		if out.Status == 301 || out.Status == 302 {
			cs = ""
		} else {
			cs = name
		}
	}
	out.ContentType = ct
	if len(ct) == n {
		out.Charset = cs
		return
	}
	out.Charset = ""
	if !r.IsSubrequest() {
		st, _ := r.Ctx(Module.TypeIndex).(*state)
		if st == nil {
			st = &state{}
			r.SetCtx(Module.TypeIndex, st)
		}
		st.hidden, st.hasHidden = cs, true
	}
}

// bodyFilter is ngx_http_charset_body_filter: it recodes each buffer of
// a response with a table.
func bodyFilter(r *http.Request, in []http.Buf, next http.BodyFilterFunc) int {
	st, _ := r.Ctx(Module.TypeIndex).(*state)
	if st == nil || st.table == nil || len(in) == 0 {
		return next(r, in)
	}
	for i := range in {
		b := in[i]
		if b.File != nil && b.FileLen > 0 {
			data, ok := r.ReadBufFile(&b)
			if !ok {
				st.reset()
				return http.Error
			}
			b.File, b.FilePos, b.FileLen, b.Data, b.Owned = nil, 0, 0, data, true
		}
		if len(b.Data) == 0 {
			st.out = append(st.out, b)
			continue
		}
		n0 := len(st.out)
		t := st.table
		switch {
		case t.single != nil:
			st.recodeSingle(b)
		case t.toUTF8 != nil:
			st.recodeToUTF8(b)
		default:
			st.recodeFromUTF8(b)
		}
		// the markers travel with the last piece of the buffer.
		if b.Last || b.LastInChain || b.Flush {
			if len(st.out) == n0 {
				st.out = append(st.out, http.Buf{})
			}
			o := &st.out[len(st.out)-1]
			o.Last, o.LastInChain, o.Flush = b.Last, b.LastInChain, b.Flush
		}
	}
	rc := next(r, st.out)
	st.reset()
	return rc
}

func (st *state) reset() {
	clear(st.out)
	st.out = st.out[:0]
	st.scratch = st.scratch[:0]
}

// pass passes on d, recoded bytes in scratch.
func (st *state) pass(d []byte) {
	if len(d) > 0 {
		st.out = append(st.out, http.Buf{Data: d[:len(d):len(d)]})
	}
}

// recodeSingle maps every byte; a buffer the table leaves unchanged goes
// on as it is.
func (st *state) recodeSingle(b http.Buf) {
	t := st.table.single
	i := 0
	for i < len(b.Data) && t[b.Data[i]] == b.Data[i] {
		i++
	}
	if i == len(b.Data) {
		st.out = append(st.out, http.Buf{Data: b.Data, Owned: b.Owned})
		return
	}
	start := len(st.scratch)
	for _, c := range b.Data {
		st.scratch = append(st.scratch, t[c])
	}
	st.pass(st.scratch[start:])
}

// recodeToUTF8 is ngx_http_charset_recode_to_utf8. As in nginx, a buffer
// whose bytes all map to one byte goes on unchanged (even bytes the map
// would turn into "?"), and when more than 512 bytes precede the first
// byte that maps to more, those go on unchanged too.
func (st *state) recodeToUTF8(b http.Buf) {
	t := st.table.toUTF8
	i := 0
	for i < len(b.Data) && len(t[b.Data[i]]) == 1 {
		i++
	}
	if i == len(b.Data) {
		st.out = append(st.out, http.Buf{Data: b.Data, Owned: b.Owned})
		return
	}
	data := b.Data
	if i > 512 {
		st.out = append(st.out, http.Buf{Data: data[:i], Owned: b.Owned})
		data = data[i:]
	}
	start := len(st.scratch)
	st.scratch = slices.Grow(st.scratch, 2*len(data))
	for _, c := range data {
		if e := t[c]; len(e) == 1 {
			st.scratch = append(st.scratch, e[0])
		} else {
			st.scratch = append(st.scratch, e...)
		}
	}
	st.pass(st.scratch[start:])
}

// recodeFromUTF8 is ngx_http_charset_recode_from_utf8: ASCII passes, a
// character the target has becomes its byte, one it lacks an "&#N;"
// entity, a broken sequence "?"; a sequence cut by the end of the buffer
// waits for the next one (and is lost if the response ends).
func (st *state) recodeFromUTF8(b http.Buf) {
	data := b.Data
	if len(st.saved) == 0 {
		i := 0
		for i < len(data) && data[i] < 0x80 {
			i++
		}
		if i == len(data) {
			st.out = append(st.out, http.Buf{Data: data, Owned: b.Owned})
			return
		}
	}
	start := len(st.scratch)
	if k := len(st.saved); k > 0 {
		// finish the characters that began in the saved bytes: at most
		// three more bytes complete them.
		joined := append(st.saved, data[:min(len(data), 3)]...)
		p := 0
		for p < k {
			adv, ok := st.recodeOne(joined[p:])
			if !ok {
				st.saved = append(st.saved[:0], joined[p:]...)
				st.pass(st.scratch[start:])
				return
			}
			p += adv
		}
		st.saved = st.saved[:0]
		data = data[p-k:]
	}
	for p := 0; p < len(data); {
		if c := data[p]; c < 0x80 {
			st.scratch = append(st.scratch, c)
			p++
			continue
		}
		adv, ok := st.recodeOne(data[p:])
		if !ok {
			st.saved = append(st.saved[:0], data[p:]...)
			break
		}
		p += adv
	}
	st.pass(st.scratch[start:])
}

// recodeOne recodes the character at the start of b into scratch and
// returns its length; ok is false for a sequence b ends in the middle of.
func (st *state) recodeOne(b []byte) (int, bool) {
	if b[0] < 0x80 {
		st.scratch = append(st.scratch, b[0])
		return 1, true
	}
	n, adv := decodeUTF8(b)
	switch {
	case n == utf8Incomplete:
		return 0, false
	case n < 0x10000:
		if page := st.table.fromUTF8[n>>8]; page != nil && page[n&0xff] != 0 {
			st.scratch = append(st.scratch, page[n&0xff])
			return adv, true
		}
	case n > 0x10ffff:
		st.scratch = append(st.scratch, '?')
		return adv, true
	}
	st.scratch = append(st.scratch, "&#"...)
	st.scratch = strconv.AppendUint(st.scratch, uint64(n), 10)
	st.scratch = append(st.scratch, ';')
	return adv, true
}
