package gzip

import (
	"bytes"
	stdgzip "compress/gzip"
	"io"
	"strings"
	"testing"

	"gresty/conf"
)

func sample(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		b.WriteString("<p class=\"item\">item number ")
		b.WriteString(strings.Repeat("x", i%17))
		b.WriteString("</p>\n")
	}
	return b.Bytes()[:n]
}

func TestDeflaterRoundTrip(t *testing.T) {
	tests := []struct {
		level  int
		size   int
		pieces int
		flush  bool
	}{
		{1, 0, 1, false},
		{1, 10 << 10, 1, false},
		{1, 10 << 10, 7, true},
		{5, 100 << 10, 3, false},
		{9, 10 << 10, 2, true},
		{9, 1, 1, false},
	}
	for _, tt := range tests {
		d := newDeflater(tt.level).(*deflater)
		for round := 0; round < 2; round++ { // the second round reuses the encoder
			in := sample(tt.size)
			d.Start(int64(tt.size))
			var out []byte
			step := (len(in) + tt.pieces - 1) / max(tt.pieces, 1)
			for i := 0; i < len(in); i += max(step, 1) {
				end := min(i+step, len(in))
				if err := d.Write(in[i:end]); err != nil {
					t.Fatal(err)
				}
				if tt.flush {
					if err := d.Flush(); err != nil {
						t.Fatal(err)
					}
					// a sync flush makes everything so far decodable.
					zr, err := stdgzip.NewReader(bytes.NewReader(append(out, d.Bytes()...)))
					if err != nil {
						t.Fatal(err)
					}
					got := make([]byte, end)
					if _, err := io.ReadFull(zr, got); err != nil || !bytes.Equal(got, in[:end]) {
						t.Fatalf("level %d: after flush at %d: %v", tt.level, end, err)
					}
				}
				out = append(out, d.Bytes()...)
				d.Reset()
			}
			if err := d.Finish(); err != nil {
				t.Fatal(err)
			}
			out = append(out, d.Bytes()...)
			d.Reset()
			wantXfl := byte(0)
			switch tt.level {
			case 1:
				wantXfl = 4
			case 9:
				wantXfl = 2
			}
			if !bytes.Equal(out[:10], []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, wantXfl, 3}) {
				t.Errorf("level %d: header % x", tt.level, out[:10])
			}
			br := bytes.NewReader(out)
			zr, err := stdgzip.NewReader(br)
			if err != nil {
				t.Fatal(err)
			}
			zr.Multistream(false)
			got, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(got, in) || br.Len() != 0 {
				t.Errorf("level %d size %d: decoded %d bytes, err %v, %d left", tt.level, tt.size, len(got), err, br.Len())
			}
		}
	}
}

func TestDeflaterReuseDoesNotAllocate(t *testing.T) {
	d := newDeflater(1)
	in := sample(10 << 10)
	run := func() {
		d.Start(int64(len(in)))
		d.Write(in)
		d.Finish()
		d.Reset()
	}
	run()
	if n := testing.AllocsPerRun(50, run); n > 0 {
		t.Errorf("a reused deflater allocates %.1f times per response", n)
	}
}

func TestFormatRatio(t *testing.T) {
	tests := []struct {
		in, out int64
		want    string
	}{
		{100, 100, "1.00"},
		{1000, 300, "3.33"},
		{2125, 1000, "2.13"},
		{2124, 1000, "2.12"},
		{1999, 1000, "2.00"},
		{10240, 2699, "3.79"},
		{5, 1000, "0.01"},
		{1, 1000, "0.00"},
		{995, 100, "9.95"},
		{9999, 1000, "10.00"},
	}
	for _, tt := range tests {
		if got := string(FormatRatio(nil, tt.in, tt.out)); got != tt.want {
			t.Errorf("FormatRatio(%d, %d) = %s, want %s", tt.in, tt.out, got, tt.want)
		}
	}
}

func TestTypesMergeAndMatch(t *testing.T) {
	set := func(args ...string) Types {
		var ts Types
		if err := ts.Set(nil, &conf.Directive{Name: "gzip_types", Args: args}); err != nil {
			t.Fatal(err)
		}
		return ts
	}
	var unset Types
	tests := []struct {
		name   string
		parent Types
		child  Types
		ct     string
		want   bool
	}{
		{"default html", unset, unset, "text/html", true},
		{"default html with charset", unset, unset, "text/html; charset=utf-8", true},
		{"default plain", unset, unset, "text/plain", false},
		{"inherited", set("text/css"), unset, "text/css", true},
		{"inherited keeps html", set("text/css"), unset, "TEXT/HTML", true},
		{"child replaces", set("text/css"), set("application/json"), "text/css", false},
		{"child own", set("text/css"), set("application/json"), "application/json", true},
		{"star", unset, set("text/css", "*"), "image/png", true},
		{"star without type", unset, set("*"), "", true},
		{"no type", unset, set("text/css"), "", false},
		{"parameters ignored", unset, set("text/css"), "text/css ;x=y", true},
	}
	for _, tt := range tests {
		p, c := tt.parent, tt.child
		c.Merge(&p)
		if got := c.matchType(tt.ct); got != tt.want {
			t.Errorf("%s: match(%q) = %v, want %v", tt.name, tt.ct, got, tt.want)
		}
	}
}

func BenchmarkDeflate10K(b *testing.B) {
	d := newDeflater(1)
	in := sample(10 << 10)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d.Start(int64(len(in)))
		d.Write(in)
		d.Finish()
		d.Reset()
	}
}
