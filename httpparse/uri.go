package httpparse

// ComplexURI is the result of ParseComplexURI.
type ComplexURI struct {
	// Path is the decoded, normalised path; it aliases dst.
	Path []byte
	// Args is the query string without '?' and fragment, aliasing raw, or
	// nil if raw had no '?' in its path part.
	Args []byte
	// Exten is the extension of Path's last segment (after its last '.'),
	// aliasing Path, or nil.
	Exten []byte
	// PlusInURI and QuotedURI report a '+' (raw or decoded) and a '%'
	// escape, as nginx's plus_in_uri and quoted_uri flags.
	PlusInURI bool
	QuotedURI bool
}

const (
	cuUsual = iota
	cuSlash
	cuDot
	cuDotDot
	cuQuoted
	cuQuotedSecond
)

// ParseComplexURI normalises a raw request target (from its first '/', or
// its '?' when emptyPath is set, through the end of the URI) the way nginx's
// ngx_http_parse_complex_uri does: it decodes %XX escapes (except that
// decoded '%', '#' and '?' stay literal path bytes), resolves "." and ".."
// segments, merges runs of '/' when mergeSlashes is set, stops the path at
// '?' (arguments) or '#' (fragment), and prefixes "/" when emptyPath is set.
//
// It fails, as nginx answers 400, when ".." climbs above the root, an
// escape is malformed or truncated, or an escape decodes to NUL.
//
// The path is written into dst's backing array when its capacity is at
// least len(raw)+1, so the call allocates nothing; otherwise a new array is
// allocated.
func ParseComplexURI(dst, raw []byte, mergeSlashes, emptyPath bool) (res ComplexURI, ok bool) {
	res, _, ok = parseComplexURI(dst, raw, mergeSlashes, emptyPath)
	return res, ok
}

