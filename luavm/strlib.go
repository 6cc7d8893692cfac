package luavm

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"gresty/luavm/ltable"
)

func (vm *VM) openString() {
	L := vm.L
	s := L.GetGlobal("string").(*lua.LTable)
	s.RawSetString("format", L.NewFunction(vm.strFormat))
	s.RawSetString("rep", L.NewFunction(strRep))
	s.RawSetString("char", L.NewFunction(strChar))
	s.RawSetString("byte", L.NewFunction(strByte))
	// gopher-lua makes the string table its own metatable (string.__index
	// is string) and keeps Lua 5.0's gfind; LuaJIT's strings have a
	// metatable of their own, {__index = string}, and no gfind.
	mt := L.NewTable()
	mt.RawSetString("__index", s)
	L.SetMetatable(lua.LString(""), mt)
	s.RawSetString("__index", lua.LNil)
	s.RawSetString("gfind", lua.LNil)
}

// strByte is LuaJIT's string.byte. gopher-lua's returns every byte from
// i to the end when j is absent (string.byte("abc") is 97, 98, 99 there,
// 97 in LuaJIT) and boxes each one anew.
func strByte(L *lua.LState) int {
	s := checkString(L, 1)
	n := int32(len(s))
	start := int32(1)
	if L.Get(2) != lua.LNil {
		start = toInt32(checkNumber(L, 2))
	}
	stop := start
	if L.Get(3) != lua.LNil {
		stop = toInt32(checkNumber(L, 3))
	}
	if stop < 0 {
		stop += n + 1
	}
	if start < 0 {
		start += n + 1
	}
	if start <= 0 {
		start = 1
	}
	if stop > n {
		stop = n
	}
	if start > stop {
		return 0
	}
	for i := start - 1; i < stop; i++ {
		L.Push(ltable.Number(float64(s[i])))
	}
	return int(stop - start + 1)
}

// maxStr bounds strings built by string.rep; LuaJIT fails to allocate
// anything this large.
const maxStr = 1<<31 - 256

