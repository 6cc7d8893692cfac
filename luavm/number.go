package luavm

import (
	"math"
	"strconv"
)

// LuaJIT formats numbers with its own printf-style engine, which rounds
// half away from zero on the exact binary value (glibc rounds half to
// even), writes "inf", "-inf" and "nan", and keeps the sign of -0.
// tostring, "..", print and string.format("%s") use "%.14g".

// FormatNumber formats f as LuaJIT's tostring does ("%.14g").
func FormatNumber(f float64) string {
	if i := int(f); float64(i) == f && i >= 0 && i < len(smallIntText) && (i != 0 || !math.Signbit(f)) {
		return smallIntText[i]
	}
	var buf [32]byte
	return string(AppendNumber(buf[:0], f))
}

// smallIntText holds the text of the integers 0 to 1023, which most
// numbers formatted per request are (lengths, counts, status codes).
var smallIntText = func() (t [1024]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return
}()

// AppendNumber appends FormatNumber(f) to b. Callable from any goroutine.
func AppendNumber(b []byte, f float64) []byte {
	if f == math.Trunc(f) && math.Abs(f) < 1e14 {
		if f == 0 && math.Signbit(f) {
			return append(b, "-0"...)
		}
		return strconv.AppendInt(b, int64(f), 10)
	}
	return appendFloat(b, f, 'g', 14, fmtFlags{})
}

type fmtFlags struct {
	plus, space, alt bool
}

// appendFloat formats f like printf's %e, %f or %g (verb 'e', 'f', 'g',
// or their upper-case forms) with precision prec, rounding half away from
// zero as LuaJIT does. Width and '-'/'0' padding are the caller's job.
func appendFloat(b []byte, f float64, verb byte, prec int, fl fmtFlags) []byte {
	upper := verb == 'E' || verb == 'G' || verb == 'F'
	lv := verb | 0x20
	nan := math.IsNaN(f)
	// LuaJIT never writes a sign for NaN, and honours ' ' but not '+'.
	switch {
	case math.Signbit(f) && !nan:
		b = append(b, '-')
	case fl.plus && !nan:
		b = append(b, '+')
	case fl.space:
		b = append(b, ' ')
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		s := "inf"
		if math.IsNaN(f) {
			s = "nan"
		}
		if upper {
			s = map[string]string{"inf": "INF", "nan": "NAN"}[s]
		}
		return append(b, s...)
	}
	f = math.Abs(f)
	if prec < 0 {
		prec = 6
	}
	switch lv {
	case 'e':
		d, e := roundDigits(f, prec+1)
		return appendExp(b, d, e, prec, upper, fl.alt)
	case 'f':
		d, e := roundFixed(f, prec)
		return appendFixed(b, d, e, prec, fl.alt)
	}
	if prec == 0 {
		prec = 1
	}
	d, e := roundDigits(f, prec)
	if e < -4 || e >= prec {
		p := prec - 1
		if !fl.alt {
			p = trimmed(d, p)
		}
		return appendExp(b, d, e, p, upper, fl.alt)
	}
	p := prec - 1 - e
	if !fl.alt {
		// Digits after the point are d[e+1:], trailing zeros dropped.
		k := len(d)
		for k > e+1 && k > 0 && d[k-1] == '0' {
			k--
		}
		p = k - (e + 1)
		if p < 0 {
			p = 0
		}
	}
	return appendFixed(b, d, e, p, fl.alt)
}

// trimmed returns how many of the p digits after the first one remain once
// trailing zeros are dropped.
func trimmed(d []byte, p int) int {
	for p > 0 && (p >= len(d) || d[p] == '0') {
		p--
	}
	return p
}

// exactDigits returns at least n significant decimal digits of f > 0 and
// the exponent of the first one, taken from the exact binary value with
// enough guard digits to round it correctly.
func exactDigits(f float64, n int) ([]byte, int) {
	if f == 0 {
		d := make([]byte, n)
		for i := range d {
			d[i] = '0'
		}
		return d, 0
	}
	prec := n + 3
	for {
		var buf [64]byte
		s := strconv.AppendFloat(buf[:0], f, 'e', prec, 64)
		// s is "d.ddd…e±XX".
		digits := make([]byte, 0, prec+1)
		digits = append(digits, s[0])
		i := 2
		for ; i < len(s) && s[i] != 'e'; i++ {
			digits = append(digits, s[i])
		}
		e, _ := strconv.Atoi(string(s[i+1:]))
		// A guard that reads exactly "5000" may be a rounded "4999…" or
		// an exact tie; look further before trusting it.
		if prec < n+40 && digits[n] == '5' && allZero(digits[n+1:]) {
			prec = n + 40
			continue
		}
		return digits, e
	}
}

func allZero(d []byte) bool {
	for _, c := range d {
		if c != '0' {
			return false
		}
	}
	return true
}

// roundDigits rounds f > 0 half away from zero to n significant digits.
func roundDigits(f float64, n int) ([]byte, int) {
	d, e := exactDigits(f, n)
	return roundAt(d, e, n)
}

// roundFixed rounds f to prec digits after the decimal point, returning the
// digits (starting at the exponent e) that are kept.
func roundFixed(f float64, prec int) ([]byte, int) {
	if f == 0 {
		return []byte{'0'}, 0
	}
	e := int(math.Floor(math.Log10(f)))
	for {
		n := e + 1 + prec
		if n < 0 {
			return []byte{'0'}, 0
		}
		d, de := exactDigits(f, n)
		if de != e {
			// The estimate of the exponent was off by one; the rounding
			// position depends on it.
			e = de
			continue
		}
		if n == 0 {
			// Only the rounding digit exists: f < 10^-prec.
			if d[0] >= '5' {
				return []byte{'1'}, e + 1
			}
			return []byte{'0'}, 0
		}
		return roundAt(d, e, n)
	}
}

