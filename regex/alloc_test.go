//go:build !race

package regex

import (
	"strings"
	"testing"
)

// TestNoAllocs pins the steady-state cost of matching: no allocation per
// match once a Matcher has grown its buffers.
func TestNoAllocs(t *testing.T) {
	for _, bc := range benchCases {
		re := mustCompile(t, bc.pattern, bc.flags)
		m := NewMatcher()
		ov := make([]int, re.OvectorLen())
		other := strings.Clone(bc.subject)
		b := []byte(bc.subject)
		run := func() {
			if _, err := re.MatchString(m, bc.subject, 0, ov); err != nil {
				t.Fatal(err)
			}
			if _, err := re.MatchString(m, other, 0, ov); err != nil {
				t.Fatal(err)
			}
			if _, err := re.Match(m, b, 0, ov); err != nil {
				t.Fatal(err)
			}
		}
		run()
		if n := testing.AllocsPerRun(50, run); n != 0 {
			t.Errorf("%s: %v allocations per run", bc.name, n)
		}
	}
	c := NewCache(0, Options{})
	if _, err := c.Get(benchCases[0].pattern, 0); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(50, func() { _, _ = c.Get(benchCases[0].pattern, 0) }); n != 0 {
		t.Errorf("cache hit: %v allocations", n)
	}
}
