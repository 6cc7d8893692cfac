package rangefilter

import (
	"fmt"
	"testing"
)

func TestParse(t *testing.T) {
	const n = 100
	tests := []struct {
		v    string
		max  int
		want string
	}{
		{"0-0", 10, "[0,1)"},
		{"0-99", 10, "[0,100)"},
		{"0-", 10, "[0,100)"},
		{"10-", 10, "[10,100)"},
		{"-10", 10, "[90,100)"},
		{"-100", 10, "[0,100)"},
		{"-1000", 10, "[0,100)"},
		{"-0", 10, "not satisfiable"},
		{"90-1000", 10, "[90,100)"},
		{"100-200", 10, "not satisfiable"},
		{"5-4", 10, "not satisfiable"},
		{"0-4,5-9", 10, "[0,5) [5,10)"},
		{"0-49,50-99", 10, "[0,50) [50,100)"},
		{"0-50,50-99", 10, "declined"},
		{"0-4,200-300", 10, "[0,5)"},
		{"200-300,0-4", 10, "[0,5)"},
		{"0-4,5-9,10-14", 2, "declined"},
		{"0-4,5-9", 2, "[0,5) [5,10)"},
		{"0-4", 0, "declined"},
		{" 1 - 2 , 3 - 4 ", 10, "[1,3) [3,5)"},
		{"1-2,", 10, "not satisfiable"},
		{"1-2,,3-4", 10, "not satisfiable"},
		{"a", 10, "not satisfiable"},
		{"1-a", 10, "not satisfiable"},
		{"1-2a", 10, "not satisfiable"},
		{"-", 10, "not satisfiable"},
		{"", 10, "not satisfiable"},
		{"9223372036854775807-", 10, "not satisfiable"},
		{"9223372036854775808-", 10, "not satisfiable"},
		{"0-9223372036854775807", 10, "[0,100)"},
		{"0-9223372036854775808", 10, "not satisfiable"},
	}
	for _, tt := range tests {
		rs, rc := Parse([]byte(tt.v), n, tt.max)
		var got string
		switch rc {
		case parseDeclined:
			got = "declined"
		case parseNotSatisfiable:
			got = "not satisfiable"
		default:
			for i, r := range rs {
				if i > 0 {
					got += " "
				}
				got += fmt.Sprintf("[%d,%d)", r.Start, r.End)
			}
		}
		if got != tt.want {
			t.Errorf("Parse(%q, max %d) = %s, want %s", tt.v, tt.max, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0-1", "-5", "5-", "1-2,3-4", " 1 - 2 ", "x"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, v string, n int64) {
		if n < 0 {
			n = -n
		}
		rs, rc := Parse([]byte(v), n, 5)
		if rc != parseOK {
			return
		}
		var size int64
		for _, r := range rs {
			if r.Start < 0 || r.End > n || r.Start >= r.End {
				t.Fatalf("Parse(%q, %d): bad range %+v", v, n, r)
			}
			size += r.End - r.Start
		}
		if size > n || len(rs) > 5 {
			t.Fatalf("Parse(%q, %d): %d bytes in %d ranges", v, n, size, len(rs))
		}
	})
}
