package regex

import (
	"strings"
	"testing"
)

// behaviourCase is one ngx.re call: match (all == false) or iterate every
// match as ngx.re.gmatch does (all == true) with pattern pat, ngx.re
// option letters opts, subject subj and 0-based start offset pos. want
// is the result in describeOne/describeAll format; every want was
// produced by PCRE 8.39 through ngx.re, and TestBehaviourAgainstNginx
// checks them again wherever nginx with the Lua module is installed.
type behaviourCase struct {
	all  bool
	pat  string
	opts string
	subj string
	pos  int
	want string
}

var behaviourCases = []behaviourCase{
	// anchors and start offsets
	{false, `^abc`, "", "abc", 0, "0-3"},
	{false, `^abc`, "", "xabc", 0, "nomatch"},
	{false, `^bc`, "", "abc", 1, "nomatch"},
	{false, `\Gbc`, "", "abc", 1, "1-3"},
	{false, `\Gbc`, "", "abcbc", 2, "nomatch"},
	{false, `\Abc`, "", "abc", 1, "nomatch"},
	{false, `abc$`, "", "abc\n", 0, "0-3"},
	{false, `abc$`, "", "abc\n\n", 0, "nomatch"},
	{false, `abc$`, "m", "abc\n\n", 0, "0-3"},
	{false, `abc\Z`, "", "abc\n", 0, "0-3"},
	{false, `abc\z`, "", "abc\n", 0, "nomatch"},
	{false, `^$`, "", "\n", 0, "0-0"},
	{false, `^$`, "m", "a\n", 2, "nomatch"},
	{false, `^$`, "m", "a\n\nb", 2, "2-2"},
	{false, `^b`, "m", "a\nb", 0, "2-3"},
	{false, `a$`, "m", "a\nb", 0, "0-1"},
	{false, `^`, "m", "a\n", 1, "nomatch"},
	{false, `$`, "", "a\n", 0, "1-1"},
	{false, `\b\w+\b`, "", "  foo bar", 0, "2-5"},
	{false, `\Bo\B`, "", "foo", 0, "1-2"},
	{false, `^(?:a|ab)(?:c|bcd)(?:d*)$`, "", "abcd", 0, "0-4"},
	// classes and POSIX classes
	{false, `[abc]+`, "", "xxcabz", 0, "2-5"},
	{false, `[^abc]+`, "", "abcxyz", 0, "3-6"},
	{false, `[a-f0-3]+`, "", "zz3fa9", 0, "2-5"},
	{false, `[]a]+`, "", "]a]b", 0, "0-3"},
	{false, `[^]a]+`, "", "]a]b", 0, "3-4"},
	{false, `[a-]+`, "", "--a-b", 0, "0-4"},
	{false, `[%--]+`, "", ",-.%", 0, "0-2"},
	{false, `[\w.-]+`, "", "a.b-c!", 0, "0-5"},
	{false, `[[:alpha:]]+`, "", "12abC3", 0, "2-5"},
	{false, `[[:digit:][:upper:]]+`, "", "aB9Cx", 0, "1-4"},
	{false, `[[:^alpha:]]+`, "", "ab12;c", 0, "2-5"},
	{false, `[[:space:]]+`, "", "a \t\v\rb", 0, "1-5"},
	{false, `[[:punct:]]+`, "", "a!-/b", 0, "1-4"},
	{false, `[[:xdigit:]]+`, "", "xfF09g", 0, "1-5"},
	{false, `[[:word:]]+`, "", "-ab_9-", 0, "1-5"},
	{false, `[[:blank:]]+`, "", "a \tb", 0, "1-3"},
	{false, `[[:cntrl:]]+`, "", "a\x01\x7fb", 0, "1-3"},
	{false, `\d+`, "", "ab123c", 0, "2-5"},
	{false, `\D+`, "", "12ab3", 0, "2-4"},
	{false, `\w+`, "", "+ab_1+", 0, "1-5"},
	{false, `\W+`, "", "ab+ -c", 0, "2-5"},
	{false, `\s+`, "", "a \t\n\v\f\rb", 0, "1-7"},
	{false, `\S+`, "", "  ab  ", 0, "2-4"},
	{false, `\h+`, "", "a \t\xa0b", 0, "1-4"},
	{false, `\v+`, "", "a\n\v\f\r\x85b", 0, "1-6"},
	{false, `\H+`, "", " ab ", 0, "1-3"},
	{false, `\R`, "", "a\r\nb", 0, "1-3"},
	{false, `\R`, "", "a\rb", 0, "1-2"},
	{false, `\N+`, "", "ab\ncd", 0, "0-2"},
	{false, `[\d\s]+`, "", "a1 2b", 0, "1-4"},
	{false, `[^\d\s]+`, "", "1 ab 2", 0, "2-4"},
	{false, `[\D]+`, "", "12ab3", 0, "2-4"},
	{false, `[\x41-\x43]+`, "", "ABCD", 0, "0-3"},
	{false, `[\101-\103]+`, "", "ABCD", 0, "0-3"},
	{false, `\x41\x{42}\103`, "", "ABC", 0, "0-3"},
	{false, `\cA\ca\c[`, "", "\x01\x01\x1b", 0, "0-3"},
	{false, `\e\f\a`, "", "\x1b\f\a", 0, "0-3"},
	{false, `\Qa.b*\E+`, "", "a.b**", 0, "0-5"},
	{false, `[\Q]\E]`, "", "]", 0, "0-1"},
	{false, `a\Q\E+`, "", "aa", 0, "0-2"},
	{false, `\8`, "", "8", 0, "0-1"},
	{false, `(a)\11`, "", "a\t", 0, "0-2 0-1"},
	{false, `\07`, "", "\a", 0, "0-1"},
	{false, `\x`, "", "\x00", 0, "0-1"},
	// caseless
	{false, `abc`, "i", "xABCx", 0, "1-4"},
	{false, `(?i)a(?-i)b`, "", "Ab", 0, "0-2"},
	{false, `(?i)a(?-i)b`, "", "AB", 0, "nomatch"},
	{false, `a(?i)b|c`, "", "C", 0, "0-1"},
	{false, `(a(?i)b|c)`, "", "C", 0, "0-1 0-1"},
	{false, `(?i:a)b`, "", "Ab", 0, "0-2"},
	{false, `[a-z]+`, "i", "ABc1", 0, "0-3"},
	{false, `[^a]`, "i", "A", 0, "nomatch"},
	{false, `(a)\1`, "i", "aA", 0, "0-2 0-1"},
	{false, `\xe9`, "i", "\xc9", 0, "nomatch"},
	{false, `\xe9`, "iu", "É", 0, "0-2"},
	{false, `[[:upper:]]+`, "i", "abC", 0, "0-3"},
	{false, `k`, "iu", "K", 0, "0-3"},
	// dotall and extended
	{false, `a.c`, "", "a\nc", 0, "nomatch"},
	{false, `a.c`, "s", "a\nc", 0, "0-3"},
	{false, `(?s)a.c`, "", "a\nc", 0, "0-3"},
	{false, `a b c`, "x", "abc", 0, "0-3"},
	{false, `a\ b`, "x", "a b", 0, "0-3"},
	{false, `a # comment\nb`, "x", "ab", 0, "0-1"},
	{false, `a[ ]b`, "x", "a b", 0, "0-3"},
	{false, `a +`, "x", "aaa", 0, "0-3"},
	{false, `(?x) a b (?-x) c`, "", "ab c", 0, "0-4"},
	// lookaround
	{false, `foo(?=bar)`, "", "foobar", 0, "0-3"},
	{false, `foo(?!bar)`, "", "foobarfoobaz", 0, "6-9"},
	{false, `(?<=\$)\d+`, "", "cost $42", 0, "6-8"},
	{false, `(?<!\$)\b\d+`, "", "$42 17", 0, "4-6"},
	{false, `(?<=a|bc)x`, "", "bcx", 0, "2-3"},
	{false, `(?<=^|,)\w+`, "", "ab,cd", 3, "3-5"},
	{false, `(?=(\w+))a`, "", "xab", 0, "1-2 1-3"},
	{false, `(?!)`, "", "a", 0, "nomatch"},
	{false, `(*FAIL)|b`, "", "b", 0, "0-1"},
	{false, `(?<=\d{3})x`, "", "12x123x", 0, "6-7"},
	// back references
	{false, `(a|b)\1`, "", "abba", 0, "1-3 1-2"},
	{false, `(\w)\1`, "", "hello", 0, "2-4 2-3"},
	{false, `(a)?b\1`, "", "b", 0, "nomatch"},
	{false, `(a)|\1b`, "", "b", 0, "nomatch"},
	{false, `(?<q>['"]).*?\k<q>`, "", "say \"hi\" 'x'", 0, "4-8 4-5 {q=\"}"},
	{false, `(?P<q>x)(?P=q)`, "", "xx", 0, "0-2 0-1 {q=x}"},
	{false, `(a)\g1\g{1}\g{-1}`, "", "aaaa", 0, "0-4 0-1"},
	{false, `(?<n>a)\k{n}\k'n'`, "", "aaa", 0, "0-3 0-1 {n=a}"},
	// named groups
	{false, `(?<year>\d{4})-(?<month>\d\d)`, "", "on 2024-05-01", 0, "3-10 3-7 8-10 {month=05 year=2024}"},
	{false, `(?'a'x)(?P<b>y)`, "", "xy", 0, "0-2 0-1 1-2 {a=x b=y}"},
	{false, `(?<a>x)|(?<b>y)`, "", "y", 0, "0-1 - 0-1 {a=false b=y}"},
	{false, `(?<n>a)|(?<n>b)`, "D", "b", 0, "0-1 - 0-1 {n=b}"},
	{false, `(?J)(?<n>a)|(?<n>b)`, "", "b", 0, "0-1 - 0-1 {n=b}"},
	{false, `(?<n>a)(?<n>b)`, "D", "ab", 0, "0-2 0-1 1-2 {n=a,b}"},
	{false, `(?<n>a)?(?<n>b)\k<n>`, "D", "bb", 0, "0-2 - 0-1 {n=b}"},
	// alternation order, quantifiers
	{false, `a|ab`, "", "ab", 0, "0-1"},
	{false, `ab|a`, "", "ab", 0, "0-2"},
	{false, `(a|ab)(c|bcd)(d*)`, "", "abcd", 0, "0-4 0-1 1-4 4-4"},
	{false, `a*?b`, "", "aab", 0, "0-3"},
	{false, `a+?`, "", "aaa", 0, "0-1"},
	{false, `a{2,3}?`, "", "aaaa", 0, "0-2"},
	{false, `a{2,}`, "", "aaaaa", 0, "0-5"},
	{false, `a{,3}`, "", "a{,3}", 0, "0-5"},
	{false, `a{2`, "", "a{2", 0, "0-3"},
	{false, `x{2}{`, "", "xx{", 0, "0-3"},
	{false, `a*+a`, "", "aaa", 0, "nomatch"},
	{false, `a++b`, "", "aab", 0, "0-3"},
	{false, `(?>a+)a`, "", "aaa", 0, "nomatch"},
	{false, `(?>a|ab)c`, "", "abc", 0, "nomatch"},
	{false, `(?U)a+`, "", "aaa", 0, "0-1"},
	{false, `(?U)a+?`, "", "aaa", 0, "0-3"},
	{false, `(a+|b+)*c`, "", "aabbc", 0, "0-5 2-4"},
	{false, `(a|b)*`, "", "abab", 0, "0-4 3-4"},
	{false, `(a)*`, "", "aaa", 0, "0-3 2-3"},
	{false, `(?:(a)|b)*`, "", "ab", 0, "0-2 0-1"},
	{false, `(a*)*`, "", "b", 0, "0-0 0-0"},
	{false, `(a*)+`, "", "b", 0, "0-0 0-0"},
	{false, `(a|)*b`, "", "aab", 0, "0-3 2-2"},
	// bytes >= 0x80 and UTF-8 mode
	{false, `.`, "", "é", 0, "0-1"},
	{false, `.`, "u", "é", 0, "0-2"},
	{false, `^.$`, "u", "é", 0, "0-2"},
	{false, `^..$`, "", "é", 0, "0-2"},
	{false, `\xc3`, "", "é", 0, "0-1"},
	{false, `[\x80-\xff]+`, "", "aéb", 0, "1-3"},
	{false, `[^a]+`, "", "aéb", 0, "1-4"},
	{false, `\w+`, "u", "héllo", 0, "0-1"},
	{false, `\W`, "u", "héllo", 0, "1-3"},
	{false, `\bllo`, "u", "héllo", 0, "3-6"},
	{false, `\p{L}+`, "u", "héllo1", 0, "0-6"},
	{false, `\p{Lu}`, "u", "éÉ", 0, "2-4"},
	{false, `\P{L}+`, "u", "ab12é", 0, "2-4"},
	{false, `\p{Greek}+`, "u", "aαβb", 0, "1-5"},
	{false, `\x{e9}`, "u", "é", 0, "0-2"},
	{false, `[\x{e0}-\x{ff}]+`, "u", "aéàb", 0, "1-5"},
	{false, `\xff`, "", "\xff", 0, "0-1"},
	{false, `\s`, "", "\xa0", 0, "nomatch"},
	{false, `\w`, "", "\xaa", 0, "nomatch"},
	{false, `.`, "u", "\xff", 0, "err:pcre_exec() failed: -10"},
	{false, `.`, "U", "a", 0, "0-1"},
	{false, `\pL+`, "", "a\xe9b", 0, "0-3"},
	{false, `\p{Xan}+`, "u", "aé1_", 0, "0-4"},
	{false, `é`, "u", "é", 0, "0-2"},
	{false, `[é]`, "u", "é", 0, "0-2"},
	{false, `(?i)é`, "u", "É", 0, "0-2"},
	{false, `b`, "", "aéb", 3, "3-4"},
	{false, `b`, "u", "aéb", 2, "err:pcre_exec() failed: -11"},
	// empty matches and iteration
	{true, `a*`, "", "baaab", 0, "all:0-0,1-4,4-4,5-5"},
	{true, `x*`, "", "abc", 0, "all:0-0,1-1,2-2,3-3"},
	{true, `\b`, "", "ab cd", 0, "all:0-0,2-2,3-3,5-5"},
	{true, `a|`, "", "bab", 0, "all:0-0,1-2,2-2,3-3"},
	{true, `(?=a)`, "", "aaa", 0, "all:0-0,1-1,2-2"},
	{true, `$`, "", "a\nb\n", 0, "all:3-3,4-4"},
	{true, `^`, "m", "a\nb\n", 0, "all:0-0,2-2"},
	{true, `\d+`, "", "a1b22c333", 0, "all:1-2,3-5,6-9"},
	{true, `.`, "u", "éa", 0, "all:0-2,2-3"},
	{true, `a`, "", "aaaa", 1, "all:1-2,2-3,3-4"},
	{true, `(?<=a)`, "", "aaa", 0, "all:1-1,2-2,3-3"},
	{true, `\K`, "", "ab", 0, "all:0-0,1-1,2-2"},
	// conditionals, branch reset, \K, subroutines
	{false, `(a)?(?(1)b|c)`, "", "ac", 0, "1-2 -"},
	{false, `(a)?(?(1)b|c)`, "", "ab", 0, "0-2 0-1"},
	{false, `(?<n>a)?(?(<n>)b|c)`, "", "c", 0, "0-1 - {n=false}"},
	{false, `(?(?=\d)\d+|[a-z]+)`, "", "x42", 0, "0-1"},
	{false, `(?(?!\d)[a-z]+|\d+)`, "", "42", 0, "0-2"},
	{false, `(?|(a)|(b)(c))(d)`, "", "bcd", 0, "0-3 0-1 1-2 2-3"},
	{false, `x\Ky`, "", "xy", 0, "1-2"},
	{false, `(?:a\K)+b`, "", "aaab", 0, "3-4"},
	{false, `(\d+)(?1)`, "", "12345", 0, "0-5 0-4"},
	{false, `(?(DEFINE)(?<byte>\d{1,3}))(?&byte)(?:\.(?&byte)){3}`, "", "ip 10.0.0.255!", 0, "3-13 - {byte=false}"},
	{false, `(?(R)a|b)`, "", "b", 0, "0-1"},
	{false, `(a)(?-1)`, "", "aa", 0, "0-2 0-1"},
	{false, `(?+1)(b)`, "", "bb", 0, "0-2 1-2"},
	{false, `\g<1>(x)`, "", "xx", 0, "0-2 1-2"},
	// anchored and DFA
	{false, `abc`, "a", "xabc", 0, "nomatch"},
	{false, `abc`, "a", "xabc", 1, "1-4"},
	{false, `b`, "a", "abc", 0, "nomatch"},
	{false, `he|hell`, "d", "hello", 0, "0-4"},
	{false, `(he|hell)`, "d", "hello", 0, "0-4"},
	{false, `<.*?>`, "d", "<a><b>", 0, "0-6"},
	{false, `[a-z]+`, "d", "12ab", 0, "2-4"},
	{false, `a|ab|abc`, "d", "xabcd", 1, "1-4"},
	{false, `^b`, "d", "ab", 1, "nomatch"},
	{false, `\bb`, "d", "ab", 1, "nomatch"},
	{false, `a$`, "d", "a\n", 0, "0-1"},
	{false, `.`, "ud", "你好", 0, "0-3"},
	// JavaScript compatibility
	{false, `[]a`, "J", "a", 0, "nomatch"},
	{false, `[^]`, "J", "\n", 0, "0-1"},
	{false, `\u0041`, "J", "A", 0, "0-1"},
	{false, `\x4`, "J", "x4", 0, "0-2"},
	{false, `(a)?\1b`, "J", "b", 0, "0-1 -"},
	// start offsets and errors at match time
	{false, `a`, "", "ba", 2, "nomatch"},
	{false, `\w`, "u", "é", 1, "err:pcre_exec() failed: -11"},
	{false, `\w`, "U", "éa", 1, "2-3"},
	{false, `.`, "u", "a\xffb", 0, "err:pcre_exec() failed: -10"},
	{false, `.`, "U", "ab", 0, "0-1"},
	// more DFA mode, and a start offset past the end
	{false, `(a)\1`, "d", "aa", 0, "err:pcre_exec() failed: -16"},
	{false, `a`, "ad", "ba", 0, "nomatch"},
	{false, `x\Ky`, "d", "xy", 0, "err:pcre_exec() failed: -16"},
	{false, `(?i)ab`, "d", "xAB", 0, "1-3"},
	{true, `a|ab`, "d", "abab", 0, "all:0-2,2-4"},
	{false, `$`, "d", "a\n", 0, "1-1"},
	{false, `^$`, "md", "a\n\nb", 0, "2-2"},
	{false, `a`, "", "ab", 3, "err:pcre_exec() failed: -24"},
	// extended mode comment up to a real newline, and a NUL in the
	// pattern, where PCRE stops reading
	{false, "a # comment\nb", "x", "ab", 0, "0-2"},
	{false, "a\x00b", "", "a", 0, "0-1"},
	{false, `[\x00]`, "", "\x00", 0, "0-1"},
	{false, "[\x00]", "", "\x00", 0, "err:pcre_compile() failed: missing terminating ] for character class in \"["},
}

