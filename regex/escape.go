package regex

import (
	"strings"
	"unicode/utf8"
)

// Escape kinds returned by readEscape.
const (
	escChar     = iota // r
	escType            // letter: d D s S w W h H v V R X C N b B A Z z G K
	escProp            // cls, neg
	escBackref         // ref (absolute number), or name
	escCall            // \g<...>: ref or name
	escQuote           // \Q
	escEndQuote        // \E
)

// escape is what readEscape found. For references, nameEnd and pcre2Off
// are the offsets PCRE and PCRE2 report when the group does not exist.
type escape struct {
	kind     int
	r        rune
	letter   byte
	cls      charset
	neg      bool
	ref      int
	name     string
	nameEnd  int
	pcre2Off int
}

// readEscape reads the escape after a backslash at p.pos-1.
func (p *parser) readEscape(inClass bool) escape {
	bs := p.pos - 1
	if !p.more() {
		p.fail(errEndBackslash, len(p.pat), len(p.pat))
	}
	c := p.peek()
	if c >= utf8.RuneSelf && p.utf {
		r := p.nextChar()
		return escape{kind: escChar, r: r}
	}
	p.pos++
	switch c {
	case 'a':
		return escape{kind: escChar, r: 7}
	case 'e':
		return escape{kind: escChar, r: 0x1B}
	case 'f':
		return escape{kind: escChar, r: '\f'}
	case 'n':
		return escape{kind: escChar, r: '\n'}
	case 'r':
		return escape{kind: escChar, r: '\r'}
	case 't':
		return escape{kind: escChar, r: '\t'}
	case '0':
		return escape{kind: escChar, r: p.readOctalDigits(rune(0), 2)}
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return p.readDigitEscape(c, inClass)
	case 'o':
		return escape{kind: escChar, r: p.readOctalBrace(bs)}
	case 'x':
		return p.readHexEscape()
	case 'c':
		if !p.more() {
			p.fail(errEndBackslashC, len(p.pat), len(p.pat))
		}
		x := p.peek()
		if x >= 0x80 || p.pcre2 && (x < 0x20 || x > 0x7E) {
			p.fail(errCNotASCII, p.pos, p.pos)
		}
		p.pos++
		if x >= 'a' && x <= 'z' {
			x -= 'a' - 'A'
		}
		return escape{kind: escChar, r: rune(x ^ 0x40)}
	case 'b':
		if inClass {
			return escape{kind: escChar, r: '\b'}
		}
		return escape{kind: escType, letter: c}
	case 'd', 'D', 's', 'S', 'w', 'W', 'h', 'H', 'v', 'V':
		return escape{kind: escType, letter: c}
	case 'B', 'R', 'X':
		if inClass {
			if p.pcre2 {
				p.fail(errClassEscape, p.pos-1, p.pos-1)
			}
			return escape{kind: escChar, r: rune(c)}
		}
		return escape{kind: escType, letter: c}
	case 'A', 'Z', 'z', 'G', 'K', 'C':
		if inClass {
			if p.pcre2 {
				p.fail(errClassEscape, p.pos-1, p.pos-1)
			}
			return escape{kind: escChar, r: rune(c)}
		}
		return escape{kind: escType, letter: c}
	case 'N':
		if p.peek() == '{' && !p.isBraceQuantifier(p.pos) {
			if p.pcre2 && p.lookingAt("{U+") {
				if !p.utf {
					p.fail(errNUnicode, p.pos-1, p.pos)
				}
				p.pos += 3
				r := p.readHexUntilBrace()
				return escape{kind: escChar, r: r}
			}
			p.fail(errUnsupportedEscape, p.pos-1, p.pos)
		}
		if inClass {
			p.fail(errNInClass, p.pos-1, p.pos)
		}
		return escape{kind: escType, letter: c}
	case 'p', 'P':
		return p.readProperty(c == 'P')
	case 'Q':
		return escape{kind: escQuote}
	case 'E':
		return escape{kind: escEndQuote}
	case 'g':
		if inClass {
			if p.pcre2 {
				p.fail(errUnknownEscape, p.pos-1, p.pos-1)
			}
			return escape{kind: escChar, r: 'g'}
		}
		return p.readGEscape()
	case 'k':
		if inClass {
			if p.pcre2 {
				p.fail(errUnknownEscape, p.pos-1, p.pos-1)
			}
			return escape{kind: escChar, r: 'k'}
		}
		return p.readKEscape()
	case 'u':
		if p.js {
			if r, ok := p.readFixedHex(4); ok {
				return escape{kind: escChar, r: r}
			}
			return escape{kind: escChar, r: 'u'}
		}
		p.fail(errUnsupportedEscape, p.pos-1, p.pos)
	case 'U':
		if p.js {
			return escape{kind: escChar, r: 'U'}
		}
		p.fail(errUnsupportedEscape, p.pos-1, p.pos)
	case 'L', 'l':
		p.fail(errUnsupportedEscape, p.pos-1, p.pos)
	case 'F':
		if p.pcre2 {
			p.fail(errUnsupportedEscape, p.pos-1, p.pos)
		}
	}
	if isWordByte(c) && p.pcre2 {
		p.fail(errUnknownEscape, p.pos-1, p.pos-1)
	}
	return escape{kind: escChar, r: rune(c)}
}

