package luavm

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// prepass rewrites the LuaJIT lexer extensions gopher-lua's lexer does not
// know into forms it does, without moving any token to another line:
//
//   - "\xHH" and "\u{XXX}" in short strings become decimal escapes;
//   - "\z" in short strings drops the following whitespace; the newlines it
//     swallowed are re-emitted right after the string's closing quote;
//   - hexadecimal floats such as 0x1p4 or 0x.8 become decimal numbers.
//
// Comments and long strings are copied untouched. Source with nothing to
// rewrite is returned as is. It also reports the escape sequences LuaJIT
// rejects and gopher-lua would silently accept ("\(", "\300").
func prepass(src string) (string, *lexError) {
	if !needsPrepass(src) {
		return src, nil
	}
	out := make([]byte, 0, len(src)+16)
	i, n := 0, len(src)
	for i < n {
		c := src[i]
		switch {
		case c == '-' && i+1 < n && src[i+1] == '-':
			j := i + 2
			if lvl, ok := longBracket(src, j); ok {
				j = skipLong(src, j+lvl+2, lvl)
			} else {
				for j < n && src[j] != '\n' {
					j++
				}
			}
			out = append(out, src[i:j]...)
			i = j
		case c == '[':
			if lvl, ok := longBracket(src, i); ok {
				j := skipLong(src, i+lvl+2, lvl)
				out = append(out, src[i:j]...)
				i = j
			} else {
				out = append(out, c)
				i++
			}
		case c == '"' || c == '\'':
			var err *lexError
			out, i, err = shortString(out, src, i)
			if err != nil {
				err.line = 1 + countLines(src[:i])
				return "", err
			}
		case isIdentStart(c) || c >= 0x80:
			j := i + 1
			for j < n && (isIdentStart(src[j]) || isDigit(src[j]) || src[j] >= 0x80) {
				j++
			}
			out = appendName(out, src[i:j], src)
			i = j
		case isDigit(c) || (c == '.' && i+1 < n && isDigit(src[i+1])):
			j := numberEnd(src, i)
			out = appendNumber(out, src[i:j])
			i = j
		default:
			out = append(out, c)
			i++
		}
	}
	return string(out), nil
}

// LuaJIT takes the bytes 0x80 to 0xff for letters in names (UTF-8 names
// such as ngx.var.arg_语言), gopher-lua's lexer does not: the pre-pass
// spells each run of them in a name as marker, hex digits and "_", where
// the marker is a name prefix the source does not contain, and restoreNames
// turns the parsed names back.

// nameMarker returns the marker for src's names.
func nameMarker(src string) string {
	m := "__u8"
	for strings.Contains(src, m) {
		m += "x"
	}
	return m
}

// appendName appends the name s of src, high bytes spelled with markers.
func appendName(out []byte, s, src string) []byte {
	marker := ""
	for i := 0; i < len(s); {
		if s[i] < 0x80 {
			out = append(out, s[i])
			i++
			continue
		}
		if marker == "" {
			marker = nameMarker(src)
		}
		out = append(out, marker...)
		for ; i < len(s) && s[i] >= 0x80; i++ {
			out = append(out, "0123456789abcdef"[s[i]>>4], "0123456789abcdef"[s[i]&15])
		}
		out = append(out, '_')
	}
	return out
}

// restoreName undoes appendName's spelling in a name.
func restoreName(s, marker string) string {
	if !strings.Contains(s, marker) {
		return s
	}
	var b []byte
	for {
		k := strings.Index(s, marker)
		if k < 0 {
			break
		}
		b = append(b, s[:k]...)
		s = s[k+len(marker):]
		for len(s) >= 2 && isHex(s[0]) && isHex(s[1]) {
			b = append(b, byte(hexVal(s[0])<<4|hexVal(s[1])))
			s = s[2:]
		}
		s = strings.TrimPrefix(s, "_")
	}
	return string(append(b, s...))
}

// lexError is a lexical error found by the pre-pass, in LuaJIT's words.
type lexError struct {
	line int
	msg  string
	near string
}

func countLines(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			n++
		}
	}
	return n
}

func needsPrepass(src string) bool {
	for i := 0; i < len(src); i++ {
		if src[i] >= 0x80 {
			return true
		}
	}
	for i := 0; i+1 < len(src); i++ {
		switch src[i] {
		case '\\':
			switch e := src[i+1]; {
			case e == 'x' || e == 'u' || e == 'z':
				return true
			case isDigit(e):
				v := 0
				for j := i + 1; j < len(src) && j < i+4 && isDigit(src[j]); j++ {
					v = v*10 + int(src[j]-'0')
				}
				if v > 255 {
					return true
				}
			case e == '\\':
				i++
			case strings.IndexByte("abfnrtv\"'\r\n", e) < 0:
				return true
			}
		case '0':
			if src[i+1] == 'x' || src[i+1] == 'X' {
				return true
			}
		}
	}
	return false
}

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

