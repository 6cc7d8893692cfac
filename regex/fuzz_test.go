package regex

import (
	"errors"
	"strings"
	"testing"
)

// fuzzFlags maps the fuzzer's flag byte onto the options that change how
// patterns parse or match.
func fuzzFlags(b byte) Flags {
	var f Flags
	for i, flag := range []Flags{Caseless, Multiline, DotAll, Extended, UTF8, Anchored, DFA, PCRE2} {
		if b&(1<<i) != 0 {
			f |= flag
		}
	}
	if f&DFA != 0 && b&0x30 == 0x30 {
		f |= DupNames | JavaScript
	}
	return f
}

// FuzzCompileMatch compiles random patterns and runs them on random
// subjects: nothing may panic or hang (the match limit bounds every
// search), errors must be the documented kinds, and the ovector must
// describe spans of the subject.
func FuzzCompileMatch(f *testing.F) {
	for _, c := range behaviourCases {
		opts, _ := ParseOptions(c.opts)
		var b byte
		for i, flag := range []Flags{Caseless, Multiline, DotAll, Extended, UTF8, Anchored, DFA, PCRE2} {
			if opts&flag != 0 {
				b |= 1 << i
			}
		}
		f.Add(c.pat, c.subj, b)
	}
	f.Fuzz(func(t *testing.T, pattern, subject string, fb byte) {
		flags := fuzzFlags(fb)
		re, err := CompileOptions(pattern, flags, Options{MatchLimit: 10000})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%q: error of type %T: %v", pattern, err, err)
			}
			if e.Offset < 0 || e.Offset > len(pattern) || !strings.Contains(e.Error(), e.Message) {
				t.Fatalf("%q: bad error %#v", pattern, e)
			}
			return
		}
		m := NewMatcher()
		ov := make([]int, re.OvectorLen())
		for _, start := range []int{0, len(subject) / 2} {
			rc, err := re.MatchString(m, subject, start, ov)
			if err != nil {
				var x *ExecError
				if !errors.As(err, &x) && err != ErrCaptureSize {
					t.Fatalf("%q on %q: error of type %T: %v", pattern, subject, err, err)
				}
				continue
			}
			checkOvector(t, pattern, subject, rc, ov)
			ov2 := make([]int, len(ov))
			rc2, err2 := re.Match(m, []byte(subject), start, ov2)
			if rc2 != rc || err2 != nil || rc > 0 && !equalInts(ov[:2*rc], ov2[:2*rc]) {
				// The time budget may end one run and not the other.
				if err2 != ErrMatchLimit {
					t.Fatalf("%q on %q: string %d %v, bytes %d %v %v", pattern, subject, rc, ov, rc2, ov2, err2)
				}
			}
		}
	})
}

func checkOvector(t *testing.T, pattern, subject string, rc int, ov []int) {
	t.Helper()
	for g := 0; g < rc; g++ {
		s, e := ov[2*g], ov[2*g+1]
		if s == -1 && e == -1 && g > 0 {
			continue
		}
		// \K inside a lookahead can put the reported start after the
		// end, as in PCRE.
		if s < 0 || e < 0 || s > len(subject) || e > len(subject) || s > e && g > 0 {
			t.Fatalf("%q on %q: group %d spans %d-%d", pattern, subject, g, s, e)
		}
	}
}
