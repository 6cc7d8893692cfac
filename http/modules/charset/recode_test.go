package charset

import (
	"strings"
	"testing"

	"gresty/http"
)

// testMap is a utf-8 map as a charset_map block would build it: "а" (U+0430)
// is 0xC1, "€" (U+20AC) is 0x80.
func testMap() *charsetMap {
	m := &charsetMap{utf8: true, toUTF8: new([256][]byte), fromUTF8: new([256]*[256]byte)}
	page := new([256]byte)
	m.fromUTF8[0] = page
	for i := 0; i < 256; i++ {
		if i < 128 {
			m.toUTF8[i] = []byte{byte(i)}
			page[i] = byte(i)
		} else {
			m.toUTF8[i] = question
		}
	}
	set := func(src byte, seq string, cp uint32) {
		m.toUTF8[src] = []byte(seq)
		if m.fromUTF8[cp>>8] == nil {
			m.fromUTF8[cp>>8] = new([256]byte)
		}
		m.fromUTF8[cp>>8][cp&0xff] = src
	}
	set(0xC1, "а", 0x430)
	set(0x80, "€", 0x20ac)
	return m
}

// recode runs body through a recoding state in pieces cut at cuts, as
// successive calls of the body filter.
func recode(t *table, body []byte, cuts ...int) []byte {
	st := &state{table: t}
	var out []byte
	prev := 0
	for _, cut := range append(cuts, len(body)) {
		b := http.Buf{Data: body[prev:cut]}
		if len(b.Data) > 0 {
			switch {
			case t.single != nil:
				st.recodeSingle(b)
			case t.toUTF8 != nil:
				st.recodeToUTF8(b)
			default:
				st.recodeFromUTF8(b)
			}
		}
		for _, o := range st.out {
			out = append(out, o.Data...)
		}
		st.reset()
		prev = cut
	}
	return out
}

