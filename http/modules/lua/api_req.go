package lua

import (
	"bytes"
	"strings"

	glua "github.com/yuin/gopher-lua"

	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
	"gresty/luavm"
	"gresty/luavm/ltable"
)

// The request side of the ngx API (ngx.req.*): method, URI and its
// arguments, request headers, the raw head, the version and start time.
// The request body functions are in api_reqbody.go. Error texts follow
// lua-resty-core's request.lua where it implements a function, else
// ngx_lua's C functions.

func init() { registerAPI(installReq) }

// maxArgsDefault is NGX_HTTP_LUA_MAX_ARGS.
const maxArgsDefault = 100

// apiReqHeadersMeta keys the metatable of ngx.req.get_headers' tables in
// loopState.api.
const apiReqHeadersMeta = "req.headers.meta"

// ngxMethodNames are the methods ngx.req.get_method names by their
// number; others are reported by the name the request carries.
var ngxMethodNames = map[httpparse.Method]string{
	httpparse.MethodGET: "GET", httpparse.MethodHEAD: "HEAD", httpparse.MethodPOST: "POST",
	httpparse.MethodPUT: "PUT", httpparse.MethodDELETE: "DELETE", httpparse.MethodMKCOL: "MKCOL",
	httpparse.MethodCOPY: "COPY", httpparse.MethodMOVE: "MOVE", httpparse.MethodOPTIONS: "OPTIONS",
	httpparse.MethodPROPFIND: "PROPFIND", httpparse.MethodPROPPATCH: "PROPPATCH",
	httpparse.MethodLOCK: "LOCK", httpparse.MethodUNLOCK: "UNLOCK", httpparse.MethodPATCH: "PATCH",
	httpparse.MethodTRACE: "TRACE",
}

// knownLower holds the names the parser recognises, in lower case and
// boxed: most of a request's headers, named in get_headers' tables without
// a lookup.
var knownLower = func() (t [64]glua.LValue) {
	for k := httpparse.KnownHeader(1); int(k) < len(t) && k.String() != ""; k++ {
		t[k] = glua.LString(strings.ToLower(k.String()))
	}
	return
}()

