package flv_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// flv compared with nginx: a file whole, from a start offset behind the
// FLV header (with HEAD, ranges and conditional requests on top), bad and
// out-of-range offsets, an empty file, a directory, a missing file, a
// URI ending with "/", a method other than GET and HEAD, and a request
// body.
func TestFLVMatchesNginx(t *testing.T) {
	p := difftest.Start(t, `
http {
    types { video/x-flv flv; }
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%PREFIX%%/html;
        absolute_redirect off;
        location / { flv; }
    }
}
`)
	body := "FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00" + strings.Repeat("0123456789", 1000)
	mtime := time.Date(2022, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, s := range []*nginxtest.Server{p.Nginx, p.Gresty} {
		html := filepath.Join(s.Prefix, "html")
		if err := os.MkdirAll(filepath.Join(html, "dir"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range map[string]string{"v.flv": body, "empty.flv": "", "dir/x": "x"} {
			if err := os.WriteFile(filepath.Join(html, name), []byte(b), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(filepath.Join(html, name), mtime, mtime)
		}
	}
	hdrs := append([]string{"Content-Type", "Content-Length", "Last-Modified", "ETag", "Accept-Ranges", "Content-Range"}, difftest.CompareHeaders...)
	for _, req := range []string{
		"GET /v.flv", "GET /v.flv?start=13", "GET /v.flv?start=5000", "GET /v.flv?start=0",
		"GET /v.flv?start=10013", "GET /v.flv?start=99999", "GET /v.flv?start=-5", "GET /v.flv?start=1x",
		"GET /v.flv?start=", "GET /v.flv?a=1&start=100&b=2", "GET /v.flv?xstart=100",
		"GET /v.flv?start&start=100", "GET /v.flv?START=100",
		"HEAD /v.flv?start=100", "GET /empty.flv", "GET /empty.flv?start=1", "GET /dir",
		"GET /dir/", "GET /missing.flv", "POST /v.flv", "DELETE /v.flv",
	} {
		p.Check(t, req, req+" HTTP/1.0\r\nHost: localhost\r\n\r\n", hdrs...)
	}
	p.Check(t, "range", "GET /v.flv?start=100 HTTP/1.0\r\nHost: localhost\r\nRange: bytes=0-20\r\n\r\n", hdrs...)
	p.Check(t, "body", "GET /v.flv?start=100 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", hdrs...)
	p.CheckLogLines(t, "error", "crit")
}

// flv takes no arguments and belongs in a location.
func TestFLVConfigMatchesNginx(t *testing.T) {
	for _, conf := range []string{
		"http { server { location / {\n flv on;\n} } }\n",
		"http { server {\n flv;\n} }\n",
		"http { server { location / {\n if ($uri) {\n  flv;\n }\n} } }\n",
	} {
		nginxtest.CheckConfig(t, conf)
	}
}
