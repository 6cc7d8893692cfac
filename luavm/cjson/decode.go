package cjson

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"gresty/luavm/ltable"
)

type decoder struct {
	m     *module
	L     *lua.LState
	cfg   *Config
	safe  bool
	data  string
	pos   int
	depth int
	tmp   []byte
	// stack holds the members of the objects and arrays being parsed, so
	// each table is created once its size is known: gopher-lua tables
	// made without a size reserve room for 32 entries.
	stack []lua.LValue
	// strs boxes the document's strings, member names included: a
	// slab append costs less than looking a name up to share its box.
	strs ltable.Strings
}

type tokType uint8

const (
	tObjBegin tokType = iota
	tObjEnd
	tArrBegin
	tArrEnd
	tString
	tNumber
	tBoolean
	tNull
	tColon
	tComma
	tEnd
	tError
)

var tokNames = [...]string{"T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING",
	"T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END"}

type tok struct {
	typ   tokType
	index int // 0-based offset of the token (or of the error)
	str   string
	num   float64
	b     bool
	err   string
}

// at returns the byte at i; like the C parser, the end of the input and an
// embedded NUL both read as the terminating NUL.
func (d *decoder) at(i int) byte {
	if i < len(d.data) {
		return d.data[i]
	}
	return 0
}

func (d *decoder) fail(msg string) { d.m.fail(d.L, d.safe, msg) }

func (d *decoder) throw(expected string, t *tok) {
	found := t.err
	if t.typ != tError {
		found = tokNames[t.typ]
	}
	d.fail("Expected " + expected + " but found " + found + " at character " + strconv.Itoa(t.index+1))
}

func (d *decoder) run() lua.LValue {
	if len(d.data) >= 2 && (d.data[0] == 0 || d.data[1] == 0) {
		d.fail("JSON parser does not support UTF-16 or UTF-32")
	}
	var t tok
	d.next(&t)
	v := d.value(&t)
	d.next(&t)
	if t.typ != tEnd {
		d.throw("the end", &t)
	}
	return v
}

func (d *decoder) setError(t *tok, msg string) {
	t.typ = tError
	t.index = d.pos
	t.err = msg
}

func (d *decoder) next(t *tok) {
	for {
		c := d.at(d.pos)
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			break
		}
		d.pos++
	}
	t.index = d.pos
	c := d.at(d.pos)
	switch c {
	case '{':
		t.typ = tObjBegin
	case '}':
		t.typ = tObjEnd
	case '[':
		t.typ = tArrBegin
	case ']':
		t.typ = tArrEnd
	case ',':
		t.typ = tComma
	case ':':
		t.typ = tColon
	case 0:
		t.typ = tEnd
		return
	case '"':
		d.string(t)
		return
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if !d.cfg.DecodeInvalidNums && d.invalidNumber() {
			d.setError(t, "invalid number")
			return
		}
		d.number(t)
		return
	case 't', 'f', 'n', 'i', 'I', 'N', '+':
		rest := d.data[d.pos:]
		switch {
		case strings.HasPrefix(rest, "true"):
			t.typ, t.b = tBoolean, true
			d.pos += 4
		case strings.HasPrefix(rest, "false"):
			t.typ, t.b = tBoolean, false
			d.pos += 5
		case strings.HasPrefix(rest, "null"):
			t.typ = tNull
			d.pos += 4
		case d.cfg.DecodeInvalidNums && d.invalidNumber():
			d.number(t)
		default:
			d.setError(t, "invalid token")
		}
		return
	default:
		d.setError(t, "invalid token")
		return
	}
	d.pos++
}

// invalidNumber is json_is_invalid_number: the forms strtod takes that JSON
// does not (a leading '+', hex, leading zeros, inf, nan).
func (d *decoder) invalidNumber() bool {
	p := d.pos
	if d.at(p) == '+' {
		return true
	}
	if d.at(p) == '-' {
		p++
	}
	if d.at(p) == '0' {
		c := d.at(p + 1)
		return c|0x20 == 'x' || ('0' <= c && c <= '9')
	}
	if d.at(p) <= '9' {
		return false
	}
	rest := d.data[p:]
	return hasPrefixFold(rest, "inf") || hasPrefixFold(rest, "nan")
}

func (d *decoder) number(t *tok) {
	f, n := strtod(d.data[d.pos:])
	if n == 0 {
		d.setError(t, "invalid number")
		return
	}
	t.typ, t.num = tNumber, f
	d.pos += n
}

