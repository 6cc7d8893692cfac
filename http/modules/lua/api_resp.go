package lua

import (
	"strconv"
	"strings"
	"time"

	glua "github.com/yuin/gopher-lua"

	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
	"gresty/luavm"
	"gresty/luavm/ltable"
)

// This file is the response side of the ngx API: ngx.header,
// ngx.resp.get_headers, ngx.send_headers, ngx.headers_sent and the
// "ngx.resp" module, with the rules of ngx_lua's ngx_http_lua_headers_out.c
// for the headers nginx keeps apart (Content-Type, Content-Length,
// Last-Modified, Location, Cache-Control...).

func init() {
	registerAPI(installResp)
	propertyGetters["headers_sent"] = func(st *loopState, L *glua.LState) int {
		c := st.apiReq(L)
		L.Push(glua.LBool(c.r.HeaderSent))
		return 1
	}
	propertyGetters["status"] = func(st *loopState, L *glua.LState) int {
		c := st.apiReq(L)
		r := c.r
		switch {
		case r.ErrStatus() != 0:
			L.Push(glua.LNumber(r.ErrStatus()))
		case r.Out.Status != 0:
			L.Push(glua.LNumber(r.Out.Status))
		case r.HTTPVersion == 9:
			L.Push(glua.LNumber(9))
		default:
			L.Push(glua.LNumber(0))
		}
		return 1
	}
	propertySetters["status"] = func(st *loopState, L *glua.LState) int {
		c := st.apiReq(L)
		v := L.Get(3)
		if s, ok := v.(glua.LString); ok {
			if f, ok := luavm.ParseNumber(string(s)); ok {
				v = glua.LNumber(f)
			}
		}
		n, ok := v.(glua.LNumber)
		if !ok {
			luavm.Raise(L, "bad argument #2 to 'ngx_http_lua_ffi_set_resp_status' (cannot convert '%s' to 'int')", luaTypeName(v))
		}
		r := c.r
		if r.HeaderSent {
			c.r.Logf(errlog.Error, "attempt to set ngx.status after sending out response headers")
			return 0
		}
		r.Out.Status = int(n)
		r.ClearErrStatus()
		if r.Out.Status == 101 {
			// nginx has no reason phrase of its own for 101.
			r.Out.StatusLine = "101 Switching Protocols"
		} else {
			r.Out.StatusLine = ""
		}
		return 0
	}
	propertyGetters["is_subrequest"] = func(st *loopState, L *glua.LState) int {
		c := st.apiReq(L)
		L.Push(glua.LBool(c.r != c.r.Main))
		return 1
	}
}

// apiRespHeadersMeta keys the metatable of ngx.resp.get_headers' tables
// in loopState.api.
const apiRespHeadersMeta = "resp.headers.meta"

// maxHeaders is NGX_HTTP_LUA_MAX_HEADERS, the default limit of
// ngx.req.get_headers and ngx.resp.get_headers.
const maxHeaders = 100

// apiReq returns the running code's request context for APIs that need a
// request, raising ngx_lua's errors: "no request found" where there is
// none (init_by_lua), "API disabled in the current context" for the fake
// requests of timers and init_worker_by_lua.
func (st *loopState) apiReq(L *glua.LState) *reqCtx {
	c := st.cur()
	if c == nil || c.phase == PhaseInit {
		luavm.Raise(L, "no request found")
	}
	if c.r == nil {
		luavm.Raise(L, "API disabled in the current context")
	}
	return c
}

func installResp(st *loopState) {
	L := st.vm.L
	hdr := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *glua.LState) int {
		c := st.apiReq(L)
		return c.pushRespHeader(L, luaKeyString(L, 2))
	}))
	set := L.NewFunction(func(L *glua.LState) int {
		c := st.apiReq(L)
		c.setRespHeaderLua(L, luaKeyString(L, 2), L.Get(3), false)
		return 0
	})
	st.vm.SetFastNewIndex(set, st.headerSetFast)
	mt.RawSetString("__newindex", set)
	L.SetMetatable(hdr, mt)
	st.ngx.RawSetString("header", hdr)

	resp := L.NewTable()
	resp.RawSetString("get_headers", L.NewFunction(st.respGetHeaders))
	st.ngx.RawSetString("resp", resp)

	st.ngx.RawSetString("send_headers", L.NewFunction(func(L *glua.LState) int {
		c := st.request(L, outputPhases)
		if !c.r.HeaderSent && !c.headersSent {
			if rc := c.sendHeaderIfNeeded(); rc == http.Error || rc > http.OK {
				L.Push(glua.LNil)
				L.Push(glua.LString("nginx output filter error"))
				return 2
			}
		}
		L.Push(glua.LNumber(1))
		return 1
	}))

	meta := L.NewTable()
	meta.RawSetString("__index", L.NewFunction(headersIndex))
	st.api[apiRespHeadersMeta] = meta

	st.vm.Preload("ngx.resp", func(L *glua.LState) int {
		m := L.NewTable()
		m.RawSetString("add_header", L.NewFunction(func(L *glua.LState) int {
			c := st.apiReq(L)
			c.setRespHeaderLua(L, luaKeyString(L, 1), L.Get(2), true)
			return 0
		}))
		L.Push(m)
		return 1
	})
}