func installReq(st *loopState) {
	L := st.vm.L
	req, ok := st.ngx.RawGetString("req").(*glua.LTable)
	if !ok {
		req = L.NewTable()
		st.ngx.RawSetString("req", req)
	}
	fn := func(name string, f glua.LGFunction) { req.RawSetString(name, L.NewFunction(f)) }

	meta := L.NewTable()
	meta.RawSetString("__index", L.NewFunction(func(L *glua.LState) int {
		tb := L.CheckTable(1)
		key, ok := L.Get(2).(glua.LString)
		if !ok {
			L.Push(glua.LNil)
			return 1
		}
		L.Push(tb.RawGetString(strings.ReplaceAll(strings.ToLower(string(key)), "_", "-")))
		return 1
	}))
	st.api[apiReqHeadersMeta] = meta

	fn("get_method", func(L *glua.LState) int {
		c := st.apiReq(L)
		if name, ok := ngxMethodNames[c.r.Method]; ok {
			L.Push(glua.LString(name))
			return 1
		}
		L.Push(glua.LString(c.r.MethodName))
		return 1
	})
	fn("set_method", func(L *glua.LState) int {
		c := st.apiReq(L)
		n, ok := L.Get(1).(glua.LNumber)
		if !ok {
			luavm.Raise(L, "bad method number")
		}
		m := httpparse.Method(int(n))
		name, ok := ngxMethodNames[m]
		if !ok || float64(int(n)) != float64(n) {
			luavm.Raise(L, "unsupported HTTP method: %s", luavm.FormatNumber(float64(n)))
		}
		c.r.Method = m
		c.r.MethodName = name
		return 0
	})
	fn("get_uri_args", func(L *glua.LState) int {
		max := -1
		if v := L.Get(1); v != glua.LNil {
			max = checkInteger(L, 1)
		}
		var tab *glua.LTable
		if t, ok := L.Get(2).(*glua.LTable); ok {
			// the table is reused: emptied first, as table.clear does.
			tab = t
			var keys []glua.LValue
			tab.ForEach(func(k, _ glua.LValue) { keys = append(keys, k) })
			for _, k := range keys {
				tab.RawSet(k, glua.LNil)
			}
		}
		c := st.apiReq(L)
		if tab == nil {
			tab = L.NewTable()
		}
		if getURIArgs(L, tab, c.r.Args, max) {
			c.r.Logf(errlog.Debug, "lua hit query args limit %d", effectiveMax(max))
			L.Push(tab)
			L.Push(glua.LString("truncated"))
			return 2
		}
		L.Push(tab)
		return 1
	})
	fn("set_uri_args", func(L *glua.LState) int {
		if n := L.GetTop(); n != 1 {
			luavm.Raise(L, "expecting 1 argument but seen %d", n)
		}
		c := st.apiReq(L)
		var args []byte
		switch v := L.Get(1).(type) {
		case glua.LNumber:
			args = []byte(luavm.FormatNumber(float64(v)))
		case glua.LString:
			args = escapeArgs(string(v))
		case *glua.LTable:
			args = []byte(argsFromTable(L, v))
		default:
			luavm.ArgError(L, 1, "string, number, or table expected, but got "+v.Type().String())
		}
		c.r.Args = args
		return 0
	})
	st.vm.RegisterYielding(req, "set_uri", func(L *glua.LState) int { return st.setURI(L) })
	fn("get_headers", func(L *glua.LState) int {
		max := -1
		if v := L.Get(1); v != glua.LNil {
			max = checkInteger(L, 1)
		}
		raw := glua.LVAsBool(L.Get(2))
		c := st.apiReq(L)
		if max < 0 {
			max = maxHeaders
		}
		in := c.r.In
		count := len(in)
		truncated := false
		if max > 0 && count > max {
			truncated = true
			c.r.Logf(errlog.Debug, "lua exceeding request header limit %d > %d", count, max)
			count = max
		}
		text := 0
		for i := 0; i < count; i++ {
			text += len(in[i].Value)
		}
		t, vals := st.index.NewStringTable(count, text)
		for i := 0; i < count; i++ {
			h := &in[i]
			var key glua.LValue
			switch {
			case raw:
				key = st.keys.Bytes(h.Name)
			case int(h.Known) < len(knownLower) && knownLower[h.Known] != nil:
				key = knownLower[h.Known]
			default:
				key = st.keys.Lower(h.Name)
			}
			if seenName(in[:i], h.Name, raw) {
				setMultiValue(L, t, key, vals.BoxBytes(h.Value), true)
			} else {
				// a name met first: no lookup in the table
				ltable.SetLazy(t, key, vals.BoxBytes(h.Value))
			}
		}
		if !raw {
			L.SetMetatable(t, meta)
		}
		L.Push(t)
		if truncated {
			L.Push(glua.LString("truncated"))
			return 2
		}
		return 1
	})
	fn("set_header", func(L *glua.LState) int {
		st.setReqHeaderLua(L, true)
		return 0
	})
	fn("clear_header", func(L *glua.LState) int {
		c := st.apiReq(L)
		name := luaKeyString(L, 1)
		if c.r.HTTPVersion < 1000 {
			return 0
		}
		if !setReqHeader(c.r, name, "", true) {
			luavm.Raise(L, "failed to set header")
		}
		return 0
	})
	fn("raw_header", func(L *glua.LState) int {
		noReqLine := glua.LVAsBool(L.Get(1))
		c := st.apiReq(L)
		L.Push(glua.LString(c.r.RawHeader(noReqLine)))
		return 1
	})
	fn("http_version", func(L *glua.LState) int {
		c := st.apiReq(L)
		switch c.r.HTTPVersion {
		case 9:
			L.Push(glua.LNumber(0.9))
		case 1000:
			L.Push(glua.LNumber(1.0))
		case 1001:
			L.Push(glua.LNumber(1.1))
		case 2000:
			L.Push(glua.LNumber(2.0))
		case 3000:
			L.Push(glua.LNumber(3.0))
		default:
			L.Push(glua.LNil)
		}
		return 1
	})
	fn("start_time", func(L *glua.LState) int {
		c := st.apiReq(L)
		t := c.r.Main.StartTime
		ms := t.UnixMilli()
		L.Push(glua.LNumber(float64(ms/1000) + float64(ms%1000)/1000))
		return 1
	})
	fn("is_internal", func(L *glua.LState) int {
		c := st.apiReq(L)
		L.Push(glua.LBool(c.r.Internal))
		return 1
	})

	st.vm.Preload("ngx.req", func(L *glua.LState) int {
		m := L.NewTable()
		m.RawSetString("add_header", L.NewFunction(func(L *glua.LState) int {
			st.setReqHeaderLua(L, false)
			return 0
		}))
		L.Push(m)
		return 1
	})
}

