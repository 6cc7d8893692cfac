package regex

import (
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

// patternGen builds random patterns from PCRE constructs whose behaviour
// both engines define: no back reference into an open group (PCRE's
// optimizer then gives answers that depend on its internals) and no
// invalid UTF-8 with the U flag (undefined in PCRE).
type patternGen struct {
	r      *rand.Rand
	ncap   int
	closed int // groups whose ')' has been written
}

var genAtoms = []string{"a", "b", "c", ".", "[ab]", "[^a]", `\d`, `\w`, `\s`, `\W`, "A", "1", " ", `\n`,
	"[a-c]", `\b`, `\B`, "^", "$", `\z`, `\Z`, `\A`, `\h`, `\R`, "[[:alpha:]]", `\x41`, "é", `\xe9`}

// genUnquantified are atoms a quantifier may not follow.
var genUnquantified = map[string]bool{"^": true, "$": true, `\b`: true, `\B`: true, `\z`: true,
	`\Z`: true, `\A`: true, "(?i)": true, "(?-i)": true, "(?m)": true, "(?s)": true}

func (g *patternGen) atom(depth int) string {
	if depth < 3 {
		switch g.r.Intn(14) {
		case 0:
			g.ncap++
			s := "(" + g.alt(depth+1) + ")"
			g.closed = g.ncap
			return s
		case 1:
			return "(?:" + g.alt(depth+1) + ")"
		case 2:
			return "(?=" + g.alt(depth+1) + ")"
		case 3:
			return "(?!" + g.alt(depth+1) + ")"
		case 4:
			return "(?<=" + []string{"a", "b", "[ab]", `\d`, "ab", "a|bc"}[g.r.Intn(6)] + ")"
		case 5:
			return "(?>" + g.alt(depth+1) + ")"
		case 6:
			if g.closed > 0 {
				return `\` + strconv.Itoa(1+g.r.Intn(g.closed))
			}
		case 7:
			g.ncap++
			s := "(?<n" + strconv.Itoa(g.ncap) + ">" + g.alt(depth+1) + ")"
			g.closed = g.ncap
			return s
		case 8:
			return []string{"(?i)", "(?-i)", "(?m)", "(?s)", "(?i:" + g.alt(depth+1) + ")"}[g.r.Intn(5)]
		}
	}
	return genAtoms[g.r.Intn(len(genAtoms))]
}

func (g *patternGen) piece(depth int) string {
	a := g.atom(depth)
	if genUnquantified[a] || g.r.Intn(3) != 0 {
		return a
	}
	return a + []string{"*", "+", "?", "{1,2}", "{2}", "*?", "+?", "??", "*+", "++", "{0,2}?"}[g.r.Intn(11)]
}

func (g *patternGen) alt(depth int) string {
	var b strings.Builder
	for {
		for n := 1 + g.r.Intn(3); n > 0; n-- {
			b.WriteString(g.piece(depth))
		}
		if g.r.Intn(4) != 0 {
			return b.String()
		}
		b.WriteByte('|')
	}
}

// randomQueries returns n reproducible queries for seed.
func randomQueries(seed int64, n int) []luaQuery {
	r := rand.New(rand.NewSource(seed))
	qs := make([]luaQuery, 0, n)
	for i := 0; i < n; i++ {
		g := &patternGen{r: r}
		p := g.alt(0)
		var sb strings.Builder
		for j := r.Intn(10); j > 0; j-- {
			sb.WriteString([]string{"a", "b", "c", " ", "\n", "1", "A", "é", "\xe9", "ab", "\r\n"}[r.Intn(11)])
		}
		subj := sb.String()
		opts := []string{"", "", "i", "m", "s", "u", "U", "im", "x", "a"}[r.Intn(10)]
		if opts == "U" && (invalidUTF8At(subj) >= 0 || r.Intn(2) == 0) {
			opts = "u"
		}
		all := r.Intn(3) == 0
		pos := 0
		if r.Intn(4) == 0 && len(subj) > 0 {
			pos = r.Intn(len(subj))
		}
		qs = append(qs, luaQuery{all: all, pat: p, subj: subj, opts: opts, pos: pos})
	}
	return qs
}

// TestRandomAgainstNginx compares thousands of generated patterns and
// subjects with ngx.re in a real nginx.
func TestRandomAgainstNginx(t *testing.T) {
	n := startLuaNginx(t)
	for _, seed := range []int64{3, 12} {
		qs := randomQueries(seed, 2000)
		res := n.eval(t, qs)
		bad := 0
		for i, q := range qs {
			var got string
			if q.all {
				got = describeAll(q.pat, q.subj, q.opts, q.pos)
			} else {
				got = describeOne(q.pat, q.subj, q.opts, q.pos)
			}
			if got != res[i] {
				bad++
				if bad <= 20 {
					t.Errorf("seed %d: %q opts %q on %q from %d (all=%v): PCRE %s, we %s",
						seed, q.pat, q.opts, q.subj, q.pos, q.all, res[i], got)
				}
			}
		}
		if bad > 0 {
			t.Errorf("seed %d: %d of %d differ", seed, bad, len(qs))
		}
	}
}
