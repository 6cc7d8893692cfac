package shmzone

import "testing"

func TestPages(t *testing.T) {
	tests := []struct {
		size int64
		want int
	}{
		{32 << 10, 7},
		{1 << 20, 254},
		{10 << 20, 2544},
		{4096, 0},
		{0, 0},
	}
	for _, tt := range tests {
		if got := Pages(tt.size); got != tt.want {
			t.Errorf("Pages(%d) = %d, want %d", tt.size, got, tt.want)
		}
	}
}

func TestChunksPerPage(t *testing.T) {
	tests := []struct{ n, want int }{
		{1, 504}, {8, 504}, {9, 254}, {16, 254}, {17, 127}, {32, 127},
		{33, 64}, {64, 64}, {65, 32}, {84, 32}, {128, 32}, {129, 16},
		{2048, 2}, {2049, 0},
	}
	for _, tt := range tests {
		if got := ChunksPerPage(tt.n); got != tt.want {
			t.Errorf("ChunksPerPage(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}

func TestSlab(t *testing.T) {
	s := NewSlab(32 << 10)
	// seven pages of 128-byte chunks, 32 each.
	n := 0
	for s.Alloc(100) {
		n++
	}
	if n != 7*32 {
		t.Fatalf("%d allocations fit, want %d", n, 7*32)
	}
	if s.Alloc(8) || s.Alloc(3000) {
		t.Errorf("a full zone took another allocation")
	}
	// freeing a page's worth gives a page back, for any size.
	for i := 0; i < 32; i++ {
		s.Free(100)
	}
	if s.FreePages() != 1 || !s.Alloc(3000) || s.Alloc(8) {
		t.Errorf("after freeing 32 chunks: %d free pages", s.FreePages())
	}
	s.Free(3000)
	if !s.Alloc(8) {
		t.Errorf("a freed big allocation was not given back")
	}
}
