package realip

import (
	"net/netip"
	"strings"
	"testing"

	"gresty/http"
)

// The address helpers realip relies on live in package http; they are
// tested here with the module that uses them most.

func TestParseAddrPort(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" for a failure
	}{
		{"1.2.3.4", "1.2.3.4:0"},
		{"001.002.003.004", "1.2.3.4:0"},
		{"1.2.3.4:5678", "1.2.3.4:5678"},
		{"1.2.3.4:0", ""},
		{"1.2.3.4:65536", ""},
		{"1.2.3", ""},
		{"1.2.3.256", ""},
		{"255.255.255.255", ""},
		{"::1", "[::1]:0"},
		{"[::1]:80", "[::1]:80"},
		{"[::1]", ""},
		{"[::1]:", ""},
		{"::ffff:1.2.3.4", "[::ffff:1.2.3.4]:0"},
		{"2001:db8::1.2.3.4", "[2001:db8::102:304]:0"},
		{":1:2:3:4:5:6:7:8", "[1:2:3:4:5:6:7:8]:0"},
		{"1:2:3:4:5:6:7:8:9", ""},
		{"1::2::3", ""},
		{"12345::", ""},
		{"", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		ap, ok := http.ParseAddrPort(tt.in)
		got := ""
		if ok {
			got = ap.String()
		}
		if got != tt.want {
			t.Errorf("ParseAddrPort(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseCIDR(t *testing.T) {
	tests := []struct {
		in   string
		want string
		res  http.CIDRResult
	}{
		{"10.0.0.0/8", "10.0.0.0/8", http.CIDROK},
		{"10.1.2.3/8", "10.0.0.0/8", http.CIDRMasked},
		{"10.1.2.3", "10.1.2.3/32", http.CIDROK},
		{"0.0.0.0/0", "0.0.0.0/0", http.CIDROK},
		{"1.2.3.4/0", "0.0.0.0/0", http.CIDRMasked},
		{"10.0.0.0/33", "", http.CIDRInvalid},
		{"10.0.0.0/", "", http.CIDRInvalid},
		{"2001:db8::1/32", "2001:db8::/32", http.CIDRMasked},
		{"::/0", "::/0", http.CIDROK},
		{"::1/129", "", http.CIDRInvalid},
		{"localhost", "", http.CIDRInvalid},
	}
	for _, tt := range tests {
		c, res := http.ParseCIDR(tt.in)
		got := ""
		if res != http.CIDRInvalid {
			got = c.Prefix.String()
		}
		if got != tt.want || res != tt.res {
			t.Errorf("ParseCIDR(%q) = %q %d, want %q %d", tt.in, got, res, tt.want, tt.res)
		}
	}
}

func TestAppendAddrText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.2.3.4", "1.2.3.4"},
		{"::1", "::1"},
		{"::", "::"},
		{"2001:db8::1", "2001:db8::1"},
		{"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
		{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
		{"1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"},
		{"::ffff:1.2.3.4", "::ffff:1.2.3.4"},
		{"::1.2.3.4", "::1.2.3.4"},
		{"::0.0.1.2", "::0.0.1.2"},
		{"::0.0.0.1", "::1"},
		{"::0.2.0.1", "::0.2.0.1"},
		{"::ffff:0:1", "::ffff:0.0.0.1"},
		{"::1:0:0:0", "::1:0:0:0"},
	}
	for _, tt := range tests {
		if got := string(http.AppendAddrText(nil, netip.MustParseAddr(tt.in))); got != tt.want {
			t.Errorf("AppendAddrText(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestForwardedAddr(t *testing.T) {
	trusted := []http.CIDR{}
	for _, s := range []string{"127.0.0.1", "10.0.0.0/8"} {
		c, _ := http.ParseCIDR(s)
		trusted = append(trusted, c)
	}
	peer := netip.MustParseAddrPort("127.0.0.1:1000")
	tests := []struct {
		name      string
		values    []string
		recursive bool
		want      string
		rc        http.ForwardedResult
	}{
		{"last", []string{"1.1.1.1, 2.2.2.2"}, false, "2.2.2.2:0", http.ForwardedOK},
		{"last is trusted", []string{"1.1.1.1, 10.0.0.1"}, false, "10.0.0.1:0", http.ForwardedOK},
		{"recursive", []string{"1.1.1.1, 10.0.0.1"}, true, "1.1.1.1:0", http.ForwardedOK},
		{"recursive stops", []string{"1.1.1.1, 2.2.2.2, 10.0.0.1"}, true, "2.2.2.2:0", http.ForwardedDone},
		{"recursive headers", []string{"1.1.1.1", "10.0.0.2"}, true, "1.1.1.1:0", http.ForwardedOK},
		{"recursive headers stop", []string{"1.1.1.1", "2.2.2.2"}, true, "2.2.2.2:0", http.ForwardedDone},
		{"last header only", []string{"1.1.1.1", "2.2.2.2"}, false, "2.2.2.2:0", http.ForwardedOK},
		{"separators", []string{"1.1.1.1 ,, "}, false, "1.1.1.1:0", http.ForwardedOK},
		{"garbage", []string{"junk"}, false, "127.0.0.1:1000", http.ForwardedDeclined},
		{"garbage after found", []string{"junk, 10.0.0.1"}, true, "10.0.0.1:0", http.ForwardedDone},
		{"port", []string{"1.1.1.1:99"}, false, "1.1.1.1:99", http.ForwardedOK},
		{"empty", []string{""}, false, "127.0.0.1:1000", http.ForwardedDeclined},
	}
	for _, tt := range tests {
		var vals [][]byte
		for _, v := range tt.values {
			vals = append(vals, []byte(v))
		}
		ap, rc := http.ForwardedAddr(peer, vals, trusted, tt.recursive)
		if ap.String() != tt.want || rc != tt.rc {
			t.Errorf("%s: got %s %d, want %s %d", tt.name, ap, rc, tt.want, tt.rc)
		}
	}
	untrusted := netip.MustParseAddrPort("8.8.8.8:1")
	if ap, rc := http.ForwardedAddr(untrusted, [][]byte{[]byte("1.1.1.1")}, trusted, false); rc != http.ForwardedDeclined || ap != untrusted {
		t.Errorf("untrusted peer: %s %d", ap, rc)
	}
	unix := []http.CIDR{{Unix: true}}
	if ap, rc := http.ForwardedAddr(netip.AddrPort{}, [][]byte{[]byte("1.1.1.1")}, unix, false); rc != http.ForwardedOK || !strings.HasPrefix(ap.String(), "1.1.1.1") {
		t.Errorf("unix peer: %s %d", ap, rc)
	}
}
