package realip_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gresty/http/modules/traffictest"
	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// The client is 127.0.0.1, trusted by the server; locations change what
// is read and who is trusted. $remote_port is random, so only whether it
// is empty is shown, except when a header gave a port.
const realipConf = `
http {
    map $remote_port $rp {
        ""       none;
        ~^[1-9]  port;
    }
    map $realip_remote_port $rrp {
        ""       none;
        default  port;
    }
    split_clients $binary_remote_addr $bin {
        50% low;
        *   high;
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%ROOT%%;
        set_real_ip_from 127.0.0.1;

        location / {
            return 200 "ra=$remote_addr rp=$rp rra=$realip_remote_addr rrp=$rrp bin=$bin\n";
        }
        location = /port {
            return 200 "ra=$remote_addr port=$remote_port\n";
        }
        location /xff {
            real_ip_header X-Forwarded-For;
            return 200 "ra=$remote_addr rp=$rp rra=$realip_remote_addr\n";
        }
        location /xffrec {
            real_ip_header X-Forwarded-For;
            set_real_ip_from 10.0.0.0/8;
            set_real_ip_from 127.0.0.1;
            real_ip_recursive on;
            return 200 "ra=$remote_addr rra=$realip_remote_addr\n";
        }
        location /custom {
            real_ip_header X-Client;
            return 200 "ra=$remote_addr\n";
        }
        location /untrusted {
            set_real_ip_from 10.0.0.1;
            real_ip_header X-Forwarded-For;
            return 200 "ra=$remote_addr\n";
        }
        location /pp {
            real_ip_header proxy_protocol;
            return 200 "ra=$remote_addr\n";
        }
        location /acl/ {
            real_ip_header X-Forwarded-For;
            allow 1.2.3.4;
            deny all;
        }
        location /missing/ {
        }
    }
}
`

func TestRealIPMatchesNginx(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "acl"), 0o755)
	os.WriteFile(filepath.Join(root, "acl", "index.html"), []byte("acl\n"), 0o644)
	p := difftest.Start(t, strings.ReplaceAll(realipConf, "%%ROOT%%", root))
	tests := []struct {
		name    string
		path    string
		headers []string
	}{
		{"no header", "/", nil},
		{"x-real-ip", "/", []string{"X-Real-IP: 1.2.3.4"}},
		{"x-real-ip twice", "/", []string{"X-Real-IP: 1.2.3.4", "X-Real-IP: 5.6.7.8"}},
		{"x-real-ip list", "/", []string{"X-Real-IP: 1.2.3.4, 5.6.7.8"}},
		{"x-real-ip port", "/port", []string{"X-Real-IP: 1.2.3.4:5678"}},
		{"x-real-ip v6", "/", []string{"X-Real-IP: 2001:DB8::1"}},
		{"x-real-ip v6 port", "/port", []string{"X-Real-IP: [2001:db8::1]:8080"}},
		{"x-real-ip mapped", "/", []string{"X-Real-IP: ::ffff:1.2.3.4"}},
		{"x-real-ip compat", "/", []string{"X-Real-IP: ::1.2.3.4"}},
		{"x-real-ip zeros", "/", []string{"X-Real-IP: 2001:0:0:1:0:0:0:1"}},
		{"x-real-ip embedded v4 low", "/", []string{"X-Real-IP: ::0.0.1.2"}},
		{"x-real-ip embedded v4 one", "/", []string{"X-Real-IP: ::0.0.0.1"}},
		{"x-real-ip two words", "/", []string{"X-Real-IP: ::0.2.0.1"}},
		{"x-real-ip mapped small", "/", []string{"X-Real-IP: ::ffff:0:1"}},
		{"x-real-ip five zeros", "/", []string{"X-Real-IP: ::1:0:0:0"}},
		{"x-real-ip bogus", "/", []string{"X-Real-IP: bogus"}},
		{"x-real-ip leading zeros", "/", []string{"X-Real-IP: 001.002.003.004"}},
		{"xff one", "/xff", []string{"X-Forwarded-For: 1.2.3.4"}},
		{"xff chain", "/xff", []string{"X-Forwarded-For: 9.9.9.9, 1.2.3.4"}},
		{"xff two headers", "/xff", []string{"X-Forwarded-For: 9.9.9.9", "X-Forwarded-For: 1.2.3.4"}},
		{"xff with x-real-ip", "/xff", []string{"X-Real-IP: 5.5.5.5", "X-Forwarded-For: 1.2.3.4"}},
		{"xff recursive", "/xffrec", []string{"X-Forwarded-For: 9.9.9.9, 1.2.3.4, 10.0.0.2"}},
		{"xff recursive all trusted", "/xffrec", []string{"X-Forwarded-For: 10.0.0.3, 10.0.0.2"}},
		{"xff recursive two headers", "/xffrec", []string{"X-Forwarded-For: 9.9.9.9", "X-Forwarded-For: 10.0.0.2"}},
		{"xff recursive garbage", "/xffrec", []string{"X-Forwarded-For: junk, 10.0.0.2"}},
		{"custom header", "/custom", []string{"X-Client: 7.7.7.7"}},
		{"custom header case", "/custom", []string{"x-client: 7.7.7.8"}},
		{"untrusted", "/untrusted", []string{"X-Forwarded-For: 1.2.3.4"}},
		{"proxy protocol", "/pp", []string{"X-Real-IP: 1.2.3.4"}},
		{"acl allowed", "/acl/", []string{"X-Forwarded-For: 1.2.3.4"}},
		{"acl denied", "/acl/", []string{"X-Forwarded-For: 1.2.3.5"}},
		{"acl no header", "/acl/", nil},
		{"error log client", "/missing/x", []string{"X-Real-IP: 4.3.2.1"}},
	}
	for _, tt := range tests {
		p.Check(t, tt.name, traffictest.Get(tt.path, tt.headers...))
	}
	// the error log's "client:" and the access log's first field are the
	// real address too.
	for _, s := range []string{"client: 4.3.2.1", "client: 1.2.3.5"} {
		if a, b := strings.Count(p.Nginx.ErrorLog(), s), strings.Count(p.Gresty.ErrorLog(), s); a != b || a == 0 {
			t.Errorf("%q: nginx logged it %d times, gresty %d", s, a, b)
		}
	}
	firsts := func(s *nginxtest.Server) []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(s.Log("access.log", len(tests))), "\n") {
			out = append(out, strings.Fields(l)[0])
		}
		return out
	}
	if a, b := strings.Join(firsts(p.Nginx), " "), strings.Join(firsts(p.Gresty), " "); a != b {
		t.Errorf("access log addresses differ:\nnginx:  %s\ngresty: %s", a, b)
	}
}
