package main

import "testing"

func TestParseByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"4096", 4096, true},
		{"512k", 512 << 10, true},
		{"16m", 16 << 20, true},
		{"16M", 16 << 20, true},
		{"1g", 1 << 30, true},
		{"", 0, false},
		{"m", 0, false},
		{"-1m", 0, false},
		{"12x", 0, false},
		{"99999999g", 0, false},
	} {
		got, err := parseByteSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestHeapFloor(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv(heapFloorEnv, "1m")
	if b, err := heapFloor(); err != nil || len(b) != 1<<20 {
		t.Fatalf("explicit floor: %d bytes, %v", len(b), err)
	}
	t.Setenv(heapFloorEnv, "0")
	if b, err := heapFloor(); err != nil || b != nil {
		t.Fatalf("floor 0: %d bytes, %v", len(b), err)
	}
	t.Setenv(heapFloorEnv, "lots")
	if _, err := heapFloor(); err == nil || err.Error() != `GRESTY_HEAP_FLOOR: invalid size "lots"` {
		t.Fatalf("bad floor: %v", err)
	}
}
