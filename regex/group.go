package regex

import "strings"

// parseGroup parses everything that starts with '('.
func (p *parser) parseGroup() *node {
	start := p.pos
	p.pos++
	if p.peek() == '*' {
		return p.parseVerb(start)
	}
	p.depth++
	if p.depth > maxNesting {
		p.fail(errTooDeep, start, start)
	}
	defer func() { p.depth-- }()

	if p.peek() != '?' {
		if p.flags&fNoAutoCapture != 0 {
			return p.finishGroup(&node{op: opGroup, pos: start}, false)
		}
		p.ncap++
		if p.ncap > maxGroups {
			p.fail(errTooManyGroups, p.pos, p.pos)
		}
		n := &node{op: opCapture, group: p.ncap, pos: start}
		p.groups = append(p.groups, n)
		return p.finishGroup(n, false)
	}
	p.pos++
	if !p.more() {
		if p.pcre2 {
			p.fail(errMissingParen, len(p.pat), len(p.pat))
		}
		p.fail(errUnknownGroup, len(p.pat), len(p.pat))
	}
	c := p.peek()
	switch c {
	case ':':
		p.pos++
		return p.finishGroup(&node{op: opGroup, pos: start}, false)
	case '|':
		p.pos++
		return p.finishGroup(&node{op: opGroup, pos: start}, true)
	case '>':
		p.pos++
		return p.finishGroup(&node{op: opAtomic, pos: start}, false)
	case '=', '!':
		p.pos++
		return p.finishLook(&node{op: opLookahead, neg: c == '!', pos: start})
	case '<':
		switch p.peekAt(1) {
		case '=', '!':
			neg := p.peekAt(1) == '!'
			p.pos += 2
			return p.finishLook(&node{op: opLookbehind, neg: neg, pos: start})
		}
		p.pos++
		if !p.more() {
			p.fail(errNameTerminator, len(p.pat), len(p.pat))
		}
		if !isWordByte(p.peek()) {
			p.fail2(errAfterLt, p.pos, errNameExpected, p.pos)
		}
		return p.namedGroup(start, '>')
	case '\'':
		p.pos++
		return p.namedGroup(start, '\'')
	case 'P':
		p.pos++
		switch p.peek() {
		case '<':
			p.pos++
			return p.namedGroup(start, '>')
		case '=':
			p.pos++
			name, end := p.readName(')')
			n := &node{op: opBackref, flags: p.flags, name: name, nameEnd: end, pos: start, end: end - len(name)}
			p.refs = append(p.refs, n)
			return n
		case '>':
			p.pos++
			e := p.readCallTarget(')')
			n := &node{op: opCall, name: e.name, group: e.ref, nameEnd: e.nameEnd, pos: start, end: e.pcre2Off}
			p.refs = append(p.refs, n)
			return n
		}
		if !p.more() {
			p.fail(errAfterP, len(p.pat), len(p.pat))
		}
		p.fail(errAfterP, p.pos, p.pos)
	case '&':
		p.pos++
		e := p.readCallTarget(')')
		if e.name == "" {
			p.fail(errNameExpected, p.pos-1, p.pos-1)
		}
		n := &node{op: opCall, name: e.name, nameEnd: e.nameEnd, pos: start, end: e.pcre2Off}
		p.refs = append(p.refs, n)
		return n
	case 'R':
		p.pos++
		if p.peek() != ')' {
			p.fail(errRecursionSyntax, p.pos, p.pos)
		}
		p.pos++
		n := &node{op: opCall, group: 0, pos: start, nameEnd: p.pos - 1, end: p.pos - 1}
		p.refs = append(p.refs, n)
		return n
	case '+', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if c == '-' && !isDigit(p.peekAt(1)) {
			break // an option setting such as (?-i)
		}
		e := p.readCallTarget(')')
		n := &node{op: opCall, group: e.ref, nameEnd: e.nameEnd, pos: start, end: e.pcre2Off}
		p.refs = append(p.refs, n)
		return n
	case '(':
		return p.parseCond(start)
	case 'C':
		p.pos++
		digitsAt := p.pos
		v := 0
		for p.more() && isDigit(p.peek()) {
			v = v*10 + int(p.peek()-'0')
			p.pos++
			if v > 255 {
				for p.more() && isDigit(p.peek()) {
					p.pos++
				}
				p.fail(errCalloutNumber, p.pos, p.pos)
			}
		}
		if p.peek() != ')' {
			if !p.more() && p.pcre2 && p.pos == digitsAt {
				p.fail(errMissingParen, len(p.pat), len(p.pat))
			}
			p.fail(errCalloutParen, p.pos, p.pos)
		}
		p.pos++
		// Callouts call nothing here, as in nginx, which sets no
		// callout function.
		return nil
	}
	return p.parseOptions(start)
}

