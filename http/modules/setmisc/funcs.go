package setmisc

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	mrand "math/rand/v2"
	"strconv"

	"gresty/errlog"
)

// The value functions below return request memory or constants; the
// rewrite script stores the slice in the variable and never writes to it.

func encodeBase64(r Env, a [][]byte) ([]byte, int) {
	out := r.Alloc(base64.StdEncoding.EncodedLen(len(a[0])))
	base64.StdEncoding.Encode(out, a[0])
	return out, 0
}

func encodeBase64URL(r Env, a [][]byte) ([]byte, int) {
	out := r.Alloc(base64.RawURLEncoding.EncodedLen(len(a[0])))
	base64.RawURLEncoding.Encode(out, a[0])
	return out, 0
}

// The decoding tables of ngx_decode_base64 and ngx_decode_base64url: 77
// marks a byte outside the alphabet.
var (
	basis64    = decodeTable("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
	basis64URL = decodeTable("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
)

func decodeTable(alphabet string) *[256]byte {
	var t [256]byte
	for i := range t {
		t[i] = 77
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return &t
}

// decode64 is ngx_decode_base64: it stops at the first '=', rejects
// other bytes outside the alphabet and a length of 1 modulo 4, and drops
// left-over bits.
func decode64(dst, src []byte, basis *[256]byte) ([]byte, bool) {
	n := 0
	for n < len(src) && src[n] != '=' {
		if basis[src[n]] == 77 {
			return nil, false
		}
		n++
	}
	if n%4 == 1 {
		return nil, false
	}
	s := src[:n]
	for len(s) > 3 {
		dst = append(dst, basis[s[0]]<<2|basis[s[1]]>>4, basis[s[1]]<<4|basis[s[2]]>>2, basis[s[2]]<<6|basis[s[3]])
		s = s[4:]
	}
	if len(s) > 1 {
		dst = append(dst, basis[s[0]]<<2|basis[s[1]]>>4)
	}
	if len(s) > 2 {
		dst = append(dst, basis[s[1]]<<4|basis[s[2]]>>2)
	}
	return dst, true
}

func decodeBase64(r Env, a [][]byte) ([]byte, int) {
	out, ok := decode64(r.Alloc(len(a[0]))[:0], a[0], basis64)
	if !ok {
		r.Logf(errlog.Error, "set_decode_base64: invalid value")
		return nil, 500
	}
	return out, 0
}

func decodeBase64URL(r Env, a [][]byte) ([]byte, int) {
	out, ok := decode64(r.Alloc(len(a[0]))[:0], a[0], basis64URL)
	if !ok {
		r.Logf(errlog.Error, "set_decode_base64url: invalid value")
		return nil, 500
	}
	return out, 0
}

func encodeHex(r Env, a [][]byte) ([]byte, int) {
	out := r.Alloc(2 * len(a[0]))
	hex.Encode(out, a[0])
	return out, 0
}

// decodeHex takes pairs of hex digits of either case.
func decodeHex(r Env, a [][]byte) ([]byte, int) {
	v := a[0]
	if len(v)%2 != 0 {
		r.Logf(errlog.Error, "set_decode_hex: invalid value")
		return nil, 500
	}
	out := r.Alloc(len(v) / 2)
	for i := range out {
		hi, lo := hexVal(v[2*i]), hexVal(v[2*i+1])
		if hi < 0 || lo < 0 {
			r.Logf(errlog.Error, "set_decode_hex: invalid value")
			return nil, 500
		}
		out[i] = byte(hi<<4 | lo)
	}
	return out, 0
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func md5Hex(r Env, a [][]byte) ([]byte, int) {
	sum := md5.Sum(a[0])
	out := r.Alloc(2 * len(sum))
	hex.Encode(out, sum[:])
	return out, 0
}

func sha1Hex(r Env, a [][]byte) ([]byte, int) {
	sum := sha1.Sum(a[0])
	out := r.Alloc(2 * len(sum))
	hex.Encode(out, sum[:])
	return out, 0
}

func hmacSHA1(r Env, a [][]byte) ([]byte, int) {
	return hmacSum(r, sha1.New, a[0], a[1]), 0
}

func hmacSHA256(r Env, a [][]byte) ([]byte, int) {
	return hmacSum(r, sha256.New, a[0], a[1]), 0
}

func hmacSum(r Env, h func() hash.Hash, secret, msg []byte) []byte {
	m := hmac.New(h, secret)
	m.Write(msg)
	return m.Sum(r.Alloc(m.Size())[:0])
}

// escapeURI escapes with the table set-misc carries, nginx's URI table
// of old: controls, space, '"', '#', '%', '&', '+', '/', ':', ';', '<',
// '=', '>', '?', '[', '\\', ']', '^', '{', '}', DEL and bytes >= 0x80.
func escapeURI(r Env, a [][]byte) ([]byte, int) {
	v := a[0]
	if len(v) == 0 {
		return nil, 0
	}
	n := 0
	for _, c := range v {
		if uriEscape[c] {
			n++
		}
	}
	if n == 0 {
		return v, 0
	}
	const upper = "0123456789ABCDEF"
	out := r.Alloc(len(v) + 2*n)[:0]
	for _, c := range v {
		if uriEscape[c] {
			out = append(out, '%', upper[c>>4], upper[c&0xf])
		} else {
			out = append(out, c)
		}
	}
	return out, 0
}

// uriEscape is set-misc's patched ngx_escape_uri table for NGX_ESCAPE_URI.
var uriEscape = func() (t [256]bool) {
	words := [8]uint32{
		0xffffffff, 0xfc00886d, 0x78000000, 0xa8000000,
		0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
	}
	for c := 0; c < 256; c++ {
		t[c] = words[c>>5]&(1<<(c&0x1f)) != 0
	}
	return t
}()

// unescapeURI decodes %XX escapes and '+' as a space. A '%' before a
// non-hex byte is dropped; "%X" before a non-hex byte drops all three.
func unescapeURI(r Env, a [][]byte) ([]byte, int) {
	v := a[0]
	out := r.Alloc(len(v))[:0]
	const (
		usual = iota
		quoted
		quotedSecond
	)
	state := usual
	var decoded int
	for _, c := range v {
		switch state {
		case usual:
			switch c {
			case '%':
				state = quoted
			case '+':
				out = append(out, ' ')
			default:
				out = append(out, c)
			}
		case quoted:
			if h := hexVal(c); h >= 0 {
				decoded = h
				state = quotedSecond
				continue
			}
			state = usual
			out = append(out, c)
		case quotedSecond:
			state = usual
			if h := hexVal(c); h >= 0 {
				out = append(out, byte(decoded<<4|h))
			}
		}
	}
	return out, 0
}

// quoteSQL quotes for MySQL: ” for an empty value.
func quoteSQL(r Env, a [][]byte) ([]byte, int) {
	v := a[0]
	if len(v) == 0 {
		return []byte("''"), 0
	}
	out := r.Alloc(2*len(v) + 2)[:0]
	out = append(out, '\'')
	out = appendSQLEscaped(out, v)
	return append(out, '\''), 0
}

func appendSQLEscaped(out, v []byte) []byte {
	for _, c := range v {
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
		case '\\', '\'', '"', '$':
			out = append(out, '\\', c)
		case 26:
			out = append(out, '\\', 'Z')
		default:
			out = append(out, c)
		}
	}
	return out
}

// quotePgSQL quotes for PostgreSQL: E'...' with the MySQL escapes; a value
// that is not UTF-8 by PostgreSQL's test gets its high bytes as \\ooo.
func quotePgSQL(r Env, a [][]byte) ([]byte, int) {
	v := a[0]
	if len(v) == 0 {
		return []byte("''"), 0
	}
	out := r.Alloc(2*len(v) + 3)[:0]
	out = append(out, 'E', '\'')
	out = appendSQLEscaped(out, v)
	out = append(out, '\'')
	if pgUTF8Legal(out) {
		return out, 0
	}
	n := len(out)
	for _, c := range out {
		if c&0x80 != 0 {
			n += 4
		}
	}
	esc := r.Alloc(n)[:0]
	for _, c := range out {
		if c&0x80 != 0 {
			esc = append(esc, '\\', '\\', c>>6+'0', c>>3&7+'0', c&7+'0')
		} else {
			esc = append(esc, c)
		}
	}
	return esc, 0
}

// pgUTF8Legal is the original's port of PostgreSQL's pg_utf8_islegal,
// with its checks as they are.
func pgUTF8Legal(s []byte) bool {
	for len(s) > 0 {
		n := 1
		switch c := s[0]; {
		case c&0x80 == 0:
		case c&0xe0 == 0xc0:
			n = 2
		case c&0xf0 == 0xe0:
			n = 3
		case c&0xf8 == 0xf0:
			n = 4
		}
		if len(s) < n {
			return false
		}
		switch n {
		case 4:
			if a := s[3]; a < 0x80 || a > 0xbf {
				return false
			}
		case 3:
			if a := s[2]; a < 0x80 || a > 0xbf {
				return false
			}
		case 2:
			a := s[1]
			lo, hi := byte(0x80), byte(0xbf)
			switch s[0] {
			case 0xe0:
				lo, hi = 0xa0, 0xbf
			case 0xed:
				lo, hi = 0x80, 0x9f
			case 0xf0:
				lo, hi = 0x90, 0xbf
			case 0xf4:
				lo, hi = 0x80, 0x8f
			}
			if a < lo || a > hi {
				return false
			}
		case 1:
			a := s[0]
			if a >= 0x80 && a < 0xc2 || a > 0xf4 {
				return false
			}
		}
		s = s[n:]
	}
	return true
}

// quoteJSON quotes a JSON string; null for an empty value.
func quoteJSON(r Env, a [][]byte) ([]byte, int) {
	v := a[0]
	if len(v) == 0 {
		return []byte("null"), 0
	}
	const lowerHex = "0123456789abcdef"
	out := r.Alloc(len(v) + 2)[:0]
	out = append(out, '"')
	for _, c := range v {
		switch c {
		case '\r':
			out = append(out, '\\', 'r')
		case '\n':
			out = append(out, '\\', 'n')
		case '\\':
			out = append(out, '\\', '\\')
		case '"':
			out = append(out, '\\', '"')
		case '\f':
			out = append(out, '\\', 'f')
		case '\b':
			out = append(out, '\\', 'b')
		case '\t':
			out = append(out, '\\', 't')
		default:
			if c < 32 {
				out = append(out, '\\', 'u', '0', '0', lowerHex[c>>4], lowerHex[c&0xf])
			} else {
				out = append(out, c)
			}
		}
	}
	return append(out, '"'), 0
}

func encodeBase32(r Env, a [][]byte) ([]byte, int) {
	lc := locConf(r)
	v := a[0]
	alpha := lc.Base32Alphabet.V
	out := r.Alloc((len(v) + 4) / 5 * 8)[:0]
	s := v
	for len(s) > 4 {
		out = append(out,
			alpha[s[0]>>3],
			alpha[(s[0]&0x07)<<2|s[1]>>6],
			alpha[(s[1]>>1)&0x1f],
			alpha[(s[1]&1)<<4|s[2]>>4],
			alpha[(s[2]&0x0f)<<1|s[3]>>7],
			alpha[(s[3]>>2)&0x1f],
			alpha[(s[3]&0x03)<<3|s[4]>>5],
			alpha[s[4]&0x1f])
		s = s[5:]
	}
	if len(s) == 0 {
		return out, 0
	}
	pad := 0
	out = append(out, alpha[s[0]>>3])
	switch len(s) {
	case 1:
		out = append(out, alpha[(s[0]&0x07)<<2])
		pad = 6
	case 2:
		out = append(out, alpha[(s[0]&0x07)<<2|s[1]>>6], alpha[(s[1]>>1)&0x1f], alpha[(s[1]&1)<<4])
		pad = 4
	case 3:
		out = append(out, alpha[(s[0]&0x07)<<2|s[1]>>6], alpha[(s[1]>>1)&0x1f], alpha[(s[1]&1)<<4|s[2]>>4],
			alpha[(s[2]&0x0f)<<1])
		pad = 3
	case 4:
		out = append(out, alpha[(s[0]&0x07)<<2|s[1]>>6], alpha[(s[1]>>1)&0x1f], alpha[(s[1]&1)<<4|s[2]>>4],
			alpha[(s[2]&0x0f)<<1|s[3]>>7], alpha[(s[3]>>2)&0x1f], alpha[(s[3]&0x03)<<3])
		pad = 1
	}
	if lc.Base32Padding.V {
		for i := 0; i < pad; i++ {
			out = append(out, '=')
		}
	}
	return out, 0
}

// decodeBase32 decodes up to the first '='; a length the encoding cannot
// produce gives an empty value, as the original does.
func decodeBase32(r Env, a [][]byte) ([]byte, int) {
	b := &locConf(r).basis32
	v := a[0]
	n := 0
	for n < len(v) && v[n] != '=' {
		n++
	}
	switch n % 8 {
	case 1, 3, 6:
		return nil, 0
	}
	s := v[:n]
	out := r.Alloc((n + 7) / 8 * 5)[:0]
	for len(s) > 7 {
		out = append(out,
			b[s[0]]<<3|(b[s[1]]>>2)&0x07,
			(b[s[1]]&0x03)<<6|b[s[2]]<<1|(b[s[3]]>>4)&1,
			(b[s[3]]&0x0f)<<4|(b[s[4]]>>1)&0x0f,
			(b[s[4]]&1)<<7|(b[s[5]]&0x1f)<<2|(b[s[6]]>>3)&0x03,
			(b[s[6]]&0x07)<<5|b[s[7]]&0x1f)
		s = s[8:]
	}
	if len(s) > 0 {
		out = append(out, b[s[0]]<<3|(b[s[1]]>>2)&0x07)
		if len(s) > 2 {
			out = append(out, (b[s[1]]&0x03)<<6|(b[s[2]]&0x1f)<<1|(b[s[3]]>>4)&1)
			if len(s) > 4 {
				out = append(out, (b[s[3]]&0x0f)<<4|(b[s[4]]>>1)&0x0f)
				if len(s) > 5 {
					out = append(out, (b[s[4]]&1)<<7|(b[s[5]]&0x1f)<<2|(b[s[6]]>>3)&0x03)
				}
			}
		}
	}
	return out, 0
}

// atoi is ngx_atoi: decimal digits only, no sign.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (1<<63-1-int(c-'0'))/10 {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// random picks an integer in [from, to] (either order).
func random(r Env, a [][]byte) ([]byte, int) {
	from, ok := atoi(a[0])
	if !ok {
		r.Logf(errlog.Error, "set_random: bad \"from\" argument: %s", a[0])
		return nil, 500
	}
	to, ok := atoi(a[1])
	if !ok {
		r.Logf(errlog.Error, "set_random: bad \"to\" argument: %s", a[1])
		return nil, 500
	}
	if from > to {
		from, to = to, from
	}
	n := from + mrand.IntN(to-from+1)
	return strconv.AppendInt(r.Alloc(20)[:0], int64(n), 10), 0
}

const alphanum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func secureRandomAlphanum(r Env, a [][]byte) ([]byte, int) {
	return secureRandom(r, a[0], false)
}

func secureRandomLcalpha(r Env, a [][]byte) ([]byte, int) {
	return secureRandom(r, a[0], true)
}

// secureRandom draws 1 to 64 characters from the system's random source.
func secureRandom(r Env, lenArg []byte, lcalpha bool) ([]byte, int) {
	n, ok := atoi(lenArg)
	if !ok || n < 1 || n > 64 {
		r.Logf(errlog.Error, "set_random: bad \"length\" argument: %s", lenArg)
		return nil, 500
	}
	out := r.Alloc(n)
	if _, err := rand.Read(out); err != nil {
		r.Logf(errlog.Error, "set_secure_random: could not read all %d byte(s) from /dev/urandom", n)
		return nil, 500
	}
	for i, c := range out {
		if lcalpha {
			out[i] = 'a' + c%26
		} else {
			out[i] = alphanum[int(c)%len(alphanum)]
		}
	}
	return out, 0
}

// ifEmpty keeps the variable's value unless it is empty.
func ifEmpty(r Env, a [][]byte) ([]byte, int) {
	if len(a[0]) == 0 {
		return a[1], 0
	}
	return a[0], 0
}

// rotate steps the variable through [from, to], starting after the
// location's last value on this loop when the variable is empty or not a
// number.
func rotate(r Env, a [][]byte) ([]byte, int) {
	from, ok := atoi(a[1])
	if !ok {
		r.Logf(errlog.Error, "set_rotate: bad \"from\" argument value: \"%s\"", a[1])
		return nil, 500
	}
	to, ok := atoi(a[2])
	if !ok {
		r.Logf(errlog.Error, "set_rotate: bad \"to\" argument value: \"%s\"", a[2])
		return nil, 500
	}
	if from > to {
		from, to = to, from
	}
	lc := locConf(r)
	st, _ := r.LoopState(Module).(*loopState)
	last := func() int {
		if st != nil {
			if v, ok := st.rotate[lc]; ok {
				return v
			}
		}
		return from - 1
	}
	var cur int
	if len(a[0]) == 0 {
		cur = last()
	} else if cur, ok = atoi(a[0]); !ok {
		r.Logf(errlog.Error, "set_rotate: bad current value: \"%s\"", a[0])
		cur = last()
	}
	cur++
	if cur > to || cur < from {
		cur = from
	}
	if st != nil {
		st.rotate[lc] = cur
	}
	return strconv.AppendInt(r.Alloc(20)[:0], int64(cur), 10), 0
}
