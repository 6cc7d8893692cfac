package authbasic

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"hash"
	"strconv"
	"strings"
)

// failureToken is what the C library's crypt returns for a setting it
// does not understand (libxcrypt's "*0", or "*1" when the setting itself
// starts with "*0"): it never equals the stored hash, so the password
// simply does not match, as with nginx on Linux.
func failureToken(salt []byte) []byte {
	if len(salt) >= 2 && salt[0] == '*' && salt[1] == '0' {
		return []byte("*1")
	}
	return []byte("*0")
}

// Crypt hashes password with the scheme and salt of an htpasswd entry
// (nginx's ngx_crypt): {PLAIN}, {SHA}, {SSHA} and $apr1$ as nginx itself
// does them, and the crypt(3) schemes $1$ (MD5), $5$ (SHA-256) and $6$
// (SHA-512), and traditional DES crypt(3) for a setting that starts with
// two salt digits. The entry matches when the result equals it. Other
// settings give a failure token that matches nothing. The password ends at its
// first NUL byte, as a C string does.
func Crypt(password, salt []byte) []byte {
	for i, c := range password {
		if c == 0 {
			password = password[:i]
			break
		}
	}
	s := string(salt)
	switch {
	case strings.HasPrefix(s, "$apr1$"):
		return md5Crypt(password, salt[6:], "$apr1$")
	case strings.HasPrefix(s, "{PLAIN}"):
		return append([]byte("{PLAIN}"), password...)
	case strings.HasPrefix(s, "{SSHA}"):
		return sshaCrypt(password, salt[6:])
	case strings.HasPrefix(s, "{SHA}"):
		sum := sha1.Sum(password)
		return append([]byte("{SHA}"), base64.StdEncoding.EncodeToString(sum[:])...)
	case strings.HasPrefix(s, "$1$"):
		return md5Crypt(password, salt[3:], "$1$")
	case strings.HasPrefix(s, "$5$"):
		return shaCrypt(password, salt[3:], "$5$", sha256.New, sha256Order)
	case strings.HasPrefix(s, "$6$"):
		return shaCrypt(password, salt[3:], "$6$", sha512.New, sha512Order)
	case isDESSetting(salt):
		// Like the C library, any two salt digits select DES, whatever
		// follows; only a 13-byte entry can then match.
		return desCrypt(password, salt)
	}
	return failureToken(salt)
}

// sshaCrypt is {SSHA}: base64(SHA1(password salt) salt), the salt being
// what follows the first 20 decoded bytes of the stored value.
func sshaCrypt(password, enc []byte) []byte {
	dec := make([]byte, max(base64.StdEncoding.DecodedLen(len(enc)), 20))
	n, ok := decodeBase64(dec, enc)
	if !ok || n < 20 {
		n = 20
	}
	dec = dec[:n]
	h := sha1.New()
	h.Write(password)
	h.Write(dec[20:])
	h.Sum(dec[:0])
	return append([]byte("{SSHA}"), base64.StdEncoding.EncodeToString(dec)...)
}

// decodeBase64 is ngx_decode_base64: input up to the first '=', every
// byte of it in the alphabet, padding optional.
func decodeBase64(dst, src []byte) (int, bool) {
	n := 0
	for n < len(src) && src[n] != '=' {
		c := src[n]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return 0, false
		}
		n++
	}
	if n%4 == 1 {
		return 0, false
	}
	m, err := base64.RawStdEncoding.Decode(dst, src[:n])
	if err != nil {
		return 0, false
	}
	return m, true
}

const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// to64 appends n characters of v, least significant six bits first.
func to64(dst []byte, v uint32, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, itoa64[v&0x3f])
		v >>= 6
	}
	return dst
}

