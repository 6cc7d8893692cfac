package userid_test

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// The userid filter compared with nginx: a new identifier's cookie (its
// value masked: it holds the time and the process's start value) and its
// attributes, a good cookie left alone, a cookie re-marked for
// userid_mark, $uid_reset making a new one (and logging the old one),
// $uid_got for "on" and "v1" cookies, "userid log" setting nothing, and
// the error lines of short and invalid cookies.
func TestUseridMatchesNginx(t *testing.T) {
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            userid on;
            userid_name ident;
            userid_domain example.com;
            userid_path /app;
            userid_expires 365d;
            userid_p3p 'policyref="/w3c/p3p.xml", CP="CUR ADM OUR NOR STA NID"';
            userid_flags secure httponly samesite=lax;
            return 200 "got=$uid_got set=$uid_set\n";
        }
        location /mark {
            userid on;
            userid_mark t;
            userid_expires max;
            return 200 "got=$uid_got set=$uid_set\n";
        }
        location /v1 {
            userid v1;
            userid_service 7;
            return 200 "got=$uid_got set=$uid_set\n";
        }
        location /log {
            userid log;
            return 200 "got=$uid_got set=$uid_set\n";
        }
        location /reset {
            userid on;
            set $uid_reset log;
            return 200 "got=$uid_got set=$uid_set\n";
        }
        location /off {
            return 200 "got=$uid_got set=$uid_set\n";
        }
    }
}
`)
	// a value made by nginx's "userid on" on 127.0.0.1
	const good = "fwAAAWNiDAkAAE2aAwMEAg=="
	newValue := regexp.MustCompile(`=[A-Za-z0-9+/]{22}(==|[A-Za-z0-9]=)`)
	checked := 0
	for _, c := range []struct{ uri, cookie string }{
		{"/", ""},
		{"/", "ident=" + good},
		{"/", "a=b; ident=" + good + "; c=d"},
		{"/mark", "uid=" + good},
		{"/mark", "uid=" + good[:22] + "t="},
		{"/v1", ""},
		{"/v1", "uid=" + good},
		{"/log", "uid=" + good},
		{"/log", ""},
		{"/reset", "uid=" + good},
		{"/off", "uid=" + good},
		{"/", "ident=short"},
		{"/", "ident=!!!!!!!!!!!!!!!!!!!!!!!!"},
	} {
		req := "GET " + c.uri + " HTTP/1.0\r\nHost: localhost\r\n"
		if c.cookie != "" {
			req += "Cookie: " + c.cookie + "\r\n"
		}
		ng, gr := p.Do(t, req+"\r\n")
		show := func(r *difftest.Response) string {
			s := string(r.Body) + strings.Join(r.Header.Values("Set-Cookie"), "|") + " " + r.Header.Get("P3P")
			// a new identifier's value differs; a kept one does not
			if !strings.Contains(s, good[:22]) {
				s = newValue.ReplaceAllString(s, "=NEW")
				s = regexp.MustCompile(`set=\w+=[0-9A-F]{32}`).ReplaceAllString(s, "set=NEWHEX")
			}
			// a relative expiry depends on the clock
			return regexp.MustCompile(`expires=\w{3}, [^;]*`).ReplaceAllString(s, "expires=E")
		}
		if a, b := show(ng), show(gr); a != b {
			t.Errorf("%s with %q:\nnginx:  %s\ngresty: %s", c.uri, c.cookie, a, b)
		}
		// a new identifier: the cookie's 16 bytes are $uid_set's four
		// words, the first the service (the server's address, or
		// userid_service for v1)
		for who, r := range map[string]*difftest.Response{"nginx": ng, "gresty": gr} {
			m := regexp.MustCompile(`=([A-Za-z0-9+/]{22}(?:==|[A-Za-z0-9]=))`).FindStringSubmatch(r.Header.Get("Set-Cookie"))
			set := regexp.MustCompile(`set=\w+=([0-9A-F]{32})`).FindStringSubmatch(string(r.Body))
			if m == nil || set == nil || strings.Contains(m[1], good[:22]) {
				continue
			}
			b, err := base64.StdEncoding.DecodeString(m[1])
			if err != nil || len(b) != 16 {
				t.Errorf("%s %s: cookie %q is not 16 bytes of base64", who, c.uri, m[1])
				continue
			}
			hex := fmt.Sprintf("%08X%08X%08X%08X", binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:]),
				binary.LittleEndian.Uint32(b[8:]), binary.LittleEndian.Uint32(b[12:]))
			service := []byte{127, 0, 0, 1}
			if c.uri == "/v1" {
				service = []byte{7, 0, 0, 0}
			}
			checked++
			if hex != set[1] || string(b[:4]) != string(service) {
				t.Errorf("%s %s: cookie %x, $uid_set %s, want service %v", who, c.uri, b, set[1], service)
			}
		}
	}
	// the five requests that make a new identifier, on both servers
	if checked < 10 {
		t.Errorf("only %d new identifiers were decoded", checked)
	}
	line := regexp.MustCompile(`\[(error|notice)\] \d+#\d+: \*\d+ (.*?), client: `)
	got := func(s *nginxtest.Server) string {
		var out []string
		for _, m := range line.FindAllStringSubmatch(s.Log("error.log", 1), -1) {
			out = append(out, m[2])
		}
		return strings.Join(out, "\n")
	}
	if a, b := got(p.Nginx), got(p.Gresty); a != b || a == "" {
		t.Errorf("log lines differ\nnginx:\n%s\ngresty:\n%s", a, b)
	}
}

// The directives' checks are nginx's.
func TestUseridConfigMatchesNginx(t *testing.T) {
	for _, conf := range []string{
		"http { userid maybe; }",
		"http { userid on; userid off; }",
		"http { userid_service x; }",
		"http { userid_expires never; }",
		"http { userid_expires max; userid_expires off; }",
		"http { userid_mark tt; }",
		"http { userid_mark -; }",
		"http { userid_mark off; userid_mark t; }",
		"http { userid_flags secure bogus; }",
		"http { userid_flags secure secure; }",
		"http { userid_flags off secure httponly samesite=none; }",
		"http { userid_domain none; userid_p3p none; userid_path /; userid_name u; server { location / { userid v1; } } }",
	} {
		nginxtest.CheckConfig(t, conf)
	}
}
