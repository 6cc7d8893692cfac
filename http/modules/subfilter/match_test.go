package subfilter

import (
	"bytes"
	"math/rand"
	"sort"
	"strings"
	"testing"
)

// reference substitutes over the whole body at once, by the rule nginx's
// streaming scan implements: at each position in turn the strings are
// tried in their sorted order (unused ones only, with once); the first
// full match is replaced, while a string the body ends in the middle of
// stops all matching there; with once, the body passes untouched after
// every string was replaced.
func reference(pats, vals [][]byte, once bool, body []byte) []byte {
	n := len(pats)
	w := len(pats[0])
	for _, p := range pats {
		w = min(w, len(p))
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return pats[order[a]][w-1] < pats[order[b]][w-1] })
	used := make([]bool, n)
	applied := 0
	var out []byte
	for p := 0; p < len(body); {
		if once && applied == n {
			return append(out, body[p:]...)
		}
		found := -1
		for _, i := range order {
			if once && used[i] {
				continue
			}
			pat := pats[i]
			k := 0
			for k < len(pat) && p+k < len(body) && lower(body[p+k]) == pat[k] {
				k++
			}
			if k == len(pat) {
				found = i
				break
			}
			if p+k == len(body) {
				return append(out, body[p:]...)
			}
		}
		if found < 0 {
			out = append(out, body[p])
			p++
			continue
		}
		out = append(out, vals[found]...)
		p += len(pats[found])
		used[found] = true
		applied++
	}
	return out
}

// run feeds body to a stream in the pieces cut at splits and returns what
// it passed on, checking that no call passes on bytes a later one could
// still change.
func run(t *testing.T, pats, vals [][]byte, once bool, body []byte, splits []int) []byte {
	t.Helper()
	pairs := make([]*pair, len(pats))
	for i := range pats {
		pairs[i] = &pair{search: pats[i], value: vals[i]}
	}
	tb := newTables(pats, pairs)
	s := &stream{t: tb, once: once, subs: make([][]byte, len(pats)), used: make([]bool, len(pats))}
	var out []byte
	prev := 0
	for _, cut := range append(splits, len(body)) {
		s.feed(nil, body[prev:cut], false)
		if cut == len(body) {
			s.emitHeld(0, len(s.held))
			s.held = s.held[:0]
		}
		for _, b := range s.out {
			out = append(out, b.Data...)
		}
		s.reset()
		prev = cut
	}
	return out
}

func TestStreamMatchesWholeBodyRule(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	word := func(alpha string, lo, hi int) []byte {
		b := make([]byte, lo+rng.Intn(hi-lo+1))
		for i := range b {
			b[i] = alpha[rng.Intn(len(alpha))]
		}
		return b
	}
	for iter := 0; iter < 4000; iter++ {
		n := 1 + rng.Intn(4)
		pats := make([][]byte, n)
		vals := make([][]byte, n)
		for i := range pats {
			pats[i] = lowerBytes(word("abcAB", 1, 6))
			vals[i] = word("XYZ", 0, 3)
		}
		body := word("abcABC", 0, 40)
		var splits []int
		for k := rng.Intn(5); k > 0 && len(body) > 0; k-- {
			splits = append(splits, rng.Intn(len(body)+1))
		}
		sort.Ints(splits)
		once := rng.Intn(2) == 0
		want := reference(pats, vals, once, body)
		if got := run(t, pats, vals, once, body, splits); !bytes.Equal(got, want) {
			t.Fatalf("patterns %q values %q once=%v body %q splits %v:\n got %q\nwant %q", pats, vals, once, body, splits, got, want)
		}
	}
}

func TestStreamKnownCases(t *testing.T) {
	tests := []struct {
		name       string
		pats, vals []string
		once       bool
		body       string
		want       string
	}{
		{"first only with once", []string{"foo"}, []string{"bar"}, true, "foofoo", "barfoo"},
		{"all without once", []string{"foo"}, []string{"bar"}, false, "fooFOO", "barbar"},
		{"incomplete at the end", []string{"foo"}, []string{"bar"}, false, "foofo", "barfo"},
		{"restart after a false start", []string{"aab"}, []string{"_"}, false, "aaaab", "aa_"},
		{"longer string first in order", []string{"aabb", "aaabb"}, []string{"+", "-"}, false, "aabbaaabbaabb", "+-+"},
		{"end of body stops a shorter match", []string{"abcd", "bc"}, []string{"1", "2"}, false, "xabc", "xabc"},
		{"once per string", []string{"ab", "cd"}, []string{"1", "2"}, true, "abcdabcd", "12abcd"},
		{"empty replacement", []string{"x"}, []string{""}, false, "axbxc", "abc"},
	}
	for _, tt := range tests {
		pats := make([][]byte, len(tt.pats))
		vals := make([][]byte, len(tt.vals))
		for i := range pats {
			pats[i] = lowerBytes([]byte(tt.pats[i]))
			vals[i] = []byte(tt.vals[i])
		}
		body := []byte(tt.body)
		for cut := 0; cut <= len(body); cut++ {
			if got := string(run(t, pats, vals, tt.once, body, []int{cut})); got != tt.want {
				t.Errorf("%s, split at %d: got %q, want %q", tt.name, cut, got, tt.want)
			}
		}
	}
}

// TestHeldTailIsMinimal checks what a call keeps back: only a tail that
// may begin a match (nginx's flushed parse), so a streamed body is not
// delayed by more than a partial match.
func TestHeldTailIsMinimal(t *testing.T) {
	tests := []struct {
		pats []string
		data string
		held string
	}{
		{[]string{"za"}, "xyz", "z"},
		{[]string{"ab"}, "xyz", ""},
		{[]string{"abpatternyz", "abpa"}, "0abpat", "abpat"},
		{[]string{"abc", "cde"}, "xxab", "ab"},
		{[]string{"abc", "cde"}, "xxabc", ""},
	}
	for _, tt := range tests {
		pats := make([][]byte, len(tt.pats))
		pairs := make([]*pair, len(tt.pats))
		for i := range pats {
			pats[i] = []byte(tt.pats[i])
			pairs[i] = &pair{search: pats[i], value: []byte("+")}
		}
		s := &stream{t: newTables(pats, pairs), subs: make([][]byte, len(pats)), used: make([]bool, len(pats))}
		s.feed(nil, []byte(tt.data), false)
		if string(s.held) != tt.held {
			t.Errorf("%q in %q: held %q, want %q", tt.pats, tt.data, s.held, tt.held)
		}
	}
}

// BenchmarkStream measures the scan over 32k buffers of HTML with a
// match every few hundred bytes.
func BenchmarkStream(b *testing.B) {
	pats := [][]byte{[]byte("href=\"http://backend.internal/"), []byte("</body>")}
	pairs := []*pair{{search: pats[0], value: []byte("href=\"/")}, {search: pats[1], value: []byte("<script></script></body>")}}
	tb := newTables(pats, pairs)
	chunk := []byte(strings.Repeat("<p>some text of a page <a href=\"http://backend.internal/x\">link</a></p>\n", 32768/75))
	s := &stream{t: tb, subs: make([][]byte, 2), used: make([]bool, 2)}
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.feed(nil, chunk, false)
		s.reset()
	}
}
