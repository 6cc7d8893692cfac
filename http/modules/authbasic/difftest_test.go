package authbasic_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gresty/http/modules/authbasic"
	"gresty/http/modules/traffictest"
	"gresty/internal/difftest"
)

const authConf = `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/www;
        auth_basic "Closed $host";
        auth_basic_user_file %%DIR%%/htpasswd;

        location /open/ { auth_basic off; }
        location /missing/ { auth_basic_user_file %%DIR%%/nonexistent; }
        location /varfile/ { auth_basic_user_file %%DIR%%/$arg_f; }
        location /any/ { satisfy any; allow 127.0.0.1; deny all; }
        location /anydeny/ { satisfy any; deny all; }
        location /alldeny/ { deny all; }
        location /offrealm/ { auth_basic $arg_r; }
        location /limit/ {
            auth_basic off;
            limit_except GET { auth_basic "post"; }
        }
        location /slow/ { auth_delay 300ms; }
        location /slowany/ { auth_delay 300ms; satisfy any; deny all; }
    }
}
`

func TestAuthBasicMatchesNginx(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"www", "www/open", "www/missing", "www/varfile", "www/any", "www/anydeny", "www/alldeny", "www/offrealm", "www/limit", "www/slow", "www/slowany"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
		os.WriteFile(filepath.Join(dir, d, "index.html"), []byte(d+"\n"), 0o644)
	}
	// entries made by gresty's own Crypt: nginx (its own code for apr1 and
	// the {} schemes, the C library for the rest) must accept them.
	entries := []struct{ user, salt string }{
		{"plain", "{PLAIN}"},
		{"sha", "{SHA}"},
		{"ssha", "{SSHA}" + base64.StdEncoding.EncodeToString(append(make([]byte, 20), "NaCl"...))},
		{"apr", "$apr1$Abc/Def."},
		{"md5", "$1$saltsalt"},
		{"sha256", "$5$rounds=2000$somesalt"},
		{"sha512", "$6$anothersalt"},
	}
	var file strings.Builder
	file.WriteString("# users\n\r\nsh:{PLAIN}prefix-line-hides-next\n")
	for _, e := range entries {
		file.WriteString(e.user + ":" + string(authbasic.Crypt([]byte("pw-"+e.user), []byte(e.salt))) + ":comment\n")
	}
	file.WriteString("last:{PLAIN}nonewline")
	if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(file.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "other"), []byte("x:{PLAIN}y\n"), 0o644)
	p := difftest.Start(t, strings.ReplaceAll(authConf, "%%DIR%%", dir))

	basic := func(s string) string {
		return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(s)) + "\r\n"
	}
	req := func(path, extra string) string {
		return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "Connection: close\r\n\r\n"
	}
	tests := []struct{ name, raw string }{
		{"no credentials", req("/", "")},
		{"other scheme", req("/", "Authorization: Bearer x\r\n")},
		{"empty basic", req("/", "Authorization: Basic \r\n")},
		{"garbage", req("/", "Authorization: Basic !!!!\r\n")},
		{"no colon", req("/", "Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte("plain"))+"\r\n")},
		{"empty user", req("/", basic(":pw-plain"))},
		{"unpadded", req("/", "Authorization: Basic "+base64.RawStdEncoding.EncodeToString([]byte("plain:pw-plain"))+"\r\n")},
		{"lower-case scheme", req("/", "Authorization: basic "+base64.StdEncoding.EncodeToString([]byte("plain:pw-plain"))+"\r\n")},
		{"unknown user", req("/", basic("nobody:pw"))},
		{"prefix of a user", req("/", basic("pla:pw-plain"))},
		{"hidden line", req("/", basic("shx:x"))},
		{"last line", req("/", basic("last:nonewline"))},
		{"comment user", req("/", basic("# users:x"))},
		{"missing file", req("/missing/", basic("plain:pw-plain"))},
		{"variable file", req("/varfile/?f=other", basic("x:y"))},
		{"variable file wrong", req("/varfile/?f=other", basic("plain:pw-plain"))},
		{"variable file missing", req("/varfile/?f=nope", basic("x:y"))},
		{"off", req("/open/", "")},
		{"satisfy any allowed", req("/any/", "")},
		{"satisfy any denied no auth", req("/anydeny/", "")},
		{"satisfy any denied with auth", req("/anydeny/", basic("plain:pw-plain"))},
		{"satisfy any denied bad auth", req("/anydeny/", basic("plain:bad"))},
		{"satisfy all denied", req("/alldeny/", basic("plain:pw-plain"))},
		{"realm off by variable", req("/offrealm/?r=off", "")},
		{"realm from variable", req("/offrealm/?r=R", "")},
		{"limit_except GET", req("/limit/", "")},
		{"limit_except POST", "POST /limit/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"},
	}
	for _, e := range entries {
		tests = append(tests,
			struct{ name, raw string }{e.user + " right", req("/", basic(e.user+":pw-"+e.user))},
			struct{ name, raw string }{e.user + " wrong", req("/", basic(e.user+":pw-"+e.user+"x"))})
	}
	for _, tt := range tests {
		p.Check(t, tt.name, tt.raw)
	}
	// the hashes gresty made are the ones nginx checks
	for _, e := range entries {
		if ng, gr := p.Do(t, req("/", basic(e.user+":pw-"+e.user))); ng.Status != 200 || gr.Status != 200 {
			t.Errorf("%s: nginx %d, gresty %d, want 200", e.user, ng.Status, gr.Status)
		}
	}
	// auth_delay: a 401 comes after the delay, a success at once.
	for _, c := range []struct {
		path, auth string
		status     int
		slow       bool
	}{{"/slow/", "", 401, true}, {"/slow/", basic("plain:bad"), 401, true}, {"/slowany/", basic("plain:bad"), 401, true},
		{"/slow/", basic("plain:pw-plain"), 200, false}} {
		for _, addr := range []string{p.Nginx.Addr, p.Gresty.Addr} {
			b, took, err := traffictest.SendRaw(addr, req(c.path, c.auth), 5*time.Second)
			r := difftest.Parse(b, false)
			if err != nil || r.Status != c.status || c.slow != (took >= 250*time.Millisecond) {
				t.Errorf("%s %q at %s: status %d after %v", c.path, c.auth, addr, r.Status, took)
			}
		}
	}
	for _, msg := range []string{"no user/password was provided", "was not found in", "password mismatch", "No such file or directory", "access forbidden by rule", "delaying unauthorized request"} {
		if a, b := strings.Count(p.Nginx.ErrorLog(), msg), strings.Count(p.Gresty.ErrorLog(), msg); a != b {
			t.Errorf("%q logged %d times by nginx, %d by gresty", msg, a, b)
		}
	}
}
