package core

import (
	"testing"
)

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in    string
		isSec bool
		want  int64
		ok    bool
	}{
		{"10", true, 10, true},
		{"10", false, 10000, true},
		{"10s", false, 10000, true},
		{"10ms", false, 10, true},
		{"1m", true, 60, true},
		{"1h 30m", true, 5400, true},
		{"1h30m", false, 5400000, true},
		{"1d", true, 86400, true},
		{"1w", true, 604800, true},
		{"1M", true, 2592000, true},
		{"1y", true, 31536000, true},
		{"1M", false, 0, false},  // months are refused for msec times
		{"1y", false, 0, false},  // as are years
		{"1ms", true, 0, false},  // and ms for second times
		{"1s1m", true, 0, false}, // units must decrease
		{"", true, 0, false},
		{"s", true, 0, false},
		{"10x", true, 0, false},
		{"68000ms", false, 68000, true},
		{"1h 1m 1s", true, 3661, true},
	} {
		got, ok := ParseTime(tc.in, tc.isSec)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("ParseTime(%q, %v) = %d, %v; want %d, %v", tc.in, tc.isSec, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
		off  bool
	}{
		{"1024", 1024, true, false},
		{"1k", 1024, true, false},
		{"1K", 1024, true, false},
		{"2m", 2 << 20, true, false},
		{"1g", 0, false, false},
		{"1g", 1 << 30, true, true},
		{"", 0, false, false},
		{"k", 0, false, false},
		{"-1", 0, false, false},
		{"1.5k", 0, false, false},
	} {
		var got int64
		var ok bool
		if tc.off {
			got, ok = ParseOffset(tc.in)
		} else {
			got, ok = ParseSize(tc.in)
		}
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parse %q (offset %v) = %d, %v; want %d, %v", tc.in, tc.off, got, ok, tc.want, tc.ok)
		}
	}
}

func TestAtoi(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "42": 42, "007": 7} {
		if got, ok := Atoi(in); !ok || got != want {
			t.Errorf("Atoi(%q) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "-1", "+1", "1a", "99999999999999999999999"} {
		if _, ok := Atoi(in); ok {
			t.Errorf("Atoi(%q) accepted", in)
		}
	}
}

func TestArgsCount(t *testing.T) {
	for _, tc := range []struct {
		a  Args
		n  int
		ok bool
	}{
		{Take1, 1, true}, {Take1, 0, false}, {Take1, 2, false},
		{Take12, 2, true}, {Take12, 3, false},
		{Flag, 1, true}, {Flag, 2, false},
		{OneMore, 0, false}, {OneMore, 9, true},
		{TwoMore, 1, false}, {TwoMore, 2, true},
		{NoArgs, 0, true}, {NoArgs, 1, false},
		{AnyArgs, 20, true},
		{Take7, 7, true}, {Take7 | Take1, 8, false},
	} {
		if got := tc.a.countOK(tc.n); got != tc.ok {
			t.Errorf("%b.countOK(%d) = %v", tc.a, tc.n, got)
		}
	}
}