// readOctalDigits continues an octal escape whose first digit value is v,
// reading up to n more digits.
func (p *parser) readOctalDigits(v rune, n int) rune {
	for i := 0; i < n && p.more() && p.peek() >= '0' && p.peek() <= '7'; i++ {
		v = v*8 + rune(p.peek()-'0')
		p.pos++
	}
	if !p.utf && v > 0xFF {
		p.fail(errOctalTooBig, p.pos-1, p.pos)
	}
	return v
}

// readDigitEscape handles \1 to \9: a back reference, an octal escape or
// a literal 8 or 9, by PCRE's rules.
func (p *parser) readDigitEscape(c byte, inClass bool) escape {
	digitsAt := p.pos - 1
	if !inClass {
		save := p.pos
		n := int(c - '0')
		for p.more() && isDigit(p.peek()) {
			n = n*10 + int(p.peek()-'0')
			p.pos++
			if n > maxGroups*10 {
				for p.more() && isDigit(p.peek()) {
					p.pos++
				}
				p.fail(errNumberTooBig, p.pos-1, p.pos)
			}
		}
		if p.pcre2 {
			if n < 10 || c >= '8' || n <= p.ncap {
				return escape{kind: escBackref, ref: n, nameEnd: len(p.pat), pcre2Off: digitsAt}
			}
		} else if n < 8 || n <= p.ncap {
			return escape{kind: escBackref, ref: n, nameEnd: len(p.pat), pcre2Off: digitsAt}
		}
		p.pos = save
	}
	if c >= '8' {
		return escape{kind: escChar, r: rune(c)}
	}
	return escape{kind: escChar, r: p.readOctalDigits(rune(c-'0'), 2)}
}

// readHexEscape handles \xhh and \x{h...}.
func (p *parser) readHexEscape() escape {
	if p.peek() == '{' && !p.js {
		p.pos++
		return escape{kind: escChar, r: p.readHexUntilBrace()}
	}
	if p.js {
		if r, ok := p.readFixedHex(2); ok {
			return escape{kind: escChar, r: r}
		}
		return escape{kind: escChar, r: 'x'}
	}
	v := rune(0)
	for i := 0; i < 2 && p.more() && isHex(p.peek()); i++ {
		v = v*16 + hexVal(p.peek())
		p.pos++
	}
	return escape{kind: escChar, r: v}
}