// setReqHeaderLua is ngx.req.set_header (override) and the "ngx.req"
// module's add_header, as lua-resty-core's set_req_header.
func (st *loopState) setReqHeaderLua(L *glua.LState, override bool) {
	c := st.apiReq(L)
	if L.Get(1) == glua.LNil {
		luavm.Raise(L, "bad 'name' argument: string expected, got nil")
	}
	name := luaKeyString(L, 1)
	var vals []string
	switch v := L.Get(2).(type) {
	case *glua.LNilType:
		if !override {
			luavm.Raise(L, "bad 'value' argument: string or table expected, got nil")
		}
		vals = []string{""}
	case *glua.LTable:
		n := v.Len()
		if n == 0 && !override {
			luavm.Raise(L, "bad 'value' argument: non-empty table expected")
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
			vals = []string{""}
		}
	default:
		vals = []string{tostringValue(L, v)}
	}
	if c.r.HTTPVersion < 1000 {
		return
	}
	for i, v := range vals {
		if !setReqHeader(c.r, name, v, override && i == 0) {
			luavm.Raise(L, "failed to set header")
		}
	}
}

// reqBuiltins are the request headers nginx points to from headers_in:
// setting one changes the header it knows, not its duplicates.
var reqBuiltins = map[string]httpparse.KnownHeader{
	"host": httpparse.HdrHost, "connection": httpparse.HdrConnection,
	"if-modified-since": httpparse.HdrIfModifiedSince, "if-unmodified-since": httpparse.HdrIfUnmodifiedSince,
	"if-match": httpparse.HdrIfMatch, "if-none-match": httpparse.HdrIfNoneMatch,
	"user-agent": httpparse.HdrUserAgent, "referer": httpparse.HdrReferer,
	"content-length": httpparse.HdrContentLength, "content-type": httpparse.HdrContentType,
	"range": httpparse.HdrRange, "if-range": httpparse.HdrIfRange,
	"transfer-encoding": httpparse.HdrTransferEncoding, "expect": httpparse.HdrExpect,
	"upgrade": httpparse.HdrUpgrade, "accept-encoding": httpparse.HdrAcceptEncoding,
	"via": httpparse.HdrVia, "authorization": httpparse.HdrAuthorization,
	"keep-alive": httpparse.HdrKeepAlive, "x-real-ip": httpparse.HdrXRealIP,
	"depth": httpparse.HdrDepth, "destination": httpparse.HdrDestination,
	"overwrite": httpparse.HdrOverwrite, "date": httpparse.HdrDate,
}

// setReqHeader sets one request header value (ngx_http_lua_set_input_header):
// an empty value removes the header; with override the first header of
// that name takes the value and its duplicates go, without the value is
// added. Host and Content-Length also change what nginx derived from
// them. It reports false for a value nginx refuses.
func setReqHeader(r *http.Request, key, value string, override bool) bool {
	key = escapeHeader(key, headerNameEscape)
	value = escapeHeader(value, headerValueEscape)
	if r.Out.Status == 400 {
		return true
	}
	low := strings.ToLower(key)
	k, builtin := reqBuiltins[low]
	switch low {
	case "host":
		if value == "" {
			r.Host = nil
		} else {
			host, ok := validateHost(value)
			if !ok {
				return false
			}
			r.Host = []byte(host)
		}
		r.InvalidateVariable("host")
	case "content-length":
		if value == "" {
			r.ContentLength = -1
		} else {
			n, ok := parseOffset(value)
			if !ok {
				return false
			}
			r.ContentLength = n
		}
	}
	if builtin {
		for i := range r.In {
			h := &r.In[i]
			if h.Known != k {
				continue
			}
			if value != "" {
				h.Value = []byte(value)
				return true
			}
			break
		}
	}
	if !override {
		if value != "" {
			r.In = append(r.In, http.Header{Name: []byte(key), Value: []byte(value), Known: httpparse.LookupHeader([]byte(key))})
		}
		return true
	}
	matched := false
	out := r.In[:0:0]
	for i := range r.In {
		h := r.In[i]
		if len(h.Name) == len(key) && strings.EqualFold(string(h.Name), key) {
			if value == "" || matched {
				continue
			}
			h.Value = []byte(value)
			matched = true
		}
		out = append(out, h)
	}
	r.In = out
	if matched || value == "" {
		return true
	}
	r.In = append(r.In, http.Header{Name: []byte(key), Value: []byte(value), Known: httpparse.LookupHeader([]byte(key))})
	return true
}

