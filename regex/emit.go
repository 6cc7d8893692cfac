package regex

import (
	"strconv"
	"unicode"
)

// highBase moves byte values 0x80-0xFF into the Private Use Area when the
// subject is matched as bytes. regexp2 then sees characters that have no
// case variants, are no word characters and are not Unicode spaces, which
// is how PCRE's default tables treat those bytes. Offsets are unchanged:
// each byte is still one rune.
const highBase = 0xE000

// emitter writes a pattern for regexp2 (default syntax, no options) that
// matches what the parsed PCRE pattern matches. It spells out every
// construct whose regexp2 meaning differs from PCRE's, so only the
// simplest regexp2 syntax is relied on.
type emitter struct {
	b        []byte
	p        *parser
	utf      bool
	ucp      bool
	ambient  bool // caseless state set by the pattern prefix
	ncap     int
	inCall   int    // > 0 while inlining a subroutine call
	open     []int  // groups being emitted, for recursion detection
	seen     []bool // groups (and \K marks) written as capturing groups
	wordText string
	// guard asks the next atomic group to end with a no-op assertion;
	// see atomicGuard.
	guard bool

	// goSyntax writes for Go's regexp package (DFA mode) instead, which
	// lacks lookaround, back references, conditions and atomic groups.
	// Newlines inside the subject are then fed as goNewline so that
	// Go's (?m:$) stands for PCRE's $ (see dfa.go).
	goSyntax    bool
	goBad       bool // the pattern uses something Go cannot run
	goEndNL     bool // uses $ or \Z: internal newlines must be remapped
	goLineStart bool // uses multiline ^ or $: newlines must stay
}

func emitPattern(p *parser, root *node, f Flags) string {
	e := &emitter{p: p, utf: p.utf, ucp: p.ucp, ncap: p.ncap}
	e.seen = make([]bool, p.ncap+p.keeps+1)
	e.b = make([]byte, 0, len(p.pat)*2+16)
	if f&Caseless != 0 {
		e.ambient = true
		e.str("(?i)")
	}
	if f&Anchored != 0 {
		e.str(`\G(?:`)
		e.node(root)
		e.str(")")
	} else {
		e.node(root)
	}
	// Groups that were never written (inside (?(DEFINE)...), say) must
	// still exist for regexp2, as groups that can never be set.
	for g := 1; g < len(e.seen); g++ {
		if !e.seen[g] {
			e.str("(?:(?!)(?<")
			e.b = strconv.AppendInt(e.b, int64(g), 10)
			e.str(">))?")
		}
	}
	return string(e.b)
}

// goNewline stands for a newline that is not the subject's last character
// when DFA mode feeds Go's regexp (see dfa.go).
const goNewline = unicode.MaxRune

// emitGo writes the pattern for Go's regexp package.
func emitGo(p *parser, root *node, f Flags) (string, *emitter) {
	e := &emitter{p: p, utf: p.utf, ucp: p.ucp, ncap: p.ncap, goSyntax: true}
	e.seen = make([]bool, p.ncap+p.keeps+1)
	if f&Caseless != 0 {
		e.ambient = true
		e.str("(?i)")
	}
	e.node(root)
	if e.goEndNL && e.goLineStart {
		e.goBad = true
	}
	return string(e.b), e
}

func (e *emitter) str(s string) { e.b = append(e.b, s...) }

// char writes one character value as a literal that means the same inside
// and outside a class.
func (e *emitter) char(r rune) {
	if !e.utf && r >= 0x80 && r <= 0xFF {
		r += highBase
	}
	if r < 0x80 && (r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
		e.b = append(e.b, byte(r))
		return
	}
	e.b = append(e.b, `\x{`...)
	e.b = strconv.AppendUint(e.b, uint64(r), 16)
	e.b = append(e.b, '}')
}

// caseOpen starts a scope for an item whose caseless state differs from
// the ambient one; caseClose ends it.
func (e *emitter) caseOpen(flags uint8) bool {
	c := flags&fCaseless != 0
	if c == e.ambient {
		return false
	}
	if c {
		e.str("(?i:")
	} else {
		e.str("(?-i:")
	}
	return true
}

