package charset

import (
	"strings"

	"gresty/conf"
	"gresty/core"
)

// charsetMap is one charset_map block: tables both ways between a
// single-byte charset and another one, or utf-8.
type charsetMap struct {
	src, dst int
	utf8     bool
	// s2d and d2s map bytes between two single-byte charsets.
	s2d, d2s *[256]byte
	// toUTF8 gives a byte's utf-8 sequence; fromUTF8 a code point's byte,
	// by pages of 256 code points (0: none).
	toUTF8   *[256][]byte
	fromUTF8 *[256]*[256]byte
}

// table is the recoding from one charset to another: exactly one field
// is set.
type table struct {
	single   *[256]byte
	toUTF8   *[256][]byte
	fromUTF8 *[256]*[256]byte
}

func (t *charsetMap) forward() *table {
	if t.utf8 {
		return &table{toUTF8: t.toUTF8}
	}
	return &table{single: t.s2d}
}

func (t *charsetMap) backward() *table {
	if t.utf8 {
		return &table{fromUTF8: t.fromUTF8}
	}
	return &table{single: t.d2s}
}

// question is what a byte without a mapping becomes.
var question = []byte{'?'}

// mapBlock is the charset_map directive. ASCII maps to itself and other
// bytes to "?" until a line says otherwise.
func mapBlock(p *core.Parser, d *conf.Directive, c any) error {
	m := c.(*MainConf)
	args := d.HeadArgs()
	src, dst := m.add(args[0]), m.add(args[1])
	if src == dst {
		return p.Errorf(d, "\"charset_map\" between the same charsets \"%s\" and \"%s\"", args[0], args[1])
	}
	// nginx compares with its first map only, once per map.
	if len(m.maps) > 0 {
		f := m.maps[0]
		if (src == f.src && dst == f.dst) || (src == f.dst && dst == f.src) {
			return p.Errorf(d, "duplicate \"charset_map\" between \"%s\" and \"%s\"", args[0], args[1])
		}
	}
	t := &charsetMap{src: src, dst: dst, utf8: strings.EqualFold(args[1], "utf-8")}
	if t.utf8 {
		t.toUTF8 = new([256][]byte)
		t.fromUTF8 = new([256]*[256]byte)
		page := new([256]byte)
		t.fromUTF8[0] = page
		for i := 0; i < 256; i++ {
			if i < 128 {
				t.toUTF8[i] = []byte{byte(i)}
				page[i] = byte(i)
			} else {
				t.toUTF8[i] = question
			}
		}
	} else {
		t.s2d, t.d2s = new([256]byte), new([256]byte)
		for i := 0; i < 256; i++ {
			v := byte('?')
			if i < 128 {
				v = byte(i)
			}
			t.s2d[i], t.d2s[i] = v, v
		}
	}
	m.maps = append(m.maps, t)
	return p.Lines(d, func(l *conf.Directive) error { return t.line(p, l) })
}

// line is one "src dst" line of a charset_map block, in hexadecimal: a
// byte and a byte, or a byte and the bytes of its utf-8 sequence.
func (t *charsetMap) line(p *core.Parser, l *conf.Directive) error {
	if len(l.Args) != 1 {
		return p.Errorf(l, "invalid parameters number")
	}
	src, ok := hexByte(l.Name)
	if !ok {
		return p.Errorf(l, "invalid value \"%s\"", l.Name)
	}
	v := l.Args[0]
	if !t.utf8 {
		dst, ok := hexByte(v)
		if !ok {
			return p.Errorf(l, "invalid value \"%s\"", v)
		}
		t.s2d[src], t.d2s[dst] = dst, src
		return nil
	}
	seq := make([]byte, 0, len(v)/2)
	for i := 0; i < len(v); i += 2 {
		if i+2 > len(v) {
			return p.Errorf(l, "invalid value \"%s\"", v)
		}
		b, ok := hexByte(v[i : i+2])
		if !ok {
			return p.Errorf(l, "invalid value \"%s\"", v)
		}
		seq = append(seq, b)
	}
	// the sequence must be one character of the basic plane; an empty
	// value is judged by the entry's old first byte, as in nginx, which
	// is never a lead byte.
	if len(seq) == 0 {
		return p.Errorf(l, "invalid value \"%s\"", v)
	}
	n, _ := decodeUTF8(seq)
	if n > 0xffff {
		return p.Errorf(l, "invalid value \"%s\"", v)
	}
	t.toUTF8[src] = seq
	page := t.fromUTF8[n>>8]
	if page == nil {
		page = new([256]byte)
		t.fromUTF8[n>>8] = page
	}
	page[n&0xff] = src
	return nil
}

// hexByte parses a hexadecimal number of at most 255 (ngx_hextoi with
// the maps' bound): leading zeros are fine, a sign or prefix is not.
func hexByte(s string) (byte, bool) {
	if s == "" {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + int(c-'0')
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			v = v*16 + int(c|0x20-'a'+10)
		default:
			return 0, false
		}
		if v > 255 {
			return 0, false
		}
	}
	return byte(v), true
}

// Results of decodeUTF8 besides a code point.
const (
	utf8Invalid    = 0xffffffff
	utf8Incomplete = 0xfffffffe
)

// decodeUTF8 decodes the sequence at the start of b as ngx_utf8_decode:
// it returns the code point (or utf8Invalid, utf8Incomplete) and the
// bytes consumed. A bad lead byte is consumed alone; a continuation byte
// below 0x80 ends the sequence and is consumed with it; overlong forms are
// invalid; nothing else is checked. An incomplete sequence consumes
// nothing.
func decodeUTF8(b []byte) (uint32, int) {
	u := uint32(b[0])
	var valid uint32
	var n int
	switch {
	case u >= 0xf0:
		u, valid, n = u&0x07, 0xffff, 3
	case u >= 0xe0:
		u, valid, n = u&0x0f, 0x7ff, 2
	case u >= 0xc2:
		u, valid, n = u&0x1f, 0x7f, 1
	default:
		return utf8Invalid, 1
	}
	if len(b)-1 < n {
		return utf8Incomplete, 0
	}
	for k := 1; k <= n; k++ {
		c := b[k]
		if c < 0x80 {
			return utf8Invalid, k + 1
		}
		u = u<<6 | uint32(c&0x3f)
	}
	if u > valid {
		return u, n + 1
	}
	return utf8Invalid, n + 1
}