// validateHost is ngx_http_lua_validate_host: no empty labels or path
// separators, the port and a trailing dot dropped, lower-cased.
func validateHost(h string) (string, bool) {
	dot := len(h)
	hostLen := len(h)
	const (
		usual = iota
		literal
		rest
	)
	state := usual
	for i := 0; i < len(h); i++ {
		switch c := h[i]; c {
		case '.':
			if dot == i-1 {
				return "", false
			}
			dot = i
		case ':':
			if state == usual {
				hostLen = i
				state = rest
			}
		case '[':
			if i == 0 {
				state = literal
			}
		case ']':
			if state == literal {
				hostLen = i + 1
				state = rest
			}
		case 0, '/':
			return "", false
		}
	}
	if dot == hostLen-1 {
		hostLen--
	}
	if hostLen <= 0 {
		return "", false
	}
	return strings.ToLower(h[:hostLen]), true
}

// setURI is ngx.req.set_uri(uri, jump?, binary?).
func (st *loopState) setURI(L *glua.LState) int {
	n := L.GetTop()
	if n < 1 || n > 3 {
		luavm.Raise(L, "expecting 1, 2 or 3 arguments but seen %d", n)
	}
	c := st.cur()
	if c == nil || c.phase == PhaseInit {
		luavm.Raise(L, "no request found")
	}
	if c.r == nil {
		luavm.Raise(L, "API disabled in the current context")
	}
	uri := L.CheckString(1)
	if uri == "" {
		luavm.Raise(L, "attempt to use zero-length uri")
	}
	binary := false
	if n >= 3 {
		L.CheckTypes(3, glua.LTBool)
		binary = glua.LVAsBool(L.Get(3))
	}
	if !binary {
		if b, bad := unsafeURIByte(uri); bad {
			luavm.Raise(L, "unsafe byte \"0x%02x\" in uri \"%s\" (maybe you want to set the 'binary' argument?)", b, escapeLog(uri))
		}
	}
	jump := false
	if n >= 2 {
		L.CheckTypes(2, glua.LTBool)
		jump = glua.LVAsBool(L.Get(2))
		if jump {
			if c.phase&(PhaseRewrite|PhaseServerRewrite) == 0 {
				luavm.Raise(L, "API disabled in the context of %s", c.phase.contextName())
			}
			c.r.Logf(errlog.Debug, "lua set uri jump to \"%s\"", uri)
			if c.rq.noAbort {
				luavm.Raise(L, "attempt to abort with pending subrequests")
			}
		}
	}
	r := c.r
	r.SetURI([]byte(uri))
	r.Internal = true
	if jump {
		r.SetURIChanged(true)
		c.rq.jump = true
		return st.vm.Suspend(L)
	}
	r.InvalidateLocation()
	r.SetURIChanged(false)
	return 0
}

// unsafeURIByte finds a control byte (but the tab) or DEL, which ngx_lua
// refuses in URIs (ngx_http_lua_check_unsafe_uri_bytes).
func unsafeURIByte(s string) (byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return c, true
		}
	}
	return 0, false
}

// escapeLog writes control bytes, '"', '\\' and bytes from 0x7f up as
// \xHH, as ngx_http_lua_escape_log does for error messages.
func escapeLog(s string) string {
	const hex = "0123456789ABCDEF"
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c == '"' || c == '\\' || c >= 0x7f {
			b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

// escapeArgs escapes the bytes ngx.req.set_uri_args does not let into a
// query string: control bytes, the space and DEL
// (ngx_http_lua_escape_args).
func escapeArgs(s string) []byte {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f {
			b = append(b, '%', hex[c>>4], hex[c&0xf])
			continue
		}
		b = append(b, c)
	}
	return b
}

// unescapeArg decodes a query argument key or value as ngx_lua does
// (ngx_http_lua_unescape_uri for a URI component): "%XX" with two hex
// digits is the byte, '+' is a space.
func unescapeArg(s []byte) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '%':
			if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
				out = append(out, hexVal(s[i+1])<<4|hexVal(s[i+2]))
				i += 2
				continue
			}
			out = append(out, '%')
		case '+':
			out = append(out, ' ')
		default:
			out = append(out, c)
		}
	}
	return string(out)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// effectiveMax is the limit a negative max stands for.
func effectiveMax(max int) int {
	if max < 0 {
		return maxArgsDefault
	}
	return max
}

