package httpparse

// EscapeType selects one of nginx's ngx_escape_uri tables.
type EscapeType uint8

// The escape tables of nginx's ngx_escape_uri, in its order.
const (
	// EscapeURI escapes what may not appear in a URI path: controls,
	// space, '"', '#', '%', '<', '>', '?', '\\', '^', '`', '{', '|', '}',
	// DEL and bytes >= 0x80.
	EscapeURI EscapeType = iota
	// EscapeArgs is EscapeURI plus '&', '+' and ';'.
	EscapeArgs
	// EscapeURIComponent escapes everything but ALPHA, DIGIT, "-", ".",
	// "_" and "~".
	EscapeURIComponent
	// EscapeHTML escapes for URIs inside HTML attributes: controls,
	// space, '"', '#', '%', '\'', '<', '>', '\\', '^', '`', '{', '|', '}',
	// DEL and bytes >= 0x80.
	EscapeHTML
	// EscapeRefresh escapes for the Refresh header: controls, space, '"',
	// '\'', '<', '>', '\\', '^', '`', '{', '|', '~', DEL and bytes >= 0x80.
	EscapeRefresh
	// EscapeMemcached escapes controls, space and '%'.
	EscapeMemcached
	// EscapeMailAuth is the same table as EscapeMemcached.
	EscapeMailAuth
)

// escapeMaps holds nginx's bitmaps, one bit per byte value (1 = escape).
// The words are nginx's published constants; they are the specification.
var escapeMaps = [...][8]uint32{
	EscapeURI: {
		0xffffffff, 0xd000002d, 0x50000000, 0xb8000001,
		0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
	},
	EscapeArgs: {
		0xffffffff, 0xd800086d, 0x50000000, 0xb8000001,
		0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
	},
	EscapeURIComponent: {
		0xffffffff, 0xfc009fff, 0x78000001, 0xb8000001,
		0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
	},
	EscapeHTML: {
		0xffffffff, 0x500000ad, 0x50000000, 0xb8000001,
		0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
	},
	EscapeRefresh: {
		0xffffffff, 0x50000085, 0x50000000, 0xd8000001,
		0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
	},
	EscapeMemcached: {
		0xffffffff, 0x00000021, 0, 0, 0, 0, 0, 0,
	},
	EscapeMailAuth: {
		0xffffffff, 0x00000021, 0, 0, 0, 0, 0, 0,
	},
}

// escapeTables expands escapeMaps into one bool per byte, built once at
// init.
var escapeTables = func() (t [len(escapeMaps)][256]bool) {
	for i, m := range escapeMaps {
		for c := 0; c < 256; c++ {
			t[i][c] = m[c>>5]&(1<<(c&0x1f)) != 0
		}
	}
	return t
}()

const upperHex = "0123456789ABCDEF"

// NeedsEscape reports whether table typ escapes byte c.
func NeedsEscape(c byte, typ EscapeType) bool {
	return escapeTables[typ][c]
}

// EscapeCount returns how many bytes of src table typ escapes; the escaped
// form is len(src)+2*EscapeCount(src, typ) bytes long.
func EscapeCount(src []byte, typ EscapeType) int {
	t := &escapeTables[typ]
	n := 0
	for _, c := range src {
		if t[c] {
			n++
		}
	}
	return n
}

// AppendEscape appends src to dst with the bytes table typ selects written
// as %XX (upper-case hex), as ngx_escape_uri does.
func AppendEscape(dst, src []byte, typ EscapeType) []byte {
	t := &escapeTables[typ]
	for _, c := range src {
		if t[c] {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&0xf])
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

// UnescapeType selects the variant of nginx's ngx_unescape_uri.
type UnescapeType uint8

// The ngx_unescape_uri variants.
const (
	// UnescapePlain decodes every valid escape.
	UnescapePlain UnescapeType = 0
	// UnescapeURI stops after the first '?', raw or decoded from a
	// letter escape ("%3F", "%3f").
	UnescapeURI UnescapeType = 1
	// UnescapeRedirect stops after the first '?' likewise, and decodes
	// only escapes of bytes between '%' and DEL exclusive, keeping others
	// escaped.
	UnescapeRedirect UnescapeType = 2
)

// AppendUnescape appends src, %XX-decoded as nginx's ngx_unescape_uri does,
// to dst, and returns how many bytes of src it consumed (all of them unless
// typ stopped at a '?', which is included in both). Malformed escapes are
// dropped as nginx drops them: "%" followed by a non-hex byte yields that
// byte; "%X" followed by a non-hex byte yields nothing.
func AppendUnescape(dst, src []byte, typ UnescapeType) ([]byte, int) {
	const (
		usual = iota
		quoted
		quotedSecond
	)
	state := usual
	var decoded byte
	for i := 0; i < len(src); i++ {
		ch := src[i]
		switch state {
		case usual:
			if ch == '?' && typ&(UnescapeURI|UnescapeRedirect) != 0 {
				return append(dst, ch), i + 1
			}
			if ch == '%' {
				state = quoted
				continue
			}
			dst = append(dst, ch)

		case quoted:
			if v := hexVal[ch]; v != 0xff {
				decoded = v
				state = quotedSecond
				continue
			}
			state = usual
			dst = append(dst, ch)

		case quotedSecond:
			state = usual
			v := hexVal[ch]
			if v == 0xff {
				continue
			}
			c := decoded<<4 + v
			if ch >= '0' && ch <= '9' {
				if typ&UnescapeRedirect != 0 && (c <= '%' || c >= 0x7f) {
					dst = append(dst, '%', src[i-1], ch)
					continue
				}
				dst = append(dst, c)
				continue
			}
			if typ&UnescapeURI != 0 {
				dst = append(dst, c)
				if c == '?' {
					return dst, i + 1
				}
				continue
			}
			if typ&UnescapeRedirect != 0 {
				if c == '?' {
					return append(dst, c), i + 1
				}
				if c <= '%' || c >= 0x7f {
					dst = append(dst, '%', src[i-1], ch)
					continue
				}
			}
			dst = append(dst, c)
		}
	}
	return dst, len(src)
}

// EscapeHTMLCount returns how many bytes longer AppendEscapeHTML makes src.
func EscapeHTMLCount(src []byte) int {
	n := 0
	for _, c := range src {
		switch c {
		case '<', '>':
			n += 3
		case '&':
			n += 4
		case '"':
			n += 5
		}
	}
	return n
}

// AppendEscapeHTML appends src to dst with '<', '>', '&' and '"' written as
// entities, as nginx's ngx_escape_html does.
func AppendEscapeHTML(dst, src []byte) []byte {
	for _, c := range src {
		switch c {
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		case '&':
			dst = append(dst, "&amp;"...)
		case '"':
			dst = append(dst, "&quot;"...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