// readHexUntilBrace reads the digits of \x{...} (pos is after the '{').
func (p *parser) readHexUntilBrace() rune {
	start := p.pos
	v := rune(0)
	over := false
	for p.more() && isHex(p.peek()) {
		v = v*16 + hexVal(p.peek())
		if v > maxRune {
			over = true
			v = maxRune + 1
		}
		p.pos++
	}
	if !p.more() {
		if p.pos == start {
			if p.pcre2 {
				p.fail(errDigitsMissing, len(p.pat), len(p.pat))
			}
		}
		p.fail(errNonHex, len(p.pat), len(p.pat))
	}
	if p.peek() != '}' {
		p.fail(errNonHex, p.pos, p.pos)
	}
	if p.pos == start {
		p.fail(errDigitsMissing, p.pos, p.pos)
	}
	p.pos++
	p.checkCodePoint(v, over, p.pos-1)
	return v
}

func (p *parser) checkCodePoint(v rune, over bool, off int) {
	if over || v > maxRune || !p.utf && v > 0xFF {
		p.fail(errCharTooBig, off, off)
	}
	if p.utf && v >= 0xD800 && v <= 0xDFFF {
		p.fail(errSurrogate, off, off)
	}
}

// readOctalBrace reads \o{...}; bs is the offset of the backslash.
func (p *parser) readOctalBrace(bs int) rune {
	if p.peek() != '{' {
		p.fail(errOBrace, p.pos-1, p.pos-1)
	}
	p.pos++
	start := p.pos
	v := rune(0)
	over := false
	for p.more() && p.peek() >= '0' && p.peek() <= '7' {
		v = v*8 + rune(p.peek()-'0')
		if v > maxRune {
			over = true
			v = maxRune + 1
		}
		p.pos++
	}
	if !p.more() {
		if p.pos == start && p.pcre2 {
			p.fail(errDigitsMissing, len(p.pat), len(p.pat))
		}
		p.fail(errNonOctal, len(p.pat), len(p.pat))
	}
	if p.peek() != '}' {
		p.fail(errNonOctal, p.pos, p.pos)
	}
	if p.pos == start {
		p.fail(errDigitsMissing, bs+1, p.pos)
	}
	p.pos++
	p.checkCodePoint(v, over, p.pos-1)
	return v
}

// readFixedHex reads exactly n hex digits (JavaScript's \xhh and \uhhhh),
// leaving pos alone when they are not there.
func (p *parser) readFixedHex(n int) (rune, bool) {
	if p.pos+n > len(p.pat) {
		return 0, false
	}
	v := rune(0)
	for i := 0; i < n; i++ {
		c := p.pat[p.pos+i]
		if !isHex(c) {
			return 0, false
		}
		v = v*16 + hexVal(c)
	}
	p.pos += n
	if !p.utf && v > 0xFF {
		p.fail(errCharTooBig, p.pos-1, p.pos-1)
	}
	return v, true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c-'a') + 10
	}
	return rune(c-'A') + 10
}

// readProperty reads the rest of \p or \P.
func (p *parser) readProperty(neg bool) escape {
	if !p.more() {
		p.fail(errPropSyntax, len(p.pat), len(p.pat))
	}
	var name string
	if p.peek() == '{' {
		end := strings.IndexByte(p.pat[p.pos:], '}')
		if end < 0 {
			p.fail(errPropSyntax, len(p.pat), len(p.pat))
		}
		name = p.pat[p.pos+1 : p.pos+end]
		p.pos += end + 1
		if strings.HasPrefix(name, "^") {
			neg = !neg
			name = name[1:]
		}
	} else {
		name = p.pat[p.pos : p.pos+1]
		p.pos++
	}
	set, ok := propertySet(name, p.pcre2)
	if !ok {
		p.fail(errPropUnknown, p.pos-1, p.pos)
	}
	return escape{kind: escProp, cls: set, neg: neg}
}

