package splitclients

import "testing"

func TestMurmurHash2(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
	}{
		{"", 0x00000000},
		{"a", 0x92685f5e},
		{"ab", 0x1aa14063},
		{"abc", 0x13577c9b},
		{"abcd", 0x26873021},
		{"127.0.0.1", 0xb6131d91},
		{"hello world", 0x44a81419},
		{"\xff\xfe\x80", 0xa30efe85},
	}
	for _, tt := range tests {
		if got := MurmurHash2([]byte(tt.in)); got != tt.want {
			t.Errorf("MurmurHash2(%q) = %#08x, want %#08x", tt.in, got, tt.want)
		}
	}
}

func TestAtofp(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"50", 5000, true},
		{"0.5", 50, true},
		{"12.34", 1234, true},
		{"12.345", 0, false},
		{".5", 50, true},
		{"5.", 500, true},
		{"1.2.3", 0, false},
		{"", 0, false},
		{"x", 0, false},
		{"-1", 0, false},
	}
	for _, tt := range tests {
		got, ok := atofp(tt.in, 2)
		if got != tt.want || ok != tt.ok {
			t.Errorf("atofp(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