func (d *decoder) string(t *tok) {
	d.pos++ // opening quote
	start := d.pos
	// Fast path: no escapes, the value is a substring of the input.
	for {
		c := d.at(d.pos)
		if c == '"' {
			t.typ, t.str = tString, d.data[start:d.pos]
			d.pos++
			return
		}
		if c == 0 || c == '\\' {
			break
		}
		d.pos++
	}
	b := append(d.tmp[:0], d.data[start:d.pos]...)
	for {
		c := d.at(d.pos)
		switch c {
		case '"':
			d.pos++
			t.typ, t.str = tString, string(b)
			d.tmp = b
			return
		case 0:
			d.setError(t, "unexpected end of string")
			return
		case '\\':
			e := d.at(d.pos + 1)
			var r byte
			switch e {
			case '"', '\\', '/':
				r = e
			case 'b':
				r = '\b'
			case 't':
				r = '\t'
			case 'n':
				r = '\n'
			case 'f':
				r = '\f'
			case 'r':
				r = '\r'
			case 'u':
				var ok bool
				if b, ok = d.unicode(b); !ok {
					d.setError(t, "invalid unicode escape code")
					return
				}
				continue
			default:
				d.setError(t, "invalid escape code")
				return
			}
			b = append(b, r)
			d.pos += 2
		default:
			b = append(b, c)
			d.pos++
		}
	}
}

func (d *decoder) hex4(at int) int {
	v := 0
	for i := 0; i < 4; i++ {
		c := d.at(at + i)
		var h int
		switch {
		case '0' <= c && c <= '9':
			h = int(c - '0')
		case 'a' <= c|0x20 && c|0x20 <= 'f':
			h = int(c|0x20-'a') + 10
		default:
			return -1
		}
		v = v<<4 | h
	}
	return v
}

// unicode decodes \uXXXX (or a surrogate pair) at d.pos into UTF-8.
func (d *decoder) unicode(b []byte) ([]byte, bool) {
	cp := d.hex4(d.pos + 2)
	if cp < 0 {
		return b, false
	}
	n := 6
	if cp&0xF800 == 0xD800 {
		if cp&0x400 != 0 || d.at(d.pos+6) != '\\' || d.at(d.pos+7) != 'u' {
			return b, false
		}
		lo := d.hex4(d.pos + 8)
		if lo < 0 || lo&0xFC00 != 0xDC00 {
			return b, false
		}
		cp = ((cp&0x3FF)<<10 | lo&0x3FF) + 0x10000
		n = 12
	}
	switch {
	case cp <= 0x7F:
		b = append(b, byte(cp))
	case cp <= 0x7FF:
		b = append(b, byte(0xC0|cp>>6), byte(0x80|cp&0x3F))
	case cp <= 0xFFFF:
		b = append(b, byte(0xE0|cp>>12), byte(0x80|(cp>>6)&0x3F), byte(0x80|cp&0x3F))
	default:
		b = append(b, byte(0xF0|cp>>18), byte(0x80|(cp>>12)&0x3F), byte(0x80|(cp>>6)&0x3F), byte(0x80|cp&0x3F))
	}
	d.pos += n
	return b, true
}

func (d *decoder) descend() {
	d.depth++
	if d.depth > d.cfg.DecodeMaxDepth {
		d.fail("Found too many nested data structures (" + strconv.Itoa(d.depth) + ") at character " + strconv.Itoa(d.pos))
	}
}

func (d *decoder) value(t *tok) lua.LValue {
	switch t.typ {
	case tString:
		return d.strs.Box(t.str)
	case tNumber:
		return ltable.Number(t.num)
	case tBoolean:
		return lua.LBool(t.b)
	case tNull:
		return d.m.sh.null
	case tObjBegin:
		return d.object()
	case tArrBegin:
		return d.array()
	}
	d.throw("value", t)
	return lua.LNil
}

func (d *decoder) object() lua.LValue {
	d.descend()
	base := len(d.stack)
	var t tok
	d.next(&t)
	if t.typ != tObjEnd {
		for {
			if t.typ != tString {
				d.throw("object key string", &t)
			}
			key := d.strs.Box(t.str)
			d.next(&t)
			if t.typ != tColon {
				d.throw("colon", &t)
			}
			d.next(&t)
			v := d.value(&t)
			d.stack = append(d.stack, key, v)
			d.next(&t)
			if t.typ == tObjEnd {
				break
			}
			if t.typ != tComma {
				d.throw("comma or object end", &t)
			}
			d.next(&t)
		}
	}
	members := d.stack[base:]
	tbl := d.m.sh.index.NewTable(0, len(members)/2)
	for i := 0; i < len(members); i += 2 {
		ltable.SetLazy(tbl, members[i], members[i+1])
	}
	clear(members)
	d.stack = d.stack[:base]
	d.depth--
	return tbl
}