func (c behaviourCase) run() string {
	if c.all {
		return describeAll(c.pat, c.subj, c.opts, c.pos)
	}
	return describeOne(c.pat, c.subj, c.opts, c.pos)
}

func TestBehaviour(t *testing.T) {
	for _, c := range behaviourCases {
		if got := c.run(); got != c.want {
			t.Errorf("%q opts %q on %q from %d: got %s, want %s", c.pat, c.opts, c.subj, c.pos, got, c.want)
		}
	}
}

// TestBehaviourAgainstNginx runs the table through ngx.re in a real nginx
// and checks that PCRE still gives the recorded answers.
func TestBehaviourAgainstNginx(t *testing.T) {
	n := startLuaNginx(t)
	qs := make([]luaQuery, len(behaviourCases))
	for i, c := range behaviourCases {
		qs[i] = luaQuery{all: c.all, pat: c.pat, subj: c.subj, opts: c.opts, pos: c.pos}
	}
	res := n.eval(t, qs)
	for i, c := range behaviourCases {
		if res[i] != c.want {
			t.Errorf("%q opts %q on %q from %d: nginx says %s, table says %s", c.pat, c.opts, c.subj, c.pos, res[i], c.want)
		}
	}
}

func TestBehaviourTableSize(t *testing.T) {
	// The table is the main statement of PCRE compatibility; keep it
	// broad.
	if len(behaviourCases) < 150 {
		t.Fatalf("only %d behaviour cases", len(behaviourCases))
	}
	seen := map[string]bool{}
	for _, c := range behaviourCases {
		key := strings.Join([]string{c.pat, c.opts, c.subj}, "\x00")
		if c.all {
			key += "\x00all"
		}
		key += "\x00" + string(rune('0'+c.pos))
		if seen[key] {
			t.Errorf("duplicate case %q %q %q", c.pat, c.opts, c.subj)
		}
		seen[key] = true
	}
}
