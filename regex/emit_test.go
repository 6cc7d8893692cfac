package regex

import "testing"

// TestRewrite pins the translations that carry PCRE semantics into
// regexp2, the ones TestBehaviour would catch only indirectly.
func TestRewrite(t *testing.T) {
	for _, c := range []struct {
		pat   string
		flags Flags
		want  string
	}{
		// $ is "end or before a final newline": regexp2's \Z.
		{`a$`, 0, `a\Z`},
		{`^a`, 0, `\Aa`},
		// Multiline ^ must not match after a newline ending the subject.
		{`^`, Multiline, `(?m:^)(?!(?<=\n)\z)`},
		// Classes are spelled out over ASCII; bytes 0x80-0xFF move to the
		// private use area so regexp2 gives them no case and no word or
		// space meaning.
		{`\d\s`, 0, `[0-9][\x{9}-\x{d}\x{20}]`},
		{`\h`, 0, `[\x{9}\x{20}\x{e0a0}]`},
		{`\xe9`, Caseless, `(?i)\x{e0e9}`},
		{`\xe9`, UTF8, `\x{e9}`},
		// Groups are numbered explicitly; (?| reuses numbers.
		{`(?|(a)|(b))(c)`, 0, `(?:(?:(?<1>a)|(?<1>b)))(?<2>c)`},
		// \K is a hidden empty group after the real ones.
		{`a\Kb`, 0, `a(?<1>)b`},
		// A counted repeat of something that can match empty is
		// unrolled as PCRE compiles it.
		{`(?:a?){1,2}`, 0, `(?:(?:a?))(?:(?:(?:a?)))?`},
		// An atomic loop inside a loop gets the guard that stops
		// regexp2 folding the two loops together.
		{`(?:a++){2}`, 0, `(?:(?:(?>a+(?!\b\B)))){2}`},
		// Groups never written (inside DEFINE) still exist.
		{`(?(DEFINE)(x))y`, 0, `y(?:(?!)(?<1>))?`},
	} {
		re, err := Compile(c.pat, c.flags)
		if err != nil {
			t.Errorf("%q: %v", c.pat, err)
			continue
		}
		if re.rewrite != c.want {
			t.Errorf("%q: rewritten as %q, want %q", c.pat, re.rewrite, c.want)
		}
	}
}
