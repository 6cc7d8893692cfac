package lua

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"hash/crc32"

	glua "github.com/yuin/gopher-lua"

	"gresty/luavm"
	"gresty/luavm/ltable"
)

// This file holds ngx's string codecs: base64, the digests, crc32,
// URI escaping, query-argument encoding and decoding, and SQL quoting.
// Argument handling follows lua-resty-core's wrappers (nil and false are
// the empty string, other non-strings go through tostring) where
// resty.core replaces the C function, and the C function's checks where
// it does not (encode_args, decode_args, quote_sql_str, hmac_sha1).

func init() { registerAPI(installCodec) }

// maxArgs is ngx_lua's default limit of decoded arguments.
const maxArgs = 100

func installCodec(st *loopState) {
	L := st.vm.L
	fn := func(name string, f glua.LGFunction) { st.ngx.RawSetString(name, L.NewFunction(f)) }

	fn("encode_base64", func(L *glua.LState) int {
		s := st.stringish(L, 1)
		noPad := false
		if v := L.Get(2); glua.LVAsBool(v) {
			if v != glua.LTrue {
				luavm.Raise(L, "bad no_padding: boolean expected, got %s", v.Type().String())
			}
			noPad = true
		}
		L.Push(glua.LString(encodeBase64(s, stdBase64, !noPad)))
		return 1
	})
	fn("decode_base64", func(L *glua.LState) int {
		s, ok := L.Get(1).(glua.LString)
		if !ok {
			luavm.Raise(L, "string argument only")
		}
		out, ok := decodeBase64(string(s), stdBase64Dec)
		if !ok {
			L.Push(glua.LNil)
			return 1
		}
		L.Push(glua.LString(out))
		return 1
	})
	fn("md5", func(L *glua.LState) int {
		sum := md5.Sum([]byte(st.stringish(L, 1)))
		L.Push(glua.LString(hex.EncodeToString(sum[:])))
		return 1
	})
	fn("md5_bin", func(L *glua.LState) int {
		sum := md5.Sum([]byte(st.stringish(L, 1)))
		L.Push(glua.LString(sum[:]))
		return 1
	})
	fn("sha1_bin", func(L *glua.LState) int {
		sum := sha1.Sum([]byte(st.stringish(L, 1)))
		L.Push(glua.LString(sum[:]))
		return 1
	})
	fn("crc32_short", func(L *glua.LState) int {
		L.Push(glua.LNumber(crc32.ChecksumIEEE([]byte(st.stringish(L, 1)))))
		return 1
	})
	fn("crc32_long", func(L *glua.LState) int {
		L.Push(glua.LNumber(crc32.ChecksumIEEE([]byte(st.stringish(L, 1)))))
		return 1
	})
	fn("hmac_sha1", func(L *glua.LState) int {
		if n := L.GetTop(); n != 2 {
			luavm.Raise(L, "expecting 2 arguments, but got %d", n)
		}
		key := checkLString(L, 1)
		msg := checkLString(L, 2)
		m := hmac.New(sha1.New, []byte(key))
		m.Write([]byte(msg))
		L.Push(glua.LString(m.Sum(nil)))
		return 1
	})
	fn("escape_uri", func(L *glua.LState) int {
		s := st.stringish(L, 1)
		typ := escURIComponent
		if v := L.Get(2); v != glua.LNil {
			n, ok := v.(glua.LNumber)
			if !ok {
				raiseAt(L, 3, "\"type\" is not a number")
			}
			if n < escURI || n > escMailAuth {
				raiseAt(L, 3, "\"type\" "+luavm.FormatNumber(float64(n))+" out of range")
			}
			typ = int(n)
		}
		if escapeCount(s, typ) == 0 {
			L.Push(glua.LString(s))
			return 1
		}
		L.Push(glua.LString(appendEscape(nil, s, typ)))
		return 1
	})
	fn("unescape_uri", func(L *glua.LState) int {
		L.Push(glua.LString(appendUnescape(nil, st.stringish(L, 1))))
		return 1
	})
	fn("quote_sql_str", func(L *glua.LState) int {
		if L.GetTop() != 1 {
			luavm.Raise(L, "expecting one argument")
		}
		L.Push(glua.LString(quoteSQL(checkLString(L, 1))))
		return 1
	})
	fn("encode_args", func(L *glua.LState) int {
		if n := L.GetTop(); n != 1 {
			luavm.Raise(L, "expecting 1 argument but seen %d", n)
		}
		t, ok := L.Get(1).(*glua.LTable)
		if !ok {
			luavm.TypeError(L, 1, "table")
		}
		L.Push(glua.LString(encodeArgs(L, t)))
		return 1
	})
	fn("decode_args", func(L *glua.LState) int {
		n := L.GetTop()
		if n != 1 && n != 2 {
			luavm.Raise(L, "expecting 1 or 2 arguments but seen %d", n)
		}
		s := checkLString(L, 1)
		max := maxArgs
		if n == 2 {
			max = checkInt(L, 2)
		}
		t, truncated := decodeArgs(L, s, max)
		L.Push(t)
		if truncated {
			L.Push(glua.LString("truncated"))
			return 2
		}
		return 1
	})

	st.vm.Preload("ngx.base64", func(L *glua.LState) int {
		m := L.NewTable()
		m.RawSetString("version", glua.LString(restyCoreVersion))
		m.RawSetString("encode_base64url", L.NewFunction(func(L *glua.LState) int {
			s, ok := L.Get(1).(glua.LString)
			if !ok {
				L.Push(glua.LNil)
				L.Push(glua.LString("must provide a string"))
				return 2
			}
			L.Push(glua.LString(encodeBase64(string(s), urlBase64, false)))
			return 1
		}))
		m.RawSetString("decode_base64url", L.NewFunction(func(L *glua.LState) int {
			s, ok := L.Get(1).(glua.LString)
			if !ok {
				L.Push(glua.LNil)
				L.Push(glua.LString("must provide a string"))
				return 2
			}
			out, ok := decodeBase64(string(s), urlBase64Dec)
			if !ok {
				L.Push(glua.LNil)
				L.Push(glua.LString("invalid input"))
				return 2
			}
			L.Push(glua.LString(out))
			return 1
		}))
		L.Push(m)
		return 1
	})
}

