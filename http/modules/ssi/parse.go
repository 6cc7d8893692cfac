package ssi

import (
	"bytes"

	"gresty/errlog"
	"gresty/http"
)

// The parser's states (ngx_http_ssi_state_e).
const (
	stStart = iota
	stTag
	stComment0
	stComment1
	stSharp
	stPrecommand
	stCommand
	stPreparam
	stParam
	stPreequal
	stPrevalue
	stDoubleQuotedValue
	stQuotedValue
	stQuotedSymbol
	stPostparam
	stCommentEnd0
	stCommentEnd1
	stError
	stErrorEnd0
	stErrorEnd1
)

// What a parse step found.
const (
	// parseAgain: the buffer ended (or plain text was passed over).
	parseAgain = iota
	// parseCommand: a complete command is in c.command and c.params.
	parseCommand
	// parseError: a malformed command ended.
	parseError
)

func isSpace(ch byte) bool { return ch == ' ' || ch == '\r' || ch == '\n' || ch == '\t' }

// parse runs the state machine over cur from pos until a command ends or
// the buffer does. It leaves in copyStart/copyEnd the plain text found,
// which may start before pos when the buffer began inside a "<!--" that
// turned out not to be a command (copyStart is then the buffer's start).
func (c *ctx) parse(r *http.Request) int {
	state := c.state
	looked := c.looked
	buf := c.cur
	last := len(buf)
	copyEnd := c.copyEnd
	start := c.pos
	p := c.pos
	for ; p < last; p++ {
		ch := buf[p]
		if state == stStart {
			// the tight loop: plain text up to the next '<'.
			i := bytes.IndexByte(buf[p:last], '<')
			if i < 0 {
				c.state = state
				c.pos = last
				c.looked = looked
				c.copyEnd = last
				if c.copyStart < 0 {
					c.copyStart = 0
				}
				return parseAgain
			}
			p += i
			copyEnd = p
			looked = 1
			state = stTag
			continue
		}
		switch state {
		case stTag:
			switch ch {
			case '!':
				looked = 2
				state = stComment0
			case '<':
				copyEnd = p
			default:
				copyEnd = p
				looked = 0
				state = stStart
			}
		case stComment0, stComment1:
			switch ch {
			case '-':
				if state == stComment0 {
					looked = 3
					state = stComment1
				} else {
					looked = 4
					state = stSharp
				}
			case '<':
				copyEnd = p
				looked = 1
				state = stTag
			default:
				copyEnd = p
				looked = 0
				state = stStart
			}
		case stSharp:
			switch ch {
			case '#':
				// "<!--" began in the previous buffer: the bytes held
				// back are part of the command.
				if p-start < 4 {
					c.saved = 0
				}
				looked = 0
				state = stPrecommand
			case '<':
				copyEnd = p
				looked = 1
				state = stTag
			default:
				copyEnd = p
				looked = 0
				state = stStart
			}
		case stPrecommand:
			if !isSpace(ch) {
				c.command[0] = ch
				c.commandLen = 1
				c.params = c.params[:0]
				state = stCommand
			}
		case stCommand:
			switch {
			case isSpace(ch):
				state = stPreparam
			case ch == '-':
				state = stCommentEnd0
			default:
				if c.commandLen == commandLen {
					r.Logf(errlog.Error, "the \"%s%s...\" SSI command is too long", c.command[:c.commandLen], []byte{ch})
					state = stError
					break
				}
				c.command[c.commandLen] = ch
				c.commandLen++
			}
		case stPreparam:
			switch {
			case isSpace(ch):
			case ch == '-':
				state = stCommentEnd0
			default:
				c.params = append(c.params, param{})
				pm := &c.params[len(c.params)-1]
				pm.key[0] = ch
				pm.keyLen = 1
				c.valueScratch = c.valueScratch[:0]
				state = stParam
			}
		case stParam:
			pm := &c.params[len(c.params)-1]
			switch {
			case isSpace(ch):
				state = stPreequal
			case ch == '=':
				state = stPrevalue
			case ch == '-':
				state = stErrorEnd0
				r.Logf(errlog.Error, "unexpected \"-\" symbol after \"%s\" parameter in \"%s\" SSI command",
					pm.name(), c.commandName())
			default:
				if pm.keyLen == paramLen {
					state = stError
					r.Logf(errlog.Error, "too long \"%s%s...\" parameter in \"%s\" SSI command",
						pm.name(), []byte{ch}, c.commandName())
					break
				}
				pm.key[pm.keyLen] = ch
				pm.keyLen++
			}
		case stPreequal:
			switch {
			case isSpace(ch):
			case ch == '=':
				state = stPrevalue
			default:
				if ch == '-' {
					state = stErrorEnd0
				} else {
					state = stError
				}
				r.Logf(errlog.Error, "unexpected \"%s\" symbol after \"%s\" parameter in \"%s\" SSI command",
					[]byte{ch}, c.params[len(c.params)-1].name(), c.commandName())
			}
		case stPrevalue:
			switch {
			case isSpace(ch):
			case ch == '"':
				state = stDoubleQuotedValue
			case ch == '\'':
				state = stQuotedValue
			default:
				if ch == '-' {
					state = stErrorEnd0
				} else {
					state = stError
				}
				r.Logf(errlog.Error, "unexpected \"%s\" symbol before value of \"%s\" parameter in \"%s\" SSI command",
					[]byte{ch}, c.params[len(c.params)-1].name(), c.commandName())
			}
		case stDoubleQuotedValue, stQuotedValue:
			quote := byte('"')
			if state == stQuotedValue {
				quote = '\''
			}
			if ch == quote {
				// the value is complete: it is kept as long as the
				// request, since commands may keep it.
				pm := &c.params[len(c.params)-1]
				pm.value = r.Keep(c.valueScratch)
				state = stPostparam
				break
			}
			if ch == '\\' {
				// the backslash stays in the value with the byte it
				// quotes; values are unescaped when they are evaluated.
				c.savedState = state
				state = stQuotedSymbol
			}
			if !c.addValueByte(r, ch) {
				state = stError
			}
		case stQuotedSymbol:
			state = c.savedState
			if !c.addValueByte(r, ch) {
				state = stError
			}
		case stPostparam:
			switch {
			case isSpace(ch):
				state = stPreparam
			case ch == '-':
				state = stCommentEnd0
			default:
				pm := &c.params[len(c.params)-1]
				r.Logf(errlog.Error, "unexpected \"%s\" symbol after \"%s\" value of \"%s\" parameter in \"%s\" SSI command",
					[]byte{ch}, pm.value, pm.name(), c.commandName())
				state = stError
			}
		case stCommentEnd0:
			if ch == '-' {
				state = stCommentEnd1
				break
			}
			r.Logf(errlog.Error, "unexpected \"%s\" symbol in \"%s\" SSI command", []byte{ch}, c.commandName())
			state = stError
		case stCommentEnd1:
			if ch == '>' {
				c.tagEnd(p, looked, copyEnd)
				return parseCommand
			}
			r.Logf(errlog.Error, "unexpected \"%s\" symbol in \"%s\" SSI command", []byte{ch}, c.commandName())
			state = stError
		case stError:
			if ch == '-' {
				state = stErrorEnd0
			}
		case stErrorEnd0:
			if ch == '-' {
				state = stErrorEnd1
			} else {
				state = stError
			}
		case stErrorEnd1:
			if ch == '>' {
				c.tagEnd(p, looked, copyEnd)
				return parseError
			}
			state = stError
		}
	}
	c.state = state
	c.pos = p
	c.looked = looked
	if state == stStart {
		c.copyEnd = p
	} else {
		c.copyEnd = copyEnd
	}
	if c.copyStart < 0 && c.copyEnd >= 0 {
		c.copyStart = 0
	}
	return parseAgain
}

// addValueByte appends one byte to the value being parsed, or logs that
// it is longer than ssi_value_length.
func (c *ctx) addValueByte(r *http.Request, ch byte) bool {
	if len(c.valueScratch) == c.valueLen {
		pm := &c.params[len(c.params)-1]
		r.Logf(errlog.Error, "too long \"%s%s...\" value of \"%s\" parameter in \"%s\" SSI command",
			c.valueScratch, []byte{ch}, pm.name(), c.commandName())
		return false
	}
	c.valueScratch = append(c.valueScratch, ch)
	return true
}

// tagEnd leaves the parser after a command's closing "-->" at p, ready
// for the next one, with the text before the command to copy.
func (c *ctx) tagEnd(p, looked, copyEnd int) {
	c.state = stStart
	c.pos = p + 1
	c.looked = looked
	c.copyEnd = copyEnd
	if c.copyStart < 0 && copyEnd >= 0 {
		c.copyStart = 0
	}
}

func (c *ctx) commandName() []byte { return c.command[:c.commandLen] }
