package conf

import (
	"bytes"
	"strings"
)

// luaToken is what ngx_lua's block lexer finds: the leftmost match of its
// eight patterns, the earlier pattern winning at the same position.
type luaToken int

const (
	luaNone         luaToken = iota
	luaLeftCurly             // {
	luaRightCurly            // }
	luaLongString            // \[=*\[ and the text up to its closing bracket
	luaLongComment           // --\[=*\[ and the text up to its closing bracket
	luaRightBracket          // \]=*\]
	luaLineComment           // --[^\n]*
	luaDoubleQuoted          // "(?:\\[^\n]|[^"\n\\])*"
	luaSingleQuoted          // '(?:\\[^\n]|[^'\n\\])*'
)

// luaMatch finds the leftmost token in w. For long brackets only the
// opening bracket is matched; level is the number of "=" in it. A match may
// end at the end of w (a line comment cut by the buffer end), because the
// lexer sees only what is in nginx's buffer.
func luaMatch(w []byte) (tok luaToken, from, to, level int) {
	// A quote inside a string that failed to close is escaped there, so a
	// string started at it fails at the same place: remembering where
	// keeps the search linear.
	var failDouble, failSingle int
	for i := 0; i < len(w); i++ {
		switch w[i] {
		case '{':
			return luaLeftCurly, i, i + 1, 0
		case '}':
			return luaRightCurly, i, i + 1, 0
		case '[':
			if end, lv := longBracket(w, i, '['); end > 0 {
				return luaLongString, i, end, lv
			}
		case ']':
			if end, lv := longBracket(w, i, ']'); end > 0 {
				return luaRightBracket, i, end, lv
			}
		case '-':
			if i+1 >= len(w) || w[i+1] != '-' {
				continue
			}
			if end, lv := longBracket(w, i+2, '['); end > 0 {
				return luaLongComment, i, end, lv
			}
			end := i + 2
			for end < len(w) && w[end] != '\n' {
				end++
			}
			return luaLineComment, i, end, 0
		case '"':
			if i < failDouble {
				continue
			}
			end, fail := quotedString(w, i)
			if end > 0 {
				return luaDoubleQuoted, i, end, 0
			}
			failDouble = fail
		case '\'':
			if i < failSingle {
				continue
			}
			end, fail := quotedString(w, i)
			if end > 0 {
				return luaSingleQuoted, i, end, 0
			}
			failSingle = fail
		}
	}
	return luaNone, 0, 0, 0
}

// longBracket matches b=*b at w[i:], returning the end offset and the
// number of "=", or 0 when there is no match.
func longBracket(w []byte, i int, b byte) (end, level int) {
	if i >= len(w) || w[i] != b {
		return 0, 0
	}
	j := i + 1
	for j < len(w) && w[j] == '=' {
		j++
	}
	if j < len(w) && w[j] == b {
		return j + 1, j - i - 1
	}
	return 0, 0
}

// quotedString matches a one-line Lua string literal at w[i:]: a backslash
// escapes any character but a newline, and a newline ends the attempt.
// It returns the end of the match, or 0 and where the attempt failed.
func quotedString(w []byte, i int) (end, fail int) {
	q := w[i]
	for j := i + 1; j < len(w); j++ {
		switch w[j] {
		case '\\':
			if j+1 >= len(w) || w[j+1] == '\n' {
				return 0, j
			}
			j++
		case '\n':
			return 0, j
		case q:
			return j + 1, 0
		}
	}
	return 0, len(w)
}

// readLuaBlock reads the Lua source of a raw block whose "{" has just been
// consumed, up to the matching "}", as ngx_lua's block parser does, and
// returns it without the braces. The source is the concatenation of the
// stretches readLuaToken consumed, which is the text between the braces
// unless nginx's buffer handling dropped a stretch of it (see there).
func (lx *lexer) readLuaBlock() (string, *Error) {
	var src []byte
	level := 1
	// nginx reports an unexpected end of file at the line of the last "{"
	// it met in the block, opening or not.
	curlyLine := lx.line
	for {
		tok, word, err := lx.readLuaToken(curlyLine)
		if err != nil {
			return "", err
		}
		src = append(src, word...)
		switch tok {
		case luaLeftCurly:
			curlyLine = lx.line
			level++
		case luaRightCurly:
			level--
			if level == 0 {
				return string(src[:len(src)-1]), nil
			}
		}
	}
}

// readLuaToken consumes the text up to and including the next token and
// returns it, refilling nginx's buffer window as
// ngx_http_lua_conf_read_lua_token does. Its quirks are kept because they
// decide what nginx accepts, the lines it reports and even the source it
// compiles: it keeps at least half a buffer ahead; a token is looked for
// only inside the window, and a closing long bracket only between the
// opening one and the window's end; when the window holds no token, the
// text read so far is kept but only the newly read bytes are searched and
// their predecessors' newlines are never counted; and when that happens
// twice in a row, the first stretch is dropped from the source.
func (lx *lexer) readLuaToken(curlyLine int) (luaToken, []byte, *Error) {
	start := lx.pos
	startLine := lx.line
	eof := func() *Error {
		lx.line = curlyLine
		return lx.errorf("unexpected end of file, expecting terminating characters for lua code block")
	}
	tooLong := func() *Error {
		lx.line = startLine
		return lx.errorf("too long lua code block, probably missing terminating characters")
	}

	for {
		if lx.pos >= lx.last || (lx.last-lx.pos < bufSize/2 && !lx.fileDone()) {
			if lx.fileDone() {
				return luaNone, nil, eof()
			}
			if lx.last-start == bufSize {
				return luaNone, nil, tooLong()
			}
			lx.refill(start)
		}

		tok, from, to, lv := luaMatch(lx.data[lx.pos:lx.last])
		if tok == luaNone {
			if lx.fileDone() {
				return luaNone, nil, eof()
			}
			if lx.last-lx.pos == bufSize {
				return luaNone, nil, tooLong()
			}
			start = lx.pos
			lx.pos = lx.last
			lx.refill(start)
			continue
		}

		if tok == luaLongString || tok == luaLongComment {
			// Count lines up to the bracket so that a missing closing
			// bracket is reported on the line of the opening one.
			lx.advance(from)
			to -= from
			closing := "]" + strings.Repeat("=", lv) + "]"
			q := bytes.Index(lx.data[lx.pos+to:lx.last], []byte(closing))
			if q < 0 {
				return luaNone, nil, lx.errorf("Lua code block missing the closing long bracket \"%s\", the inlined Lua code may be too long", closing)
			}
			to += q + len(closing)
		}
		lx.advance(to)
		return tok, lx.data[start:lx.pos], nil
	}
}

// advance moves pos by n bytes, counting lines.
func (lx *lexer) advance(n int) {
	lx.line += bytes.Count(lx.data[lx.pos:lx.pos+n], []byte{'\n'})
	lx.pos += n
}
