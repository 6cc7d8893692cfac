package regex

import "strings"

// parseClass parses [...] from the '['.
func (p *parser) parseClass() *node {
	start := p.pos
	if p.posixAt(p.pos) != 0 {
		if p.pat[p.pos+1] == ':' {
			p.fail(errPosixOutside, start, start)
		}
		p.fail(errPosixCollating, start, start)
	}
	p.pos++
	n := &node{op: opClass, flags: p.flags, pos: start}
	if p.peek() == '^' {
		n.neg = true
		p.pos++
	}
	if p.js && p.peek() == ']' {
		p.pos++
		n.end = p.pos
		if n.neg {
			n.op = opAny
			n.flags |= fDotAll
			return n
		}
		n.op = opFail
		return n
	}
	var set charset
	first := true
	quoting := false
	for {
		if !p.more() {
			p.fail(errMissingBracket, len(p.pat), len(p.pat))
		}
		if quoting {
			if p.lookingAt(`\E`) {
				p.pos += 2
				quoting = false
				continue
			}
		} else {
			c := p.peek()
			if c == ']' && !first {
				p.pos++
				break
			}
			if c == '[' {
				if kind := p.posixAt(p.pos); kind != 0 {
					set.addSet(p.readPosix())
					first = false
					if p.pcre2 && p.peek() == '-' && p.peekAt(1) != ']' {
						p.fail(errInvalidRange, p.pos, p.pos)
					}
					continue
				}
			}
			if p.lookingAt(`\Q`) {
				p.pos += 2
				quoting = true
				continue
			}
			if p.lookingAt(`\E`) {
				p.pos += 2
				continue
			}
		}
		first = false
		lo, isChar, sub := p.classItem(quoting)
		if !isChar {
			set.addSet(sub)
			if p.peek() == '-' && p.peekAt(1) != ']' && p.pos+1 < len(p.pat) && p.pcre2 {
				p.fail(errInvalidRange, p.pos, p.pos)
			}
			continue
		}
		if p.peek() != '-' || p.pos+1 >= len(p.pat) || p.peekAt(1) == ']' || p.hyphenEndsClass() {
			set.add(lo, lo)
			continue
		}
		// A range: lo '-' hi.
		dash := p.pos
		p.pos++
		if p.peek() == '[' && p.posixAt(p.pos) != 0 {
			p.fail(errInvalidRange, p.pos, p.pos+1)
		}
		if !quoting && p.lookingAt(`\Q`) {
			p.pos += 2
			quoting = true
			if p.lookingAt(`\E`) {
				p.pos = dash
				set.add(lo, lo)
				p.pos++
				set.add('-', '-')
				continue
			}
		}
		hi, hiIsChar, _ := p.classItem(quoting)
		if !hiIsChar {
			p.fail(errInvalidRange, p.pos-1, p.pos)
		}
		if hi < lo {
			p.fail(errRangeOrder, p.pos-1, p.pos-1)
		}
		set.add(lo, hi)
	}
	n.cls = set
	n.end = p.pos
	return n
}

// hyphenEndsClass reports whether the '-' at pos is followed, past any
// \E or \Q\E, by the class's closing ']', which makes it a literal.
func (p *parser) hyphenEndsClass() bool {
	i := p.pos + 1
	for {
		switch {
		case strings.HasPrefix(p.pat[i:], `\E`):
			i += 2
		case strings.HasPrefix(p.pat[i:], `\Q\E`):
			i += 4
		default:
			return i < len(p.pat) && p.pat[i] == ']' && i > p.pos+1
		}
	}
}

// classItem reads one member of a class: a character (isChar) or a set
// from an escape such as \d or \p{L}.
func (p *parser) classItem(quoting bool) (rune, bool, charset) {
	if quoting || p.peek() != '\\' {
		return p.nextChar(), true, nil
	}
	p.pos++
	e := p.readEscape(true)
	switch e.kind {
	case escChar:
		return e.r, true, nil
	case escProp:
		if e.neg {
			return 0, false, e.cls.complement(maxRune)
		}
		return 0, false, e.cls
	case escType:
		set := p.typeSet(e.letter)
		if e.letter >= 'A' && e.letter <= 'Z' {
			set = set.complement(maxRune)
		}
		return 0, false, set
	}
	// \Q and \E are consumed by the caller; other kinds cannot occur.
	return 0, false, nil
}

// posixAt reports whether a POSIX class item ([:name:], [.x.] or [=x=])
// starts at i: it returns its punctuation character or 0.
func (p *parser) posixAt(i int) byte {
	if i+1 >= len(p.pat) || p.pat[i] != '[' {
		return 0
	}
	term := p.pat[i+1]
	if term != ':' && term != '.' && term != '=' {
		return 0
	}
	for j := i + 2; j+1 < len(p.pat); j++ {
		c := p.pat[j]
		if c == '\\' {
			return 0
		}
		if c == ']' && !(j == i+2) && p.pat[j-1] != term {
			return 0
		}
		if c == term && p.pat[j+1] == ']' {
			return term
		}
		if c == '[' && j+1 < len(p.pat) && (p.pat[j+1] == ':' || p.pat[j+1] == '.' || p.pat[j+1] == '=') {
			return 0
		}
	}
	return 0
}

// readPosix reads [:name:] or [:^name:] at pos.
func (p *parser) readPosix() charset {
	start := p.pos
	if p.pat[p.pos+1] != ':' {
		p.fail(errPosixCollating, start, start)
	}
	p.pos += 2
	neg := false
	if p.peek() == '^' {
		neg = true
		p.pos++
	}
	nameStart := p.pos
	end := strings.Index(p.pat[p.pos:], ":]")
	name := p.pat[p.pos : p.pos+end]
	p.pos += end + 2
	var set charset
	if prop, ok := posixUCP[name]; ok && p.ucp {
		set, _ = propertySet(prop, false)
	} else if base, ok := posixClasses[name]; ok {
		set.addSet(base)
	} else {
		p.fail(errPosixUnknown, nameStart, nameStart)
	}
	if neg {
		return set.complement(maxRune)
	}
	return set
}
