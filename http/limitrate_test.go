package http_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// limit_rate and limit_rate_after pace a response as nginx's write filter
// does: the first limit_rate_after bytes at once, then limit_rate bytes per
// whole second counted from the request's start. Both servers are held to
// the same lower bounds (a paced response cannot arrive early, whatever
// the machine's load) and the same bytes.
func TestLimitRate(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("0123456789"), 5000)
	if err := os.WriteFile(filepath.Join(dir, "data"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        root `+dir+`;
        location /fixed { alias `+dir+`/data; limit_rate 20k; limit_rate_after 10000; }
        location /var { alias `+dir+`/data; limit_rate $arg_l; limit_rate_after $arg_a; }
        location /set { alias `+dir+`/data; set $limit_rate 25000; }
        location /xar { proxy_pass http://127.0.0.1:%%PORT%%/accel; }
        location /accel { add_header X-Accel-Redirect /free; add_header X-Accel-Limit-Rate 20000; return 204; }
        location /free { internal; alias `+dir+`/data; limit_rate 0; }
    }
}
`)
	for _, tc := range []struct {
		path string
		min  time.Duration
	}{
		// 10000 bytes free and 20480 in the first second, the rest in
		// the next: about a second.
		{"/fixed", 800 * time.Millisecond},
		{"/var?l=20k&a=10000", 800 * time.Millisecond},
		{"/set", 800 * time.Millisecond},
		// X-Accel-Limit-Rate holds in the location X-Accel-Redirect
		// goes to, even one with limit_rate 0.
		{"/xar", 800 * time.Millisecond},
		// limit_rate_after beyond the body: no pacing.
		{"/var?l=20k&a=100k", 0},
		{"/var", 0},
	} {
		for _, srv := range []struct {
			Name string
			*nginxtest.Server
		}{{"nginx", p.Nginx}, {"gresty", p.Gresty}} {
			// the client keeps its side open: a client that half-closes
			// while a paced response is sent aborts it, with nginx too.
			c := dial(t, srv.Addr)
			start := time.Now()
			io.WriteString(c, "GET "+tc.path+" HTTP/1.0\r\n\r\n")
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			raw, err := io.ReadAll(c)
			d := time.Since(start)
			r := difftest.Parse(raw, false)
			if err != nil || r == nil || r.Status != 200 || !bytes.Equal(r.Body, data) {
				t.Errorf("%s %s: %v, %d bytes", srv.Name, tc.path, err, len(raw))
				continue
			}
			if d < tc.min {
				t.Errorf("%s %s: %v, want at least %v", srv.Name, tc.path, d, tc.min)
			}
		}
	}
}
