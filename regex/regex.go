// Package regex is the PCRE-compatible regular expression engine behind
// nginx's regexes (location ~ and ~*, rewrite, if, map, server_name,
// valid_referers, gzip_disable) and Lua's ngx.re API.
//
// A pattern is parsed with PCRE's own grammar and rules (PCRE 8.39 for
// ngx.re, PCRE2 10.42 with the PCRE2 flag for nginx's directives), so
// syntax errors carry the texts and offsets those libraries report. The
// parsed pattern is then rewritten into the syntax of regexp2, a
// backtracking engine, spelling out every construct whose regexp2 meaning
// differs from PCRE's: $ before a final newline, \Z, \h, \v, \R, \K,
// ASCII-only \d \w \s \b, POSIX classes, caseless matching of ASCII
// letters only, group numbering (including (?| groups) and subroutine
// calls (inlined; recursive ones are rejected).
//
// Subjects are matched as bytes by default, as PCRE does without UTF-8
// mode: each byte becomes one character, so offsets are byte offsets.
// Bytes 0x80-0xFF are mapped into the Unicode private use area, where
// they have no case, are not word characters and are not spaces, which is
// what PCRE's default character tables say about them. With UTF8 the
// subject is decoded as UTF-8 and offsets are converted back to bytes.
//
// Differences from PCRE that remain: the match limit is enforced as a
// time budget plus a bound on the backtracking stack (see Options), so
// which pattern hits it is not identical to PCRE's count of match()
// calls; \X is an approximation of extended grapheme clusters; \C in
// UTF-8 mode matches a whole character; the backtracking control verbs
// other than (*FAIL), recursion, callouts and newline conventions other
// than LF are compile errors. DFA mode (flag d) runs the pattern on Go's
// regexp package in leftmost-longest mode, which is what PCRE's DFA
// matcher computes; patterns with lookaround, \G or \K then fail at match
// time with ErrDFAUnsupported (PCRE's DFA matcher rejects back
// references and \K the same way, but runs lookaround and \G). With the
// U flag, a start offset inside a character is read as PCRE reads it:
// the byte there starts a character of its own.
//
// A compiled *Regexp is immutable and may be shared by all event loops.
// The per-call scratch space is a Matcher, which belongs to one goroutine
// (normally one loop).
package regex

import (
	"errors"
	"sort"
	"time"
	"unsafe"

	"github.com/dlclark/regexp2/v2"
)

// DefaultMatchLimit is PCRE's default match limit, used by nginx and by
// ngx.re when lua_regex_match_limit is 0.
const DefaultMatchLimit = 10000000

// Options tune a compile beyond the pattern flags.
type Options struct {
	// MatchLimit is the analogue of PCRE's match limit
	// (lua_regex_match_limit); 0 means DefaultMatchLimit. It becomes a
	// time budget of MatchLimit×25ns per match attempt (250ms for the
	// default; the engine's clock ticks every 100ms, so a budget is
	// honoured to within 100-200ms) and a backtracking stack bound of
	// MatchLimit/10 entries, clamped to [65536, 4194304]. Hitting either
	// returns ErrMatchLimit.
	MatchLimit int
}

// ErrCaptureSize is returned when the ovector passed to a match cannot
// hold every group that was set; ngx.re reports it with this text.
var ErrCaptureSize = errors.New("capture size too small")

// Name is an entry of a pattern's name table.
type Name struct {
	Name  string
	Group int
}

// Regexp is a compiled pattern. It is immutable and safe for concurrent
// use by any goroutine; the state of one match lives in a Matcher.
type Regexp struct {
	pattern  string
	flags    Flags
	prog     *regexp2.Regexp
	ncap     int
	keeps    int
	names    []Name
	utf      bool
	checkUTF bool
	dfa      bool
	dfaProgs *dfaProgs
	rewrite  string
}

// Compile compiles pattern with the default Options.
func Compile(pattern string, flags Flags) (*Regexp, error) {
	return CompileOptions(pattern, flags, Options{})
}

