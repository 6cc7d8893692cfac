package regex

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseOptions(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Flags
		err  string
	}{
		{"", 0, ""},
		{"i", Caseless, ""},
		{"jo", JIT | CompileOnce, ""},
		{"ismx", Caseless | DotAll | Multiline | Extended, ""},
		{"adDJ", Anchored | DFA | DupNames | JavaScript, ""},
		{"u", UTF8, ""},
		{"U", UTF8 | NoUTF8Check, ""},
		{"Hm", 0, `unknown flag "H" (flags "Hm")`},
		{"iq", 0, `unknown flag "q" (flags "iq")`},
	} {
		got, err := ParseOptions(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("ParseOptions(%q) error = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseOptions(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		back, err := ParseOptions(got.String())
		if err != nil || back != got {
			t.Errorf("%q: String() = %q does not parse back (%v, %v)", c.in, got.String(), back, err)
		}
	}
	if s := (Caseless | PCRE2).String(); s != "i+pcre2" {
		t.Errorf("String() = %q", s)
	}
}

func TestOvector(t *testing.T) {
	for _, c := range []struct {
		pat, subj string
		rc        int
		want      []int
	}{
		// The result is one more than the highest group set; unset
		// groups, also those after it, read -1.
		{`(a)(b)?(c)?`, "a", 2, []int{0, 1, 0, 1, -1, -1, -1, -1}},
		{`(a)(b)?(c)?`, "ac", 4, []int{0, 2, 0, 1, -1, -1, 1, 2}},
		{`(a)|(b)`, "b", 3, []int{0, 1, -1, -1, 0, 1}},
		{`x`, "axb", 1, []int{1, 2}},
		{`x\Ky`, "xy", 1, []int{1, 2}},
		{`.`, "", 0, []int{-7, -7}},
	} {
		re := mustCompile(t, c.pat, 0)
		ov := make([]int, re.OvectorLen())
		for i := range ov {
			ov[i] = -7
		}
		rc, err := re.MatchString(NewMatcher(), c.subj, 0, ov)
		if err != nil || rc != c.rc {
			t.Errorf("%q on %q: rc %d, %v; want %d", c.pat, c.subj, rc, err, c.rc)
			continue
		}
		if rc > 0 && !equalInts(ov, c.want) || rc == 0 && !equalInts(ov[:2], c.want) {
			t.Errorf("%q on %q: ovector %v, want %v", c.pat, c.subj, ov, c.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCaptureSize(t *testing.T) {
	re := mustCompile(t, `(a)(b)`, 0)
	ov := make([]int, 4)
	rc, err := re.MatchString(NewMatcher(), "ab", 0, ov)
	if rc != 0 || !errors.Is(err, ErrCaptureSize) || err.Error() != "capture size too small" {
		t.Fatalf("rc %d err %v", rc, err)
	}
	// A short ovector is fine when the groups beyond it are unset.
	re = mustCompile(t, `(a)(b)?`, 0)
	rc, err = re.MatchString(NewMatcher(), "a", 0, ov)
	if rc != 2 || err != nil || !equalInts(ov, []int{0, 1, 0, 1}) {
		t.Fatalf("rc %d err %v ov %v", rc, err, ov)
	}
}

func TestExecErrors(t *testing.T) {
	for _, c := range []struct {
		err  *ExecError
		text string
	}{
		{ErrMatchLimit, "pcre_exec() failed: -8"},
		{ErrBadUTF8, "pcre_exec() failed: -10"},
		{ErrBadUTF8Offset, "pcre_exec() failed: -11"},
		{ErrDFAUnsupported, "pcre_exec() failed: -16"},
		{ErrBadOffset, "pcre_exec() failed: -24"},
	} {
		if c.err.Error() != c.text {
			t.Errorf("%d: %q, want %q", c.err.Code, c.err.Error(), c.text)
		}
	}
	re := mustCompile(t, `a`, 0)
	for _, start := range []int{-1, 3} {
		if _, err := re.MatchString(NewMatcher(), "ab", start, make([]int, 2)); err != ErrBadOffset {
			t.Errorf("start %d: %v", start, err)
		}
		if _, err := re.Match(NewMatcher(), []byte("ab"), start, make([]int, 2)); err != ErrBadOffset {
			t.Errorf("bytes, start %d: %v", start, err)
		}
	}
}

// TestMatcherReuse alternates subjects, modes and start offsets on one
// Matcher and checks each answer against a fresh Matcher.
func TestMatcherReuse(t *testing.T) {
	byteRe := mustCompile(t, `.b`, 0)
	utfRe := mustCompile(t, `.b`, UTF8)
	s := "é b\xc3\xa9b"
	subjects := []string{s, s[:3], s, strings.Clone(s), "xb", s[2:]}
	m := NewMatcher()
	for i := 0; i < 3; i++ {
		for _, subj := range subjects {
			for _, re := range []*Regexp{byteRe, utfRe, byteRe} {
				for start := 0; start <= len(subj); start++ {
					ov, ov2 := make([]int, 2), make([]int, 2)
					rc, err := re.MatchString(m, subj, start, ov)
					rc2, err2 := re.MatchString(NewMatcher(), subj, start, ov2)
					if rc != rc2 || err != err2 || rc > 0 && !equalInts(ov, ov2) {
						t.Fatalf("%q on %q from %d: reused %d %v %v, fresh %d %v %v",
							re, subj, start, rc, err, ov, rc2, err2, ov2)
					}
					rc3, err3 := re.Match(m, []byte(subj), start, ov)
					if rc3 != rc2 || err3 != err2 || rc3 > 0 && !equalInts(ov, ov2) {
						t.Fatalf("%q on %q from %d: bytes %d %v %v, string %d %v %v",
							re, subj, start, rc3, err3, ov, rc2, err2, ov2)
					}
				}
			}
		}
	}
}

// TestConcurrentUse shares compiled patterns between goroutines, each with
// its own Matcher, as event loops do.
func TestConcurrentUse(t *testing.T) {
	res := []*Regexp{
		mustCompile(t, `^/api/v1/users/(\d+)/posts/([a-z0-9-]+)$`, 0),
		mustCompile(t, `(?i)(bot|crawler|spider)`, 0),
		mustCompile(t, `\w+`, UTF8),
	}
	subjects := []string{"/api/v1/users/42/posts/a-b", "Some Crawler/1.0", "héllo wörld", ""}
	want := map[string]string{}
	for _, re := range res {
		for _, s := range subjects {
			ov, _ := re.MatchStringAlloc(s, 0)
			want[re.String()+"\x00"+s] = intsKey(ov)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := NewMatcher()
			for i := 0; i < 300; i++ {
				re := res[i%len(res)]
				s := subjects[(i/3)%len(subjects)]
				ov := make([]int, re.OvectorLen())
				rc, err := re.MatchString(m, s, 0, ov)
				var got []int
				if err == nil && rc > 0 {
					got = ov
				}
				if intsKey(got) != want[re.String()+"\x00"+s] {
					errs <- re.String() + " on " + s
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error("concurrent result differs:", e)
	}
}

func intsKey(v []int) string { return fmt.Sprint(v) }

// TestMatchLimit checks that catastrophic backtracking ends with PCRE's
// match limit error instead of hanging the loop.
func TestMatchLimit(t *testing.T) {
	for _, c := range []struct {
		pat, subj string
	}{
		{`(a*)*b`, strings.Repeat("a", 40)},
		{`^(\w+\s?)*$`, strings.Repeat("word ", 12) + "!"},
		{`(x+x+)+y`, strings.Repeat("x", 40)},
	} {
		re, err := CompileOptions(c.pat, 0, Options{MatchLimit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		rc, err := re.MatchString(NewMatcher(), c.subj, 0, make([]int, re.OvectorLen()))
		if err != ErrMatchLimit || rc != 0 {
			t.Errorf("%q: rc %d err %v, want the match limit error", c.pat, rc, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%q: stopping took %v", c.pat, d)
		}
	}
}

func TestNames(t *testing.T) {
	re := mustCompile(t, `(?<year>\d+)-(?<month>\d+)|(?<year>x)`, DupNames)
	want := []Name{{"month", 2}, {"year", 1}, {"year", 3}}
	got := re.Names()
	if len(got) != len(want) {
		t.Fatalf("Names() = %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Names() = %v, want %v", got, want)
		}
	}
	if re.GroupIndex("year") != 1 || re.GroupIndex("month") != 2 || re.GroupIndex("day") != -1 {
		t.Errorf("GroupIndex wrong")
	}
	if re.NumCaptures() != 3 || re.OvectorLen() != 8 {
		t.Errorf("NumCaptures %d OvectorLen %d", re.NumCaptures(), re.OvectorLen())
	}
	if d := mustCompile(t, `(a)(b)`, DFA); d.NumCaptures() != 0 || d.OvectorLen() != 2 {
		t.Errorf("DFA NumCaptures %d", d.NumCaptures())
	}
	if _, err := Compile(`(?<n>a)(?<n>b)`, 0); err == nil {
		t.Error("duplicate names compiled without DupNames")
	}
}

func TestErrorText(t *testing.T) {
	_, err := Compile("(abc", 0)
	var e *Error
	if !errors.As(err, &e) || e.Offset != 4 || e.Message != "missing )" || e.PCRE2 {
		t.Fatalf("%#v", err)
	}
	if err.Error() != `pcre_compile() failed: missing ) in "(abc"` {
		t.Errorf("%q", err.Error())
	}
	_, err = Compile("(abc", PCRE2)
	if err.Error() != `pcre2_compile() failed: missing closing parenthesis in "(abc"` {
		t.Errorf("%q", err.Error())
	}
	// ngx.re cuts its copy of the text to 127 bytes.
	long := "(" + strings.Repeat("x", 200)
	_, err = Compile(long, 0)
	e = err.(*Error)
	if got := e.LuaText(); len(got) != 127 || !strings.HasPrefix(e.Error(), got) {
		t.Errorf("LuaText length %d", len(got))
	}
	if len(e.Error()) <= 127 {
		t.Errorf("Error() was cut too")
	}
}

func TestUnsupported(t *testing.T) {
	for _, c := range []struct{ pat, msg string }{
		{`(a|(?1))`, "recursive subpattern calls are not supported"},
		{`(?R)`, "recursive subpattern calls are not supported"},
		{`a(*COMMIT)b`, "the backtracking control verb (*COMMIT) is not supported"},
		{`(*CRLF)a$`, "newline convention (*CRLF) is not supported"},
	} {
		_, err := Compile(c.pat, 0)
		var e *Error
		if !errors.As(err, &e) || e.Message != c.msg {
			t.Errorf("%q: %v, want %q", c.pat, err, c.msg)
		}
	}
	// DFA mode runs on Go's regexp, which has no lookaround.
	re := mustCompile(t, `a(?=b)`, DFA)
	if _, err := re.MatchString(NewMatcher(), "ab", 0, make([]int, 2)); err != ErrDFAUnsupported {
		t.Errorf("DFA lookahead: %v", err)
	}
}

func TestPCRE2Syntax(t *testing.T) {
	for _, c := range []struct{ pat, subj, want string }{
		{`(*pla:a)a`, "a", "0-1"},
		{`(*nlb:b)a`, "ba a", "3-4"},
		{`(*atomic:a+)a`, "aaa", "nomatch"},
		{`(?n)(a)(?<x>b)`, "ab", "0-2 1-2 {x=b}"},
		{`(?^i:A)(?i)(?^)a`, "Aa", "0-2"},
	} {
		re, err := Compile(c.pat, PCRE2)
		if err != nil {
			t.Errorf("%q: %v", c.pat, err)
			continue
		}
		if got := describeWith(re, c.subj); got != c.want {
			t.Errorf("%q on %q: %s, want %s", c.pat, c.subj, got, c.want)
		}
	}
}

// describeWith renders a match like describeOne for an already compiled
// pattern.
func describeWith(re *Regexp, subj string) string {
	ov, err := re.MatchStringAlloc(subj, 0)
	if err != nil {
		return "err:" + err.Error()
	}
	if ov == nil {
		return "nomatch"
	}
	var parts []string
	for g := 0; g <= re.NumCaptures(); g++ {
		if ov[2*g] < 0 {
			parts = append(parts, "-")
			continue
		}
		parts = append(parts, strconv.Itoa(ov[2*g])+"-"+strconv.Itoa(ov[2*g+1]))
	}
	out := strings.Join(parts, " ")
	var names []string
	for _, n := range re.Names() {
		v := "false"
		if ov[2*n.Group] >= 0 {
			v = subj[ov[2*n.Group]:ov[2*n.Group+1]]
		}
		names = append(names, n.Name+"="+v)
	}
	if len(names) > 0 {
		out += " {" + strings.Join(names, " ") + "}"
	}
	return out
}

func TestCache(t *testing.T) {
	c := NewCache(2, Options{})
	a, err := c.Get("a", 0)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := c.Get("a", 0); again != a {
		t.Error("hit returned a new Regexp")
	}
	if folded, _ := c.Get("a", Caseless); folded == a {
		t.Error("flags are not part of the key")
	}
	// "a" with no flags is now the least recently used: adding a third
	// pattern evicts it.
	if _, err := c.Get("b", 0); err != nil {
		t.Fatal(err)
	}
	if c.Len() != 2 {
		t.Fatalf("Len %d", c.Len())
	}
	if again, _ := c.Get("a", 0); again == a {
		t.Error("least recently used entry survived")
	}
	if _, err := c.Get("(", 0); err == nil || c.Len() != 2 {
		t.Errorf("failed compile: %v, Len %d", err, c.Len())
	}
	off := NewCache(-1, Options{})
	if _, err := off.Get("a", 0); err != nil || off.Len() != 0 {
		t.Errorf("disabled cache kept an entry")
	}
	if d := NewCache(0, Options{}); d.max != DefaultCacheEntries {
		t.Errorf("default size %d", d.max)
	}
}