// getURIArgs fills t with the query arguments as
// ngx_http_lua_ffi_req_get_uri_args does, and reports whether the count
// of '&'-separated pairs exceeded max (a negative max is 100, 0 none).
func getURIArgs(L *glua.LState, t *glua.LTable, args []byte, max int) bool {
	if max < 0 {
		max = maxArgsDefault
	}
	count := 0
	for _, c := range args {
		if c == '&' {
			if count == 0 {
				count += 2
			} else {
				count++
			}
		}
	}
	truncated := false
	switch {
	case count > 0:
		if max > 0 && count > max {
			count = max
			truncated = true
		}
	case len(args) > 0:
		count = 1
	default:
		return false
	}
	n := 0
	add := func(key string, value glua.LValue) {
		setMultiValue(L, t, glua.LString(key), value, false)
		n++
	}
	var key string
	parsingValue := false
	q := 0
	p := 0
	for p < len(args) {
		switch {
		case args[p] == '=' && !parsingValue:
			key = unescapeArg(args[q:p])
			p++
			q = p
			parsingValue = true
		case args[p] == '&':
			v := unescapeArg(args[q:p])
			if parsingValue {
				parsingValue = false
				if key != "" {
					add(key, glua.LString(v))
				}
			} else if v != "" {
				add(v, glua.LTrue)
			}
			if n == count {
				return truncated
			}
			p++
			q = p
		default:
			p++
		}
	}
	if p != q || parsingValue {
		v := unescapeArg(args[q:p])
		if parsingValue {
			if key != "" {
				add(key, glua.LString(v))
			}
		} else if v != "" {
			add(v, glua.LTrue)
		}
	}
	return truncated
}

// parseArgs fills t from a form body as ngx_http_lua_parse_args does for
// ngx.req.get_post_args, and reports whether max pairs were read before
// the end.
func parseArgs(L *glua.LState, t *glua.LTable, buf []byte, max int) bool {
	count := 0
	parsingValue := false
	q, p := 0, 0
	var key string
	for p < len(buf) {
		switch {
		case buf[p] == '=' && !parsingValue:
			key = unescapeArg(buf[q:p])
			p++
			q = p
			parsingValue = true
		case buf[p] == '&':
			v := unescapeArg(buf[q:p])
			p++
			q = p
			if parsingValue {
				parsingValue = false
				if key != "" {
					setMultiValue(L, t, glua.LString(key), glua.LString(v), false)
				}
			} else if v != "" {
				setMultiValue(L, t, glua.LString(v), glua.LTrue, false)
			}
			if count++; max > 0 && count == max {
				return true
			}
		default:
			p++
		}
	}
	if p != q || parsingValue {
		v := unescapeArg(buf[q:p])
		if parsingValue {
			if key != "" {
				setMultiValue(L, t, glua.LString(key), glua.LString(v), false)
			}
		} else if v != "" {
			setMultiValue(L, t, glua.LString(v), glua.LTrue, false)
		}
	}
	return false
}

// argsFromTable encodes an args table as ngx_http_lua_process_args_option
// (ngx.req.set_uri_args, ngx.exec): pairs in the table's order, keys and
// values escaped as URI components, true for a bare key, false for
// nothing, an array for one pair per element.
func argsFromTable(L *glua.LState, t *glua.LTable) string {
	var b []byte
	pair := func(key string, v glua.LValue) {
		switch x := v.(type) {
		case glua.LBool:
			if !x {
				return
			}
			if b != nil {
				b = append(b, '&')
			}
			b = appendComponent(b, key)
			if b == nil {
				b = []byte{}
			}
		case glua.LString, glua.LNumber:
			if b != nil {
				b = append(b, '&')
			}
			b = appendComponent(b, key)
			b = append(b, '=')
			b = appendComponent(b, tostringValue(L, x))
		default:
			luavm.Raise(L, "attempt to use %s as query arg value", luaTypeName(v))
		}
	}
	for k, v := ltable.Next(t, glua.LNil); k != glua.LNil; k, v = t.Next(k) {
		kk, ok := k.(glua.LString)
		if !ok {
			luavm.Raise(L, "attempt to use a non-string key in the \"args\" option table")
		}
		key := string(kk)
		if arr, ok := v.(*glua.LTable); ok {
			for ik, iv := ltable.Next(arr, glua.LNil); ik != glua.LNil; ik, iv = arr.Next(ik) {
				pair(key, iv)
			}
			continue
		}
		pair(key, v)
	}
	return string(b)
}

func luaTypeName(v glua.LValue) string {
	if v == glua.LNil {
		return "nil"
	}
	return v.Type().String()
}

// appendComponent escapes s as a URI component (everything but letters,
// digits and "-._~").
func appendComponent(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&0xf])
	}
	return b
}

// seenName tells whether one of the headers before has name (without
// case unless raw): a few length checks cost less than a table lookup.
func seenName(before []http.Header, name []byte, raw bool) bool {
	for i := range before {
		n := before[i].Name
		if len(n) != len(name) {
			continue
		}
		if raw && string(n) == string(name) || !raw && bytes.EqualFold(n, name) {
			return true
		}
	}
	return false
}
