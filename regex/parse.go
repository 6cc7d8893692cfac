package regex

import (
	"strings"
	"unicode/utf8"
)

// op is the kind of a syntax node.
type op uint8

const (
	opEmpty      op = iota
	opLit           // r
	opClass         // cls, neg
	opAny           // . (dotall from flags)
	opAnyByte       // \C
	opBOL           // ^
	opEOL           // $
	opBegin         // \A
	opEndZ          // \Z
	opEnd           // \z
	opStartPos      // \G
	opWordB         // \b
	opNotWordB      // \B
	opKeep          // \K
	opFail          // (*FAIL)
	opNewlineSeq    // \R
	opGrapheme      // \X
	opConcat        // subs
	opAlt           // subs
	opCapture       // group, subs[0]
	opGroup         // subs[0]
	opAtomic        // subs[0]
	opLookahead     // subs[0], neg
	opLookbehind    // subs[0], neg
	opRepeat        // subs[0], min, max, lazy, possessive
	opBackref       // refs (or name until resolved)
	opCond          // cond, subs[0] yes, subs[1] no (optional)
	opCall          // group (or name until resolved)
)

// Inline option bits tracked while parsing.
const (
	fCaseless uint8 = 1 << iota
	fMultiline
	fDotAll
	fExtended
	fUngreedy
	fDupNames
	fNoAutoCapture
)

// Condition kinds of opCond.
const (
	condGroup  = iota // refs
	condAssert        // subs[0] is the assertion, yes/no follow
	condFalse         // (R...), (DEFINE): never true here
)

type node struct {
	op         op
	flags      uint8
	neg        bool
	lazy       bool
	possessive bool
	cond       uint8
	r          rune
	min, max   int // max < 0: unbounded
	group      int
	refs       []int
	name       string
	cls        charset
	subs       []*node
	assert     *node // the assertion of a condAssert opCond

	// pos and end are the construct's offsets in the pattern, for error
	// reports. For references (back references, calls, conditions) end
	// is where PCRE2 reports a missing group, and nameEnd where PCRE
	// does.
	pos, end int
	nameEnd  int
}

type nameDef struct {
	name  string
	group int
}

// parseError carries an *Error out of the recursive descent.
type parseError struct{ err *Error }

const (
	maxNesting = 250
	maxGroups  = 65535
	maxQuant   = 65535
	maxNameLen = 32
)

type parser struct {
	src       string // the full pattern, for messages
	pat       string // what PCRE reads: PCRE stops at a NUL byte
	pos       int
	pcre2     bool
	js        bool
	utf       bool
	ucp       bool
	bsrCRLF   bool
	flags     uint8
	ncap      int
	depth     int
	lookDepth int
	names     []nameDef
	groups    []*node
	refs      []*node // backrefs, calls and conditions to resolve
	keeps     int
	// forwardCall is set by fixedLen when it follows a call to a group
	// that starts later in the pattern.
	forwardCall bool
	root        *node
}

// parse parses pattern; the tree is p.root.
func parse(pattern string, f Flags) (pp *parser, err *Error) {
	p := &parser{src: pattern, pat: pattern, pcre2: f&PCRE2 != 0, js: f&JavaScript != 0, utf: f&(UTF8|NoUTF8Check) != 0}
	if !p.pcre2 {
		if i := strings.IndexByte(pattern, 0); i >= 0 {
			p.pat = pattern[:i]
		}
	}
	if f&Caseless != 0 {
		p.flags |= fCaseless
	}
	if f&Multiline != 0 {
		p.flags |= fMultiline
	}
	if f&DotAll != 0 {
		p.flags |= fDotAll
	}
	if f&Extended != 0 {
		p.flags |= fExtended
	}
	if f&DupNames != 0 {
		p.flags |= fDupNames
	}
	p.groups = []*node{nil}
	defer catch(&err)
	p.startOptions()
	if p.utf {
		if bad := invalidUTF8At(p.pat); bad >= 0 {
			p.fail(errBadUTF8, bad, bad)
		}
	}
	root := p.parseAlt(false)
	if p.pos < len(p.pat) {
		// Only a ')' stops the top level early.
		p.fail(errUnmatchedParen, p.pos, p.pos)
	}
	p.resolve()
	p.checkLookbehinds(root)
	p.root = root
	return p, nil
}

