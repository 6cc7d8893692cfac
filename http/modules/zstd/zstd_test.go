package zstd

import (
	"bytes"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func TestAcceptsToken(t *testing.T) {
	tests := []struct {
		ae   string
		want bool
	}{
		{"zstd", true},
		{"ZSTD", true},
		{"gzip, zstd", true},
		{"gzip,zstd;q=0.5", true},
		{"zstd;q=0", false},
		{"zstd; q=0.000", false},
		{"zstd;q=0.001", true},
		{"zstd;q=1", true},
		{"zstd;q=1.000", true},
		{"zstd;q=1.5", false},
		{"zstd;q=", false},
		{"zstd;q=abc", false},
		{"zstd ; q = 0.8", true},
		{"zstd;level=3", true},
		{"x-zstd", false},
		{"zstdx", false},
		{"gzip", false},
		{"", false},
		{"*", false},
		{"gzip;q=0.5, zstd;q=0", false},
		{"br,\tzstd", true},
	}
	for _, tt := range tests {
		if got := AcceptsToken([]byte(tt.ae), "zstd"); got != tt.want {
			t.Errorf("AcceptsToken(%q) = %v, want %v", tt.ae, got, tt.want)
		}
	}
}

func TestEncoderRoundTrip(t *testing.T) {
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	in := []byte(strings.Repeat("<li>zstandard content encoding</li>\n", 600))
	tests := []struct {
		level  int
		size   int64
		pieces int
		flush  bool
	}{
		{1, int64(len(in)), 1, false},
		{3, -1, 5, true},
		{19, -1, 2, false},
		{1, 0, 0, false},
	}
	for _, tt := range tests {
		e := newZstdEncoder(tt.level)
		for round := 0; round < 2; round++ {
			data := in
			if tt.pieces == 0 {
				data = nil
			}
			e.Start(tt.size)
			var out []byte
			for i := 0; i < tt.pieces; i++ {
				part := data[i*len(data)/tt.pieces : (i+1)*len(data)/tt.pieces]
				if err := e.Write(part); err != nil {
					t.Fatal(err)
				}
				if tt.flush {
					if err := e.Flush(); err != nil {
						t.Fatal(err)
					}
				}
				out = append(out, e.Bytes()...)
				e.Reset()
			}
			if err := e.Finish(); err != nil {
				t.Fatal(err)
			}
			out = append(out, e.Bytes()...)
			e.Reset()
			if len(out) == 0 {
				t.Fatalf("level %d: an empty body must still be a zstd frame", tt.level)
			}
			got, err := dec.DecodeAll(out, nil)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("level %d round %d: decoded %d bytes (want %d), %v", tt.level, round, len(got), len(data), err)
			}
		}
	}
}

func TestEncoderReuseDoesNotAllocate(t *testing.T) {
	e := newZstdEncoder(1)
	in := []byte(strings.Repeat("reused encoder ", 700))
	run := func() {
		e.Start(int64(len(in)))
		e.Write(in)
		e.Finish()
		e.Reset()
	}
	run()
	if n := testing.AllocsPerRun(50, run); n > 0 {
		t.Errorf("a reused encoder allocates %.1f times per response", n)
	}
}

func TestEncoderDeterministic(t *testing.T) {
	// the body cache relies on equal input giving equal output.
	in := []byte(strings.Repeat("deterministic output for the cache ", 400))
	compress := func(e interface {
		Start(int64)
		Write([]byte) error
		Finish() error
		Bytes() []byte
		Reset()
	}, b []byte) []byte {
		e.Start(int64(len(b)))
		e.Write(b)
		e.Finish()
		out := append([]byte(nil), e.Bytes()...)
		e.Reset()
		return out
	}
	for _, level := range []int{1, 3, 7, 19} {
		want := compress(newZstdEncoder(level), in)
		used := newZstdEncoder(level)
		for i := 0; i < 3; i++ {
			compress(used, []byte(strings.Repeat("other body ", 100+i*77)))
		}
		if got := compress(used, in); !bytes.Equal(got, want) {
			t.Errorf("level %d: a reused encoder's output differs from a fresh one's", level)
		}
	}
}
