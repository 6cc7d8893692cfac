package gunzip_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"testing"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

func gz(parts ...string) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		w := gzip.NewWriter(&b)
		w.Write([]byte(p))
		w.Close()
	}
	return b.Bytes()
}

// gunzip compared with nginx behind a proxy whose backend answers gzip:
// a client that takes gzip gets it as it is, one that does not gets the
// body inflated (Content-Encoding, Content-Length and Accept-Ranges
// dropped, the ETag made weak, Vary added with gzip_vary), for small,
// large, several-member, chunked, empty and zero-length bodies; a
// truncated or corrupt body ends the response with nginx's error lines.
func TestGunzipMatchesNginx(t *testing.T) {
	// text that compresses to some 200 KB, so that the output comes in
	// several pieces
	rnd := rand.New(rand.NewPCG(1, 2))
	words := make([]string, 60000)
	for i := range words {
		words[i] = fmt.Sprintf("%x", rnd.Uint32())
	}
	big := strings.Join(words, " ")
	bodies := map[string][]byte{
		"/small":   gz("hello gunzip\n"),
		"/big":     gz(big),
		"/members": gz("one ", "two ", "three\n"),
		"/empty":   gz(""),
		"/zero":    {},
		"/trunc":   gz(big)[:5000],
		"/corrupt": append(gz("x")[:12], bytes.Repeat([]byte{0xff}, 40)...),
		"/plain":   []byte("not compressed\n"),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := bodies[r.URL.Path]
		if r.URL.Path != "/plain" {
			w.Header().Set("Content-Encoding", "gzip")
		}
		w.Header().Set("ETag", `"abc"`)
		w.Header().Set("Accept-Ranges", "bytes")
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		}
		w.Write(b)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	p := difftest.Start(t, fmt.Sprintf(`
http {
    gzip_vary on;
    server {
        listen 127.0.0.1:%%%%PORT%%%%;
        location / {
            gunzip on;
            gunzip_buffers 4 1k;
            proxy_pass http://%s;
            proxy_ignore_client_abort on; # the test's client half-closes
        }
        location /off/ {
            proxy_pass http://%s/;
            proxy_ignore_client_abort on;
        }
    }
}
`, ln.Addr(), ln.Addr()))
	for _, uri := range []string{"/small", "/big", "/members", "/empty", "/zero", "/plain", "/small?chunked=1",
		"/big?chunked=1", "/off/small", "/trunc", "/corrupt"} {
		for _, ae := range []string{"", "Accept-Encoding: gzip\r\n"} {
			req := "GET " + uri + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + ae + "\r\n"
			ng, gr := p.Do(t, req)
			if uri == "/small" && ae == "" && string(gr.Body) != "hello gunzip\n" {
				t.Errorf("/small: gresty answered %q", gr.Body)
			}
			if uri == "/trunc" && ae == "" {
				// how much of a broken stream goes out before the error
				// differs: Go's inflater hands out what it decoded at
				// the end of deflate blocks, zlib as it decodes.
				ng.Body, gr.Body = nil, nil
			}
			if diffs := difftest.Diff(ng, gr, "Content-Encoding", "Content-Length", "Accept-Ranges", "ETag", "Vary", "Transfer-Encoding"); len(diffs) > 0 {
				t.Errorf("%s %q: %s", uri, ae, strings.Join(diffs, "; "))
			}
		}
	}
	p.CheckLogLines(t, "error", "alert")
}

// gunzip's directives are checked as nginx checks them.
func TestGunzipConfigMatchesNginx(t *testing.T) {
	for _, conf := range []string{
		"http { gunzip on; gunzip_buffers 16 8k; }",
		"http { gunzip maybe; }",
		"http { gunzip_buffers 0 4k; }",
		"http { gunzip on; gunzip off; }",
	} {
		nginxtest.CheckConfig(t, conf)
	}
}