// headersIndex is the __index of the tables ngx.resp.get_headers returns:
// a name in another case or with underscores finds its lower-case,
// dashed entry.
func headersIndex(L *glua.LState) int {
	tb := L.CheckTable(1)
	key, ok := L.Get(2).(glua.LString)
	if !ok {
		L.Push(glua.LNil)
		return 1
	}
	nk := strings.ReplaceAll(strings.ToLower(string(key)), "_", "-")
	if nk == string(key) {
		L.Push(glua.LNil)
		return 1
	}
	L.Push(L.GetTable(tb, glua.LString(nk)))
	return 1
}

// luaKeyString is tostring() of a header or variable name argument.
func luaKeyString(L *glua.LState, n int) string {
	switch v := L.Get(n).(type) {
	case glua.LString:
		return string(v)
	case glua.LNumber:
		return luavm.FormatNumber(float64(v))
	}
	return L.ToStringMeta(L.Get(n)).String()
}

// tostringValue is tostring() of a header value.
func tostringValue(L *glua.LState, v glua.LValue) string {
	switch x := v.(type) {
	case glua.LString:
		return string(x)
	case glua.LNumber:
		return luavm.FormatNumber(float64(x))
	}
	return L.ToStringMeta(v).String()
}

// setRespHeaderLua is ngx.header[key] = value (addOnly false) and
// ngx.resp.add_header (addOnly true), as lua-resty-core's set_resp_header.
// headerSetFast is ngx.header.name = "value" in a request whose header
// is not sent yet, without a Lua call; anything else (other values,
// errors, warnings) goes through setRespHeaderLua.
func (st *loopState) headerSetFast(_ *glua.LTable, key glua.LString, value glua.LValue) bool {
	c := st.cur()
	if c == nil || c.phase == PhaseInit || c.r == nil {
		return false
	}
	s, ok := value.(glua.LString)
	if !ok || c.r.HeaderSent || c.headersSent {
		return false
	}
	name := string(key)
	if c.r.Loc.LocConfOf(Module).(*LocConf).TransformUnderscores.V {
		name = st.dashed(name)
	}
	c.out.headersSet = true
	return c.setRespHeader(name, string(s), true)
}

// dashed returns name with every "_" turned into "-", as
// lua_transform_underscores_in_response_headers has ngx.header's names.
// The names are mostly the Lua code's constants, the same strings request
// after request, so the last ones are remembered by where they are.
func (st *loopState) dashed(name string) string {
	if strings.IndexByte(name, '_') < 0 {
		return name
	}
	return st.dashes.get(name, nil, func(name string) string { return strings.ReplaceAll(name, "_", "-") })
}

func (c *reqCtx) setRespHeaderLua(L *glua.LState, key string, value glua.LValue, addOnly bool) {
	var one [1]string
	vals := one[:0]
	clear := false
	switch v := value.(type) {
	case *glua.LNilType:
		if addOnly {
			luavm.Raise(L, "invalid header value")
		}
		clear = true
	case *glua.LTable:
		n := v.Len()
		if n == 0 && addOnly {
			return
		}
		for i := 1; i <= n; i++ {
			e := v.RawGetInt(i)
			s, ok := e.(glua.LString)
			if !ok {
				s = glua.LString(tostringValue(L, e))
				v.RawSetInt(i, s)
			}
			vals = append(vals, string(s))
		}
		if n == 0 {
			clear = true
		}
	default:
		vals = append(vals, tostringValue(L, value))
	}
	r := c.r
	if r.HeaderSent || c.headersSent {
		c.r.Logf(errlog.Error, "attempt to set ngx.header.HEADER after sending out response headers")
		return
	}
	lc := r.Loc.LocConfOf(Module).(*LocConf)
	if lc.TransformUnderscores.V {
		key = c.st.dashed(key)
	}
	c.out.headersSet = true
	if clear {
		vals = append(vals[:0], "")
	}
	for i, v := range vals {
		if !c.setRespHeader(key, v, !addOnly && i == 0) {
			luavm.Raise(L, "failed to set header")
		}
	}
}

