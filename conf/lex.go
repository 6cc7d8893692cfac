package conf

import "fmt"

// bufSize is nginx's NGX_CONF_BUFFER. nginx reads a file through a buffer
// of this size, and a token that does not fit in it is an error ("too long
// parameter"), as is a Lua code block stretch that does not fit; the lexer
// models the buffer's window to report these exactly where nginx does.
const bufSize = 4096

// tokenKind is what ended a statement, as ngx_conf_read_token reports it.
type tokenKind int

const (
	tokStatement  tokenKind = iota // words ended by ";"
	tokBlockStart                  // words ended by "{"
	tokBlockDone                   // a lone "}"
	tokEOF                         // end of the input between statements
)

// statement is one result of readToken.
type statement struct {
	kind  tokenKind
	words []string
	// line is where the first word started.
	line int
}

// lexer reads one input (a file or the -g string) as nginx does. Offsets
// are into data; last is where nginx's buffer ends in the file, so that
// buffer-size effects can be reproduced without copying.
type lexer struct {
	file string // "" for the command line
	data []byte
	pos  int // next byte to read (nginx's b->pos)
	last int // bytes of data read into nginx's buffer so far (b->last)
	line int
}

func newFileLexer(file string, data []byte) *lexer {
	return &lexer{file: file, data: data, line: 1}
}

// newParamLexer reads the -g string: nginx puts all of it in the buffer at
// once, with no file behind it, and counts lines from 0.
func newParamLexer(s string) *lexer {
	return &lexer{data: []byte(s), last: len(s)}
}

func (lx *lexer) errorf(format string, a ...any) *Error {
	return NewError(lx.file, lx.line, fmt.Sprintf(format, a...))
}

// fileDone reports whether nginx has read the whole input into its buffer.
func (lx *lexer) fileDone() bool { return lx.last >= len(lx.data) }

// refill moves nginx's buffer window so that it begins at keep and holds as
// much of the input as fits.
func (lx *lexer) refill(keep int) {
	lx.last = min(len(lx.data), keep+bufSize)
}

func isSpace(ch byte) bool {
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'
}

// readToken reads the words of one statement up to its ";" or "{", a lone
// "}", or the end of input. It follows ngx_conf_read_token state by state,
// since its quirks are the language: a quoted word must be followed by a
// space, ";", "{" or ")"; "{" right after "$" belongs to the word; "#"
// starts a comment only where a word could start; "}" inside a word is an
// ordinary character.
func (lx *lexer) readToken() (statement, *Error) {
	var (
		st                          statement
		needSpace, sharpComment     bool
		variable, quoted            bool
		sQuoted, dQuoted, lastSpace = false, false, true
	)
	start := lx.pos
	startLine := lx.line

	for {
		if lx.pos >= lx.last {
			if lx.fileDone() {
				if len(st.words) > 0 || !lastSpace {
					if lx.file == "" {
						return st, lx.errorf("unexpected end of parameter, expecting \";\"")
					}
					return st, lx.errorf("unexpected end of file, expecting \";\" or \"}\"")
				}
				st.kind = tokEOF
				return st, nil
			}
			if lx.pos-start == bufSize {
				lx.line = startLine
				switch {
				case dQuoted:
					return st, lx.errorf("too long parameter, probably missing terminating \"\"\" character")
				case sQuoted:
					return st, lx.errorf("too long parameter, probably missing terminating \"'\" character")
				}
				return st, lx.errorf("too long parameter \"%s...\" started", lx.data[start:start+10])
			}
			lx.refill(start)
		}

		ch := lx.data[lx.pos]
		lx.pos++

		if ch == '\n' {
			lx.line++
			sharpComment = false
		}
		if sharpComment {
			continue
		}
		if quoted {
			quoted = false
			continue
		}

		if needSpace {
			switch {
			case isSpace(ch):
				lastSpace = true
				needSpace = false
				continue
			case ch == ';':
				st.kind = tokStatement
				return st, nil
			case ch == '{':
				st.kind = tokBlockStart
				return st, nil
			case ch == ')':
				// "if ($a = "b")": the ")" begins the next word.
				lastSpace = true
				needSpace = false
			default:
				return st, lx.errorf("unexpected \"%s\"", []byte{ch})
			}
		}

		if lastSpace {
			start = lx.pos - 1
			startLine = lx.line
			if isSpace(ch) {
				continue
			}
			switch ch {
			case ';', '{':
				if len(st.words) == 0 {
					return st, lx.errorf("unexpected \"%s\"", []byte{ch})
				}
				if ch == '{' {
					st.kind = tokBlockStart
				} else {
					st.kind = tokStatement
				}
				return st, nil
			case '}':
				if len(st.words) != 0 {
					return st, lx.errorf("unexpected \"}\"")
				}
				st.kind = tokBlockDone
				return st, nil
			case '#':
				sharpComment = true
				continue
			case '\\':
				quoted = true
			case '"':
				start++
				dQuoted = true
			case '\'':
				start++
				sQuoted = true
			case '$':
				variable = true
			}
			lastSpace = false
			continue
		}

		if ch == '{' && variable {
			continue
		}
		variable = false
		if ch == '\\' {
			quoted = true
			continue
		}
		if ch == '$' {
			variable = true
			continue
		}

		found := false
		switch {
		case dQuoted:
			if ch == '"' {
				dQuoted = false
				needSpace = true
				found = true
			}
		case sQuoted:
			if ch == '\'' {
				sQuoted = false
				needSpace = true
				found = true
			}
		case isSpace(ch) || ch == ';' || ch == '{':
			lastSpace = true
			found = true
		}
		if !found {
			continue
		}

		if len(st.words) == 0 {
			st.line = startLine
		}
		st.words = append(st.words, unescape(lx.data[start:lx.pos-1]))
		switch ch {
		case ';':
			st.kind = tokStatement
			return st, nil
		case '{':
			st.kind = tokBlockStart
			return st, nil
		}
	}
}

// unescape is nginx's copy step for a finished word: \" \' \\ stand for the
// character, \t \r \n for the control character, and any other backslash
// pair is kept as written.
func unescape(src []byte) string {
	dst := make([]byte, 0, len(src))
	for i := 0; i < len(src); i++ {
		if src[i] == '\\' && i+1 < len(src) {
			switch src[i+1] {
			case '"', '\'', '\\':
				i++
			case 't':
				dst = append(dst, '\t')
				i++
				continue
			case 'r':
				dst = append(dst, '\r')
				i++
				continue
			case 'n':
				dst = append(dst, '\n')
				i++
				continue
			}
		}
		dst = append(dst, src[i])
	}
	return string(dst)
}
