package httpparse

// byte classes used by the state machines; each table is a plain array so a
// lookup is one load with no bounds check when indexed by a byte.
var (
	// uriUsual marks bytes that need no attention inside a URI: everything
	// except control bytes, space, '#', '%', '+', '.', '/', '?' and DEL.
	uriUsual = func() (t [256]bool) {
		for c := 0x21; c < 256; c++ {
			t[c] = true
		}
		for _, c := range []byte{'#', '%', '+', '.', '/', '?', 0x7f} {
			t[c] = false
		}
		return t
	}()

	// nameLower maps the bytes nginx treats as ordinary in a header name
	// (letters, digits and '-') to their lower-case form, and everything else
	// to 0.
	nameLower = func() (t [256]byte) {
		for c := '0'; c <= '9'; c++ {
			t[c] = byte(c)
		}
		for c := 'a'; c <= 'z'; c++ {
			t[c] = byte(c)
			t[c-'a'+'A'] = byte(c)
		}
		t['-'] = '-'
		return t
	}()

	// nameByte is 1 for the bytes nameLower maps, so that several lookups
	// can be combined with '&'.
	nameByte = func() (t [256]uint8) {
		for c := range t {
			if nameLower[c] != 0 {
				t[c] = 1
			}
		}
		return t
	}()

	// valuePlain marks bytes that continue a header value without ending or
	// invalidating it: everything but NUL, LF and CR.
	valuePlain = func() (t [256]bool) {
		for c := range t {
			t[c] = true
		}
		t[0], t['\n'], t['\r'] = false, false, false
		return t
	}()

	// hexVal maps hex digits to their value and everything else to 0xff.
	hexVal = func() (t [256]byte) {
		for c := range t {
			t[c] = 0xff
		}
		for c := '0'; c <= '9'; c++ {
			t[c] = byte(c - '0')
		}
		for c := 'a'; c <= 'f'; c++ {
			t[c] = byte(c-'a') + 10
			t[c-'a'+'A'] = byte(c-'a') + 10
		}
		return t
	}()
)

// lower returns c in lower case if it is an ASCII capital letter.
func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c | 0x20
	}
	return c
}

// equalFoldLower reports whether s equals the lower-case ASCII string low,
// ignoring the case of s.
func equalFoldLower(s []byte, low string) bool {
	if len(s) != len(low) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lower(s[i]) != low[i] {
			return false
		}
	}
	return true
}

// indexFoldLower returns the index of the first occurrence of the lower-case
// ASCII string low in s, ignoring the case of s, or -1.
func indexFoldLower(s []byte, low string) int {
	n := len(low)
	if n == 0 {
		return 0
	}
	first := low[0]
	for i := 0; i+n <= len(s); i++ {
		if lower(s[i]) != first {
			continue
		}
		if equalFoldLower(s[i:i+n], low) {
			return i
		}
	}
	return -1
}

// Atoof parses a non-negative decimal number as nginx's ngx_atoof (and,
// on 64-bit systems, ngx_atosz and ngx_atotm) does.
func Atoof(b []byte) (int64, bool) { return parseOff(b) }

// parseOff parses a non-negative decimal number as nginx's ngx_atoof does:
// digits only, at least one, no sign, no overflow past the largest off_t.
func parseOff(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	const max = 1<<63 - 1
	const cutoff, cutlim = max / 10, max % 10
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if v >= cutoff && (v > cutoff || d > cutlim) {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}
