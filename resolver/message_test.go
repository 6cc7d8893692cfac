package resolver

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestBuildQuery(t *testing.T) {
	tests := []struct {
		name  string
		qtype uint16
		want  []byte // nil: declined
	}{
		{"www.example.test", typeA, []byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" +
			"\x03www\x07example\x04test\x00\x00\x01\x00\x01")},
		{"a", typeAAAA, []byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x00\x00\x1c\x00\x01")},
		// nginx bounds labels at 255, not 63.
		{strings.Repeat("x", 64), typeA, append(append([]byte("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x40"),
			strings.Repeat("x", 64)...), 0, 0, 1, 0, 1)},
		{"", typeA, nil},
		{".a", typeA, nil},
		{"a.", typeA, nil},
		{"a..b", typeA, nil},
		{strings.Repeat("x", 256), typeA, nil},
	}
	for _, tt := range tests {
		got, ok := buildQuery(tt.name, 0x1234, tt.qtype)
		if ok != (tt.want != nil) || !bytes.Equal(got, tt.want) {
			t.Errorf("%.20q: got %q %v, want %q", tt.name, got, ok, tt.want)
		}
	}
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// hdr builds a response header: id 1, the given flags and counts.
func hdr(flags uint16, nqs, nan int) []byte {
	return []byte{0, 1, byte(flags >> 8), byte(flags), 0, byte(nqs), 0, byte(nan), 0, 0, 0, 0}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestParseHead(t *testing.T) {
	q := []byte("\x01a\x04test\x00\x00\x01\x00\x01")
	tests := []struct {
		name string
		msg  []byte
		tcp  bool
		st   headStatus
		log  string
		qn   string
	}{
		{"ok", cat(hdr(0x8180, 1, 0), q), false, headOK, "", "a.test"},
		{"upper", cat(hdr(0x8180, 1, 0), []byte("\x01A\x04TeSt\x00\x00\x1c\x00\x01")), false, headOK, "", "a.test"},
		{"short", hdr(0x8180, 1, 0)[:11], false, headLog, "short DNS response", ""},
		{"query", cat(hdr(0x0100, 1, 0), q), false, headLog, "invalid UDP DNS response 1 fl:0100", ""},
		{"opcode", cat(hdr(0x8900, 1, 0), q), false, headLog, "invalid UDP DNS response 1 fl:8900", ""},
		{"tc over tcp", cat(hdr(0x8380, 1, 0), q), true, headLog, "invalid TCP DNS response 1 fl:8380", ""},
		{"tc over udp", cat(hdr(0x8380, 1, 0), q), false, headOK, "", "a.test"},
		{"formerr", cat(hdr(0x8181, 1, 0), q), false, headDNSErr, "", ""},
		{"rcode 9", cat(hdr(0x8189, 1, 0), q), false, headDNSErr, "", ""},
		{"nxdomain", cat(hdr(0x8183, 1, 0), q), false, headOK, "", "a.test"},
		{"no question", hdr(0x8180, 0, 0), false, headLog, "invalid number of questions in DNS response", ""},
		{"pointer", cat(hdr(0x8180, 1, 0), []byte("\xc0\x0c\x00\x01\x00\x01")), false, headLog, "unexpected compression pointer in DNS response", ""},
		{"root", cat(hdr(0x8180, 1, 0), []byte("\x00\x00\x01\x00\x01")), false, headLog, "zero-length domain name in DNS response", ""},
		{"cut name", cat(hdr(0x8180, 1, 0), []byte("\x01a\x04te")), false, headLog, "short DNS response", ""},
		{"cut answers", cat(hdr(0x8180, 1, 1), q, make([]byte, 11)), false, headLog, "short DNS response", ""},
		{"class", cat(hdr(0x8180, 1, 0), []byte("\x01a\x04test\x00\x00\x01\x00\x03")), false, headLog, "unknown query class 3 in DNS response", ""},
		{"type", cat(hdr(0x8180, 1, 0), []byte("\x01a\x04test\x00\x00\x0f\x00\x01")), false, headLog, "unknown query type 15 in DNS response", ""},
		{"srv", cat(hdr(0x8180, 1, 0), []byte("\x01a\x04test\x00\x00\x21\x00\x01")), false, headUnknown, "", "a.test"},
	}
	for _, tt := range tests {
		h, st, msg := parseHead(tt.msg, tt.tcp)
		if st != tt.st || msg != tt.log || (st != headLog && st != headDNSErr && h.name != tt.qn) {
			t.Errorf("%s: got %d %q %q, want %d %q %q", tt.name, st, msg, h.name, tt.st, tt.log, tt.qn)
		}
	}
}

func TestParseAnswers(t *testing.T) {
	q := []byte("\x01a\x04test\x00\x00\x01\x00\x01")
	rr := func(name string, typ, class uint16, ttl uint32, rdata string) []byte {
		return cat([]byte(name), []byte{byte(typ >> 8), byte(typ), byte(class >> 8), byte(class),
			byte(ttl >> 24), byte(ttl >> 16), byte(ttl >> 8), byte(ttl), 0, byte(len(rdata))}, []byte(rdata))
	}
	ptr := "\xc0\x0c"
	tests := []struct {
		name   string
		qtype  uint16
		ans    [][]byte
		addrs  []netip.Addr
		cname  string
		ttl    uint32
		log    string
		notes  int
		extrab int // bytes appended after the answers
	}{
		{name: "two A", qtype: typeA, ans: [][]byte{rr(ptr, typeA, 1, 60, "\xc0\x00\x02\x01"), rr(ptr, typeA, 1, 30, "\xc0\x00\x02\x02")},
			addrs: addrs("192.0.2.1", "192.0.2.2"), ttl: 30},
		{name: "negative ttl", qtype: typeA, ans: [][]byte{rr(ptr, typeA, 1, 0x80000000, "\xc0\x00\x02\x01")},
			addrs: addrs("192.0.2.1"), ttl: 0},
		{name: "cname and A", qtype: typeA, ans: [][]byte{rr(ptr, typeCNAME, 1, 10, "\x01B\x04test\x00"), rr("\x01b\x04test\x00", typeA, 1, 60, "\x0a\x00\x00\x01")},
			addrs: addrs("10.0.0.1"), cname: "b.test", ttl: 10},
		{name: "aaaa", qtype: typeAAAA, ans: [][]byte{rr(ptr, typeAAAA, 1, 5, "\x20\x01\x0d\xb8"+strings.Repeat("\x00", 11)+"\x01")},
			addrs: addrs("2001:db8::1"), ttl: 5},
		{name: "dname and mx", qtype: typeA, ans: [][]byte{rr(ptr, typeDNAME, 1, 5, "\x00"), rr(ptr, 15, 1, 5, "\x00\x01\x00"), rr(ptr, typeA, 1, 60, "\x0a\x00\x00\x01")},
			addrs: addrs("10.0.0.1"), ttl: 5, notes: 1},
		{name: "root owner", qtype: typeA, ans: [][]byte{rr("\x00", typeA, 1, 60, "\x0a\x00\x00\x01")}, log: "invalid name in DNS response"},
		{name: "class", qtype: typeA, ans: [][]byte{rr(ptr, typeA, 3, 60, "\x0a\x00\x00\x01")}, log: "unexpected RR class 3 in DNS response"},
		{name: "A in AAAA", qtype: typeAAAA, ans: [][]byte{rr(ptr, typeA, 1, 60, "\x0a\x00\x00\x01")}, log: "unexpected A record in DNS response"},
		{name: "AAAA in A", qtype: typeA, ans: [][]byte{rr(ptr, typeAAAA, 1, 60, strings.Repeat("\x00", 16))}, log: "unexpected AAAA record in DNS response"},
		{name: "bad A", qtype: typeA, ans: [][]byte{rr(ptr, typeA, 1, 60, "\x0a\x00\x00")}, extrab: 1, log: "invalid A record in DNS response"},
		{name: "bad AAAA", qtype: typeAAAA, ans: [][]byte{rr(ptr, typeAAAA, 1, 60, "\x0a\x00\x00\x01")}, log: "invalid AAAA record in DNS response"},
		// nginx wants at least one byte past the fixed fields.
		{name: "empty rdata at end", qtype: typeA, ans: [][]byte{rr(ptr, 99, 1, 60, "")}, log: "short DNS response"},
		{name: "cut A", qtype: typeA, ans: [][]byte{rr(ptr, typeA, 1, 60, "\x0a\x00\x00\x01")[:14]}, log: "short DNS response"},
	}
	for _, tt := range tests {
		msg := cat(hdr(0x8180, 1, len(tt.ans)), q, cat(tt.ans...), make([]byte, tt.extrab))
		a := parseAnswers(msg, hdrLen+len(q), len(tt.ans), tt.qtype)
		if a.msg != tt.log || len(a.notes) != tt.notes {
			t.Errorf("%s: log %q notes %v, want %q", tt.name, a.msg, a.notes, tt.log)
			continue
		}
		if tt.log != "" {
			continue
		}
		cname := ""
		if a.cnameOff >= 0 {
			cname, _ = readName(msg, a.cnameOff)
		}
		if !slices.Equal(a.addrs, tt.addrs) || cname != tt.cname || a.ttl != tt.ttl {
			t.Errorf("%s: got %v %q ttl %d, want %v %q %d", tt.name, a.addrs, cname, a.ttl, tt.addrs, tt.cname, tt.ttl)
		}
	}
}

func TestReadName(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		off  int
		want string
		log  string
	}{
		{"plain", "\x03WWW\x04test\x00", 0, "www.test", ""},
		{"pointer", "\x04test\x00\x03www\xc0\x00", 6, "www.test", ""},
		{"root", "\x00", 0, "", ""},
		{"label type", "\x40abc\x00", 0, "", "invalid label type in DNS response"},
		{"out", "\x05ab", 0, "", "name is out of DNS response"},
		{"pointer out", "\x01a\xc0\x40", 0, "", "name is out of DNS response"},
		{"cut pointer", "\x01a\xc0", 0, "", "name is out of DNS response"},
		{"loop", "\xc0\x00", 0, "", "compression pointers loop in DNS response"},
	}
	for _, tt := range tests {
		got, log := readName([]byte(tt.msg), tt.off)
		if got != tt.want || log != tt.log {
			t.Errorf("%s: got %q %q, want %q %q", tt.name, got, log, tt.want, tt.log)
		}
	}
}

// FuzzResponse feeds arbitrary responses to the parser: it must never
// panic, and for a well-formed message packed by miekg/dns it must find
// the same addresses miekg/dns unpacks.
func FuzzResponse(f *testing.F) {
	seed := func(m *dns.Msg) {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
	}
	m := new(dns.Msg)
	m.SetQuestion("a.test.", dns.TypeA)
	m.Response = true
	for _, s := range []string{"a.test. 60 IN CNAME b.test.", "b.test. 30 IN A 192.0.2.1", "b.test. 30 IN A 192.0.2.2"} {
		rr, _ := dns.NewRR(s)
		m.Answer = append(m.Answer, rr)
	}
	seed(m)
	m.Compress = true
	seed(m)
	m6 := new(dns.Msg)
	m6.SetQuestion("x.test.", dns.TypeAAAA)
	m6.Response = true
	rr, _ := dns.NewRR("x.test. 5 IN AAAA 2001:db8::1")
	m6.Answer = append(m6.Answer, rr)
	seed(m6)
	f.Add([]byte("\x00\x01\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x01a\x00\x00\x01\x00\x01\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x01\x00\x02\xc0\x2a"), true)

	f.Fuzz(func(t *testing.T, b []byte, tcp bool) {
		h, st, _ := parseHead(b, tcp)
		if st != headOK {
			return
		}
		a := parseAnswers(b, h.ansOff, h.nan, h.qtype)
		if a.cnameOff >= 0 {
			readName(b, a.cnameOff)
		}
		if a.msg != "" || h.trunc || h.code != 0 {
			return
		}
		var m dns.Msg
		if err := m.Unpack(b); err != nil {
			return
		}
		var want []netip.Addr
		for _, rr := range m.Answer {
			switch v := rr.(type) {
			case *dns.A:
				want = append(want, netip.AddrFrom4([4]byte(v.A.To4())))
			case *dns.AAAA:
				want = append(want, netip.AddrFrom16([16]byte(v.AAAA.To16())))
			}
		}
		if !slices.Equal(a.addrs, want) {
			t.Fatalf("addresses %v, miekg/dns finds %v", a.addrs, want)
		}
	})
}
