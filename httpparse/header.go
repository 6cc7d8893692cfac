package httpparse

import "encoding/binary"

// This file holds the header-line state machine shared by request and
// response heads. It follows nginx's ngx_http_parse_header_line: a line is
// "name: value", the name made of letters, digits, '-' (and '_' when
// allowed); other printable name bytes mark the line invalid (nginx then
// ignores it or keeps it, by configuration); control bytes, spaces and DEL in
// a name, an empty name and NUL anywhere are errors; values are trimmed of
// leading and trailing spaces (not tabs); CR is optional before LF, and
// several CRs may precede the LF of a header line (but not of the request
// line or the final empty line).

const (
	hStart = iota
	hName
	hSpaceBeforeValue
	hValue
	hIgnoreLine
	hAlmostDone
	hHeaderAlmostDone
)

// line results
const (
	lineAgain = iota
	lineDone
	lineHeadDone
	lineInvalid
)

// lineState is the progress of the header line being parsed. Offsets are
// absolute positions in the caller's buffer.
type lineState struct {
	state     uint8
	invalid   bool // the name holds bytes nginx does not accept in names
	nameStart int
	nameEnd   int
	valStart  int
	valEnd    int // on error: the offending position, as nginx's header_end
}

// parseHeaderLine scans b[p:end] for the rest of one header line (or the
// empty line that ends the head). It returns the position after the bytes
// it consumed and what it found. On lineAgain every byte up to end has been
// consumed and s holds the state to resume from.
func parseHeaderLine(b []byte, p, end int, s *lineState, underscores, upstream bool) (int, int) {
	st := s.state
	if end > len(b) {
		end = len(b)
	}
loop:
	for ; p < end; p++ {
		ch := b[p]
		switch st {
		case hStart:
			s.nameStart = p
			s.invalid = false
			switch ch {
			case '\r':
				s.valEnd = p
				st = hHeaderAlmostDone
				continue
			case '\n':
				s.valEnd = p
				s.state = hStart
				return p + 1, lineHeadDone
			}
			st = hName
			if nameLower[ch] != 0 {
				continue
			}
			if ch == '_' {
				s.invalid = !underscores
				continue
			}
			if ch <= 0x20 || ch == 0x7f || ch == ':' {
				s.valEnd = p
				s.state = st
				return p, lineInvalid
			}
			s.invalid = true

		case hName:
			for nameLower[ch] != 0 {
				p++
				if p == end {
					break loop
				}
				ch = b[p]
			}
			switch {
			case ch == ':':
				s.nameEnd = p
				st = hSpaceBeforeValue
			case ch == '_':
				if !underscores {
					s.invalid = true
				}
			case ch == '\r':
				s.nameEnd, s.valStart, s.valEnd = p, p, p
				st = hAlmostDone
			case ch == '\n':
				s.nameEnd, s.valStart, s.valEnd = p, p, p
				s.state = hStart
				return p + 1, lineDone
			case ch == '/' && upstream && p-s.nameStart == 4 && string(b[s.nameStart:p]) == "HTTP":
				// IIS may repeat its status line among the headers.
				st = hIgnoreLine
			case ch <= 0x20 || ch == 0x7f:
				s.valEnd = p
				s.state = st
				return p, lineInvalid
			default:
				s.invalid = true
			}

		case hSpaceBeforeValue:
			switch ch {
			case ' ':
			case '\r':
				s.valStart, s.valEnd = p, p
				st = hAlmostDone
			case '\n':
				s.valStart, s.valEnd = p, p
				s.state = hStart
				return p + 1, lineDone
			case 0:
				s.valEnd = p
				s.state = st
				return p, lineInvalid
			default:
				s.valStart = p
				st = hValue
			}

		case hValue:
			p = skipValue(b, p, end)
			if p == end {
				break loop
			}
			switch b[p] {
			case '\r':
				s.valEnd = trimRightSpaces(b, s.valStart, p)
				st = hAlmostDone
			case '\n':
				s.valEnd = trimRightSpaces(b, s.valStart, p)
				s.state = hStart
				return p + 1, lineDone
			default: // NUL
				s.valEnd = p
				s.state = st
				return p, lineInvalid
			}

		case hIgnoreLine:
			if ch == '\n' {
				st = hStart
			}

		case hAlmostDone:
			switch ch {
			case '\n':
				s.state = hStart
				return p + 1, lineDone
			case '\r':
			default:
				s.state = st
				return p, lineInvalid
			}

		case hHeaderAlmostDone:
			if ch == '\n' {
				s.state = hStart
				return p + 1, lineHeadDone
			}
			s.state = st
			return p, lineInvalid
		}
	}
	s.state = st
	return p, lineAgain
}

// fastHeaderLine parses the common shape of a header line, "Name: value"
// with a plain name, a non-empty value and CRLF, all within b[p:end], in one
// pass without the state machine's per-byte dispatch. Anything else (and a
// line that is cut off) reports false, having changed nothing, and the state
// machine takes the line from its start.
func fastHeaderLine(b []byte, p, end int, s *lineState) (int, bool) {
	b = b[:end]
	i := p
	for i+4 <= len(b) && nameByte[b[i]]&nameByte[b[i+1]]&nameByte[b[i+2]]&nameByte[b[i+3]] != 0 {
		i += 4
	}
	for i < len(b) && nameLower[b[i]] != 0 {
		i++
	}
	if i == p || i >= end || b[i] != ':' {
		return p, false
	}
	nameEnd := i
	i++
	for i < end && b[i] == ' ' {
		i++
	}
	if i >= end || !valuePlain[b[i]] {
		return p, false
	}
	valStart := i
	i = skipValue(b, i, end)
	if i+1 >= end || b[i] != '\r' || b[i+1] != '\n' {
		return p, false
	}
	s.nameStart, s.nameEnd = p, nameEnd
	s.valStart, s.valEnd = valStart, trimRightSpaces(b, valStart, i)
	s.invalid = false
	return i + 2, true
}

// skipValue returns the position of the first NUL, LF or CR in b[p:end], or
// end. Values are the bulk of a head, so it looks at eight bytes at a time.
func skipValue(b []byte, p, end int) int {
	const lo = 0x0101010101010101
	const hi = 0x8080808080808080
	for ; p+8 <= end; p += 8 {
		v := binary.LittleEndian.Uint64(b[p:])
		// A byte of v is NUL, LF or CR exactly when one of v, v^LF, v^CR
		// has a zero byte there; the classic has-zero test finds it (and
		// may flag a later byte falsely, which the byte loop below sorts
		// out).
		x, y := v^(lo*'\n'), v^(lo*'\r')
		if ((v-lo)&^v|(x-lo)&^x|(y-lo)&^y)&hi != 0 {
			break
		}
	}
	for p < end && valuePlain[b[p]] {
		p++
	}
	return p
}

// trimRightSpaces returns the end of b[start:end] with trailing spaces (not
// other blanks) removed, as nginx ends a value at its last non-space byte.
func trimRightSpaces(b []byte, start, end int) int {
	for end > start && b[end-1] == ' ' {
		end--
	}
	return end
}