func (e *emitter) caseClose(opened bool) {
	if opened {
		e.str(")")
	}
}

func (e *emitter) node(n *node) {
	switch n.op {
	case opEmpty:
	case opLit:
		if e.goSyntax && n.r == '\n' {
			e.class(charset{{'\n', '\n'}}, false)
			return
		}
		o := e.caseOpen(n.flags)
		e.char(n.r)
		e.caseClose(o)
	case opClass:
		o := e.caseOpen(n.flags)
		e.class(n.cls, n.neg)
		e.caseClose(o)
	case opAny:
		if n.flags&fDotAll != 0 {
			e.str("(?s:.)")
		} else {
			e.class(charset{{'\n', '\n'}}, true)
		}
	case opAnyByte:
		e.str("(?s:.)")
	case opBOL:
		if e.goSyntax {
			if n.flags&fMultiline != 0 {
				e.goLineStart = true
				e.str(`(?m:^)`)
			} else {
				e.str(`\A`)
			}
			return
		}
		if n.flags&fMultiline != 0 {
			// PCRE's multiline ^ does not match after a newline that
			// ends the subject.
			e.str(`(?m:^)(?!(?<=\n)\z)`)
		} else {
			e.str(`\A`)
		}
	case opEOL, opEndZ:
		if e.goSyntax {
			if n.op == opEOL && n.flags&fMultiline != 0 {
				e.goLineStart = true
			} else {
				e.goEndNL = true
			}
			e.str(`(?m:$)`)
			return
		}
		if n.op == opEOL && n.flags&fMultiline != 0 {
			e.str(`(?m:$)`)
		} else {
			e.str(`\Z`)
		}
	case opBegin:
		e.str(`\A`)
	case opEnd:
		e.str(`\z`)
	case opStartPos:
		if e.goSyntax {
			e.goBad = true
			return
		}
		e.str(`\G`)
	case opWordB, opNotWordB:
		e.wordBoundary(n.op == opWordB)
	case opKeep:
		if e.goSyntax {
			e.goBad = true
			return
		}
		e.seen[e.ncap+n.group] = true
		e.str("(?<")
		e.b = strconv.AppendInt(e.b, int64(e.ncap+n.group), 10)
		e.str(">)")
	case opFail:
		e.fail()
	case opNewlineSeq:
		if e.goSyntax {
			e.str(`(?:\r\n|`)
			if e.utf {
				e.class(charset{{'\n', '\r'}, {0x85, 0x85}, {0x2028, 0x2029}}, false)
			} else {
				e.class(charset{{'\n', '\r'}, {0x85, 0x85}}, false)
			}
			e.str(")")
			return
		}
		switch {
		case e.p.bsrCRLF:
			e.str(`(?>\r\n|[\n\r])`)
		case e.utf:
			e.str(`(?>\r\n|[\n\x{B}\f\r\x{85}\x{2028}\x{2029}])`)
		default:
			e.str(`(?>\r\n|[\n\x{B}\f\r\x{E085}])`)
		}
	case opGrapheme:
		if e.goSyntax {
			e.str(`(?:\r\n|(?s:.))`)
			return
		}
		if e.utf {
			e.str(`(?>\r\n|\P{M}\p{M}*|\p{M}+)`)
		} else {
			e.str(`(?>\r\n|(?s:.))`)
		}
	case opConcat:
		e.concat(n.subs)
	case opAlt:
		e.str("(?:")
		for i, s := range n.subs {
			if i > 0 {
				e.str("|")
			}
			e.node(s)
		}
		e.str(")")
	case opCapture:
		e.open = append(e.open, n.group)
		if e.inCall > 0 || e.goSyntax {
			e.str("(?:")
		} else {
			e.seen[n.group] = true
			e.str("(?<")
			e.b = strconv.AppendInt(e.b, int64(n.group), 10)
			e.str(">")
		}
		e.node(n.subs[0])
		e.str(")")
		e.open = e.open[:len(e.open)-1]
	case opGroup:
		e.wrap("(?:", n.subs[0])
	case opAtomic:
		if e.goSyntax {
			e.wrap("(?:", n.subs[0])
			return
		}
		g := e.takeGuard()
		e.str("(?>")
		e.node(n.subs[0])
		e.str(g)
		e.str(")")
	case opLookahead, opLookbehind, opBackref, opCond:
		if e.goSyntax {
			e.goBad = true
			return
		}
		e.assertion(n)
	case opRepeat:
		e.repeat(n)
	case opCall:
		e.call(n)
	}
}