func TestFromUTF8(t *testing.T) {
	from := testMap().backward()
	tests := []struct{ name, in, want string }{
		{"ascii", "plain", "plain"},
		{"mapped", "а€", "\xc1\x80"},
		{"missing in the target", "б—", "&#1073;&#8212;"},
		{"outside the basic plane", "😀", "&#128512;"},
		{"bad lead byte", "a\x80b\xc1c", "a?b?c"},
		{"a lead byte takes the ascii after it", "\xffbcde", "?cde"},
		{"overlong", "\xc0\x80\xe0\x80\x80", "???"},
		{"ascii ends a sequence and goes with it", "\xd0Ab", "?b"},
		{"cut at the end is lost", "a\xe2\x82", "a"},
		{"above the last code point", "\xf7\xbf\xbf\xbf", "?"},
	}
	for _, tt := range tests {
		if got := string(recode(from, []byte(tt.in))); got != tt.want {
			t.Errorf("%s: %q gives %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// TestFromUTF8Cuts: where the buffers end does not change the result, a
// sequence cut anywhere is completed by the next buffers, even one byte
// at a time (nginx errs when a buffer holds only the last byte of a
// three- or four-byte sequence it saved two or three bytes of).
func TestFromUTF8Cuts(t *testing.T) {
	from := testMap().backward()
	body := []byte("x€аб😀\xd0A\xe2\x82\xacz\xf0\x9f\x98\x80end")
	want := recode(from, body)
	for i := 1; i < len(body); i++ {
		if got := recode(from, body, i); string(got) != string(want) {
			t.Errorf("cut at %d: %q, want %q", i, got, want)
		}
		for j := i + 1; j < len(body) && j <= i+4; j++ {
			if got := recode(from, body, i, j); string(got) != string(want) {
				t.Errorf("cuts at %d and %d: %q, want %q", i, j, got, want)
			}
		}
	}
	var every []int
	for i := 1; i < len(body); i++ {
		every = append(every, i)
	}
	if got := recode(from, body, every...); string(got) != string(want) {
		t.Errorf("byte by byte: %q, want %q", got, want)
	}
}

// TestToUTF8 checks nginx's per-buffer rules: a buffer whose bytes all
// stay one byte passes untouched; more than 512 bytes before the first
// byte that grows pass untouched; otherwise every byte is mapped, "?"
// for the ones the map lacks.
func TestToUTF8(t *testing.T) {
	to := testMap().forward()
	long := make([]byte, 513)
	for i := range long {
		long[i] = '\x81'
	}
	tests := []struct{ name, in, want string }{
		{"one-byte bytes only", "a\x81b", "a\x81b"},
		{"mapped", "\xc1\x80", "а€"},
		{"unmapped beside mapped", "\x81\xc1", "?а"},
		{"512 bytes before", string(long[:512]) + "\xc1", string(make512q()) + "а"},
		{"513 bytes before", string(long) + "\xc1", string(long) + "а"},
	}
	for _, tt := range tests {
		if got := string(recode(to, []byte(tt.in))); got != tt.want {
			t.Errorf("%s: %q gives %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
	// the rules are per buffer: a cut changes what passes untouched.
	if got := string(recode(to, []byte("\x81\x81\xc1"), 2)); got != "\x81\x81а" {
		t.Errorf("cut buffer: %q", got)
	}
}

func make512q() []byte {
	b := make([]byte, 512)
	for i := range b {
		b[i] = '?'
	}
	return b
}

func TestSingleByte(t *testing.T) {
	m := &charsetMap{s2d: new([256]byte), d2s: new([256]byte)}
	for i := 0; i < 256; i++ {
		v := byte('?')
		if i < 128 {
			v = byte(i)
		}
		m.s2d[i], m.d2s[i] = v, v
	}
	m.s2d['X'], m.d2s['Y'] = 'Y', 'X'
	m.s2d[0xC1], m.d2s[0xE1] = 0xE1, 0xC1
	tests := []struct {
		t        *table
		in, want string
	}{
		{m.forward(), "aXb\xc1\xc2", "aYb\xe1?"},
		{m.backward(), "aYb\xe1", "aXb\xc1"},
		{m.forward(), "abc", "abc"},
	}
	for _, tt := range tests {
		if got := string(recode(tt.t, []byte(tt.in))); got != tt.want {
			t.Errorf("%q gives %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDecodeUTF8(t *testing.T) {
	tests := []struct {
		in   string
		cp   uint32
		used int
	}{
		{"\xd0\xb0", 0x430, 2},
		{"\xe2\x82\xac", 0x20ac, 3},
		{"\xf0\x9f\x98\x80", 0x1f600, 4},
		{"\x80", utf8Invalid, 1},
		{"\xc1\x81", utf8Invalid, 1},
		{"\xe2\x82", utf8Incomplete, 0},
		{"\xe2A\x82", utf8Invalid, 2},
		{"\xe0\x80\x80", utf8Invalid, 3},
	}
	for _, tt := range tests {
		cp, n := decodeUTF8([]byte(tt.in))
		if cp != tt.cp || n != tt.used {
			t.Errorf("%q: %#x, %d; want %#x, %d", tt.in, cp, n, tt.cp, tt.used)
		}
	}
}

// BenchmarkRecode measures the three recodings over 32k buffers of mixed
// text.
func BenchmarkRecode(b *testing.B) {
	m := testMap()
	single := &charsetMap{s2d: new([256]byte), d2s: new([256]byte)}
	for i := 0; i < 256; i++ {
		single.s2d[i] = byte(255 - i)
	}
	koi := []byte(strings.Repeat("text \xc1\x80 more text ", 32768/20))
	utf := []byte(strings.Repeat("text а€ б more text ", 32768/25))
	for _, bb := range []struct {
		name string
		t    *table
		in   []byte
	}{{"single", single.forward(), koi}, {"to-utf8", m.forward(), koi}, {"from-utf8", m.backward(), utf}} {
		b.Run(bb.name, func(b *testing.B) {
			st := &state{table: bb.t}
			buf := http.Buf{Data: bb.in}
			b.SetBytes(int64(len(bb.in)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				switch {
				case bb.t.single != nil:
					st.recodeSingle(buf)
				case bb.t.toUTF8 != nil:
					st.recodeToUTF8(buf)
				default:
					st.recodeFromUTF8(buf)
				}
				st.reset()
			}
		})
	}
}
