package regex

// resolve binds named references to group numbers and checks that every
// referenced group exists, reporting the offsets each dialect reports.
func (p *parser) resolve() {
	for _, n := range p.refs {
		switch n.op {
		case opBackref:
			if n.name != "" {
				n.refs = p.groupsNamed(n.name)
				if len(n.refs) == 0 {
					p.fail(errNoSuchGroup, n.nameEnd, n.end)
				}
				continue
			}
			if n.refs[0] > p.ncap {
				p.fail(errNoSuchGroup, len(p.pat), n.end)
			}
		case opCall:
			if n.name != "" {
				refs := p.groupsNamed(n.name)
				if len(refs) == 0 {
					p.fail(errNoSuchGroup, n.nameEnd, n.end)
				}
				n.group = refs[0]
				continue
			}
			if n.group > p.ncap {
				p.fail(errNoSuchGroup, n.nameEnd, n.end)
			}
		case opCond:
			if n.name != "" {
				n.refs = p.groupsNamed(n.name)
				if len(n.refs) == 0 {
					p.fail(errNoSuchGroup, n.nameEnd, n.end)
				}
				continue
			}
			if n.refs[0] > p.ncap {
				p.fail(errNoSuchGroup, n.nameEnd, n.end)
			}
		}
	}
}

// groupsNamed returns the numbers of the groups called name, ascending.
func (p *parser) groupsNamed(name string) []int {
	var out []int
	for _, d := range p.names {
		if d.name == name {
			out = append(out, d.group)
		}
	}
	return out
}

// checkLookbehinds enforces PCRE's rule that every top-level branch of a
// lookbehind matches a fixed number of characters.
func (p *parser) checkLookbehinds(n *node) {
	if n == nil {
		return
	}
	if n.op == opLookbehind {
		branches := []*node{n.subs[0]}
		if n.subs[0].op == opAlt {
			branches = n.subs[0].subs
		}
		for _, b := range branches {
			p.forwardCall = false
			if _, ok := p.fixedLen(b, 0); !ok {
				// PCRE checks a lookbehind that calls a later group
				// only once the whole pattern is compiled.
				off := n.end
				if p.forwardCall {
					off = len(p.pat)
				}
				p.fail(errLookbehindLen, off, n.pos)
			}
		}
	}
	if n.assert != nil {
		p.checkLookbehinds(n.assert)
	}
	for _, s := range n.subs {
		p.checkLookbehinds(s)
	}
}

// fixedLen returns the number of characters n always matches, or false.
// depth bounds the walk through subroutine calls.
func (p *parser) fixedLen(n *node, depth int) (int, bool) {
	switch n.op {
	case opEmpty, opBOL, opEOL, opBegin, opEndZ, opEnd, opStartPos, opWordB, opNotWordB,
		opKeep, opFail, opLookahead, opLookbehind:
		return 0, true
	case opLit, opClass, opAny:
		return 1, true
	case opAnyByte:
		if p.utf {
			p.fail(errLookbehindC, n.end, n.pos)
		}
		return 1, true
	case opNewlineSeq, opGrapheme:
		return 0, false
	case opConcat:
		total := 0
		for _, s := range n.subs {
			l, ok := p.fixedLen(s, depth)
			if !ok {
				return 0, false
			}
			total += l
		}
		return total, true
	case opAlt:
		return p.sameLen(n.subs, depth)
	case opCapture, opGroup, opAtomic:
		return p.fixedLen(n.subs[0], depth)
	case opRepeat:
		if n.min != n.max {
			return 0, false
		}
		l, ok := p.fixedLen(n.subs[0], depth)
		return l * n.min, ok
	case opBackref:
		// PCRE2 accepts a reference to a group of fixed length; PCRE
		// does not accept references at all.
		if !p.pcre2 || len(n.refs) != 1 || depth > maxNesting {
			return 0, false
		}
		return p.fixedLen(p.groups[n.refs[0]], depth+1)
	case opCond:
		branches := n.subs
		if len(branches) == 1 {
			branches = append([]*node{branches[0]}, &node{op: opEmpty})
		}
		return p.sameLen(branches, depth)
	case opCall:
		if n.group == 0 || depth > maxNesting {
			return 0, false
		}
		target := p.groups[n.group]
		if target.pos > n.pos {
			p.forwardCall = true
		}
		return p.fixedLen(target, depth+1)
	}
	return 0, false
}

func (p *parser) sameLen(subs []*node, depth int) (int, bool) {
	want := -1
	for _, s := range subs {
		l, ok := p.fixedLen(s, depth)
		if !ok || want >= 0 && l != want {
			return 0, false
		}
		want = l
	}
	if want < 0 {
		want = 0
	}
	return want, true
}