// stringish converts argument n as lua-resty-core's wrappers do: nil and
// false are "", strings stay, anything else goes through tostring.
func (st *loopState) stringish(L *glua.LState, n int) string {
	switch v := L.Get(n).(type) {
	case glua.LString:
		return string(v)
	case *glua.LNilType:
		return ""
	case glua.LBool:
		if !v {
			return ""
		}
	}
	s := st.vm.ToString(L, L.Get(n))
	if str, ok := s.(glua.LString); ok {
		return string(str)
	}
	luavm.Raise(L, "'__tostring' must return a string")
	return ""
}

// checkLString is luaL_checklstring: strings, and numbers as LuaJIT
// formats them.
func checkLString(L *glua.LState, n int) string {
	switch v := L.Get(n).(type) {
	case glua.LString:
		return string(v)
	case glua.LNumber:
		return luavm.FormatNumber(float64(v))
	}
	luavm.TypeError(L, n, "string")
	return ""
}

// checkInt is luaL_checkint: numbers (truncated) and numeric strings.
func checkInt(L *glua.LState, n int) int {
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

// raiseAt raises msg with the position of the function level frames up,
// as Lua's error(msg, level) does; frames of Go functions and of the
// runtime's own code (which stand for LuaJIT's C functions) have none,
// and neither has the marker a tail call leaves (gopher-lua reports the
// tail-called frame again there).
func raiseAt(L *glua.LState, level int, msg string) {
	dbg, ok := L.GetStack(level - 1)
	if ok && level > 1 {
		if below, ok2 := L.GetStack(level - 2); ok2 && sameFrame(L, dbg, below) {
			ok = false
		}
	}
	if ok {
		if _, err := L.GetInfo("Sl", dbg, glua.LNil); err == nil && dbg.CurrentLine > 0 && dbg.What != "G" &&
			len(dbg.Source) > 0 && dbg.Source[0] != '=' && dbg.Source[0] != '[' {
			msg = dbg.Source + ":" + itoa(dbg.CurrentLine) + ": " + msg
		}
	}
	L.Error(glua.LString(msg), 0)
}

// sameFrame reports whether two stack levels describe the same call.
func sameFrame(L *glua.LState, a, b *glua.Debug) bool {
	fa, err := L.GetInfo("Slf", a, glua.LNil)
	if err != nil {
		return false
	}
	fb, err := L.GetInfo("Slf", b, glua.LNil)
	if err != nil {
		return false
	}
	return fa == fb && a.CurrentLine == b.CurrentLine
}

func itoa(n int) string { return string(luavm.AppendNumber(nil, float64(n))) }

// The base64 alphabets and their decoding tables (0xff: not in the
// alphabet).
const (
	stdBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	urlBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

var stdBase64Dec, urlBase64Dec = base64Table(stdBase64), base64Table(urlBase64)

func base64Table(alphabet string) (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}

// encodeBase64 encodes s with alphabet, padding with '=' when pad is set.
func encodeBase64(s, alphabet string, pad bool) string {
	out := make([]byte, 0, (len(s)+2)/3*4)
	i := 0
	for ; len(s)-i > 2; i += 3 {
		v := uint(s[i])<<16 | uint(s[i+1])<<8 | uint(s[i+2])
		out = append(out, alphabet[v>>18&63], alphabet[v>>12&63], alphabet[v>>6&63], alphabet[v&63])
	}
	switch len(s) - i {
	case 1:
		v := uint(s[i])
		out = append(out, alphabet[v>>2], alphabet[v&3<<4])
		if pad {
			out = append(out, '=', '=')
		}
	case 2:
		v := uint(s[i])<<8 | uint(s[i+1])
		out = append(out, alphabet[v>>10], alphabet[v>>4&63], alphabet[v&15<<2])
		if pad {
			out = append(out, '=')
		}
	}
	return string(out)
}

// decodeBase64 decodes as ngx_decode_base64: the input ends at the first
// '=', whatever follows; a byte outside the alphabet before it, or a
// length of 1 modulo 4, is an error; the bits of a partial last group
// that do not fill a byte are dropped unchecked.
func decodeBase64(s string, dec [256]byte) (string, bool) {
	n := 0
	for ; n < len(s); n++ {
		if s[n] == '=' {
			break
		}
		if dec[s[n]] == 0xff {
			return "", false
		}
	}
	if n%4 == 1 {
		return "", false
	}
	out := make([]byte, 0, n/4*3+2)
	i := 0
	for ; n-i > 3; i += 4 {
		a, b, c, d := dec[s[i]], dec[s[i+1]], dec[s[i+2]], dec[s[i+3]]
		out = append(out, a<<2|b>>4, b<<4|c>>2, c<<6|d)
	}
	if n-i > 1 {
		out = append(out, dec[s[i]]<<2|dec[s[i+1]]>>4)
	}
	if n-i > 2 {
		out = append(out, dec[s[i+1]]<<4|dec[s[i+2]]>>2)
	}
	return string(out), true
}

// The escape types of ngx.escape_uri (ngx_lua's own tables, which leave
// more characters alone than nginx's ngx_escape_uri).
const (
	escURI = iota
	escArgs
	escURIComponent
	escHTML
	escRefresh
	escMemcached
	escMailAuth
)

// luaEscapeMaps are ngx_lua's escape bitmaps, one bit per byte value
// (1 = escape), in the layout nginx uses for its tables.
var luaEscapeMaps = [...][8]uint32{
	escURI:          {0xffffffff, 0x80000029, 0x00000000, 0x80000000, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
	escArgs:         {0xffffffff, 0x80000829, 0x00000000, 0x80000000, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
	escURIComponent: {0xffffffff, 0xfc00987d, 0x78000001, 0xb8000001, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
	escHTML:         {0xffffffff, 0x000000ad, 0x00000000, 0x80000000, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
	escRefresh:      {0xffffffff, 0x00000085, 0x00000000, 0x80000000, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
	escMemcached:    {0xffffffff, 0x00000021, 0, 0, 0, 0, 0, 0},
	escMailAuth:     {0xffffffff, 0x00000021, 0, 0, 0, 0, 0, 0},
}

func luaEscapes(c byte, typ int) bool {
	return luaEscapeMaps[typ][c>>5]&(1<<(c&0x1f)) != 0
}

func escapeCount(s string, typ int) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if luaEscapes(s[i], typ) {
			n++
		}
	}
	return n
}

// appendEscape appends s to dst with the bytes typ selects as %XX.
func appendEscape(dst []byte, s string, typ int) []byte {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if luaEscapes(c, typ) {
			dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&0xf])
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// appendUnescape appends s to dst decoded as ngx_lua's unescape: "%XX"
// with two hex digits is the byte, a '%' not followed by two hex digits
// stays, and '+' is a space.
func appendUnescape(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '%':
			if i+2 < len(s) {
				hi, ok1 := unhex(s[i+1])
				lo, ok2 := unhex(s[i+2])
				if ok1 && ok2 {
					dst = append(dst, hi<<4|lo)
					i += 2
					continue
				}
			}
			dst = append(dst, '%')
		case '+':
			dst = append(dst, ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// quoteSQL is ngx.quote_sql_str: MySQL's escapes inside single quotes;
// bytes with the high bit set are copied as they are.
func quoteSQL(s string) string {
	out := make([]byte, 0, len(s)+2)
	out = append(out, '\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case 0:
			out = append(out, '\\', '0')
		case '\b':
			out = append(out, '\\', 'b')
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		case 26:
			out = append(out, '\\', 'Z')
		case '\\', '\'', '"':
			out = append(out, '\\', c)
		default:
			out = append(out, c)
		}
	}
	return string(append(out, '\''))
}

// encodeArgs is ngx.encode_args: key=value pairs joined by '&' in the
// table's iteration order, keys and values escaped as URI components;
// true stands for a bare key, false for nothing, and an array value for
// one pair per element.
func encodeArgs(L *glua.LState, t *glua.LTable) string {
	var out []byte
	sep := func() {
		if out != nil {
			out = append(out, '&')
		} else {
			out = []byte{}
		}
	}
	for k, v := ltable.Next(t, glua.LNil); k != glua.LNil; k, v = t.Next(k) {
		key, ok := k.(glua.LString)
		if !ok {
			luavm.Raise(L, "attempt to use a non-string key in the \"args\" option table")
		}
		switch x := v.(type) {
		case glua.LString, glua.LNumber:
			sep()
			out = appendEscape(out, string(key), escURIComponent)
			out = append(out, '=')
			out = appendEscape(out, lstring(x), escURIComponent)
		case glua.LBool:
			if x {
				sep()
				out = appendEscape(out, string(key), escURIComponent)
			}
		case *glua.LTable:
			for ik, iv := ltable.Next(x, glua.LNil); ik != glua.LNil; ik, iv = x.Next(ik) {
				switch y := iv.(type) {
				case glua.LBool:
					if y {
						sep()
						out = appendEscape(out, string(key), escURIComponent)
					}
				case glua.LString, glua.LNumber:
					sep()
					out = appendEscape(out, string(key), escURIComponent)
					out = append(out, '=')
					out = appendEscape(out, lstring(y), escURIComponent)
				default:
					luavm.Raise(L, "attempt to use %s as query arg value", iv.Type().String())
				}
			}
		default:
			luavm.Raise(L, "attempt to use %s as query arg value", v.Type().String())
		}
	}
	return string(out)
}

// lstring is lua_tolstring of a string or a number.
func lstring(v glua.LValue) string {
	if n, ok := v.(glua.LNumber); ok {
		return luavm.FormatNumber(float64(n))
	}
	return string(v.(glua.LString))
}

// decodeArgs parses a query string into a table as ngx_lua does: keys and
// values unescaped (with '+' as space), a key without '=' is true, empty
// keys are skipped, repeated keys collect their values in an array. At
// most max pairs are read when max > 0; truncated reports hitting it.
func decodeArgs(L *glua.LState, s string, max int) (t *glua.LTable, truncated bool) {
	t = L.CreateTable(0, 4)
	count := 0
	add := func(key []byte, val glua.LValue) {
		if len(key) == 0 {
			return
		}
		k := glua.LString(key)
		switch old := t.RawGetString(string(k)).(type) {
		case *glua.LNilType:
			t.RawSetString(string(k), val)
		case *glua.LTable:
			old.Append(val)
		default:
			arr := L.CreateTable(4, 0)
			arr.Append(old)
			arr.Append(val)
			t.RawSetString(string(k), arr)
		}
	}
	var key []byte
	parsingValue := false
	q := 0
	for p := 0; p < len(s); p++ {
		switch {
		case s[p] == '=' && !parsingValue:
			key = appendUnescape(nil, s[q:p])
			q = p + 1
			parsingValue = true
		case s[p] == '&':
			part := appendUnescape(nil, s[q:p])
			q = p + 1
			if parsingValue {
				add(key, glua.LString(part))
				parsingValue = false
			} else {
				add(part, glua.LTrue)
			}
			count++
			if max > 0 && count == max {
				return t, true
			}
		}
	}
	if q != len(s) || parsingValue {
		part := appendUnescape(nil, s[q:])
		if parsingValue {
			add(key, glua.LString(part))
		} else {
			add(part, glua.LTrue)
		}
	}
	return t, false
}
