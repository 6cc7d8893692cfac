package access

import (
	"net/netip"
	"testing"
)

func TestParseCIDR(t *testing.T) {
	tests := []struct {
		in       string
		res      cidrResult
		addr     string // expected address after masking
		maskBits int
	}{
		{"127.0.0.1", cidrOK, "127.0.0.1", 32},
		{"127.0.0.0/8", cidrOK, "127.0.0.0", 8},
		{"127.0.0.1/8", cidrMasked, "127.0.0.0", 8},
		{"010.1.2.3", cidrOK, "10.1.2.3", 32},
		{"0.0.0.0/0", cidrOK, "0.0.0.0", 0},
		{"1.2.3.4/0", cidrMasked, "0.0.0.0", 0},
		{"10.0.0.0/33", cidrInvalid, "", 0},
		{"10.0.0.0/", cidrInvalid, "", 0},
		{"10.0.0.0/x", cidrInvalid, "", 0},
		{"255.255.255.255", cidrInvalid, "", 0},
		{"256.0.0.1", cidrInvalid, "", 0},
		{"1.2.3", cidrInvalid, "", 0},
		{"1.2.3.4.5", cidrInvalid, "", 0},
		{"::1", cidrOK, "::1", 128},
		{"::", cidrOK, "::", 128},
		{"::/0", cidrOK, "::", 0},
		{"2001:db8::/32", cidrOK, "2001:db8::", 32},
		{"2001:db8::1/32", cidrMasked, "2001:db8::", 32},
		{"fe80::1:2:3:4", cidrOK, "fe80::1:2:3:4", 128},
		{"1:2:3:4:5:6:7:8", cidrOK, "1:2:3:4:5:6:7:8", 128},
		{"1:2:3:4:5:6:7:8:9", cidrInvalid, "", 0},
		{"1:2:3:4:5:6:7", cidrInvalid, "", 0},
		{"1::2::3", cidrInvalid, "", 0},
		{"::ffff:1.2.3.4", cidrOK, "::ffff:1.2.3.4", 128},
		{"::ffff:127.0.0.0/104", cidrOK, "::ffff:127.0.0.0", 104},
		{"12345::", cidrInvalid, "", 0},
		{"::1/129", cidrInvalid, "", 0},
		{"g::1", cidrInvalid, "", 0},
		{"fe80::1%eth0", cidrInvalid, "", 0},
		{"all", cidrInvalid, "", 0},
		{"", cidrInvalid, "", 0},
	}
	for _, tt := range tests {
		c, res := parseCIDR(tt.in)
		if res != tt.res {
			t.Errorf("%q: result %d, want %d", tt.in, res, tt.res)
			continue
		}
		if res == cidrInvalid {
			continue
		}
		want := netip.MustParseAddr(tt.addr)
		var got netip.Addr
		if c.family == 4 {
			got = netip.AddrFrom4([4]byte(c.addr[:4]))
		} else {
			got = netip.AddrFrom16(c.addr)
		}
		if got != want {
			t.Errorf("%q: address %v, want %v", tt.in, got, want)
		}
		bits := 0
		for _, b := range c.mask {
			for ; b&0x80 != 0; b <<= 1 {
				bits++
			}
		}
		if bits != tt.maskBits {
			t.Errorf("%q: mask of %d bits, want %d", tt.in, bits, tt.maskBits)
		}
	}
}
