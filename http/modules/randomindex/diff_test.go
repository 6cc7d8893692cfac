package randomindex_test

import (
	"os"
	"path/filepath"
	"testing"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// random_index compared with nginx on directories whose choice is
// forced: one file, one file beside dot files, subdirectories and links,
// no file at all (the index module answers), no directory (404 and the
// log line), a URI that is not a directory's, a method it leaves, and
// an alias without the slash.
func TestRandomIndexMatchesNginx(t *testing.T) {
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%PREFIX%%/html;
        location / { random_index on; }
        location /off/ { }
        # the alias lacks the URI's slash, and nginx drops the path's
        # last character all the same
        location /al/ { random_index on; alias %%PREFIX%%/html/one; }
    }
}
`)
	for _, s := range []*nginxtest.Server{p.Nginx, p.Gresty} {
		html := filepath.Join(s.Prefix, "html")
		write := func(name, body string) {
			path := filepath.Join(html, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("one/only.html", "only\n")
		write("mixed/.hidden", "hidden\n")
		write("mixed/sub/x.html", "sub\n")
		write("mixed/real.txt", "real\n")
		write("linked/target/t.html", "t\n")
		os.Symlink("target", filepath.Join(html, "linked", "dirlink"))
		os.Symlink("missing", filepath.Join(html, "linked", "dangling"))
		os.Symlink("target/t.html", filepath.Join(html, "linked", "filelink"))
		write("indexed/.dot", "")
		write("indexed/sub/index.html", "")
		write("indexed/index.html", "index\n")
		os.MkdirAll(filepath.Join(html, "empty"), 0o755)
		write("off/only.html", "off\n")
	}
	for _, req := range []string{
		"GET /one/", "GET /mixed/", "GET /linked/", "GET /empty/", "GET /nothere/",
		"GET /one/only.html", "GET /off/", "PUT /one/", "HEAD /one/", "GET /al/",
	} {
		ng, gr := p.Do(t, req+" HTTP/1.0\r\nHost: localhost\r\n\r\n")
		if ng.Status != gr.Status || string(ng.Body) != string(gr.Body) {
			t.Errorf("%s: nginx %d %q, gresty %d %q", req, ng.Status, ng.Body, gr.Status, gr.Body)
		}
	}
	p.CheckLogLines(t, "error", "crit")
}
