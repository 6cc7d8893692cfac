package http_test

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
)

// ppV2 builds a PROXY protocol v2 header: command (0: LOCAL, 1: PROXY)
// and, for PROXY, the addresses and ports.
func ppV2(cmd byte, src, dst string, sport, dport uint16) string {
	b := []byte("\r\n\r\n\x00\r\nQUIT\n")
	b = append(b, 0x20|cmd)
	var body []byte
	fam := byte(0)
	if cmd == 1 {
		s, d := netip.MustParseAddr(src), netip.MustParseAddr(dst)
		// family and transport: AF_INET or AF_INET6, STREAM
		fam = 0x11
		if s.Is6() {
			fam = 0x21
		}
		body = append(append(body, s.AsSlice()...), d.AsSlice()...)
		body = binary.BigEndian.AppendUint16(body, sport)
		body = binary.BigEndian.AppendUint16(body, dport)
	}
	b = append(b, fam)
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return string(append(b, body...))
}

// TestProxyProtocolMatchesNginx compares "listen ... proxy_protocol": the
// header's addresses in the variables and through realip, v1 and v2,
// headers without addresses, and broken ones (the connection closed and
// nginx's error line).
func TestProxyProtocolMatchesNginx(t *testing.T) {
	p := difftest.Start(t, `
http {
  server {
    listen 127.0.0.1:%%PORT%% proxy_protocol;
    location / {
      return 200 "pp=$proxy_protocol_addr:$proxy_protocol_port server=$proxy_protocol_server_addr:$proxy_protocol_server_port remote=$remote_addr\n";
    }
  }
  server {
    listen 127.0.0.1:%%PORT%% proxy_protocol;
    server_name realip;
    set_real_ip_from 127.0.0.1;
    real_ip_header proxy_protocol;
    location / {
      return 200 "remote=$remote_addr:$remote_port realip=$realip_remote_addr\n";
    }
  }
}
`)
	req := func(path string) string {
		host := "localhost"
		if path == "/realip" {
			host = "realip"
		}
		return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"
	}
	for _, tc := range []struct{ name, raw string }{
		{"v1 tcp4", "PROXY TCP4 192.0.2.1 198.51.100.2 51234 443\r\n" + req("/")},
		{"v1 tcp6", "PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n" + req("/")},
		{"v1 unknown", "PROXY UNKNOWN whatever\r\n" + req("/")},
		{"v1 realip", "PROXY TCP4 192.0.2.7 198.51.100.2 4000 80\r\n" + req("/realip")},
		{"v2 tcp4", ppV2(1, "192.0.2.3", "198.51.100.4", 1000, 2000) + req("/")},
		{"v2 tcp6 realip", ppV2(1, "2001:db8::5", "2001:db8::6", 7, 8) + req("/realip")},
		{"v2 local", ppV2(0, "", "", 0, 0) + req("/")},
		{"no header", req("/")},
		{"bad port", "PROXY TCP4 192.0.2.1 198.51.100.2 70000 443\r\n" + req("/")},
		{"bad address", "PROXY TCP4 192.0.2.x 198.51.100.2 1 443\r\n" + req("/")},
		{"bad family", "PROXY UDP4 192.0.2.1 198.51.100.2 1 443\r\n" + req("/")},
		{"odd address", "PROXY TCP4 192.0.2.999 ::1 1 2\r\n" + req("/")},
		{"no lf", "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\rX" + req("/")},
	} {
		p.Check(t, tc.name, tc.raw)
	}
	time.Sleep(50 * time.Millisecond)
	broken := regexp.MustCompile(`(?s)\[error\] \d+#\d+: \*\d+ (broken header: .*?, client: [^,]*), server`)
	lines := func(log string) string {
		var out []string
		for _, m := range broken.FindAllStringSubmatch(log, -1) {
			out = append(out, m[1])
		}
		return strings.Join(out, "\n")
	}
	if a, b := lines(p.Nginx.ErrorLog()), lines(p.Gresty.ErrorLog()); a != b || a == "" {
		t.Errorf("broken header lines differ:\nnginx:\n%s\ngresty:\n%s", a, b)
	}
}

// TestProxyProtocolSplitHeader sends the header in two writes: gresty
// waits for the rest (nginx wants it whole in one read).
func TestProxyProtocolSplitHeader(t *testing.T) {
	p := difftest.Start(t, `
http {
  server {
    listen 127.0.0.1:%%PORT%% proxy_protocol;
    location / { return 200 "$proxy_protocol_addr\n"; }
  }
}
`)
	c, err := net.Dial("tcp", p.Gresty.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "PROXY TCP4 192.0.2.9 ")
	time.Sleep(20 * time.Millisecond)
	io.WriteString(c, "198.51.100.2 1 2\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	b, err := io.ReadAll(c)
	if err != nil || !strings.HasSuffix(string(b), "\r\n\r\n192.0.2.9\n") {
		t.Errorf("split header: %q %v", b, err)
	}
}
