package geo

import (
	"net/netip"
	"testing"
)

func key4(s string) [16]byte {
	var k [16]byte
	b := netip.MustParseAddr(s).As4()
	copy(k[:], b[:])
	return k
}

func TestRadix(t *testing.T) {
	a, b, c := &geoValue{b: []byte("a")}, &geoValue{b: []byte("b")}, &geoValue{b: []byte("c")}
	type op struct {
		kind string // insert, remove
		addr string
		bits int
		val  *geoValue
		ok   bool
	}
	tests := []struct {
		name  string
		ops   []op
		addr  string
		found *geoValue
	}{
		{"empty", nil, "10.0.0.1", nil},
		{"longest prefix", []op{{"insert", "10.0.0.0", 8, a, true}, {"insert", "10.1.0.0", 16, b, true}}, "10.1.2.3", b},
		{"shorter prefix", []op{{"insert", "10.0.0.0", 8, a, true}, {"insert", "10.1.0.0", 16, b, true}}, "10.2.2.3", a},
		{"busy", []op{{"insert", "10.0.0.0", 8, a, true}, {"insert", "10.0.0.0", 8, b, false}}, "10.0.0.1", a},
		{"remove leaf", []op{{"insert", "10.0.0.0", 8, a, true}, {"remove", "10.0.0.0", 8, nil, true}}, "10.0.0.1", nil},
		{"remove inner keeps deeper", []op{{"insert", "10.0.0.0", 8, a, true}, {"insert", "10.1.0.0", 16, b, true},
			{"remove", "10.0.0.0", 8, nil, true}}, "10.1.0.1", b},
		{"remove missing", []op{{"remove", "10.0.0.0", 8, nil, false}}, "10.0.0.1", nil},
		{"remove empty preallocated inner", []op{{"remove", "0.0.0.0", 3, nil, false}}, "0.0.0.1", nil},
		{"remove empty preallocated leaf", []op{{"remove", "0.0.0.0", 6, nil, true}}, "0.0.0.1", nil},
		{"root default", []op{{"insert", "0.0.0.0", 0, c, true}, {"insert", "10.0.0.0", 8, a, true}}, "11.0.0.1", c},
		{"host", []op{{"insert", "10.0.0.7", 32, a, true}}, "10.0.0.7", a},
	}
	for _, tt := range tests {
		tr := newRadix()
		for _, o := range tt.ops {
			var ok bool
			if o.kind == "insert" {
				ok = tr.insert(key4(o.addr), o.bits, o.val)
			} else {
				ok = tr.remove(key4(o.addr), o.bits)
			}
			if ok != o.ok {
				t.Errorf("%s: %s %s/%d = %v, want %v", tt.name, o.kind, o.addr, o.bits, ok, o.ok)
			}
		}
		k := key4(tt.addr)
		if got := tr.find(&k, 32); got != tt.found {
			t.Errorf("%s: find %s = %v, want %v", tt.name, tt.addr, got, tt.found)
		}
	}
}

func TestRanges(t *testing.T) {
	v := func(s string) *geoValue { return &geoValue{b: []byte(s)} }
	type add struct {
		from, to string
		val      string
	}
	tests := []struct {
		name string
		adds []add
		want map[string]string
	}{
		{"nested split", []add{{"10.0.0.0", "10.0.0.255", "outer"}, {"10.0.0.10", "10.0.0.20", "inner"}},
			map[string]string{"10.0.0.9": "outer", "10.0.0.10": "inner", "10.0.0.20": "inner", "10.0.0.21": "outer"}},
		{"same start", []add{{"10.0.0.0", "10.0.0.255", "outer"}, {"10.0.0.0", "10.0.0.9", "head"}},
			map[string]string{"10.0.0.0": "head", "10.0.0.10": "outer"}},
		{"same end", []add{{"10.0.0.0", "10.0.0.255", "outer"}, {"10.0.0.250", "10.0.0.255", "tail"}},
			map[string]string{"10.0.0.249": "outer", "10.0.0.250": "tail"}},
		{"across /16", []add{{"10.0.255.0", "10.2.0.9", "span"}},
			map[string]string{"10.0.254.255": "", "10.0.255.0": "span", "10.1.7.7": "span", "10.2.0.9": "span", "10.2.0.10": ""}},
		{"last /16", []add{{"255.255.0.0", "255.255.255.254", "top"}},
			map[string]string{"255.255.255.254": "top", "255.254.255.255": ""}},
	}
	for _, tt := range tests {
		g := &Geo{ranges: true, low: make([][]geoRange, 0x10000), def: v("")}
		b := &block{g: g, values: map[string]*geoValue{}}
		for _, a := range tt.adds {
			s, e := be32(netip.MustParseAddr(a.from)), be32(netip.MustParseAddr(a.to))
			if err := b.addRange(nil, nil, s, e, v(a.val)); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
		}
		for addr, want := range tt.want {
			in := be32(netip.MustParseAddr(addr))
			got := string(g.def.b)
			for _, r := range g.low[in>>16] {
				if uint16(in) >= r.start && uint16(in) <= r.end {
					got = string(r.val.b)
					break
				}
			}
			if got != want {
				t.Errorf("%s: %s = %q, want %q", tt.name, addr, got, want)
			}
		}
	}
}