// The response headers ngx_lua sets with their own rules, by lower-case
// name.
const (
	hkGeneric = iota
	hkBuiltin
	hkLocation
	hkLastModified
	hkContentLength
	hkContentType
	hkMulti
)

// respBuiltin is how setRespHeader sets a header nginx knows.
type respBuiltin struct {
	name  string
	kind  int
	known httpparse.KnownHeader
}

// builtinFirst marks the first letters (either case) of respBuiltins'
// names: most headers Lua sets ("X-...") need no lookup.
var builtinFirst = func() (t [256]bool) {
	for _, b := range respBuiltins {
		t[b.name[0]], t[b.name[0]-'a'+'A'] = true, true
	}
	return
}()

// respBuiltins are few: a name is found by comparing it with those of its
// length, with no lower-case copy and no hashing.
var respBuiltins = []respBuiltin{
	{"server", hkBuiltin, httpparse.HdrServer},
	{"date", hkBuiltin, httpparse.HdrDate},
	{"content-encoding", hkBuiltin, httpparse.HdrContentEncoding},
	{"location", hkLocation, httpparse.HdrLocation},
	{"refresh", hkBuiltin, httpparse.HdrRefresh},
	{"last-modified", hkLastModified, httpparse.HdrLastModified},
	{"content-range", hkBuiltin, httpparse.HdrContentRange},
	{"accept-ranges", hkBuiltin, httpparse.HdrAcceptRanges},
	{"www-authenticate", hkBuiltin, httpparse.HdrWWWAuthenticate},
	{"expires", hkBuiltin, httpparse.HdrExpires},
	{"e-tag", hkBuiltin, httpparse.HdrETag},
	{"etag", hkBuiltin, httpparse.HdrETag},
	{"content-length", hkContentLength, httpparse.HdrContentLength},
	{"content-type", hkContentType, httpparse.HdrContentType},
	{"cache-control", hkMulti, httpparse.HdrCacheControl},
	{"link", hkMulti, httpparse.HdrLink},
}

// respBuiltinOf returns the rules for the header named key, any case.
func respBuiltinOf(key string) (respBuiltin, bool) {
	if key == "" || !builtinFirst[key[0]] {
		return respBuiltin{}, false
	}
	for _, b := range respBuiltins {
		if len(b.name) == len(key) && strings.EqualFold(b.name, key) {
			return b, true
		}
	}
	return respBuiltin{}, false
}

// setRespHeader sets one response header value (ngx_http_lua_set_output_header):
// an empty value clears; without override a value is added to those
// present. It reports false for a value nginx refuses (a bad
// Content-Length).
func (c *reqCtx) setRespHeader(key, value string, override bool) bool {
	key = escapeHeader(key, headerNameEscape)
	value = escapeHeader(value, headerValueEscape)
	out := &c.r.Out
	b, ok := respBuiltinOf(key)
	if !ok {
		setGenericHeader(c.r, key, value, override)
		return true
	}
	switch b.kind {
	case hkBuiltin:
		setBuiltinHeader(c.r, b.known, key, value, override)
		if value == "" {
			// nginx keeps a hidden header in the place of a cleared
			// Server or Date, so its header filter adds none.
			switch b.known {
			case httpparse.HdrServer:
				out.OmitServer = true
			case httpparse.HdrDate:
				out.OmitDate = true
			}
		}
	case hkLocation:
		setBuiltinHeader(c.r, b.known, key, value, override)
		if h := out.Known(httpparse.HdrLocation); h != nil && len(h.Value) > 0 && h.Value[0] == '/' {
			// ngx_lua leaves a relative Location alone: nginx's
			// header filter must not make it absolute.
			out.DetachLocation()
		}
	case hkLastModified:
		if value == "" {
			out.LastModified = -1
		} else {
			out.LastModified = http.ParseHTTPTime([]byte(value))
		}
		setBuiltinHeader(c.r, b.known, key, value, override)
	case hkContentLength:
		if value == "" {
			out.ContentLength = -1
		} else {
			n, ok := parseOffset(value)
			if !ok {
				return false
			}
			out.ContentLength = n
		}
		setBuiltinHeader(c.r, b.known, key, value, override)
	case hkContentType:
		out.ContentType = value
		if strings.IndexByte(value, ';') >= 0 {
			// nginx appends the charset only to a bare type.
			out.Charset = ""
		}
		c.out.mimeSet = true
		setGenericHeader(c.r, key, "", true)
	case hkMulti:
		setMultiHeader(c.r, b.known, key, value, override)
	}
	return true
}

