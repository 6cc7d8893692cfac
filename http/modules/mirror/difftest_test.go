package mirror_test

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// The mirrors log what they saw; the backend (a second server on the
// same port, chosen by name) echoes the body the request's own proxy
// sent.
const mirrorConf = `
http {
    log_format m "$request_method $uri?$args [$request_body] $status";
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
        root %%ROOT%%;

        location / {
            mirror /m;
            location /off/ { mirror off; }
        }
        location /many { mirror /m/1; mirror /m/2; mirror /m/missing; }
        location /proxy {
            mirror /m/proxied;
            proxy_pass http://127.0.0.1:%%PORT%%/echo;
            proxy_set_header Host backend;
        }
        location /nobody {
            mirror /m/nobody;
            mirror_request_body off;
            proxy_pass http://127.0.0.1:%%PORT%%/echo;
            proxy_set_header Host backend;
        }
        location /ret {
            # the body is read for the mirror, then the static handler
            # refuses the method
            mirror /m/ret;
        }
        location /m {
            internal;
            log_subrequest on;
            access_log %%PREFIX%%/logs/mirror.log m;
            return 204;
        }
        location = /m/missing {
            internal;
            log_subrequest on;
            access_log %%PREFIX%%/logs/mirror.log m;
        }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name backend;
        location = /echo { return 200 "echo [$request_body]\n"; }
    }
}
`

// exchange sends raw without closing the write side (nginx ends a
// proxied subrequest when the client half-closes) and reads until the
// server closes.
func exchange(t *testing.T, addr, raw string) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return b
}

// mirrorLog waits for n lines in a server's mirror log and returns them
// sorted: mirrors of one request finish in no set order.
func mirrorLog(t *testing.T, s *nginxtest.Server, n int) []string {
	t.Helper()
	var lines []string
	for i := 0; i < 100; i++ {
		b, _ := os.ReadFile(filepath.Join(s.Prefix, "logs", "mirror.log"))
		lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(b) == 0 {
			lines = nil
		}
		if len(lines) >= n {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	sort.Strings(lines)
	return lines
}

func TestMirrorMatchesNginx(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"off", "sub", "m"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range map[string]string{"index.html": "index\n", "many": "many\n", "off/x": "off\n", "sub/x": "sub\n", "m/1": "m1\n"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := difftest.Start(t, strings.ReplaceAll(mirrorConf, "%%ROOT%%", root))
	seen := 0
	for _, tc := range []struct {
		name, raw string
		mirrors   int
	}{
		{"get", "GET /sub/x?a=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 1},
		{"index redirect mirrors twice", "GET /?b=2 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 2},
		{"off", "GET /off/x?c=3 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 0},
		{"many", "GET /many?d=4 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 3},
		{"head", "HEAD /sub/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 1},
		{"post body", "POST /proxy?e=5 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\nConnection: close\r\n\r\n1234567890", 1},
		{"post chunked", "POST /proxy HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 1},
		{"post body off", "POST /nobody HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\nConnection: close\r\n\r\n1234567890", 1},
		{"static refuses", "PUT /ret HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc", 1},
		{"keepalive", "POST /ret HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nxyzGET /sub/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 2},
	} {
		head := strings.HasPrefix(tc.raw, "HEAD ")
		ngRaw, grRaw := exchange(t, p.Nginx.Addr, tc.raw), exchange(t, p.Gresty.Addr, tc.raw)
		ng, gr := difftest.Parse(ngRaw, head), difftest.Parse(grRaw, head)
		if d := difftest.Diff(ng, gr); len(d) > 0 {
			t.Errorf("%s: gresty differs from nginx:\n  %s\nnginx:\n%s\ngresty:\n%s", tc.name, strings.Join(d, "\n  "), ngRaw, grRaw)
		}
		if a, b := nginxtest.Statuses(ngRaw), nginxtest.Statuses(grRaw); len(a) != len(b) {
			t.Errorf("%s: statuses nginx %v, gresty %v", tc.name, a, b)
		}
		seen += tc.mirrors
		a, b := mirrorLog(t, p.Nginx, seen), mirrorLog(t, p.Gresty, seen)
		if strings.Join(a, "\n") != strings.Join(b, "\n") || len(a) != seen {
			t.Errorf("%s: mirror log:\nnginx:\n%s\ngresty:\n%s", tc.name, strings.Join(a, "\n"), strings.Join(b, "\n"))
		}
	}
}