func (e *emitter) assertion(n *node) {
	switch n.op {
	case opLookahead:
		if n.neg {
			e.wrap("(?!", n.subs[0])
		} else {
			e.wrap("(?=", n.subs[0])
		}
	case opLookbehind:
		if n.neg {
			e.wrap("(?<!", n.subs[0])
		} else {
			e.wrap("(?<=", n.subs[0])
		}
	case opBackref:
		e.backref(n)
	case opCond:
		e.cond(n)
	}
}

// fail writes an item that never matches.
func (e *emitter) fail() {
	if e.goSyntax {
		e.str(`[^\x{0}-\x{10ffff}]`)
		return
	}
	e.str("(?!)")
}

func (e *emitter) wrap(prefix string, n *node) {
	e.str(prefix)
	e.node(n)
	e.str(")")
}

// concat writes a sequence, giving each run of literals with the same
// non-ambient case state one scope.
func (e *emitter) concat(subs []*node) {
	for i := 0; i < len(subs); {
		s := subs[i]
		if s.op != opLit || (s.flags&fCaseless != 0) == e.ambient {
			e.node(s)
			i++
			continue
		}
		o := e.caseOpen(s.flags)
		for i < len(subs) && subs[i].op == opLit && subs[i].flags&fCaseless == s.flags&fCaseless {
			e.char(subs[i].r)
			i++
		}
		e.caseClose(o)
	}
}

// class writes a character class over the matching domain: bytes
// (0-0xFF, high ones moved by highBase) or code points.
func (e *emitter) class(set charset, neg bool) {
	set = set.norm()
	if !e.utf {
		set = set.clip(0xFF)
	}
	if e.goSyntax && set.contains('\n') {
		set = append(set, rng{goNewline, goNewline})
	}
	if len(set) == 0 {
		if neg {
			e.str("(?s:.)")
		} else {
			e.fail()
		}
		return
	}
	e.str("[")
	if neg {
		e.str("^")
	}
	for _, r := range set {
		if !e.utf && r.lo < 0x80 && r.hi >= 0x80 {
			e.rangeText(r.lo, 0x7F)
			e.rangeText(0x80, r.hi)
			continue
		}
		e.rangeText(r.lo, r.hi)
	}
	e.str("]")
}

func (e *emitter) rangeText(lo, hi rune) {
	e.char(lo)
	if hi != lo {
		e.str("-")
		e.char(hi)
	}
}

// wordBoundary writes \b or \B. regexp2's own \b knows Unicode word
// characters, which is right only for the byte domain without UCP.
func (e *emitter) wordBoundary(at bool) {
	if !e.utf && !e.ucp || e.goSyntax {
		if at {
			e.str(`\b`)
		} else {
			e.str(`\B`)
		}
		return
	}
	if e.wordText == "" {
		save := e.b
		e.b = nil
		if e.ucp {
			s, _ := propertySet("Xwd", false)
			e.class(s, false)
		} else {
			e.class(setWord, false)
		}
		e.wordText = string(e.b)
		e.b = save
	}
	w := e.wordText
	if at {
		e.str("(?:(?<=" + w + ")(?!" + w + ")|(?<!" + w + ")(?=" + w + "))")
	} else {
		e.str("(?:(?<=" + w + ")(?=" + w + ")|(?<!" + w + ")(?!" + w + "))")
	}
}