// parseOffset is ngx_atoof: decimal digits only, no overflow.
func parseOffset(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		d := s[i]
		if d < '0' || d > '9' {
			return 0, false
		}
		if n > (1<<63-1-int64(d-'0'))/10 {
			return 0, false
		}
		n = n*10 + int64(d-'0')
	}
	return n, true
}

// setGenericHeader is ngx_lua's set_header_helper for the response: with
// override the first header of that name takes the value (an empty one
// removes it) and the others go; without, the value is added.
func setGenericHeader(r *http.Request, key, value string, override bool) {
	out := &r.Out
	if override {
		matched := false
		for i := range out.Headers {
			h := &out.Headers[i]
			if h.Name == nil || len(h.Name) != len(key) || !strings.EqualFold(string(h.Name), key) {
				continue
			}
			if value == "" || matched {
				h.Name = nil
			} else {
				h.Value = arenaBytes(r, value)
			}
			matched = true
		}
		if matched {
			return
		}
	}
	if value == "" {
		return
	}
	out.Add(arenaBytes(r, key), arenaBytes(r, value))
}

// setBuiltinHeader sets a header nginx points to from headers_out: the
// one it knows takes the value (and the name as written).
func setBuiltinHeader(r *http.Request, k httpparse.KnownHeader, key, value string, override bool) {
	out := &r.Out
	h := out.Known(k)
	if h == nil {
		setGenericHeader(r, key, value, override)
		return
	}
	if value == "" {
		h.Name = nil
		return
	}
	h.Name = arenaBytes(r, key)
	h.Value = arenaBytes(r, value)
}

// setMultiHeader sets Cache-Control or Link, the headers nginx 1.22 keeps
// in an array: with override the first takes the value and the others
// are cleared; without, a cleared one is reused or one is added.
func setMultiHeader(r *http.Request, k httpparse.KnownHeader, key, value string, override bool) {
	out := &r.Out
	first := -1
	for i := range out.Headers {
		h := &out.Headers[i]
		if h.Known != k {
			continue
		}
		if !override {
			if h.Name == nil && value != "" {
				h.Name, h.Value = arenaBytes(r, key), arenaBytes(r, value)
				return
			}
			continue
		}
		if first < 0 {
			first = i
			continue
		}
		h.Name, h.Value = nil, nil
	}
	if override && first >= 0 {
		h := &out.Headers[first]
		h.Value = arenaBytes(r, value)
		switch {
		case value == "":
			h.Name = nil
		case h.Name == nil:
			h.Name = arenaBytes(r, key)
		}
		return
	}
	if value != "" {
		out.Add(arenaBytes(r, key), arenaBytes(r, value))
	}
}

// arenaBytes copies a header name or value into the request's arena: the
// response headers live no longer than the request.
func arenaBytes(r *http.Request, s string) []byte {
	b := r.Alloc(len(s))
	copy(b, s)
	return b
}

