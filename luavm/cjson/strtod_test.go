package cjson

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestShortDecimalIsExact checks the fast path of strtod against
// strconv.ParseFloat, bit for bit, on short decimals of every shape it
// takes, and that it leaves the rest to the general path.
func TestShortDecimalIsExact(t *testing.T) {
	check := func(s string) {
		t.Helper()
		f, n, ok := shortDecimal(s)
		if !ok {
			t.Fatalf("%q: not taken by the fast path", s)
		}
		want, err := strconv.ParseFloat(s[:n], 64)
		if err != nil || math.Float64bits(f) != math.Float64bits(want) {
			t.Fatalf("%q: %v (%d bytes), ParseFloat says %v", s, f, n, want)
		}
	}
	for _, s := range []string{"0", "-0", "42", "9.5", "0.1", "0.3", "1.", "123456789012345", "99999999999999.9",
		"0.00000000000001", "-12.25", "3.14159265358979", "007"} {
		check(s)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var b strings.Builder
		if r.IntN(2) == 0 {
			b.WriteByte('-')
		}
		whole := 1 + r.IntN(15)
		for range whole {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		if frac := r.IntN(16 - whole); frac > 0 || r.IntN(4) == 0 {
			b.WriteByte('.')
			for range frac {
				b.WriteByte(byte('0' + r.IntN(10)))
			}
		}
		check(b.String())
	}
	// what it leaves to the general path, which must still parse it.
	for s, want := range map[string]float64{"1e3": 1000, "0x10": 16, "1234567890123456": 1234567890123456,
		"0.1234567890123456": 0.1234567890123456, ".5": 0.5, "inf": math.Inf(1), "+1": 1, "1E2": 100} {
		if _, _, ok := shortDecimal(s); ok {
			t.Errorf("%q: taken by the fast path", s)
		}
		if f, n := strtod(s); f != want || n != len(s) {
			t.Errorf("strtod(%q) = %v, %d; want %v, %d", s, f, n, want, len(s))
		}
	}
	// the length stops at what follows the number.
	if f, n := strtod("12,"); f != 12 || n != 2 {
		t.Errorf("strtod(\"12,\") = %v, %d", f, n)
	}
}