// parseOptions handles (?imsx-imsx) and (?imsx-imsx:...).
func (p *parser) parseOptions(start int) *node {
	on := true
	flags := p.flags
	for {
		if !p.more() {
			if p.pcre2 {
				p.fail(errMissingParen, len(p.pat), len(p.pat))
			}
			p.fail(errUnknownGroup, len(p.pat), len(p.pat))
		}
		c := p.peek()
		var bit uint8
		switch c {
		case 'i':
			bit = fCaseless
		case 'm':
			bit = fMultiline
		case 's':
			bit = fDotAll
		case 'x':
			bit = fExtended
		case 'U':
			bit = fUngreedy
		case 'J':
			bit = fDupNames
		case 'X':
			if p.pcre2 {
				p.fail(errUnknownGroup, p.pos, p.pos)
			}
		case 'n':
			if !p.pcre2 {
				p.fail(errUnknownGroup, p.pos, p.pos)
			}
			bit = fNoAutoCapture
		case '^':
			// PCRE2's (?^) unsets i, m, n, s and x first.
			if !p.pcre2 || p.pos != start+2 {
				p.fail(errUnknownGroup, p.pos, p.pos)
			}
			flags &^= fCaseless | fMultiline | fNoAutoCapture | fDotAll | fExtended
			p.pos++
			continue
		case '-':
			if !on && p.pcre2 {
				p.fail(errInvalidHyphen, p.pos, p.pos)
			}
			on = false
			p.pos++
			continue
		case ')':
			// The new options last to the end of the enclosing group,
			// whose finishGroup restores the outer ones.
			p.pos++
			p.flags = flags
			return nil
		case ':':
			p.pos++
			outer := p.flags
			p.flags = flags
			n := p.finishGroup(&node{op: opGroup, pos: start}, false)
			p.flags = outer
			return n
		default:
			p.fail(errUnknownGroup, p.pos, p.pos)
		}
		if on {
			flags |= bit
		} else {
			flags &^= bit
		}
		p.pos++
	}
}

func (p *parser) namedGroup(start int, closer byte) *node {
	name, nameEnd := p.readName(closer)
	p.ncap++
	if p.ncap > maxGroups {
		p.fail(errTooManyGroups, p.pos, p.pos)
	}
	for _, d := range p.names {
		if d.name != name {
			if d.group == p.ncap {
				p.fail(errDiffNames, nameEnd, nameEnd+1)
			}
			continue
		}
		if d.group != p.ncap && p.flags&fDupNames == 0 {
			p.fail(errDupName, nameEnd, nameEnd+1)
		}
	}
	p.names = append(p.names, nameDef{name, p.ncap})
	n := &node{op: opCapture, group: p.ncap, name: name, pos: start}
	p.groups = append(p.groups, n)
	return p.finishGroup(n, false)
}

// finishGroup parses the body of a group and its ')'. Option changes
// inside the group end with it.
func (p *parser) finishGroup(n *node, reset bool) *node {
	outer := p.flags
	body := p.parseAlt(reset)
	p.flags = outer
	if p.peek() != ')' {
		p.fail(errMissingParen, len(p.pat), len(p.pat))
	}
	n.end = p.pos
	p.pos++
	n.subs = []*node{body}
	return n
}

func (p *parser) finishLook(n *node) *node {
	p.lookDepth++
	defer func() { p.lookDepth-- }()
	return p.finishGroup(n, false)
}