// pushRespHeader is ngx.header[key]: a string, a table of the values of
// a repeated header, or nil.
func (c *reqCtx) pushRespHeader(L *glua.LState, key string) int {
	r := c.r
	lc := r.Loc.LocConfOf(Module).(*LocConf)
	if lc.TransformUnderscores.V {
		key = c.st.dashed(key)
	}
	out := &r.Out
	switch {
	case len(key) == 14 && strings.EqualFold(key, "Content-Length"):
		if out.Known(httpparse.HdrContentLength) == nil && out.ContentLength >= 0 {
			L.Push(glua.LString(strconv.FormatInt(out.ContentLength, 10)))
			return 1
		}
	case len(key) == 12 && strings.EqualFold(key, "Content-Type"):
		if out.ContentType != "" {
			L.Push(glua.LString(out.ContentType))
			return 1
		}
	case len(key) == 13 && strings.EqualFold(key, "Last-Modified"):
		if out.LastModified >= 0 {
			L.Push(glua.LString(time.Unix(out.LastModified, 0).UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")))
		} else {
			L.Push(glua.LNil)
		}
		return 1
	}
	var vals []glua.LValue
	for i := range out.Headers {
		h := &out.Headers[i]
		if h.Name != nil && len(h.Name) == len(key) && strings.EqualFold(string(h.Name), key) {
			vals = append(vals, glua.LString(h.Value))
		}
	}
	switch len(vals) {
	case 0:
		L.Push(glua.LNil)
	case 1:
		L.Push(vals[0])
	default:
		t := L.CreateTable(len(vals), 0)
		for i, v := range vals {
			t.RawSetInt(i+1, v)
		}
		L.Push(t)
	}
	return 1
}

// respGetHeaders is ngx.resp.get_headers(max?, raw?).
func (st *loopState) respGetHeaders(L *glua.LState) int {
	max, raw := maxHeaders, false
	if n := L.GetTop(); n >= 1 {
		if L.Get(1) != glua.LNil {
			max = checkInteger(L, 1)
		}
		if n >= 2 {
			raw = glua.LVAsBool(L.Get(2))
		}
	}
	c := st.apiReq(L)
	r := c.r
	out := &r.Out
	t := st.index.NewTable(0, len(out.Headers)+4)
	var vals ltable.Strings
	vals.Reserve(len(out.Headers), 0)
	if !raw {
		L.SetMetatable(t, st.api[apiRespHeadersMeta].(*glua.LTable))
	}
	extra := 0
	if out.ContentType != "" {
		extra++
		t.RawSetString("content-type", glua.LString(out.ContentType))
	}
	if out.Known(httpparse.HdrContentLength) == nil && out.ContentLength >= 0 {
		extra++
		t.RawSetString("content-length", glua.LString(strconv.FormatInt(out.ContentLength, 10)))
	}
	extra++
	switch {
	case out.Status == 101:
		t.RawSetString("connection", glua.LString("upgrade"))
	case r.KeepAlive:
		t.RawSetString("connection", glua.LString("keep-alive"))
	default:
		t.RawSetString("connection", glua.LString("close"))
	}
	if out.Chunked {
		extra++
		t.RawSetString("transfer-encoding", glua.LString("chunked"))
	}
	count := len(out.Headers)
	truncated := false
	if max > 0 && count+extra > max {
		truncated = true
		r.Logf(errlog.Debug, "lua exceeding response header limit %d > %d", count+extra, max)
		count = max - extra
	}
	for i := range out.Headers {
		h := &out.Headers[i]
		if h.Name == nil {
			continue
		}
		key := st.keys.Bytes(h.Name)
		if !raw {
			key = st.keys.Lower(h.Name)
		}
		setMultiValue(L, t, key, vals.Box(string(h.Value)), true)
		if count--; count <= 0 {
			break
		}
	}
	L.Push(t)
	if truncated {
		L.Push(glua.LString("truncated"))
		return 2
	}
	return 1
}

// setMultiValue adds value under key (a boxed LString) of a table it
// alone fills, turning a repeated key into an array of its values as
// ngx_lua does. lazy says t was made by an ltable.Index.
func setMultiValue(L *glua.LState, t *glua.LTable, key, value glua.LValue, lazy bool) {
	switch o := ltable.GetString(t, string(key.(glua.LString))).(type) {
	case *glua.LNilType:
		if lazy {
			ltable.SetLazy(t, key, value)
		} else {
			ltable.SetNewString(t, key, value)
		}
	case *glua.LTable:
		o.RawSetInt(o.Len()+1, value)
	default:
		a := L.CreateTable(4, 0)
		a.RawSetInt(1, o)
		a.RawSetInt(2, value)
		ltable.SetString(t, key, a)
	}
}

// checkInteger is luaL_checkinteger: a number or a numeric string,
// truncated.
func checkInteger(L *glua.LState, n int) int {
	switch v := L.Get(n).(type) {
	case glua.LNumber:
		return int(v)
	case glua.LString:
		if f, ok := luavm.ParseNumber(string(v)); ok {
			return int(f)
		}
	}
	luavm.TypeError(L, n, "number")
	return 0
}

// The escape tables of ngx_lua's header names and values: a name loses
// separators, spaces and control bytes, a value its control bytes but the
// tab.
var (
	headerNameEscape  = escapeTable(func(c byte) bool { return c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 })
	headerValueEscape = escapeTable(func(c byte) bool { return (c < ' ' && c != '\t') || c == 0x7f })
)

func escapeTable(f func(byte) bool) *[256]bool {
	var t [256]bool
	for i := range t {
		t[i] = f(byte(i))
	}
	return &t
}

// escapeHeader percent-escapes the bytes tbl marks, as
// ngx_http_lua_copy_escaped_header.
func escapeHeader(s string, tbl *[256]bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if tbl[s[i]] {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if tbl[c] {
			b = append(b, '%', hex[c>>4], hex[c&0xf])
			continue
		}
		b = append(b, c)
	}
	return string(b)
}