func isAssertion(n *node) bool {
	return n.op == opLookahead || n.op == opLookbehind
}

func (e *emitter) repeat(n *node) {
	sub := n.subs[0]
	if isAssertion(sub) {
		// PCRE runs a repeated assertion at most once, and not at all
		// when the maximum is zero.
		switch {
		case n.max == 0:
		case n.min == 0:
			e.wrap("(?:", sub)
			e.str("?")
			if n.lazy {
				e.str("?")
			}
		default:
			e.node(sub)
		}
		return
	}
	if !e.goSyntax && n.max > 1 && n.max > n.min && n.max <= maxUnroll && canBeEmpty(sub, 0) {
		e.unrolled(n)
		return
	}
	possessive := n.possessive && !e.goSyntax
	guard := ""
	if possessive {
		guard = e.takeGuard()
		e.str("(?>")
	}
	if !e.goSyntax && n.max != 1 && endsAtomic(sub) {
		e.guard = true
	}
	switch sub.op {
	case opLit, opAny, opClass:
		e.node(sub)
	default:
		e.wrap("(?:", sub)
	}
	e.guard = false
	switch {
	case n.min == 0 && n.max < 0:
		e.str("*")
	case n.min == 1 && n.max < 0:
		e.str("+")
	case n.min == 0 && n.max == 1:
		e.str("?")
	default:
		e.str("{")
		e.b = strconv.AppendInt(e.b, int64(n.min), 10)
		if n.max != n.min {
			e.str(",")
			if n.max >= 0 {
				e.b = strconv.AppendInt(e.b, int64(n.max), 10)
			}
		}
		e.str("}")
	}
	if n.lazy && !e.goSyntax {
		e.str("?")
	}
	if possessive {
		e.str(guard)
		e.str(")")
	}
}

// backref writes a back reference. With duplicate names the first group
// of the name that is set is used, as PCRE does; in JavaScript mode a
// reference to an unset group matches the empty string.
func (e *emitter) backref(n *node) {
	o := e.caseOpen(n.flags)
	if len(n.refs) == 1 && !e.p.js {
		e.ref(n.refs[0])
	} else {
		for _, g := range n.refs {
			e.str("(?(")
			e.b = strconv.AppendInt(e.b, int64(g), 10)
			e.str(")")
			e.ref(g)
			e.str("|")
		}
		if !e.p.js {
			e.str("(?!)")
		}
		for range n.refs {
			e.str(")")
		}
	}
	e.caseClose(o)
}

func (e *emitter) ref(g int) {
	e.str(`\k<`)
	e.b = strconv.AppendInt(e.b, int64(g), 10)
	e.str(">")
}

func (e *emitter) cond(n *node) {
	yes := n.subs[0]
	var no *node
	if len(n.subs) > 1 {
		no = n.subs[1]
	}
	switch n.cond {
	case condFalse:
		if no != nil {
			e.wrap("(?:", no)
		}
	case condAssert:
		a := n.assert
		e.str("(?(")
		switch {
		case a.op == opLookahead && !a.neg:
			e.str("?=")
		case a.op == opLookahead:
			e.str("?!")
		case !a.neg:
			e.str("?<=")
		default:
			e.str("?<!")
		}
		e.node(a.subs[0])
		e.str(")")
		e.branches(yes, no)
		e.str(")")
	case condGroup:
		for i, g := range n.refs {
			e.str("(?(")
			e.b = strconv.AppendInt(e.b, int64(g), 10)
			e.str(")")
			e.node(yes)
			if i < len(n.refs)-1 {
				e.str("|")
			}
		}
		if no != nil {
			e.str("|")
			e.node(no)
		}
		for range n.refs {
			e.str(")")
		}
	}
}

func (e *emitter) branches(yes, no *node) {
	// A yes branch that is itself an alternation needs its own group so
	// that its '|' is not read as the condition's.
	if yes.op == opAlt {
		e.wrap("(?:", yes)
	} else {
		e.node(yes)
	}
	if no != nil {
		e.str("|")
		e.node(no)
	}
}