// CompileOptions compiles pattern. A syntax error is an *Error whose text
// is the one nginx (PCRE2 flag) or ngx.re prints.
func CompileOptions(pattern string, flags Flags, o Options) (*Regexp, error) {
	pp, perr := parse(pattern, flags)
	if perr != nil {
		return nil, perr
	}
	rewrite, perr := pp.emit(flags)
	if perr != nil {
		return nil, perr
	}
	limit := o.MatchLimit
	if limit <= 0 {
		limit = DefaultMatchLimit
	}
	stack := limit / 10
	if stack < 1<<16 {
		stack = 1 << 16
	}
	if stack > 1<<22 {
		stack = 1 << 22
	}
	prog, err := regexp2.Compile(rewrite, regexp2.None, regexp2.OptionMaxBacktrackingStackSize(stack))
	if err != nil {
		// The rewrite is built from a validated tree, so this means a
		// construct regexp2 cannot represent (a limit it enforces).
		return nil, &Error{Pattern: pattern, Offset: len(pattern), Message: message(errTooLarge, flags&PCRE2 != 0), PCRE2: flags&PCRE2 != 0}
	}
	prog.MatchTimeout = time.Duration(limit) * 25 * time.Nanosecond
	re := &Regexp{
		pattern:  pattern,
		flags:    flags,
		prog:     prog,
		ncap:     pp.ncap,
		keeps:    pp.keeps,
		utf:      pp.utf,
		checkUTF: flags&NoUTF8Check == 0,
		dfa:      flags&DFA != 0,
		rewrite:  rewrite,
	}
	if re.dfa {
		re.dfaProgs = compileDFA(pp, flags)
	}
	for _, d := range pp.names {
		re.names = append(re.names, Name{Name: d.name, Group: d.group})
	}
	// PCRE's name table is sorted by name; entries of one name keep the
	// order of their groups.
	sort.SliceStable(re.names, func(i, j int) bool { return re.names[i].Name < re.names[j].Name })
	return re, nil
}

// emit converts the tree, turning a late error (a recursive subroutine
// call) into an *Error.
func (p *parser) emit(flags Flags) (out string, err *Error) {
	defer catch(&err)
	return emitPattern(p, p.root, flags), nil
}

// String returns the pattern as given to Compile.
func (re *Regexp) String() string { return re.pattern }

// Flags returns the flags the pattern was compiled with.
func (re *Regexp) Flags() Flags { return re.flags }

// NumCaptures returns the number of capturing groups (PCRE's
// PCRE_INFO_CAPTURECOUNT). In DFA mode no groups are reported.
func (re *Regexp) NumCaptures() int {
	if re.dfa {
		return 0
	}
	return re.ncap
}

// OvectorLen returns the ovector length that holds every group:
// 2*(NumCaptures()+1).
func (re *Regexp) OvectorLen() int { return 2 * (re.NumCaptures() + 1) }

// Names returns the name table: one entry per named group, sorted by name
// as PCRE's table is. The slice is shared and must not be modified.
func (re *Regexp) Names() []Name { return re.names }

// GroupIndex returns the number of the first group called name, or -1.
func (re *Regexp) GroupIndex(name string) int {
	best := -1
	for _, n := range re.names {
		if n.Name == name && (best < 0 || n.Group < best) {
			best = n.Group
		}
	}
	return best
}

// Matcher holds the scratch space of matches: the subject converted to
// characters and, in UTF-8 mode, their byte offsets. It may be used with
// any Regexp but only by one goroutine at a time; an event loop keeps one.
// The zero value is not ready; use NewMatcher.
type Matcher struct {
	runes []rune
	offs  []int32 // byte offset of each character, plus the length

	// The last string subject converted, kept so that repeated matches
	// on one subject (gmatch, gsub) convert it once. Holding it keeps
	// its memory alive until the next match or Reset.
	key      string
	keyValid bool
	keyUTF   bool
	keySplit int  // byte offset decoding was forced to start a character at, or -1
	keyBad   bool // the cached UTF-8 decoding met an invalid sequence

	// State of the match in progress, read by onMatch.
	re       *Regexp
	ovec     []int
	rc       int
	found    bool
	overflow bool
	yield    func(regexp2.MatchView) bool
}

// NewMatcher returns a Matcher with no buffers yet.
func NewMatcher() *Matcher {
	m := &Matcher{}
	m.yield = m.onMatch
	return m
}

// Reset drops the cached subject and shrinks nothing; call it to release
// a large string subject early.
func (m *Matcher) Reset() {
	m.key = ""
	m.keyValid = false
}