// catch turns a parseError panic into an *Error; use it deferred.
func catch(err **Error) {
	if r := recover(); r != nil {
		pe, ok := r.(parseError)
		if !ok {
			panic(r)
		}
		*err = pe.err
	}
}

// invalidUTF8At returns the offset of the first invalid UTF-8 sequence, or
// -1.
func invalidUTF8At(s string) int {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

func (p *parser) fail(c errCode, off1, off2 int) {
	off := off1
	if p.pcre2 {
		off = off2
	}
	p.failMsg(message(c, p.pcre2), off)
}

// fail2 reports an error whose kind differs between the dialects.
func (p *parser) fail2(c1 errCode, off1 int, c2 errCode, off2 int) {
	if p.pcre2 {
		p.fail(c2, off2, off2)
	}
	p.fail(c1, off1, off1)
}

func (p *parser) failMsg(msg string, off int) {
	if off > len(p.src) {
		off = len(p.src)
	}
	panic(parseError{&Error{Pattern: p.src, Offset: off, Message: msg, PCRE2: p.pcre2}})
}

func (p *parser) unsupported(what string, off int) {
	p.failMsg(what+" is not supported", off)
}

func (p *parser) more() bool { return p.pos < len(p.pat) }

func (p *parser) peek() byte {
	if p.pos < len(p.pat) {
		return p.pat[p.pos]
	}
	return 0
}

func (p *parser) peekAt(i int) byte {
	if p.pos+i < len(p.pat) {
		return p.pat[p.pos+i]
	}
	return 0
}

func (p *parser) lookingAt(s string) bool { return strings.HasPrefix(p.pat[p.pos:], s) }

// startOptions consumes the (*UTF8)-style items PCRE accepts only at the
// very start of a pattern.
func (p *parser) startOptions() {
	for p.lookingAt("(*") {
		end := strings.IndexByte(p.pat[p.pos:], ')')
		if end < 0 {
			return
		}
		name := p.pat[p.pos+2 : p.pos+end]
		switch {
		case name == "UTF" || name == "UTF8":
			p.utf = true
		case name == "UCP":
			p.ucp = true
		case name == "LF" || name == "NO_START_OPT" || name == "NO_AUTO_POSSESS" ||
			name == "BSR_UNICODE" || name == "NO_JIT" || name == "NO_DOTSTAR_ANCHOR":
		case name == "BSR_ANYCRLF":
			p.bsrCRLF = true
		case strings.HasPrefix(name, "LIMIT_MATCH=") || strings.HasPrefix(name, "LIMIT_RECURSION=") ||
			strings.HasPrefix(name, "LIMIT_DEPTH=") || strings.HasPrefix(name, "LIMIT_HEAP="):
			digits := name[strings.IndexByte(name, '=')+1:]
			if digits == "" || strings.Trim(digits, "0123456789") != "" {
				return
			}
		case name == "CR" || name == "CRLF" || name == "ANYCRLF" || name == "ANY" || name == "NUL":
			p.unsupported("newline convention (*"+name+")", p.pos+end)
		default:
			return
		}
		p.pos += end + 1
	}
}

// skip passes over what PCRE ignores between items: (?#...) comments, \Q\E
// and \E, and in extended mode white space and #-comments.
func (p *parser) skip() {
	for p.more() {
		c := p.pat[p.pos]
		switch {
		case p.flags&fExtended != 0 && isExtSpace(c):
			p.pos++
		case p.flags&fExtended != 0 && c == '#':
			for p.more() && p.pat[p.pos] != '\n' {
				p.pos++
			}
		case p.lookingAt("(?#"):
			end := strings.IndexByte(p.pat[p.pos:], ')')
			if end < 0 {
				p.fail(errMissingCommentEnd, len(p.pat), len(p.pat))
			}
			p.pos += end + 1
		case p.lookingAt(`\Q\E`):
			p.pos += 4
		case p.lookingAt(`\E`):
			p.pos += 2
		default:
			return
		}
	}
}

// skipExtended passes over extended mode's white space and #-comments.
func (p *parser) skipExtended() {
	for p.flags&fExtended != 0 && p.more() {
		c := p.pat[p.pos]
		switch {
		case isExtSpace(c):
			p.pos++
		case c == '#':
			for p.more() && p.pat[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

func isExtSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// parseAlt parses alternatives up to an unmatched ')' or the end. With
// reset set it is a (?| group: every branch numbers its groups from the
// same start.
func (p *parser) parseAlt(reset bool) *node {
	start := p.pos
	base := p.ncap
	top := base
	var branches []*node
	for {
		if reset {
			p.ncap = base
		}
		branches = append(branches, p.parseConcat())
		if p.ncap > top {
			top = p.ncap
		}
		if p.peek() != '|' {
			break
		}
		p.pos++
	}
	p.ncap = top
	if len(branches) == 1 {
		return branches[0]
	}
	return &node{op: opAlt, subs: branches, pos: start, end: p.pos}
}

func (p *parser) parseConcat() *node {
	start := p.pos
	var items []*node
	for {
		p.skip()
		if !p.more() || p.peek() == '|' || p.peek() == ')' {
			break
		}
		if p.lookingAt(`\Q`) {
			items = p.parseQuoted(items)
			continue
		}
		atom := p.parseAtom()
		items = p.parseQuantifiers(atom, items)
	}
	switch len(items) {
	case 0:
		return &node{op: opEmpty, pos: start, end: p.pos}
	case 1:
		return items[0]
	}
	return &node{op: opConcat, subs: items, pos: start, end: p.pos}
}

// parseQuoted handles \Q...\E: each quoted character is a literal that a
// following quantifier may repeat.
func (p *parser) parseQuoted(items []*node) []*node {
	p.pos += 2
	for p.more() {
		if p.lookingAt(`\E`) {
			p.pos += 2
			return items
		}
		start := p.pos
		r := p.nextChar()
		lit := &node{op: opLit, r: r, flags: p.flags, pos: start, end: p.pos}
		if p.lookingAt(`\E`) {
			p.pos += 2
			return p.parseQuantifiers(lit, items)
		}
		items = append(items, lit)
	}
	return items
}

// nextChar reads one literal character: a byte, or a UTF-8 sequence in
// UTF-8 mode.
func (p *parser) nextChar() rune {
	c := p.pat[p.pos]
	if !p.utf || c < utf8.RuneSelf {
		p.pos++
		return rune(c)
	}
	r, n := utf8.DecodeRuneInString(p.pat[p.pos:])
	p.pos += n
	return r
}

// quantifier describes a parsed *, +, ?, or {n,m}.
type quantifier struct {
	min, max   int
	start, end int // offsets of the first and last character
}

// readQuantifier reads a quantifier at pos if there is one.
func (p *parser) readQuantifier() (quantifier, bool) {
	if !p.more() {
		return quantifier{}, false
	}
	start := p.pos
	switch p.peek() {
	case '*':
		p.pos++
		return quantifier{0, -1, start, start}, true
	case '+':
		p.pos++
		return quantifier{1, -1, start, start}, true
	case '?':
		p.pos++
		return quantifier{0, 1, start, start}, true
	case '{':
		if !p.isBraceQuantifier(p.pos) {
			return quantifier{}, false
		}
		p.pos++
		lo := p.readQuantNumber()
		hi := lo
		if p.peek() == ',' {
			p.pos++
			if p.peek() == '}' {
				hi = -1
			} else {
				hi = p.readQuantNumber()
				if hi < lo {
					p.fail(errQuantOrder, p.pos, p.pos)
				}
			}
		}
		end := p.pos
		p.pos++ // '}'
		return quantifier{lo, hi, start, end}, true
	}
	return quantifier{}, false
}

// isBraceQuantifier reports whether a '{' at i starts {n}, {n,} or {n,m};
// anything else is a literal brace.
func (p *parser) isBraceQuantifier(i int) bool {
	i++
	d := 0
	for i < len(p.pat) && isDigit(p.pat[i]) {
		i++
		d++
	}
	if d == 0 || i >= len(p.pat) {
		return false
	}
	if p.pat[i] == '}' {
		return true
	}
	if p.pat[i] != ',' {
		return false
	}
	i++
	for i < len(p.pat) && isDigit(p.pat[i]) {
		i++
	}
	return i < len(p.pat) && p.pat[i] == '}'
}

func (p *parser) readQuantNumber() int {
	n := 0
	for p.more() && isDigit(p.peek()) {
		n = n*10 + int(p.peek()-'0')
		p.pos++
		if n > maxQuant {
			for p.more() && isDigit(p.peek()) {
				p.pos++
			}
			p.fail(errQuantTooBig, p.pos, p.pos)
		}
	}
	return n
}

// parseQuantifiers applies any quantifiers after atom and appends the
// result. atom is nil for items that produce nothing, such as (?i).
func (p *parser) parseQuantifiers(atom *node, items []*node) []*node {
	for {
		p.skip()
		q, ok := p.readQuantifier()
		if !ok {
			break
		}
		if atom == nil || !repeatable(atom) {
			p.fail(errNothingToRepeat, q.end, q.end)
		}
		lazy := p.flags&fUngreedy != 0
		possessive := false
		// Extended mode lets white space and comments separate a
		// quantifier from its ? or + suffix, but not (?#) or \Q\E.
		p.skipExtended()
		switch p.peek() {
		case '?':
			lazy = !lazy
			p.pos++
		case '+':
			possessive = true
			lazy = false
			p.pos++
		}
		atom = &node{op: opRepeat, subs: []*node{atom}, min: q.min, max: q.max, lazy: lazy,
			possessive: possessive, pos: atom.pos, end: p.pos}
		// A quantified item cannot take another quantifier.
		p.skip()
		if q2, again := p.readQuantifier(); again {
			p.fail(errNothingToRepeat, q2.end, q2.end)
		}
		break
	}
	if atom != nil {
		items = append(items, atom)
	}
	return items
}

func repeatable(n *node) bool {
	switch n.op {
	case opBOL, opEOL, opBegin, opEndZ, opEnd, opStartPos, opWordB, opNotWordB, opKeep, opFail, opEmpty:
		return false
	case opRepeat:
		return false
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_'
}

// parseAtom parses one item; it returns nil for option settings and
// callouts, which match nothing.
func (p *parser) parseAtom() *node {
	start := p.pos
	c := p.peek()
	switch c {
	case '(':
		return p.parseGroup()
	case '[':
		return p.parseClass()
	case '.':
		p.pos++
		return &node{op: opAny, flags: p.flags, pos: start, end: p.pos}
	case '^':
		p.pos++
		return &node{op: opBOL, flags: p.flags, pos: start, end: p.pos}
	case '$':
		p.pos++
		return &node{op: opEOL, flags: p.flags, pos: start, end: p.pos}
	case '\\':
		return p.parseEscapeAtom()
	case '*', '+', '?':
		p.fail(errNothingToRepeat, start, start)
	case '{':
		if p.isBraceQuantifier(p.pos) {
			q, _ := p.readQuantifier()
			p.fail(errNothingToRepeat, q.end, q.end)
		}
	case ']':
		if p.js {
			p.fail(errJSBracket, start, start)
		}
	}
	r := p.nextChar()
	return &node{op: opLit, r: r, flags: p.flags, pos: start, end: p.pos}
}
