package resolver

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	srv := func(s string) Server {
		ap := netip.MustParseAddrPort(s)
		return Server{Addr: ap, Name: ap.String()}
	}
	tests := []struct {
		args  []string
		want  *Config
		names []string // server names, when want is nil
		err   string
	}{
		{args: []string{"127.0.0.1"}, want: &Config{Servers: []Server{srv("127.0.0.1:53")}, IPv6: true, Timeout: DefaultTimeout}},
		{args: []string{"127.0.0.1:5353", "[::1]", "[2001:db8::1]:54", "valid=1h30m", "ipv6=off"},
			want: &Config{Servers: []Server{srv("127.0.0.1:5353"), srv("[::1]:53"), srv("[2001:db8::1]:54")},
				Valid: 90 * time.Minute, Timeout: DefaultTimeout}},
		{args: []string{"valid=0", "010.0.0.001"}, want: &Config{Servers: []Server{srv("10.0.0.1:53")}, IPv6: true, Timeout: DefaultTimeout}},
		{args: []string{"unix:/run/dns.sock"}, want: &Config{Servers: []Server{{Unix: "/run/dns.sock", Name: "unix:/run/dns.sock"}}, IPv6: true, Timeout: DefaultTimeout}},
		// getaddrinfo's numeric forms, then the hosts file.
		{args: []string{"127.1:99"}, names: []string{"127.0.0.1:99"}},
		{args: []string{"0x7f.0.0.2"}, names: []string{"127.0.0.2:53"}},
		{args: []string{"localhost"}},

		{args: []string{"valid=x", "127.0.0.1"}, err: "invalid parameter: valid=x"},
		{args: []string{"127.0.0.1", "valid="}, err: "invalid parameter: valid="},
		{args: []string{"127.0.0.1", "valid=5ms"}, err: "invalid parameter: valid=5ms"},
		{args: []string{"ipv6=maybe", "127.0.0.1"}, err: "invalid parameter: ipv6=maybe"},
		{args: []string{"127.0.0.1", "ipv6=ON"}, err: "invalid parameter: ipv6=ON"},
		{args: []string{"valid=30s"}, err: "no name servers defined"},
		{args: []string{"ipv6=on", "valid=1s"}, err: "no name servers defined"},
		// nginx 1.22 has no ipv4= nor status_zone=: they are host names.
		{args: []string{"127.0.0.1", "ipv4=off"}, err: `host not found in resolver "ipv4=off"`},
		{args: []string{"127.0.0.1", "status_zone=z"}, err: `host not found in resolver "status_zone=z"`},
		{args: []string{"127.0.0.1", "IPV6=on"}, err: `host not found in resolver "IPV6=on"`},
		{args: []string{"127.0.0.1:0"}, err: `invalid port in resolver "127.0.0.1:0"`},
		{args: []string{"127.0.0.1:70000"}, err: `invalid port in resolver "127.0.0.1:70000"`},
		{args: []string{"127.0.0.1:"}, err: `invalid port in resolver "127.0.0.1:"`},
		{args: []string{"127.0.0.1:abc"}, err: `invalid port in resolver "127.0.0.1:abc"`},
		{args: []string{"::1"}, err: `invalid port in resolver "::1"`},
		{args: []string{":53"}, err: `no host in resolver ":53"`},
		{args: []string{"[::1"}, err: `invalid host in resolver "[::1"`},
		{args: []string{"[::1]x"}, err: `invalid host in resolver "[::1]x"`},
		{args: []string{"[::1]/x"}, err: `invalid host in resolver "[::1]/x"`},
		{args: []string{"[::1]:0"}, err: `invalid port in resolver "[::1]:0"`},
		{args: []string{"[]"}, err: `no host in resolver "[]"`},
		{args: []string{"[zz]"}, err: `invalid IPv6 address in resolver "[zz]"`},
		{args: []string{"[127.0.0.1]"}, err: `invalid IPv6 address in resolver "[127.0.0.1]"`},
		{args: []string{"unix:"}, err: `no path in the unix domain socket in resolver "unix:"`},
		{args: []string{"unix:/" + strings.Repeat("x", 107)}, err: `too long path in the unix domain socket in resolver "unix:/` + strings.Repeat("x", 107) + `"`},
		{args: []string{"127.0.0.1/x"}, err: `invalid host in resolver "127.0.0.1/x"`},
		{args: []string{"127.0.0.1?x"}, err: `invalid host in resolver "127.0.0.1?x"`},
		{args: []string{"nonexistent.invalid"}, err: `host not found in resolver "nonexistent.invalid"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got, err := Parse(tt.args)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.want != nil:
				if !slices.Equal(got.Servers, tt.want.Servers) || got.Valid != tt.want.Valid ||
					got.IPv6 != tt.want.IPv6 || got.Timeout != tt.want.Timeout {
					t.Errorf("got %+v, want %+v", got, tt.want)
				}
			case tt.names != nil:
				var names []string
				for _, s := range got.Servers {
					names = append(names, s.Name)
				}
				if !slices.Equal(names, tt.names) {
					t.Errorf("servers %v, want %v", names, tt.names)
				}
			default:
				if len(got.Servers) == 0 {
					t.Fatal("no servers")
				}
				for _, s := range got.Servers {
					if !s.Addr.Addr().IsLoopback() || s.Addr.Port() != DNSPort {
						t.Errorf("server %v", s)
					}
				}
			}
		})
	}
}

func TestFromConf(t *testing.T) {
	c, err := FromConf(nil, time.Second)
	if c != nil || err != nil {
		t.Errorf("no resolver: %v %v", c, err)
	}
	c, err = FromConf([]string{"127.0.0.1", "valid=5"}, 1500*time.Millisecond)
	if err != nil || c.Timeout != 1500*time.Millisecond || c.Valid != 5*time.Second {
		t.Errorf("got %+v %v", c, err)
	}
	if _, err := FromConf([]string{"valid=5"}, time.Second); err == nil || err.Error() != "no name servers defined" {
		t.Errorf("error %v", err)
	}
}

func TestStrerror(t *testing.T) {
	tests := []struct {
		code int
		want string
	}{
		{0, "Unknown error"},
		{FormErr, "Format error"},
		{ServFail, "Server failure"},
		{NXDomain, "Host not found"},
		{NotImp, "Unimplemented"},
		{Refused, "Operation refused"},
		{6, "Unknown error"},
		{TimedOut, "Operation timed out"},
	}
	for _, tt := range tests {
		if got := Strerror(tt.code); got != tt.want {
			t.Errorf("Strerror(%d) = %q, want %q", tt.code, got, tt.want)
		}
	}
	e := &Error{Name: "example.test", Code: TimedOut}
	if got := e.Error(); got != "example.test could not be resolved (110: Operation timed out)" {
		t.Errorf("Error() = %q", got)
	}
}

func TestSystemLookup(t *testing.T) {
	tests := []struct {
		host string
		want []netip.Addr
		err  bool
	}{
		{"127.0.0.1", []netip.Addr{netip.MustParseAddr("127.0.0.1")}, false},
		{"127.1", []netip.Addr{netip.MustParseAddr("127.0.0.1")}, false},
		{"2130706433", []netip.Addr{netip.MustParseAddr("127.0.0.1")}, false},
		{"0177.0.0.1", []netip.Addr{netip.MustParseAddr("127.0.0.1")}, false},
		{"0x7f.1", []netip.Addr{netip.MustParseAddr("127.0.0.1")}, false},
		{"::1", []netip.Addr{netip.MustParseAddr("::1")}, false},
		{"256.0.0.1.invalid", nil, true},
		{"nonexistent.invalid", nil, true},
	}
	for _, tt := range tests {
		got, err := SystemLookup(tt.host)
		if (err != nil) != tt.err || !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v %v", tt.host, got, err)
		}
		if err != nil && err.Error() != "host not found" {
			t.Errorf("%s: error %q", tt.host, err)
		}
	}
}

// nginxBinary finds nginx for differential tests, or skips.
func nginxBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("nginx")
	if err != nil {
		p = "/usr/sbin/nginx"
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("GRESTY_REQUIRE_NGINX") == "1" {
				t.Fatal("nginx not found and GRESTY_REQUIRE_NGINX=1")
			}
			t.Skip("nginx not found; differential test skipped")
		}
	}
	return p
}

// The resolver directive's errors, compared with nginx -t.
func TestParseAgainstNginx(t *testing.T) {
	bin := nginxBinary(t)
	cases := [][]string{
		{"127.0.0.1"},
		{"[::1]:5353", "valid=10s", "ipv6=off"},
		{"valid=x", "127.0.0.1"},
		{"valid=", "127.0.0.1"},
		{"127.0.0.1", "valid=5ms"},
		{"ipv6=maybe", "127.0.0.1"},
		{"valid=30s"},
		{"127.0.0.1", "ipv4=off"},
		{"127.0.0.1", "status_zone=z"},
		{"127.0.0.1:0"},
		{"127.0.0.1:"},
		{"127.0.0.1:abc"},
		{"::1"},
		{":53"},
		{"[::1"},
		{"[::1]x"},
		{"[]"},
		{"[zz]"},
		{"unix:"},
		{"unix:/x.sock"},
		{"127.0.0.1/x"},
		{"127.0.0.1?x"},
		{"nonexistent.invalid"},
		{"127.1"},
		{"localhost"},
		{"[127.0.0.1]"},
		{"[::ffff:1.2.3.4]:54"},
		{"[fe80::1%eth0]"},
		{"[::1]/x"},
		{"[::1]:0"},
		{"010.0.0.001"},
		{"1..2.3"},
		{"unix:/" + strings.Repeat("x", 106)},
		{"unix:/" + strings.Repeat("x", 107)},
		{"UNIX:/x.sock"},
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	msgRe := regexp.MustCompile(`\[emerg\] \d+#\d+: (.*) in ` + regexp.QuoteMeta(conf) + `:4`)
	for _, args := range cases {
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = `"` + a + `"`
		}
		text := "error_log stderr;\nevents {}\nhttp {\n    resolver " + strings.Join(quoted, " ") + ";\n}\n"
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(bin, "-t", "-q", "-p", dir, "-c", conf, "-g", "pid "+filepath.Join(dir, "nginx.pid")+";").CombinedOutput()
		want := ""
		if m := msgRe.FindSubmatch(out); m != nil {
			want = string(m[1])
		} else if strings.Contains(string(out), "[emerg]") {
			t.Fatalf("%v: unexpected nginx output %s", args, out)
		}
		_, err := Parse(args)
		if got := errText(err); got != want {
			t.Errorf("%v: got %q, nginx says %q", args, got, want)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// The README's example configuration parses, and its error lines are the
// ones Error produces.
func TestReadmeExamples(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, example, _ := strings.Cut(string(b), "## Example")
	example, _, _ = strings.Cut(example, "## Behaviour")
	resolvers := 0
	for _, line := range strings.Split(example, "\n") {
		line = strings.TrimSpace(line)
		if args, ok := strings.CutPrefix(line, "resolver "); ok {
			resolvers++
			if _, err := Parse(strings.Fields(strings.TrimSuffix(args, ";"))); err != nil {
				t.Errorf("%s: %v", line, err)
			}
			continue
		}
		if name, rest, ok := strings.Cut(line, " could not be resolved ("); ok {
			var code int
			if _, err := fmt.Sscanf(rest, "%d:", &code); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			if got := (&Error{Name: name, Code: code}).Error(); got != line {
				t.Errorf("README says %q, Error gives %q", line, got)
			}
		}
	}
	if resolvers == 0 {
		t.Error("no resolver directive in the README's example")
	}
}
