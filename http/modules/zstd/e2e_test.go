package zstd_test

import (
	"bytes"
	stdgzip "compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
	"gresty/modules"
)

// nginx has no zstd: these tests run gresty alone and check the answers.

const conf = `
http {
    types {
        text/plain txt;
        text/html html;
        image/png png;
    }
    root DIR;

    gzip on;
    gzip_types text/plain;
    gzip_vary on;
    zstd on;
    zstd_types text/plain;

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;

        location / { }
        location /zstd-only/ { alias DIR/; gzip off; }
        location /min/ { alias DIR/; zstd_min_length 100k; }
        location /level/ { alias DIR/; zstd_comp_level 19; }
        location /html/ { alias DIR/; zstd_types text/html; gzip_types text/html; }
        location /static/ { alias DIR/; zstd_static on; gzip_static on; }
        location /static-always/ { alias DIR/; zstd_static always; }
        location /proxied/ { alias DIR/; gzip_proxied off; }
        location /v10/ { alias DIR/; gzip_http_version 1.0; }
        GLOBALS
    }
}
`

func start(t *testing.T, dir string) *nginxtest.Server {
	c := strings.ReplaceAll(conf, "DIR", dir)
	reg := modules.Registry()
	globals := ""
	for _, d := range []string{"client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path", "access_log"} {
		if !reg.Known(d) {
			// until gresty knows them, nginxtest's http-level directives
			// go into a string no request uses.
			globals = "location = /unused { add_header X-Unused \"%%HTTP_GLOBALS%%\"; }"
		}
	}
	return nginxtest.StartGresty(t, strings.Replace(c, "GLOBALS", globals, 1))
}

func decode(t *testing.T, enc string, body []byte) []byte {
	t.Helper()
	switch enc {
	case "zstd":
		d, err := zstd.NewReader(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		b, err := d.DecodeAll(body, nil)
		if err != nil {
			t.Fatalf("zstd body does not decode: %v", err)
		}
		return b
	case "gzip":
		zr, err := stdgzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("gzip body does not decode: %v", err)
		}
		return b
	}
	return body
}

func TestZstdEncoding(t *testing.T) {
	dir := t.TempDir()
	plain := []byte(strings.Repeat("zstd test line with some words in it\n", 300))
	pre := []byte(strings.Repeat("precompressed variant\n", 100))
	var zst, gz bytes.Buffer
	zw, _ := zstd.NewWriter(&zst)
	zw.Write(pre)
	zw.Close()
	gw := stdgzip.NewWriter(&gz)
	gw.Write([]byte("gzip variant\n"))
	gw.Close()
	files := map[string][]byte{
		"a.txt":       plain,
		"a.html":      plain,
		"b.png":       plain,
		"pre.txt":     plain,
		"pre.txt.zst": zst.Bytes(),
		"pre.txt.gz":  gz.Bytes(),
		"gz.txt":      plain,
		"gz.txt.gz":   gz.Bytes(),
	}
	mtime := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, mtime, mtime)
	}
	srv := start(t, dir)

	tests := []struct {
		name, uri, version, hdrs string
		enc                      string // expected Content-Encoding, "" for none
		vary                     bool
		length                   bool // Content-Length expected
		body                     []byte
	}{
		{"zstd accepted", "/a.txt", "1.1", "Accept-Encoding: zstd\r\n", "zstd", true, false, plain},
		{"zstd preferred over gzip", "/a.txt", "1.1", "Accept-Encoding: gzip, deflate, br, zstd\r\n", "zstd", true, false, plain},
		{"gzip when zstd refused", "/a.txt", "1.1", "Accept-Encoding: gzip, zstd;q=0\r\n", "gzip", true, false, plain},
		{"gzip only", "/a.txt", "1.1", "Accept-Encoding: gzip\r\n", "gzip", true, false, plain},
		{"identity", "/a.txt", "1.1", "", "", true, true, plain},
		{"zstd without gzip", "/zstd-only/a.txt", "1.1", "Accept-Encoding: zstd\r\n", "zstd", true, false, plain},
		{"gzip off, gzip asked", "/zstd-only/a.txt", "1.1", "Accept-Encoding: gzip\r\n", "", true, true, plain},
		{"type not listed", "/b.png", "1.1", "Accept-Encoding: zstd\r\n", "", false, true, plain},
		{"html listed in location", "/html/a.html", "1.1", "Accept-Encoding: zstd\r\n", "zstd", true, false, plain},
		{"below min length, gzip takes it", "/min/a.txt", "1.1", "Accept-Encoding: zstd, gzip\r\n", "gzip", true, false, plain},
		{"level 19", "/level/a.txt", "1.1", "Accept-Encoding: zstd\r\n", "zstd", true, false, plain},
		{"http/1.0 refused by gzip_http_version", "/a.txt", "1.0", "Accept-Encoding: zstd\r\n", "", true, true, plain},
		{"http/1.0 allowed", "/v10/a.txt", "1.0", "Accept-Encoding: zstd\r\n", "zstd", true, false, plain},
		{"proxied refused", "/proxied/a.txt", "1.1", "Accept-Encoding: zstd\r\nVia: 1.1 p\r\n", "", true, true, plain},
		{"static zst preferred", "/static/pre.txt", "1.1", "Accept-Encoding: gzip, zstd\r\n", "zstd", true, true, pre},
		{"static gz for gzip clients", "/static/pre.txt", "1.1", "Accept-Encoding: gzip\r\n", "gzip", true, true, []byte("gzip variant\n")},
		{"static without zst falls to gz", "/static/gz.txt", "1.1", "Accept-Encoding: zstd, gzip\r\n", "gzip", true, true, []byte("gzip variant\n")},
		{"static always", "/static-always/pre.txt", "1.1", "", "zstd", false, true, pre},
		{"head", "/a.txt", "1.1", "Accept-Encoding: zstd\r\n", "zstd", true, false, nil},
	}
	for _, tt := range tests {
		method := "GET"
		if tt.name == "head" {
			method = "HEAD"
		}
		raw := method + " " + tt.uri + " HTTP/" + tt.version + "\r\nHost: localhost\r\nConnection: close\r\n" + tt.hdrs + "\r\n"
		r := difftest.Fetch(t, srv.Addr, raw)
		if r.Status != 200 {
			t.Errorf("%s: status %d\n%s", tt.name, r.Status, r.Raw)
			continue
		}
		if got := r.Header.Get("Content-Encoding"); got != tt.enc {
			t.Errorf("%s: Content-Encoding %q, want %q", tt.name, got, tt.enc)
		}
		if got := r.Header.Get("Vary") == "Accept-Encoding"; got != tt.vary {
			t.Errorf("%s: Vary %q", tt.name, r.Header.Get("Vary"))
		}
		if got := r.Header.Get("Content-Length") != ""; got != tt.length {
			t.Errorf("%s: Content-Length %q", tt.name, r.Header.Get("Content-Length"))
		}
		if tt.enc != "" && !tt.length && strings.HasPrefix(r.Header.Get("ETag"), "\"") {
			t.Errorf("%s: strong ETag %s on an encoded response", tt.name, r.Header.Get("ETag"))
		}
		if method == "GET" {
			if got := decode(t, tt.enc, r.Body); !bytes.Equal(got, tt.body) {
				t.Errorf("%s: body %d bytes, want %d", tt.name, len(got), len(tt.body))
			}
		}
	}
}