func (d *decoder) array() lua.LValue {
	d.descend()
	base := len(d.stack)
	var t tok
	d.next(&t)
	if t.typ != tArrEnd {
		for {
			v := d.value(&t)
			d.stack = append(d.stack, v)
			d.next(&t)
			if t.typ == tArrEnd {
				break
			}
			if t.typ != tComma {
				d.throw("comma or array end", &t)
			}
			d.next(&t)
		}
	}
	members := d.stack[base:]
	tbl := ltable.NewArray(members)
	if d.cfg.DecodeArrayWithMT {
		tbl.Metatable = d.m.sh.arrayMT
	}
	clear(members)
	d.stack = d.stack[:base]
	d.depth--
	return tbl
}

// strtod parses the longest prefix of s that C's strtod accepts and
// returns its value and length (0 when there is none).
func strtod(s string) (float64, int) {
	if f, n, ok := shortDecimal(s); ok {
		return f, n
	}
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	sign := func(f float64) float64 {
		if neg {
			return -f
		}
		return f
	}
	rest := s[i:]
	switch {
	case hasPrefixFold(rest, "infinity"):
		return sign(math.Inf(1)), i + 8
	case hasPrefixFold(rest, "inf"):
		return sign(math.Inf(1)), i + 3
	case hasPrefixFold(rest, "nan"):
		j := i + 3
		if j < len(s) && s[j] == '(' {
			k := j + 1
			for k < len(s) && (isAlnum(s[k]) || s[k] == '_') {
				k++
			}
			if k < len(s) && s[k] == ')' {
				j = k + 1
			}
		}
		return math.NaN(), j
	}
	if i+1 < len(s) && s[i] == '0' && s[i+1]|0x20 == 'x' {
		if f, n := hexPrefix(s[i+2:]); n > 0 {
			return sign(f), i + 2 + n
		}
		return sign(0), i + 1
	}
	start := i
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0
	}
	if i < len(s) && s[i]|0x20 == 'e' {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			i = j
		}
	}
	f, _ := strconv.ParseFloat(s[start:i], 64)
	return sign(f), i
}

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// shortDecimal is strtod for the numbers documents mostly hold: an
// optional minus, at most 15 digits with an optional fraction, no
// exponent. The digits then make an integer a float64 holds exactly, and
// one division by an exact power of ten rounds correctly, so the value is
// ParseFloat's. Anything else is left to the general path (ok false).
func shortDecimal(s string) (f float64, n int, ok bool) {
	i := 0
	neg := i < len(s) && s[i] == '-'
	if neg {
		i++
	}
	var mant uint64
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		mant = mant*10 + uint64(s[i]-'0')
		i++
		digits++
	}
	if digits == 0 || digits > 15 {
		return 0, 0, false
	}
	frac := 0
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			mant = mant*10 + uint64(s[i]-'0')
			i++
			frac++
		}
		if digits+frac > 15 {
			return 0, 0, false
		}
	}
	if i < len(s) && (s[i]|0x20 == 'e' || s[i]|0x20 == 'x') {
		return 0, 0, false
	}
	f = float64(mant) / pow10[frac]
	if neg {
		f = -f
	}
	return f, i, true
}

// hexPrefix parses the hexadecimal significand and optional binary
// exponent after "0x".
func hexPrefix(s string) (float64, int) {
	i, digits := 0, 0
	for i < len(s) && isHex(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isHex(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0
	}
	mant := s[:i]
	exp := "p0"
	if i < len(s) && s[i]|0x20 == 'p' {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j > k {
			exp = s[i:j]
			i = j
		}
	}
	if mant[0] == '.' {
		mant = "0" + mant
	}
	f, _ := strconv.ParseFloat("0x"+mant+exp, 64)
	return f, i
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f'
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'z'
}

// hasPrefixFold reports whether s starts with the lower-case ASCII word
// prefix, in any case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if s[i]|0x20 != prefix[i] {
			return false
		}
	}
	return true
}