func strRep(L *lua.LState) int {
	s := checkString(L, 1)
	n := int64(toInt32(checkNumber(L, 2)))
	sep := ""
	if L.GetTop() >= 3 && L.Get(3) != lua.LNil {
		sep = checkString(L, 3)
	}
	if n <= 0 {
		L.Push(lua.LString(""))
		return 1
	}
	total := float64(len(s))*float64(n) + float64(len(sep))*float64(n-1)
	if total > maxStr {
		L.Error(lua.LString("not enough memory"), 0)
	}
	var b strings.Builder
	b.Grow(int(total))
	for i := int64(0); i < n; i++ {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s)
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// checkNumber returns argument n as a number, converting numeric strings,
// or raises LuaJIT's type error.
func checkNumber(L *lua.LState, n int) float64 {
	switch v := L.Get(n).(type) {
	case lua.LNumber:
		return float64(v)
	case lua.LString:
		if f, ok := ParseNumber(string(v)); ok {
			return f
		}
	}
	TypeError(L, n, "number")
	return 0
}

func checkInt(L *lua.LState, n int) int64 { return toInt64(checkNumber(L, n)) }

// toInt32 converts like LuaJIT's lj_num2int: truncation, and INT_MIN for
// NaN and numbers out of range.
func toInt32(f float64) int32 {
	if math.IsNaN(f) || f >= 2147483648 || f <= -2147483649 {
		return math.MinInt32
	}
	return int32(f)
}

// toInt64 converts like x86-64's cvttsd2si, which LuaJIT's (int64_t)
// casts compile to: truncation, and the "integer indefinite" value for
// NaN and out-of-range numbers.
func toInt64(f float64) int64 {
	if math.IsNaN(f) || f >= 9.223372036854775807e18 || f < -9.223372036854775808e18 {
		return math.MinInt64
	}
	return int64(f)
}

type spec struct {
	minus, plus, space, alt, zero bool
	width, prec                   int // prec -1: none
	conv                          byte
}

// parseSpec parses the conversion at fmt[i] (just after '%') as LuaJIT
// does: flags, at most two width digits, '.', at most two precision
// digits, the conversion letter. It returns the index after it, or ok=false
// with the text to put in "invalid option".
func parseSpec(f string, i int) (sp spec, next int, ok bool) {
	sp.prec = -1
	for ; i < len(f); i++ {
		switch f[i] {
		case '-':
			sp.minus = true
		case '+':
			sp.plus = true
		case ' ':
			sp.space = true
		case '#':
			sp.alt = true
		case '0':
			sp.zero = true
		default:
			goto width
		}
	}
width:
	for k := 0; k < 2 && i < len(f) && isDigit(f[i]); k++ {
		sp.width = sp.width*10 + int(f[i]-'0')
		i++
	}
	if i < len(f) && f[i] == '.' {
		i++
		sp.prec = 0
		for k := 0; k < 2 && i < len(f) && isDigit(f[i]); k++ {
			sp.prec = sp.prec*10 + int(f[i]-'0')
			i++
		}
	}
	if i >= len(f) {
		return sp, len(f), false
	}
	switch c := f[i]; c {
	case 'd', 'i', 'o', 'u', 'x', 'X', 'c', 'e', 'E', 'f', 'F', 'g', 'G', 'a', 'A', 's', 'q', 'p':
		sp.conv = c
		return sp, i + 1, true
	}
	return sp, i + 1, false
}

func (vm *VM) strFormat(L *lua.LState) int {
	f := checkString(L, 1)
	arg := 1
	var b []byte
	for i := 0; i < len(f); {
		c := f[i]
		if c != '%' {
			j := strings.IndexByte(f[i:], '%')
			if j < 0 {
				j = len(f) - i
			}
			b = append(b, f[i:i+j]...)
			i += j
			continue
		}
		if i+1 < len(f) && f[i+1] == '%' {
			b = append(b, '%')
			i += 2
			continue
		}
		sp, next, ok := parseSpec(f, i+1)
		if !ok {
			end := next
			if end > len(f) {
				end = len(f)
			}
			Raise(L, "invalid option '%s' to 'format'", f[i:end])
		}
		i = next
		arg++
		if arg > L.GetTop() {
			ArgError(L, arg, "value expected")
		}
		b = vm.formatOne(L, b, sp, arg)
	}
	L.Push(lua.LString(b))
	return 1
}

func pad(b []byte, body []byte, sp spec, zeroOK bool, signLen int) []byte {
	n := len(body)
	if n >= sp.width {
		return append(b, body...)
	}
	fill := sp.width - n
	switch {
	case sp.minus:
		b = append(b, body...)
		for ; fill > 0; fill-- {
			b = append(b, ' ')
		}
	case sp.zero && zeroOK:
		b = append(b, body[:signLen]...)
		for ; fill > 0; fill-- {
			b = append(b, '0')
		}
		b = append(b, body[signLen:]...)
	default:
		for ; fill > 0; fill-- {
			b = append(b, ' ')
		}
		b = append(b, body...)
	}
	return b
}

func (vm *VM) formatOne(L *lua.LState, b []byte, sp spec, arg int) []byte {
	switch sp.conv {
	case 'd', 'i':
		k := toInt64(checkNumber(L, arg))
		var body []byte
		neg := k < 0
		u := uint64(k)
		if neg {
			u = -u
			body = append(body, '-')
		} else if sp.plus {
			body = append(body, '+')
		} else if sp.space {
			body = append(body, ' ')
		}
		sign := len(body)
		body = appendDigits(body, u, 10, false, sp.prec)
		return pad(b, body, sp, sp.prec < 0, sign)
	case 'o', 'u', 'x', 'X':
		u := uint64(toInt64(checkNumber(L, arg)))
		base := map[byte]uint64{'o': 8, 'u': 10, 'x': 16, 'X': 16}[sp.conv]
		var body []byte
		if sp.alt && u != 0 && base == 16 {
			body = append(body, '0', sp.conv)
		}
		sign := len(body)
		digits := appendDigits(nil, u, base, sp.conv == 'X', sp.prec)
		if sp.alt && base == 8 && (len(digits) == 0 || digits[0] != '0') {
			body = append(body, '0')
		}
		body = append(body, digits...)
		return pad(b, body, sp, sp.prec < 0, sign)
	case 'c':
		c := byte(toInt64(checkNumber(L, arg)))
		return pad(b, []byte{c}, sp, false, 0)
	case 'e', 'E', 'f', 'F', 'g', 'G':
		x := checkNumber(L, arg)
		body := appendFloat(nil, x, sp.conv, sp.prec, fmtFlags{plus: sp.plus, space: sp.space, alt: sp.alt})
		sign := 0
		if len(body) > 0 && (body[0] == '-' || body[0] == '+' || body[0] == ' ') {
			sign = 1
		}
		finite := !math.IsInf(x, 0) && !math.IsNaN(x)
		return pad(b, body, sp, finite, sign)
	case 'a', 'A':
		x := checkNumber(L, arg)
		return pad(b, hexFloat(x, sp), sp, !math.IsInf(x, 0) && !math.IsNaN(x), 0)
	case 's':
		v := L.Get(arg)
		s := lua.LVAsString(vm.ToString(L, v))
		if sp.prec >= 0 && len(s) > sp.prec {
			s = s[:sp.prec]
		}
		return pad(b, []byte(s), sp, false, 0)
	case 'q':
		return appendQuoted(b, checkString(L, arg))
	case 'p':
		v := L.Get(arg)
		s := "NULL"
		switch v.(type) {
		case *lua.LTable, *lua.LFunction, *lua.LUserData, *lua.LState:
			s = fmt.Sprintf("%p", v)
		}
		return pad(b, []byte(s), sp, false, 0)
	}
	return b
}

func appendDigits(b []byte, u uint64, base uint64, upper bool, prec int) []byte {
	var tmp [24]byte
	s := strconv.AppendUint(tmp[:0], u, int(base))
	if upper {
		for i, c := range s {
			if 'a' <= c && c <= 'f' {
				s[i] = c - 32
			}
		}
	}
	if prec == 0 && u == 0 {
		return b
	}
	for k := len(s); k < prec; k++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func hexFloat(x float64, sp spec) []byte {
	var b []byte
	switch {
	case math.Signbit(x):
		b = append(b, '-')
	case sp.plus:
		b = append(b, '+')
	case sp.space:
		b = append(b, ' ')
	}
	x = math.Abs(x)
	if math.IsInf(x, 0) || math.IsNaN(x) {
		s := "inf"
		if math.IsNaN(x) {
			s = "nan"
		}
		if sp.conv == 'A' {
			s = strings.ToUpper(s)
		}
		return append(b, s...)
	}
	s := strconv.FormatFloat(x, 'x', sp.prec, 64)
	// Go writes at least two exponent digits; C writes at least one.
	if i := strings.IndexByte(s, 'p'); i >= 0 && i+3 < len(s) && s[i+2] == '0' {
		s = s[:i+2] + s[i+3:]
	}
	if sp.conv == 'A' {
		s = strings.ToUpper(s)
	}
	return append(b, s...)
}

// appendQuoted writes s as string.format("%q") does in LuaJIT.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\' || c == '\n':
			b = append(b, '\\', c)
		case c < 32 || c == 127:
			b = append(b, '\\')
			nextDigit := i+1 < len(s) && isDigit(s[i+1])
			if c >= 100 || nextDigit {
				b = append(b, '0'+c/100)
				c %= 100
				b = append(b, '0'+c/10, '0'+c%10)
			} else if c >= 10 {
				b = append(b, '0'+c/10, '0'+c%10)
			} else {
				b = append(b, '0'+c)
			}
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// strChar rejects codes outside 0..255 as LuaJIT does; gopher-lua's
// truncates them.
func strChar(L *lua.LState) int {
	n := L.GetTop()
	b := make([]byte, n)
	for i := 1; i <= n; i++ {
		c := toInt32(checkNumber(L, i))
		if c < 0 || c > 255 {
			ArgError(L, i, "invalid value")
		}
		b[i-1] = byte(c)
	}
	L.Push(lua.LString(b))
	return 1
}