// call inlines a subroutine call. PCRE treats a call as an atomic group
// (PCRE2 does not) whose captures are undone afterwards, so the copy has
// no capturing groups. A recursive call cannot be inlined.
func (e *emitter) call(n *node) {
	for _, g := range e.open {
		if g == n.group {
			e.p.fail(errRecursionLoop, n.nameEnd, n.pos)
		}
	}
	if n.group == 0 {
		e.p.fail(errRecursionLoop, n.nameEnd, n.pos)
	}
	target := e.p.groups[n.group]
	if len(e.open) > maxNesting {
		e.p.fail(errTooDeep, n.pos, n.pos)
	}
	e.inCall++
	g := ""
	if e.p.pcre2 || e.goSyntax {
		e.str("(?:")
	} else {
		g = e.takeGuard()
		e.str("(?>")
	}
	e.node(target)
	e.str(g)
	e.str(")")
	e.inCall--
	e.checkSize()
}

// atomicGuard is a zero-width assertion that always holds. regexp2's loop
// reduction folds a loop around an atomic single-character loop, as in
// (?:(?>[a-z]+)){2}, into one character loop and so lets the outer loop
// backtrack into the atomic group; ending the group with this assertion
// keeps the reduction from applying.
const atomicGuard = `(?!\b\B)`

// takeGuard returns the assertion to put at the end of the atomic group
// being written, if its enclosing loop asked for one.
func (e *emitter) takeGuard() string {
	if e.guard {
		e.guard = false
		return atomicGuard
	}
	return ""
}

// endsAtomic reports whether n is, through non-capturing groups, an
// atomic construct: what the regexp2 reduction mishandles as a loop body.
func endsAtomic(n *node) bool {
	for n.op == opGroup {
		n = n.subs[0]
	}
	switch n.op {
	case opAtomic, opCall:
		return true
	case opRepeat:
		return n.possessive
	}
	return false
}

// maxUnroll bounds the counted repeats that unrolled writes out.
const maxUnroll = 16

// maxRewrite bounds the rewritten pattern. Inlined calls and unrolled
// repeats copy text, and nesting them grows it geometrically; PCRE has
// the same growth and answers "regular expression is too large".
const maxRewrite = 1 << 19

func (e *emitter) checkSize() {
	if len(e.b) > maxRewrite {
		e.p.fail(errTooLarge, len(e.p.src), len(e.p.src))
	}
}

// unrolled writes X{n,m} as n copies of X followed by nested optional
// copies, as PCRE compiles it. regexp2's counted loop stops after an
// iteration that matched the empty string; PCRE's copies do not, which
// shows when a later copy could match more (and set other groups).
func (e *emitter) unrolled(n *node) {
	sub := n.subs[0]
	if n.possessive {
		e.str("(?>")
	}
	for i := 0; i < n.min; i++ {
		e.wrap("(?:", sub)
		e.checkSize()
	}
	opt := n.max - n.min
	for i := 0; i < opt; i++ {
		e.str("(?:")
		e.wrap("(?:", sub)
		e.checkSize()
	}
	for i := 0; i < opt; i++ {
		e.str(")?")
		if n.lazy {
			e.str("?")
		}
	}
	if n.possessive {
		e.str(")")
	}
}

// canBeEmpty reports whether n may match the empty string (erring
// towards yes).
func canBeEmpty(n *node, depth int) bool {
	switch n.op {
	case opLit, opClass, opAny, opAnyByte, opNewlineSeq, opGrapheme, opFail:
		return false
	case opConcat:
		for _, s := range n.subs {
			if !canBeEmpty(s, depth) {
				return false
			}
		}
		return true
	case opAlt:
		for _, s := range n.subs {
			if canBeEmpty(s, depth) {
				return true
			}
		}
		return false
	case opCapture, opGroup, opAtomic:
		return canBeEmpty(n.subs[0], depth)
	case opRepeat:
		return n.min == 0 || canBeEmpty(n.subs[0], depth)
	}
	return true
}