// readGEscape reads \g forms: \gN, \g{N}, \g{-N}, \g{name} (references)
// and \g<...>, \g'...' (subroutine calls).
func (p *parser) readGEscape() escape {
	gAt := p.pos - 1
	if p.peek() == '<' || p.peek() == '\'' {
		open := p.peek()
		closer := byte('>')
		if open == '\'' {
			closer = '\''
		}
		p.pos++
		e := p.readCallTarget(closer)
		e.kind = escCall
		return e
	}
	braced := p.peek() == '{'
	if braced {
		p.pos++
	}
	open := p.pos
	sign := 0
	if p.peek() == '-' {
		sign = -1
		p.pos++
	} else if p.peek() == '+' {
		sign = 1
		p.pos++
	}
	if !isDigit(p.peek()) {
		if braced && sign == 0 && p.more() && isWordByte(p.peek()) {
			name, nameEnd := p.readName('}')
			return escape{kind: escBackref, name: name, nameEnd: nameEnd, pcre2Off: nameEnd - len(name)}
		}
		if braced {
			p.fail2(errGSyntax, p.pos, errNameExpected, p.pos)
		}
		p.fail2(errZeroRef, gAt, errGSyntax, p.pos)
	}
	n := 0
	for p.more() && isDigit(p.peek()) {
		n = n*10 + int(p.peek()-'0')
		p.pos++
		if n > maxGroups*10 {
			p.fail(errNumberTooBig, p.pos-1, p.pos)
		}
	}
	end := p.pos - 1
	if braced {
		if p.peek() != '}' {
			p.fail(errGSyntax, p.pos, p.pos)
		}
		end = p.pos
		p.pos++
	}
	if sign == 1 {
		p.fail(errGSyntax, end, end)
	}
	if n == 0 {
		p.fail(errZeroRef, end, p.pos)
	}
	if sign < 0 {
		if n > p.ncap {
			p.fail(errNoSuchGroup, end, open-1)
		}
		n = p.ncap - n + 1
	}
	return escape{kind: escBackref, ref: n, nameEnd: len(p.pat), pcre2Off: end}
}

// readKEscape reads \k<name>, \k'name' or \k{name}.
func (p *parser) readKEscape() escape {
	var closer byte
	switch p.peek() {
	case '<':
		closer = '>'
	case '\'':
		closer = '\''
	case '{':
		closer = '}'
	default:
		p.fail(errKSyntax, p.pos-1, p.pos)
	}
	p.pos++
	name, nameEnd := p.readName(closer)
	return escape{kind: escBackref, name: name, nameEnd: nameEnd, pcre2Off: nameEnd - len(name)}
}

// readName reads a group name and its closing delimiter; it returns the
// name and the offset of the delimiter.
func (p *parser) readName(closer byte) (string, int) {
	start := p.pos
	if p.more() && isDigit(p.peek()) {
		p.fail(errNameDigit, start, start)
	}
	for p.more() && isWordByte(p.peek()) {
		p.pos++
	}
	name := p.pat[start:p.pos]
	if len(name) > maxNameLen {
		p.fail(errNameTooLong, p.pos, p.pos)
	}
	if !p.more() {
		p.fail(errNameTerminator, len(p.pat), len(p.pat))
	}
	if len(name) == 0 {
		p.fail(errNameExpected, p.pos, p.pos)
	}
	if p.peek() != closer {
		p.fail(errNameTerminator, p.pos, p.pos)
	}
	end := p.pos
	p.pos++
	return name, end
}

