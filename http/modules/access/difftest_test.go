package access_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gresty/internal/difftest"
)

// The client is always 127.0.0.1; the rules around it decide.
const accessConf = `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%ROOT%%;
        allow 10.0.0.0/8;
        deny 127.0.0.1;

        location /inherit/ { }
        location /loopback/ { allow 127.0.0.0/8; deny all; }
        location /order/ { deny 127.0.0.0/8; allow 127.0.0.1; }
        location /other/ { allow 192.168.0.0/16; deny 10.1.2.3; }
        location /v6only/ { deny ::1; deny ::/0; }
        location /all/ { deny all; }
        location /unix/ { deny unix:; }
        location /low/ { allow 127.0.0.1/8; deny all; }
        location /any/ {
            satisfy any;
            deny all;
        }
        location /limit/ {
            limit_except GET { deny all; }
        }
        location /page/ {
            deny all;
            error_page 403 /inherit/index.html;
        }
    }
}
`

func TestAllowDenyMatchesNginx(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"inherit", "loopback", "order", "other", "v6only", "all", "unix", "low", "any", "limit", "page"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
		os.WriteFile(filepath.Join(root, d, "index.html"), []byte(d+"\n"), 0o644)
	}
	p := difftest.Start(t, strings.ReplaceAll(accessConf, "%%ROOT%%", root))
	for _, path := range []string{"/", "/inherit/", "/loopback/", "/order/", "/other/", "/v6only/", "/all/", "/unix/", "/low/", "/any/", "/limit/", "/page/"} {
		for _, method := range []string{"GET", "POST"} {
			raw := method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
			p.Check(t, method+" "+path, raw)
		}
	}
	// the error log says why, as nginx's does
	if a, b := strings.Count(p.Nginx.ErrorLog(), "access forbidden by rule"), strings.Count(p.Gresty.ErrorLog(), "access forbidden by rule"); a != b || a == 0 {
		t.Errorf("\"access forbidden by rule\" logged %d times by nginx, %d by gresty", a, b)
	}
}