// parseComplexURI is ParseComplexURI that also returns the offset of Args in
// raw (or -1).
func parseComplexURI(dst, raw []byte, mergeSlashes, emptyPath bool) (res ComplexURI, argsStart int, ok bool) {
	argsStart = -1
	n := len(raw)
	if cap(dst) < n+1 {
		dst = make([]byte, n+1)
	} else {
		dst = dst[:n+1]
	}
	u := 0
	uriExt := -1
	if emptyPath {
		dst[0] = '/'
		u = 1
	}
	if n == 0 {
		return ComplexURI{Path: dst[:u:u]}, -1, true
	}

	state, quotedState := cuUsual, cuUsual
	var decoded byte
	ch := raw[0]
	i := 1 // raw[i] is the byte after ch

	// next moves to the following byte; past the end it yields 0, a value
	// the loop never looks at because i then exceeds n.
	next := func(i int) byte {
		if i < n {
			return raw[i]
		}
		return 0
	}

	for i <= n {
		switch state {
		case cuUsual:
			if uriUsual[ch] {
				dst[u] = ch
				u++
				ch, i = next(i), i+1
				continue
			}
			switch ch {
			case '/':
				uriExt = -1
				state = cuSlash
				dst[u] = ch
				u++
			case '%':
				quotedState = state
				state = cuQuoted
			case '?':
				argsStart = i
				goto args
			case '#':
				goto done
			case '.':
				uriExt = u + 1
				dst[u] = ch
				u++
			case '+':
				res.PlusInURI = true
				dst[u] = ch
				u++
			default:
				dst[u] = ch
				u++
			}
			ch, i = next(i), i+1

		case cuSlash:
			if uriUsual[ch] {
				state = cuUsual
				dst[u] = ch
				u++
				ch, i = next(i), i+1
				continue
			}
			switch ch {
			case '/':
				if !mergeSlashes {
					dst[u] = ch
					u++
				}
			case '.':
				state = cuDot
				dst[u] = ch
				u++
			case '%':
				quotedState = state
				state = cuQuoted
			case '?':
				argsStart = i
				goto args
			case '#':
				goto done
			case '+':
				res.PlusInURI = true
				state = cuUsual
				dst[u] = ch
				u++
			default:
				state = cuUsual
				dst[u] = ch
				u++
			}
			ch, i = next(i), i+1

		case cuDot:
			if uriUsual[ch] {
				state = cuUsual
				dst[u] = ch
				u++
				ch, i = next(i), i+1
				continue
			}
			switch ch {
			case '/':
				state = cuSlash
				u--
			case '.':
				state = cuDotDot
				dst[u] = ch
				u++
			case '%':
				quotedState = state
				state = cuQuoted
			case '?':
				u--
				argsStart = i
				goto args
			case '#':
				u--
				goto done
			case '+':
				res.PlusInURI = true
				state = cuUsual
				dst[u] = ch
				u++
			default:
				state = cuUsual
				dst[u] = ch
				u++
			}
			ch, i = next(i), i+1

		case cuDotDot:
			if uriUsual[ch] {
				state = cuUsual
				dst[u] = ch
				u++
				ch, i = next(i), i+1
				continue
			}
			switch ch {
			case '/', '?', '#':
				// drop "/.." and the segment before it
				if u = parentSegment(dst, u); u < 0 {
					return ComplexURI{}, -1, false
				}
				if ch == '?' {
					argsStart = i
					goto args
				}
				if ch == '#' {
					goto done
				}
				state = cuSlash
			case '%':
				quotedState = state
				state = cuQuoted
			case '+':
				res.PlusInURI = true
				state = cuUsual
				dst[u] = ch
				u++
			default:
				state = cuUsual
				dst[u] = ch
				u++
			}
			ch, i = next(i), i+1

		case cuQuoted:
			res.QuotedURI = true
			if v := hexVal[ch]; v != 0xff {
				decoded = v
				state = cuQuotedSecond
				ch, i = next(i), i+1
				continue
			}
			return ComplexURI{}, -1, false

		case cuQuotedSecond:
			v := hexVal[ch]
			if v == 0xff {
				return ComplexURI{}, -1, false
			}
			isDigit := ch >= '0' && ch <= '9'
			ch = decoded<<4 + v
			// nginx keeps '%' and '#' (decoded from a digit second
			// half) and '?' (from a letter) as literal path bytes; other
			// decoded bytes are fed back through the state the escape
			// interrupted, so "%2F" acts as '/' and "%2E" as '.'.
			if isDigit {
				if ch == '%' || ch == '#' {
					state = cuUsual
					dst[u] = ch
					u++
					ch, i = next(i), i+1
					continue
				}
				if ch == 0 {
					return ComplexURI{}, -1, false
				}
			} else {
				if ch == '?' {
					state = cuUsual
					dst[u] = ch
					u++
					ch, i = next(i), i+1
					continue
				}
				if ch == '+' {
					res.PlusInURI = true
				}
			}
			state = quotedState
		}
	}

	switch state {
	case cuQuoted, cuQuotedSecond:
		return ComplexURI{}, -1, false
	case cuDot:
		u--
	case cuDotDot:
		if u = parentSegment(dst, u); u < 0 {
			return ComplexURI{}, -1, false
		}
	}

done:
	res.Path = dst[:u:u]
	if uriExt >= 0 && uriExt <= u {
		res.Exten = dst[uriExt:u:u]
	}
	return res, argsStart, true

args:
	for j := argsStart; j < n; j++ {
		if raw[j] == '#' {
			res.Args = raw[argsStart:j:j]
			goto done
		}
	}
	res.Args = raw[argsStart:n:n]
	goto done
}

// parentSegment removes a trailing "/.." from dst[:u] together with the
// segment before it, leaving the '/' that precedes that segment. It returns
// the new length, or -1 if that would climb above the start of dst.
func parentSegment(dst []byte, u int) int {
	u -= 4
	for {
		if u < 0 {
			return -1
		}
		if dst[u] == '/' {
			return u + 1
		}
		u--
	}
}