// MatchString runs re on subject from byte offset start and writes the
// capture offsets into ovec as pairs (start, end), -1 for unset groups,
// like PCRE's ovector. It returns 0 when there is no match, otherwise one
// more than the highest group that was set. ovec should hold OvectorLen()
// entries; if a set group does not fit, the result is 0 and
// ErrCaptureSize. Other errors are *ExecError values. subject must not be
// modified while m caches it (strings never are).
func (re *Regexp) MatchString(m *Matcher, subject string, start int, ovec []int) (int, error) {
	if start < 0 || start > len(subject) {
		return 0, ErrBadOffset
	}
	if !m.keyValid || m.keyUTF != re.utf || m.keySplit >= 0 || len(m.key) != len(subject) ||
		unsafe.StringData(m.key) != unsafe.StringData(subject) {
		m.keyValid = false
		m.keyBad = load(m, subject, re.utf, -1)
		m.key, m.keyValid, m.keyUTF, m.keySplit = subject, true, re.utf, -1
	}
	idx, err := re.startIndex(m, start)
	if err == errSplit {
		m.keyBad = load(m, subject, true, start)
		m.keySplit = start
		idx, err = re.startIndex(m, start)
	}
	if err != nil {
		return 0, err
	}
	return re.run(m, idx, ovec)
}

// Match is MatchString for a byte slice. The slice is converted on every
// call; subject is not retained.
func (re *Regexp) Match(m *Matcher, subject []byte, start int, ovec []int) (int, error) {
	if start < 0 || start > len(subject) {
		return 0, ErrBadOffset
	}
	m.keyValid = false
	m.key = ""
	m.keyBad = load(m, subject, re.utf, -1)
	idx, err := re.startIndex(m, start)
	if err == errSplit {
		m.keyBad = load(m, subject, true, start)
		idx, err = re.startIndex(m, start)
	}
	if err != nil {
		return 0, err
	}
	return re.run(m, idx, ovec)
}

// errSplit asks the caller to decode the subject again with a character
// starting at the start offset.
var errSplit = errors.New("start offset inside a character")

// startIndex converts a byte start offset into a character index. In
// UTF-8 mode an invalid subject or a start inside a character fails as
// PCRE fails, unless the pattern skips the checks (U); then PCRE reads
// from the offset as if a character started there, which errSplit asks
// the caller to arrange.
func (re *Regexp) startIndex(m *Matcher, start int) (int, error) {
	if !re.utf {
		return start, nil
	}
	if m.keyBad && re.checkUTF {
		return 0, ErrBadUTF8
	}
	k := sort.Search(len(m.offs), func(i int) bool { return int(m.offs[i]) >= start })
	if int(m.offs[k]) != start {
		if re.checkUTF {
			return 0, ErrBadUTF8Offset
		}
		return 0, errSplit
	}
	return k, nil
}

// MatchStringAlloc is MatchString with a fresh Matcher and ovector, for
// cold paths and tests; it allocates.
func (re *Regexp) MatchStringAlloc(subject string, start int) ([]int, error) {
	ovec := make([]int, re.OvectorLen())
	n, err := re.MatchString(NewMatcher(), subject, start, ovec)
	if err != nil || n == 0 {
		return nil, err
	}
	return ovec, nil
}

// load converts subject into m.runes (and m.offs in UTF-8 mode). It
// reports whether an invalid UTF-8 sequence was met. split >= 0 makes a
// character start at that byte offset: the character it cuts ends there.
func load[S string | []byte](m *Matcher, subject S, utf bool, split int) bool {
	if !utf {
		if cap(m.runes) < len(subject) {
			m.runes = make([]rune, len(subject), len(subject)+len(subject)/4)
		}
		r := m.runes[:len(subject)]
		for i := 0; i < len(subject); i++ {
			c := rune(subject[i])
			r[i] = c + (c>>7)*highBase
		}
		m.runes = r
		return false
	}
	r := m.runes[:0]
	offs := m.offs[:0]
	bad := false
	for i := 0; i < len(subject); {
		c, n := decodeRune(subject, i)
		if n == 0 {
			bad = true
			c, n = decodeLenient(subject, i)
		}
		if split > i && split < i+n {
			n = split - i
		}
		r = append(r, c)
		offs = append(offs, int32(i))
		i += n
	}
	offs = append(offs, int32(len(subject)))
	m.runes, m.offs = r, offs
	return bad
}