// roundAt keeps n digits of d, rounding on d[n] half away from zero.
func roundAt(d []byte, e, n int) ([]byte, int) {
	up := n < len(d) && d[n] >= '5'
	out := make([]byte, n)
	copy(out, d[:n])
	if up {
		i := n - 1
		for ; i >= 0; i-- {
			if out[i] == '9' {
				out[i] = '0'
				continue
			}
			out[i]++
			break
		}
		if i < 0 {
			out = append([]byte{'1'}, out[:n-1]...)
			e++
		}
	}
	return out, e
}

// appendExp writes d as d[0].d[1..p]e±XX.
func appendExp(b, d []byte, e, p int, upper, alt bool) []byte {
	b = append(b, d[0])
	if p > 0 || alt {
		b = append(b, '.')
	}
	for i := 1; i <= p; i++ {
		if i < len(d) {
			b = append(b, d[i])
		} else {
			b = append(b, '0')
		}
	}
	if upper {
		b = append(b, 'E')
	} else {
		b = append(b, 'e')
	}
	if e < 0 {
		b = append(b, '-')
		e = -e
	} else {
		b = append(b, '+')
	}
	if e < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(e), 10)
}

// appendFixed writes the digits d, whose first digit has exponent e, with
// p digits after the point.
func appendFixed(b, d []byte, e, p int, alt bool) []byte {
	digit := func(pos int) byte { // pos: exponent of the digit
		i := e - pos
		if i >= 0 && i < len(d) {
			return d[i]
		}
		return '0'
	}
	if e < 0 {
		b = append(b, '0')
	} else {
		for pos := e; pos >= 0; pos-- {
			b = append(b, digit(pos))
		}
	}
	if p > 0 || alt {
		b = append(b, '.')
	}
	for pos := -1; pos >= -p; pos-- {
		b = append(b, digit(pos))
	}
	return b
}

// ParseNumber converts a string to a number the way LuaJIT's tonumber
// and its arithmetic coercion do: surrounding whitespace, a sign, decimal
// with optional fraction and exponent, hexadecimal with optional fraction
// and binary exponent, inf, infinity and nan in any case.
func ParseNumber(s string) (float64, bool) {
	i, n := 0, len(s)
	for i < n && isSpace(s[i]) {
		i++
	}
	for n > i && isSpace(s[n-1]) {
		n--
	}
	s = s[i:n]
	if s == "" {
		return 0, false
	}
	neg := false
	body := s
	if body[0] == '-' || body[0] == '+' {
		neg = body[0] == '-'
		body = body[1:]
	}
	var f float64
	var ok bool
	switch {
	case len(body) >= 2 && body[0] == '0' && body[1]|0x20 == 'x':
		f, ok = parseHex(body[2:])
	case isDigit(firstByte(body)) || firstByte(body) == '.':
		f, ok = parseDec(body)
	default:
		f, ok = parseSpecial(body)
	}
	if !ok {
		return 0, false
	}
	if neg {
		f = -f
	}
	return f, true
}

func firstByte(s string) byte {
	if s == "" {
		return 0
	}
	return s[0]
}

func parseDec(s string) (float64, bool) {
	i, digits := 0, 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && s[i]|0x20 == 'e' {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == j {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) && f != 0 {
		return 0, false
	}
	return f, true
}

func parseHex(s string) (float64, bool) {
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
		return 0, false
	}
	mant := s[:i]
	exp := "p0"
	if i < len(s) && s[i]|0x20 == 'p' {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == k {
			return 0, false
		}
		exp = s[i:j]
		i = j
	}
	if i != len(s) {
		return 0, false
	}
	if mant[0] == '.' {
		mant = "0" + mant
	}
	f, err := strconv.ParseFloat("0x"+mant+exp, 64)
	if err != nil && !math.IsInf(f, 0) && f != 0 {
		return 0, false
	}
	return f, true
}

func parseSpecial(s string) (float64, bool) {
	switch lower(s) {
	case "inf", "infinity":
		return math.Inf(1), true
	case "nan":
		return math.NaN(), true
	}
	return 0, false
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// parseBase implements tonumber(s, base) for a base other than 10, as
// LuaJIT does it with strtoul: whitespace, a sign, for base 16 an
// optional 0x, at least one digit, whitespace; overflow saturates.
func parseBase(s string, base int) (float64, bool) {
	i, n := 0, len(s)
	for i < n && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < n && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	if i >= n || !isAlnum(s[i]) {
		return 0, false
	}
	if base == 16 && i+1 < n && s[i] == '0' && s[i+1]|0x20 == 'x' && i+2 < n && digitVal(s[i+2]) < 16 {
		i += 2
	}
	var v uint64
	over := false
	start := i
	for i < n {
		d := digitVal(s[i])
		if d >= base {
			break
		}
		hi, lo := mulAdd(v, uint64(base), uint64(d))
		if hi != 0 {
			over = true
		}
		v = lo
		i++
	}
	if i == start {
		return 0, false
	}
	for i < n && isSpace(s[i]) {
		i++
	}
	if i != n {
		return 0, false
	}
	if over {
		v = math.MaxUint64
	}
	f := float64(v)
	if neg {
		f = -f
	}
	return f, true
}

func mulAdd(v, m, a uint64) (uint64, uint64) {
	hi := uint64(0)
	if v != 0 && v > (math.MaxUint64-a)/m {
		hi = 1
	}
	return hi, v*m + a
}

func isAlnum(c byte) bool { return isDigit(c) || isIdentStart(c) && c != '_' }

func digitVal(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}