// longBracket reports whether src[i:] opens a long bracket "[=*[" and
// its level.
func longBracket(src string, i int) (int, bool) {
	if i >= len(src) || src[i] != '[' {
		return 0, false
	}
	j := i + 1
	for j < len(src) && src[j] == '=' {
		j++
	}
	if j < len(src) && src[j] == '[' {
		return j - i - 1, true
	}
	return 0, false
}

// skipLong returns the index just past the "]=*]" of level lvl closing a
// long bracket whose content starts at i, or len(src).
func skipLong(src string, i, lvl int) int {
	for i < len(src) {
		if src[i] == ']' {
			j := i + 1
			for j < len(src) && src[j] == '=' {
				j++
			}
			if j < len(src) && src[j] == ']' && j-i-1 == lvl {
				return j + 1
			}
			i = j
			continue
		}
		i++
	}
	return len(src)
}

func appendDecEscape(out []byte, b byte) []byte {
	out = append(out, '\\')
	if b < 100 {
		out = append(out, '0')
	}
	if b < 10 {
		out = append(out, '0')
	}
	return strconv.AppendUint(out, uint64(b), 10)
}

// shortString copies the string literal starting at src[i], rewriting the
// escapes gopher-lua lacks.
func shortString(out []byte, src string, i int) ([]byte, int, *lexError) {
	q := src[i]
	begin := i
	out = append(out, q)
	i++
	newlines := 0
	n := len(src)
	for i < n {
		c := src[i]
		if c == q {
			out = append(out, q)
			i++
			break
		}
		if c == '\n' {
			break
		}
		if c != '\\' || i+1 >= n {
			out = append(out, c)
			i++
			continue
		}
		e := src[i+1]
		switch {
		case e == 'x':
			if i+3 >= n || !isHex(src[i+2]) || !isHex(src[i+3]) {
				return out, i, badEscape(src, begin, i)
			}
			out = appendDecEscape(out, byte(hexVal(src[i+2])<<4|hexVal(src[i+3])))
			i += 4
		case e == 'u' && i+2 < n && src[i+2] == '{':
			j := i + 3
			var cp uint64
			for j < n && isHex(src[j]) && cp < 0x110000 {
				cp = cp<<4 | uint64(hexVal(src[j]))
				j++
			}
			if j == i+3 || j >= n || src[j] != '}' || cp >= 0x110000 || (cp >= 0xD800 && cp < 0xE000) {
				return out, i, badEscape(src, begin, i)
			}
			var buf [4]byte
			for _, b := range encodeUTF8(buf[:0], cp) {
				out = appendDecEscape(out, b)
			}
			i = j + 1
		case e == 'z':
			i += 2
			for i < n && isSpace(src[i]) {
				if src[i] == '\n' {
					newlines++
				}
				i++
			}
		case isDigit(e):
			j, v := i+1, 0
			for ; j < n && j < i+4 && isDigit(src[j]); j++ {
				v = v*10 + int(src[j]-'0')
			}
			if v > 255 {
				return out, i, badEscape(src, begin, i)
			}
			out = append(out, src[i:j]...)
			i = j
		case strings.IndexByte("abfnrtv\\\"'\r\n", e) >= 0:
			out = append(out, c, e)
			i += 2
		default:
			return out, i, badEscape(src, begin, i)
		}
	}
	for ; newlines > 0; newlines-- {
		out = append(out, '\n')
	}
	return out, i, nil
}

// badEscape is LuaJIT's error for an escape it rejects, at the backslash
// src[at]: the token text is the string read so far, without the escape.
func badEscape(src string, begin, at int) *lexError {
	return &lexError{msg: "invalid escape sequence", near: src[begin:at]}
}

// encodeUTF8 encodes a code point below U+110000 that is not a surrogate,
// the range LuaJIT accepts in \u{...}.
func encodeUTF8(b []byte, cp uint64) []byte {
	return utf8.AppendRune(b, rune(cp))
}

// numberEnd returns the end of the numeral starting at src[i], the way
// Lua's lexer delimits it: digits, letters, dots and a sign after an
// exponent letter.
func numberEnd(src string, i int) int {
	hex := i+1 < len(src) && src[i] == '0' && (src[i+1] == 'x' || src[i+1] == 'X')
	j := i
	for j < len(src) {
		c := src[j]
		if isDigit(c) || isIdentStart(c) || c == '.' {
			j++
			continue
		}
		if (c == '+' || c == '-') && j > i {
			p := src[j-1] | 0x20
			if (!hex && p == 'e') || (hex && p == 'p') {
				j++
				continue
			}
		}
		break
	}
	return j
}

// appendNumber copies a numeral, turning a hexadecimal float into decimal.
func appendNumber(out []byte, num string) []byte {
	if len(num) < 3 || num[0] != '0' || (num[1] != 'x' && num[1] != 'X') ||
		!bytes.ContainsAny([]byte(num[2:]), ".pP") {
		return append(out, num...)
	}
	s := num
	if !bytes.ContainsAny([]byte(num[2:]), "pP") {
		s += "p0"
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return append(out, num...)
	}
	return strconv.AppendFloat(out, f, 'g', -1, 64)
}
