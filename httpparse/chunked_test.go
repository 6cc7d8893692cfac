package httpparse

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// decodeAll runs a decoder over in, fed in pieces of at most step bytes,
// and returns the data, the bytes after the body, and the final error.
func decodeAll(in string, step int, max int64) (data, rest string, err error) {
	d := ChunkedDecoder{MaxSize: max}
	var out bytes.Buffer
	src := []byte(in)
	for len(src) > 0 {
		piece := src[:min(step, len(src))]
		for len(piece) > 0 {
			n, chunk, e := d.Decode(piece)
			out.Write(chunk)
			piece = piece[n:]
			src = src[n:]
			if e != nil {
				return out.String(), string(src), e
			}
			if n == 0 {
				panic("no progress")
			}
		}
	}
	return out.String(), "", nil
}

func TestChunkedDecoder(t *testing.T) {
	tests := []struct {
		in   string
		max  int64
		data string
		rest string
		err  error
	}{
		{"5\r\nhello\r\n0\r\n\r\n", 0, "hello", "", io.EOF},
		{"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT", 0, "hello world", "NEXT", io.EOF},
		{"5\nhello\n0\n\n", 0, "hello", "", io.EOF},
		{"A\r\n0123456789\r\n0\r\n\r\n", 0, "0123456789", "", io.EOF},
		{"a;ext=1;x\r\n0123456789\r\n0;last\r\n\r\n", 0, "0123456789", "", io.EOF},
		{"5 \r\nhello\r\n0\t\r\n\r\n", 0, "hello", "", io.EOF},
		{"0000000000000000000000005\r\nhello\r\n0\r\n\r\n", 0, "hello", "", io.EOF},
		{"0\r\nTrailer: x\r\nbad line\nX:\r\n\r\n", 0, "", "", io.EOF},
		{"0\r\n\r\n", 0, "", "", io.EOF},
		{"0\n\n", 0, "", "", io.EOF},
		{"7ffffffffffffff\r\n", 0, "", "", nil},
		// errors
		{"800000000000000\r\n", 0, "", "", ErrChunkedInvalid},
		{"10000000000000000\r\n", 0, "", "", ErrChunkedInvalid},
		{"zz\r\n", 0, "", "", ErrChunkedInvalid},
		{"-1\r\n", 0, "", "", ErrChunkedInvalid},
		{"0x5\r\nhello\r\n", 0, "", "", ErrChunkedInvalid},
		{"+5\r\nhello\r\n", 0, "", "", ErrChunkedInvalid},
		{"\r\n5\r\nhello\r\n", 0, "", "", ErrChunkedInvalid},
		{"5\rhello", 0, "", "", ErrChunkedInvalid},
		{"5;x\rhello", 0, "", "", ErrChunkedInvalid},
		{"3\r\nhello\r\n", 0, "hel", "", ErrChunkedInvalid},
		{"5\r\nhelloX\r\n", 0, "hello", "", ErrChunkedInvalid},
		{"5\r\nhello\rX", 0, "hello", "", ErrChunkedInvalid},
		{"0\r\r\n", 0, "", "", ErrChunkedInvalid},
		{"0\r\nA: b\rX", 0, "", "", ErrChunkedInvalid},
		{"0\r\n\rX", 0, "", "", ErrChunkedInvalid},
		// client_max_body_size
		{"5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", 10, "helloworld", "", io.EOF},
		{"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 10, "hello", "", ErrChunkedTooLarge},
		{"ffffff\r\nabc", 10, "", "", ErrChunkedTooLarge},
		// incomplete
		{"5\r\nhel", 0, "hel", "", nil},
		{"5\r\nhello\r\n0\r\n", 0, "hello", "", nil},
	}
	for _, tt := range tests {
		for _, step := range []int{1, 2, 3, 7, 1 << 20} {
			data, rest, err := decodeAll(tt.in, step, tt.max)
			if data != tt.data || !errors.Is(err, tt.err) || (err == io.EOF && rest != tt.rest) {
				t.Errorf("%q step %d: got %q rest %q err %v; want %q %q %v", tt.in, step, data, rest, err, tt.data, tt.rest, tt.err)
				break
			}
		}
	}
}

func TestChunkedDecoderSticky(t *testing.T) {
	var d ChunkedDecoder
	if _, _, err := d.Decode([]byte("0\r\n\r\n")); err != io.EOF {
		t.Fatalf("err %v", err)
	}
	if n, _, err := d.Decode([]byte("5\r\n")); n != 0 || err != io.EOF {
		t.Errorf("after end: %d %v", n, err)
	}
	d.Reset()
	if _, _, err := d.Decode([]byte("x")); err != ErrChunkedInvalid {
		t.Fatalf("err %v", err)
	}
	if n, _, err := d.Decode([]byte("0\r\n\r\n")); n != 0 || err != ErrChunkedInvalid {
		t.Errorf("after error: %d %v", n, err)
	}
	d = ChunkedDecoder{MaxSize: 3}
	d.Decode([]byte("4\r\na"))
	if n, _, err := d.Decode([]byte("bcd")); n != 0 || err != ErrChunkedTooLarge {
		t.Errorf("too large: %d %v", n, err)
	}
	if d.Size() != 0 {
		t.Errorf("size %d", d.Size())
	}
}

func TestChunkedMinRemaining(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"", 3},
		{"5", 10},
		{"0", 2},
		{"5;x", 10},
		{"5\r\nhe", 7},
		{"5\r\nhello", 4},
		{"5\r\nhello\r\n", 3},
		{"0\r\n", 1},
		{"0\r\nA: b", 2},
	}
	for _, tt := range tests {
		var d ChunkedDecoder
		in := []byte(tt.in)
		for len(in) > 0 {
			n, _, _ := d.Decode(in)
			in = in[n:]
		}
		if got := d.MinRemaining(); got != tt.want {
			t.Errorf("%q: MinRemaining = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestChunkedEncoder(t *testing.T) {
	var b []byte
	b = AppendChunkHeader(b, 5)
	b = append(b, "hello"...)
	b = append(b, ChunkEnd...)
	b = AppendChunkHeader(b, 0x1abc)
	b = append(b, strings.Repeat("x", 0x1abc)...)
	b = AppendLastChunk(b, true, []byte("X-Sum: 1\r\n"))
	want := "5\r\nhello\r\n1abc\r\n" + strings.Repeat("x", 0x1abc) + "\r\n0\r\nX-Sum: 1\r\n\r\n"
	if string(b) != want {
		t.Fatalf("encoded %q", b[:40])
	}
	data, rest, err := decodeAll(string(b), 100, 0)
	if err != io.EOF || rest != "" || data != "hello"+strings.Repeat("x", 0x1abc) {
		t.Errorf("round trip: %v %q", err, rest)
	}
	if got := string(AppendLastChunk(nil, false, nil)); got != "0\r\n\r\n" {
		t.Errorf("empty body: %q", got)
	}
	if got := string(AppendChunkHeader(nil, 1<<62)); got != "4000000000000000\r\n" {
		t.Errorf("large header: %q", got)
	}
}
