package authbasic_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gresty/http/modules/authbasic"
	"gresty/internal/difftest"
)

const desConf = `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/www;
        auth_basic "des";
        auth_basic_user_file %%DIR%%/htpasswd;
    }
}
`

// TestDESCryptMatchesNginx checks traditional DES entries, some made with
// Perl's crypt() and some by gresty, against nginx, which hands them to the
// C library.
func TestDESCryptMatchesNginx(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "www"), 0o755)
	os.WriteFile(filepath.Join(dir, "www", "index.html"), []byte("ok\n"), 0o644)
	users := []struct{ user, entry string }{
		{"perl", "abJnggxhB/yWI"},  // password
		{"dots", "..UZoIyj/Hy/c"},  // password
		{"zz", "zzXUHfURnGg8I"},    // password
		{"long", "Xy2PtsPf0839Y"},  // password
		{"empty", "abmF1QH4PEr.E"}, // ""
		{"high", "qqg4XdetlDURQ"},  // pass
		{"short", "abJnggxhB/yW"},  // password, one digit missing
		{"badsalt", "a!JnggxhB/yWI"},
		{"gresty1", string(authbasic.Crypt([]byte("Secret99"), []byte("./")))},
		{"gresty2", string(authbasic.Crypt([]byte("\x80\xfe"), []byte("z9")))},
	}
	var file strings.Builder
	for _, u := range users {
		file.WriteString(u.user + ":" + u.entry + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(file.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p := difftest.Start(t, strings.ReplaceAll(desConf, "%%DIR%%", dir))

	tests := []struct {
		user, password string
		want           int
	}{
		{"perl", "password", 200},
		{"perl", "Password", 401},
		{"perl", "password-and-more", 200}, // only eight bytes count
		{"perl", "passwor", 401},
		{"dots", "password", 200},
		{"dots", "drowssap", 401},
		{"zz", "password", 200},
		{"long", "passwordpassword", 200},
		{"long", "passworD", 401},
		{"empty", "", 200},
		{"empty", "x", 401},
		{"high", "pass", 200},
		{"high", "\xf0\xe1\xf3\xf3", 200}, // the eighth bit is dropped
		{"high", "\xf0\xe1\xf3\xf2", 401},
		{"short", "password", 401},
		{"badsalt", "password", 401},
		{"gresty1", "Secret99", 200},
		{"gresty1", "Secret98", 401},
		{"gresty2", "\x80\xfe", 200},
		{"gresty2", "\x00\x7e", 401}, // a NUL ends the password
	}
	for _, tt := range tests {
		raw := "GET / HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic " +
			base64.StdEncoding.EncodeToString([]byte(tt.user+":"+tt.password)) +
			"\r\nConnection: close\r\n\r\n"
		name := tt.user + ":" + tt.password
		p.Check(t, name, raw)
		if ng, gr := p.Do(t, raw); ng.Status != tt.want || gr.Status != tt.want {
			t.Errorf("%q: nginx %d, gresty %d, want %d", name, ng.Status, gr.Status, tt.want)
		}
	}
}