// parseCond parses (?(condition)yes|no); pos is at the inner '('.
func (p *parser) parseCond(start int) *node {
	condAt := p.pos
	p.pos++
	n := &node{op: opCond, pos: start}
	switch {
	case p.peek() == '?':
		switch {
		case p.lookingAt("?=") || p.lookingAt("?!") || p.lookingAt("?<=") || p.lookingAt("?<!"):
			// The condition is an assertion group starting at condAt.
			p.pos = condAt
			n.cond = condAssert
			n.assert = p.parseGroup()
		case p.lookingAt("?C"):
			// A callout may precede the assertion; callouts do nothing.
			p.pos = condAt
			p.parseGroup()
			if !p.lookingAt("(?=") && !p.lookingAt("(?!") && !p.lookingAt("(?<=") && !p.lookingAt("(?<!") {
				p.fail(errCondAssert, condAt, p.pos)
			}
			n.cond = condAssert
			n.assert = p.parseGroup()
		default:
			p.fail(errCondAssert, p.pos, condAt)
		}
	case p.peek() == 'R':
		// (?(R)...), (?(Rn)...) and (?(R&name)...) test for recursion,
		// which never happens here.
		end := strings.IndexByte(p.pat[p.pos:], ')')
		if end < 0 {
			p.fail2(errCondSyntax, len(p.pat), errNameTerminator, len(p.pat))
		}
		digits := p.pat[p.pos+1 : p.pos+end]
		if p.pcre2 && digits != "" && strings.Trim(digits, "0123456789") == "" {
			// PCRE2 checks that the group of (?(Rn) exists.
			v := 0
			for i := 0; i < len(digits) && v <= maxGroups; i++ {
				v = v*10 + int(digits[i]-'0')
			}
			n.refs = []int{v}
			n.nameEnd, n.end = p.pos, p.pos
			p.refs = append(p.refs, n)
		}
		p.pos += end + 1
		n.cond = condFalse
	case p.lookingAt("DEFINE)"):
		p.pos += len("DEFINE)")
		n.cond = condFalse
		n.name = "DEFINE"
	case isDigit(p.peek()) || p.peek() == '+' || p.peek() == '-':
		sign := 0
		if p.peek() == '+' {
			sign = 1
			p.pos++
		} else if p.peek() == '-' {
			sign = -1
			p.pos++
		}
		numAt := p.pos
		v := 0
		for p.more() && isDigit(p.peek()) {
			v = v*10 + int(p.peek()-'0')
			p.pos++
			if v > maxGroups*10 {
				p.fail(errNumberTooBig, p.pos-1, p.pos)
			}
		}
		if p.pos == numAt {
			p.fail(errCondSyntax, p.pos, p.pos)
		}
		if p.peek() != ')' {
			if !p.more() {
				p.fail(errCondParen, len(p.pat), len(p.pat))
			}
			p.fail(errCondParen, p.pos, p.pos)
		}
		p.pos++
		switch sign {
		case -1:
			if v == 0 || v > p.ncap {
				p.fail(errNoSuchGroup, p.pos, p.pos-1)
			}
			v = p.ncap - v + 1
		case 1:
			v = p.ncap + v
		}
		if v == 0 {
			p.fail(errCondZero, p.pos, p.pos-1)
		}
		n.cond = condGroup
		n.refs = []int{v}
		n.nameEnd = p.pos
		n.end = condAt
		p.refs = append(p.refs, n)
	default:
		closer := byte(')')
		nameAt := p.pos
		if p.peek() == '<' {
			closer = '>'
			p.pos++
		} else if p.peek() == '\'' {
			closer = '\''
			p.pos++
		}
		if !p.more() || !isWordByte(p.peek()) {
			if !p.more() {
				p.fail(errCondSyntax, len(p.pat), len(p.pat))
			}
			p.fail(errCondSyntax, p.pos, p.pos)
		}
		nameStart := p.pos
		for p.more() && isWordByte(p.peek()) {
			p.pos++
		}
		name := p.pat[nameStart:p.pos]
		if len(name) > maxNameLen {
			p.fail(errNameTooLong, p.pos, p.pos)
		}
		if p.peek() != closer {
			if !p.more() {
				p.fail2(errCondSyntax, len(p.pat), errNameTerminator, len(p.pat))
			}
			p.fail2(errCondSyntax, p.pos, errNameTerminator, p.pos)
		}
		p.pos++
		if closer != ')' {
			if p.peek() != ')' {
				p.fail(errCondParen, p.pos, p.pos)
			}
			p.pos++
		}
		n.cond = condGroup
		n.name = name
		n.nameEnd = p.pos
		if closer != ')' {
			n.end = nameAt + 1
		} else {
			n.end = nameAt
		}
		p.refs = append(p.refs, n)
	}
	outer := p.flags
	body := p.parseAlt(false)
	p.flags = outer
	if p.peek() != ')' {
		p.fail(errMissingParen, len(p.pat), len(p.pat))
	}
	branches := []*node{body}
	if body.op == opAlt {
		branches = body.subs
	}
	if n.name == "DEFINE" && n.cond == condFalse && len(branches) > 1 {
		p.fail(errDefineBranches, p.pos, condAt+1)
	}
	if len(branches) > 2 {
		if n.cond == condGroup && n.name == "" && n.refs[0] > countGroups(p.pat) {
			p.fail(errNoSuchGroup, n.nameEnd, condAt)
		}
		p.fail(errCondBranches, p.pos, start)
	}
	p.pos++
	n.subs = branches
	return n
}