// md5Crypt is Poul-Henning Kamp's MD5 crypt, with "$1$" or Apache's
// "$apr1$" as magic: the salt is at most 8 bytes and ends at '$'.
func md5Crypt(key, salt []byte, magic string) []byte {
	if len(salt) > 8 {
		salt = salt[:8]
	}
	for i, c := range salt {
		if c == '$' {
			salt = salt[:i]
			break
		}
	}
	ctx := md5.New()
	ctx.Write(key)
	ctx.Write([]byte(magic))
	ctx.Write(salt)

	alt := md5.New()
	alt.Write(key)
	alt.Write(salt)
	alt.Write(key)
	final := alt.Sum(nil)
	for n := len(key); n > 0; n -= 16 {
		ctx.Write(final[:min(n, 16)])
	}
	var zero [1]byte
	for i := len(key); i > 0; i >>= 1 {
		if i&1 != 0 {
			ctx.Write(zero[:])
		} else {
			ctx.Write(key[:1])
		}
	}
	final = ctx.Sum(nil)
	for i := 0; i < 1000; i++ {
		c := md5.New()
		if i&1 != 0 {
			c.Write(key)
		} else {
			c.Write(final)
		}
		if i%3 != 0 {
			c.Write(salt)
		}
		if i%7 != 0 {
			c.Write(key)
		}
		if i&1 != 0 {
			c.Write(final)
		} else {
			c.Write(key)
		}
		final = c.Sum(final[:0])
	}
	out := append([]byte(magic), salt...)
	out = append(out, '$')
	f := func(a, b, c int) uint32 { return uint32(final[a])<<16 | uint32(final[b])<<8 | uint32(final[c]) }
	out = to64(out, f(0, 6, 12), 4)
	out = to64(out, f(1, 7, 13), 4)
	out = to64(out, f(2, 8, 14), 4)
	out = to64(out, f(3, 9, 15), 4)
	out = to64(out, f(4, 10, 5), 4)
	out = to64(out, uint32(final[11]), 2)
	return out
}

// The byte orders in which SHA-crypt encodes the final digest: groups of
// three bytes (most significant first), four characters each, and the
// tail.
var (
	sha256Order = [][3]int{{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
		{15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29}, {-1, 31, 30}}
	sha512Order = [][3]int{{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
		{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51}, {31, 52, 10},
		{53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35}, {15, 36, 57}, {37, 58, 16},
		{59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41}, {-1, -1, 63}}
)

// shaCrypt is Ulrich Drepper's SHA-crypt ($5$ and $6$): an optional
// "rounds=N$" (clamped to 1000..999999999, default 5000), a salt of at
// most 16 bytes ending at '$'.
func shaCrypt(key, salt []byte, magic string, newHash func() hash.Hash, order [][3]int) []byte {
	rounds, custom := 5000, false
	if s := string(salt); strings.HasPrefix(s, "rounds=") {
		end := strings.IndexByte(s, '$')
		if end < 0 {
			return failureToken(salt)
		}
		n, err := strconv.ParseUint(s[7:end], 10, 64)
		if err != nil {
			return failureToken(salt)
		}
		rounds = int(min(max(n, 1000), 999999999))
		custom = true
		salt = salt[end+1:]
	}
	for i, c := range salt {
		if c == '$' {
			salt = salt[:i]
			break
		}
	}
	if len(salt) > 16 {
		salt = salt[:16]
	}
	b := newHash()
	b.Write(key)
	b.Write(salt)
	b.Write(key)
	bsum := b.Sum(nil)
	size := len(bsum)

	a := newHash()
	a.Write(key)
	a.Write(salt)
	n := len(key)
	for ; n > size; n -= size {
		a.Write(bsum)
	}
	a.Write(bsum[:n])
	for i := len(key); i > 0; i >>= 1 {
		if i&1 != 0 {
			a.Write(bsum)
		} else {
			a.Write(key)
		}
	}
	asum := a.Sum(nil)

	dp := newHash()
	for i := 0; i < len(key); i++ {
		dp.Write(key)
	}
	pSeq := repeatTo(dp.Sum(nil), len(key))

	ds := newHash()
	for i := 0; i < 16+int(asum[0]); i++ {
		ds.Write(salt)
	}
	sSeq := repeatTo(ds.Sum(nil), len(salt))

	c := asum
	h := newHash()
	for i := 0; i < rounds; i++ {
		h.Reset()
		if i&1 != 0 {
			h.Write(pSeq)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(sSeq)
		}
		if i%7 != 0 {
			h.Write(pSeq)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(pSeq)
		}
		c = h.Sum(c[:0])
	}

	out := []byte(magic)
	if custom {
		out = append(out, "rounds="...)
		out = strconv.AppendInt(out, int64(rounds), 10)
		out = append(out, '$')
	}
	out = append(out, salt...)
	out = append(out, '$')
	for _, g := range order {
		var v uint32
		k := 0
		for _, idx := range g {
			v <<= 8
			if idx >= 0 {
				v |= uint32(c[idx])
				k++
			}
		}
		out = to64(out, v, k+1)
	}
	return out
}

func repeatTo(d []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, d[:min(len(d), n-len(out))]...)
	}
	return out
}