// readCallTarget reads the target of a subroutine call up to closer: a
// number, a signed relative number, or a name.
func (p *parser) readCallTarget(closer byte) escape {
	openAt := p.pos - 1
	c := p.peek()
	if isDigit(c) || c == '+' || c == '-' {
		sign := 0
		if c == '+' {
			sign = 1
			p.pos++
		} else if c == '-' {
			sign = -1
			p.pos++
		}
		if !isDigit(p.peek()) {
			p.fail(errDigitAfterSign, p.pos, p.pos)
		}
		n := 0
		for p.more() && isDigit(p.peek()) {
			n = n*10 + int(p.peek()-'0')
			p.pos++
			if n > maxGroups*10 {
				p.fail(errNumberTooBig, p.pos-1, p.pos)
			}
		}
		if p.peek() != closer {
			if !p.more() && p.pcre2 {
				p.fail(errMissingParen, len(p.pat), len(p.pat))
			}
			p.fail(errRecursionSyntax, p.pos, p.pos)
		}
		end := p.pos
		p.pos++
		switch sign {
		case -1:
			if n == 0 || n > p.ncap {
				p.fail(errNoSuchGroup, end, openAt)
			}
			n = p.ncap - n + 1
		case 1:
			if n == 0 {
				p.fail2(errZeroRef, end, errRelZero, end)
			}
			n = p.ncap + n
		}
		return escape{ref: n, nameEnd: end, pcre2Off: end}
	}
	name, end := p.readName(closer)
	return escape{name: name, nameEnd: end, pcre2Off: end - len(name)}
}

// parseEscapeAtom turns an escape outside a class into a node.
func (p *parser) parseEscapeAtom() *node {
	start := p.pos
	p.pos++
	e := p.readEscape(false)
	n := &node{flags: p.flags, pos: start}
	switch e.kind {
	case escChar:
		n.op, n.r = opLit, e.r
	case escProp:
		n.op, n.cls, n.neg = opClass, e.cls, e.neg
	case escType:
		switch e.letter {
		case 'd', 'D', 's', 'S', 'w', 'W', 'h', 'H', 'v', 'V':
			n.op, n.cls, n.neg = opClass, p.typeSet(e.letter), e.letter >= 'A' && e.letter <= 'Z'
		case 'N':
			n.op = opAny
			n.flags &^= fDotAll
		case 'R':
			n.op = opNewlineSeq
		case 'X':
			n.op = opGrapheme
		case 'C':
			n.op = opAnyByte
		case 'b':
			n.op = opWordB
		case 'B':
			n.op = opNotWordB
		case 'A':
			n.op = opBegin
		case 'Z':
			n.op = opEndZ
		case 'z':
			n.op = opEnd
		case 'G':
			n.op = opStartPos
		case 'K':
			if p.lookDepth > 0 && p.pcre2 {
				p.fail(errKInLookaround, len(p.pat), len(p.pat))
			}
			n.op = opKeep
			p.keeps++
			n.group = p.keeps
		}
	case escBackref:
		n.op, n.name, n.nameEnd = opBackref, e.name, e.nameEnd
		n.end = e.pcre2Off
		if e.name == "" {
			n.refs = []int{e.ref}
		}
		p.refs = append(p.refs, n)
	case escCall:
		n.op, n.name, n.group, n.nameEnd = opCall, e.name, e.ref, e.nameEnd
		n.end = e.pcre2Off
		p.refs = append(p.refs, n)
	case escQuote, escEndQuote:
		// Handled by skip and parseConcat; reaching here means an
		// isolated \E, which matches nothing.
		return nil
	}
	if n.op != opBackref && n.op != opCall {
		n.end = p.pos
	}
	return n
}

// typeSet returns the positive set behind \d, \s, \w, \h, \v and their
// upper-case negations.
func (p *parser) typeSet(letter byte) charset {
	var s charset
	switch letter {
	case 'd', 'D':
		if p.ucp {
			s, _ = propertySet("Nd", false)
			return s
		}
		s.addSet(setDigit)
	case 's', 'S':
		if p.ucp {
			s, _ = propertySet("Xsp", false)
			return s
		}
		s.addSet(setSpace)
	case 'w', 'W':
		if p.ucp {
			s, _ = propertySet("Xwd", false)
			return s
		}
		s.addSet(setWord)
	case 'h', 'H':
		s.addSet(setHSpace)
	case 'v', 'V':
		s.addSet(setVSpace)
	}
	return s
}