// decodeRune decodes the UTF-8 sequence at i with the validity rules of
// PCRE (and of Go): no overlong forms, surrogates or values above
// U+10FFFF. It returns n == 0 for an invalid sequence.
func decodeRune[S string | []byte](s S, i int) (rune, int) {
	c0 := s[i]
	if c0 < 0x80 {
		return rune(c0), 1
	}
	need := 0
	var v rune
	var lo byte = 0x80
	var hi byte = 0xBF
	switch {
	case c0 >= 0xC2 && c0 <= 0xDF:
		need, v = 1, rune(c0&0x1F)
	case c0 >= 0xE0 && c0 <= 0xEF:
		need, v = 2, rune(c0&0x0F)
		if c0 == 0xE0 {
			lo = 0xA0
		} else if c0 == 0xED {
			hi = 0x9F
		}
	case c0 >= 0xF0 && c0 <= 0xF4:
		need, v = 3, rune(c0&0x07)
		if c0 == 0xF0 {
			lo = 0x90
		} else if c0 == 0xF4 {
			hi = 0x8F
		}
	default:
		return 0, 0
	}
	if i+need >= len(s) {
		return 0, 0
	}
	for k := 1; k <= need; k++ {
		c := s[i+k]
		if k == 1 {
			if c < lo || c > hi {
				return 0, 0
			}
		} else if c < 0x80 || c > 0xBF {
			return 0, 0
		}
		v = v<<6 | rune(c&0x3F)
	}
	return v, need + 1
}

// run matches the loaded subject from character index idx.
func (re *Regexp) run(m *Matcher, idx int, ovec []int) (int, error) {
	m.re, m.ovec, m.rc, m.found, m.overflow = re, ovec, 0, false, false
	var err error
	if re.dfa {
		err = re.runDFA(m, idx)
	} else if err = re.prog.FindRunesMatches(m.runes, idx, m.yield); err != nil {
		err = ErrMatchLimit
	}
	m.re, m.ovec = nil, nil
	if err != nil {
		return 0, err
	}
	if !m.found {
		return 0, nil
	}
	if m.overflow {
		return 0, ErrCaptureSize
	}
	return m.rc, nil
}

// decodeLenient reads an invalid sequence the way PCRE does when it is
// told not to check UTF-8: a lead byte takes as many following bytes as it
// announces, whatever they are, and any other byte stands for itself.
func decodeLenient[S string | []byte](s S, i int) (rune, int) {
	c := s[i]
	var extra int
	var v rune
	switch {
	case c < 0xC0:
		return rune(c), 1
	case c < 0xE0:
		extra, v = 1, rune(c&0x1F)
	case c < 0xF0:
		extra, v = 2, rune(c&0x0F)
	case c < 0xF8:
		extra, v = 3, rune(c&0x07)
	case c < 0xFC:
		extra, v = 4, rune(c&0x03)
	default:
		extra, v = 5, rune(c&0x01)
	}
	if i+extra >= len(s) {
		extra = len(s) - i - 1
	}
	for k := 1; k <= extra; k++ {
		v = v<<6 | rune(s[i+k]&0x3F)
	}
	if v > maxRune || v < 0 {
		v = 0xFFFD
	}
	return v, extra + 1
}

// byteOff converts a character index to a byte offset.
func (m *Matcher) byteOff(i int) int {
	if m.re.utf {
		return int(m.offs[i])
	}
	return i
}

// onMatch copies a match into the caller's ovector and stops the search.
func (m *Matcher) onMatch(v regexp2.MatchView) bool {
	re := m.re
	ovec := m.ovec
	rc := 0
	ngroups := re.ncap
	if re.dfa {
		ngroups = 0
	}
	for g := 0; g <= ngroups; g++ {
		i, l, ok := v.GroupRange(g)
		if 2*g+1 >= len(ovec) {
			if ok {
				m.overflow = true
			}
			continue
		}
		if !ok {
			ovec[2*g], ovec[2*g+1] = -1, -1
			continue
		}
		ovec[2*g], ovec[2*g+1] = m.byteOff(i), m.byteOff(i+l)
		rc = g + 1
	}
	if re.keeps > 0 && len(ovec) >= 2 {
		// \K moves the reported start to the last reset point passed.
		best := -1
		for k := 1; k <= re.keeps; k++ {
			if i, _, ok := v.GroupRange(re.ncap + k); ok && i > best {
				best = i
			}
		}
		if best >= 0 {
			ovec[0] = m.byteOff(best)
		}
	}
	m.rc, m.found = rc, true
	return false
}