// parseVerb parses (*VERB) items after the start of the pattern, and
// PCRE2's (*alpha_assertion:...) spellings of lookarounds.
func (p *parser) parseVerb(start int) *node {
	p.pos++
	nameStart := p.pos
	for p.more() && (isWordByte(p.peek()) && (p.pcre2 || !isDigit(p.peek()))) {
		p.pos++
	}
	name := p.pat[nameStart:p.pos]
	if p.pcre2 && name != "" && name[0] >= 'a' && name[0] <= 'z' {
		return p.alphaAssertion(start, name)
	}
	hasArg := false
	if p.peek() == ':' {
		hasArg = true
		end := strings.IndexByte(p.pat[p.pos:], ')')
		if end < 0 {
			p.fail(errVerbUnknown, len(p.pat), len(p.pat))
		}
		p.pos += end
	}
	if p.peek() != ')' {
		if !p.more() {
			p.fail(errVerbUnknown, len(p.pat), len(p.pat))
		}
		p.fail(errVerbUnknown, p.pos, p.pos)
	}
	switch name {
	case "FAIL", "F":
		if hasArg {
			p.fail(errVerbArg, p.pos, p.pos)
		}
		p.pos++
		return &node{op: opFail, pos: start, end: p.pos}
	case "MARK", "":
		if !hasArg {
			p.fail(errMarkArg, p.pos, p.pos)
		}
		// A mark only names the path that matched; nginx and ngx.re
		// never read it.
		p.pos++
		return nil
	case "ACCEPT", "COMMIT":
		if hasArg && !p.pcre2 {
			p.fail(errVerbArg, p.pos, p.pos)
		}
	case "PRUNE", "SKIP", "THEN":
	default:
		p.fail(errVerbUnknown, p.pos, p.pos)
	}
	p.unsupported("the backtracking control verb (*"+name+")", start)
	return nil
}

// alphaAssertion handles PCRE2's (*name:...) forms of lookarounds and
// atomic groups; pos is after the name.
func (p *parser) alphaAssertion(start int, name string) *node {
	var n *node
	switch name {
	case "pla", "positive_lookahead":
		n = &node{op: opLookahead}
	case "nla", "negative_lookahead":
		n = &node{op: opLookahead, neg: true}
	case "plb", "positive_lookbehind":
		n = &node{op: opLookbehind}
	case "nlb", "negative_lookbehind":
		n = &node{op: opLookbehind, neg: true}
	case "atomic":
		n = &node{op: opAtomic}
	case "napla", "non_atomic_positive_lookahead", "naplb", "non_atomic_positive_lookbehind",
		"sr", "script_run", "asr", "atomic_script_run":
		if p.peek() == ':' {
			p.unsupported("(*"+name+":", start)
		}
	}
	if n == nil || p.peek() != ':' {
		p.fail(errAlphaAssertion, p.pos, p.pos)
	}
	p.pos++
	n.pos = start
	p.depth++
	if p.depth > maxNesting {
		p.fail(errTooDeep, start, start)
	}
	defer func() { p.depth-- }()
	if n.op == opAtomic {
		return p.finishGroup(n, false)
	}
	return p.finishLook(n)
}

// countGroups counts the capturing groups of a whole pattern with a quick
// scan. PCRE knows the final count when it checks some references; this
// serves the same purpose where the parser has not got that far yet.
func countGroups(pat string) int {
	n := 0
	inClass := false
	for i := 0; i < len(pat); i++ {
		switch c := pat[i]; {
		case c == '\\':
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			if i+1 < len(pat) && pat[i+1] == ']' {
				i++
			}
		case c == '(':
			rest := pat[i+1:]
			if strings.HasPrefix(rest, "?(") {
				// The parenthesis of a condition is no group.
				i += 2
				continue
			}
			if !strings.HasPrefix(rest, "?") && !strings.HasPrefix(rest, "*") ||
				strings.HasPrefix(rest, "?<") && len(rest) > 2 && rest[2] != '=' && rest[2] != '!' ||
				strings.HasPrefix(rest, "?'") || strings.HasPrefix(rest, "?P<") {
				n++
			}
		}
	}
	return n
}
