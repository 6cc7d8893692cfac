package regex

import (
	"io"
	"regexp"
)

// dfaProgs holds the Go programs of a DFA-mode pattern. PCRE's DFA
// matcher reports the longest match at the leftmost position where the
// pattern matches, which is what Go's leftmost-longest mode computes.
type dfaProgs struct {
	// at0 searches from the start of the subject.
	at0 *regexp.Regexp
	// later searches from start offset s > 0: it reads from s-1 and
	// first consumes that character, so that ^, \A and \b at s see the
	// character before s as PCRE does. Group 1 is the match.
	later *regexp.Regexp
	// remap feeds newlines other than a final one as goNewline, which
	// turns Go's (?m:$) into PCRE's $ ("end, or before a final newline").
	remap bool
	// unsupported is set when the pattern uses an item Go cannot run
	// (lookaround, back references, conditions, \G, \K); matches then
	// fail as PCRE's DFA matcher does for the items it cannot handle.
	unsupported bool
}

func compileDFA(p *parser, f Flags) *dfaProgs {
	text, e := emitGo(p, p.root, f)
	d := &dfaProgs{remap: e.goEndNL, unsupported: e.goBad}
	if d.unsupported {
		return d
	}
	// The anchored flag pins the match to the start offset, which both
	// programs see as the start of their input.
	anchor := ""
	if f&Anchored != 0 {
		anchor = `\A`
	}
	var err error
	if d.at0, err = regexp.Compile(anchor + `(?:` + text + `)`); err == nil {
		d.later, err = regexp.Compile(anchor + `(?s:.)(` + text + `)`)
	}
	if err != nil {
		d.unsupported = true
		return d
	}
	d.at0.Longest()
	d.later.Longest()
	return d
}

// runeReader feeds a Matcher's characters to Go's regexp, one index unit
// per character.
type runeReader struct {
	r     []rune
	i     int
	remap bool
}

func (rr *runeReader) ReadRune() (rune, int, error) {
	if rr.i >= len(rr.r) {
		return 0, 0, io.EOF
	}
	c := rr.r[rr.i]
	if rr.remap && c == '\n' && rr.i != len(rr.r)-1 {
		c = goNewline
	}
	rr.i++
	return c, 1, nil
}

// runDFA runs the DFA programs from character index idx and reports the
// match through onMatch's ovector conventions. It allocates.
func (re *Regexp) runDFA(m *Matcher, idx int) error {
	d := re.dfaProgs
	if d.unsupported {
		return ErrDFAUnsupported
	}
	rr := &runeReader{r: m.runes, i: idx, remap: d.remap}
	var lo, hi int
	if idx == 0 {
		loc := d.at0.FindReaderIndex(rr)
		if loc == nil {
			return nil
		}
		lo, hi = loc[0], loc[1]
	} else {
		rr.i = idx - 1
		loc := d.later.FindReaderSubmatchIndex(rr)
		if loc == nil {
			return nil
		}
		lo, hi = idx-1+loc[2], idx-1+loc[3]
	}
	m.found, m.rc = true, 1
	if len(m.ovec) < 2 {
		m.overflow = true
		return nil
	}
	m.ovec[0], m.ovec[1] = m.byteOff(lo), m.byteOff(hi)
	for i := 2; i < len(m.ovec); i++ {
		m.ovec[i] = -1
	}
	return nil
}
