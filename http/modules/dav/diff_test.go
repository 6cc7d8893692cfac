package dav_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// The dav module compared with nginx, request by request on the same
// tree: each answer (status, Location, body), then the files each server
// left, with their modes, sizes and times, and the error log's lines.
func TestDAVMatchesNginx(t *testing.T) {
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%PREFIX%%/html;
        absolute_redirect off;
        client_body_buffer_size 1k;
        location / {
            dav_methods put delete mkcol copy move;
            dav_access user:rw group:rw all:r;
        }
        location /full/ {
            dav_methods put;
            create_full_put_path on;
        }
        location /deep/ {
            dav_methods delete;
            min_delete_depth 3;
        }
        location /ro/ {
            dav_methods off;
        }
        location /kept/ {
            dav_methods put;
            client_body_in_file_only on;
        }
    }
}
`)
	mtime := time.Date(2020, 2, 3, 4, 5, 6, 0, time.UTC)
	for _, s := range []*nginxtest.Server{p.Nginx, p.Gresty} {
		html := filepath.Join(s.Prefix, "html")
		for name, body := range map[string]string{
			"file.txt": "file\n", "dir/a.txt": "a\n", "dir/sub/b.txt": "b\n", "del/x.txt": "x",
			"deep/a/b/c.txt": "c", "deep/a/d.txt": "d", "ro/r.txt": "r", "tree/t1.txt": "t1", "tree/in/t2.txt": "t2",
			"mv/m.txt": "m", "over.txt": "old",
		} {
			path := filepath.Join(html, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(path, mtime, mtime)
		}
		for _, d := range []string{"dir/sub", "dir", "tree/in", "tree", "mv"} {
			os.Chtimes(filepath.Join(html, d), mtime, mtime)
		}
		os.Symlink("file.txt", filepath.Join(html, "dir", "link"))
		os.Symlink("file.txt", filepath.Join(html, "flink.txt"))
		// a time with a fraction of a second: copies keep whole seconds
		frac := mtime.Add(600 * time.Millisecond)
		os.Chtimes(filepath.Join(html, "tree", "t1.txt"), frac, frac)
	}
	big := strings.Repeat("z", 5000)
	for _, req := range []string{
		// PUT
		"PUT /new.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
		"PUT /over.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: close\r\n\r\nnew",
		"PUT /big.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n" + big,
		"PUT /empty.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		"PUT /chunked.txt HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"PUT /sp%20ace.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nConnection: close\r\n\r\ns",
		"PUT /dir HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
		"PUT /dir/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
		"PUT /nodir/x.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
		"PUT /full/a/b/c.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
		"PUT /r.txt HTTP/1.1\r\nHost: localhost\r\nContent-Range: bytes 0-0/1\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
		"PUT /ro/r.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
		"PUT /nolength.txt HTTP/1.0\r\nHost: localhost\r\n\r\n",
		"PUT /kept/k.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nConnection: close\r\n\r\nkept",
		// the client goes away in the body: no temporary file stays
		"PUT /kept/cut.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\nConnection: close\r\n\r\ncut",
		// MKCOL
		"MKCOL /col/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"MKCOL /col/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"MKCOL /col2 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"MKCOL /a/b/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"MKCOL /col3/ HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
		// COPY and MOVE
		"COPY /file.txt HTTP/1.1\r\nHost: localhost\r\nDestination: /copy.txt\r\nConnection: close\r\n\r\n",
		"COPY /file.txt HTTP/1.1\r\nHost: localhost\r\nDestination: http://localhost/copy2.txt\r\nConnection: close\r\n\r\n",
		"COPY /file.txt HTTP/1.1\r\nHost: localhost:8080\r\nDestination: http://localhost:8080/copy3.txt\r\nConnection: close\r\n\r\n",
		"COPY /file.txt HTTP/1.1\r\nHost: localhost\r\nDestination: http://other/copy4.txt\r\nConnection: close\r\n\r\n",
		"COPY /file.txt HTTP/1.1\r\nHost: localhost\r\nDestination: https://localhost/copy5.txt\r\nConnection: close\r\n\r\n",
		"COPY /file.txt HTTP/1.1\r\nHost: localhost\r\nDestination: http://localhost\r\nConnection: close\r\n\r\n",
		"COPY /file.txt HTTP/1.1\r\nHost: localhost\r\nDestination: /../etc/x\r\nConnection: close\r\n\r\n",
		"COPY /file.txt HTTP/1.1\r\nHost: localhost\r\nDestination: /%2e%2e/etc/x\r\nConnection: close\r\n\r\n",
		"COPY /flink.txt HTTP/1.1\r\nHost: localhost\r\nDestination: /flinkcopy.txt\r\nConnection: close\r\n\r\n",
		"COPY /file.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"COPY /file.txt HTTP/1.1\r\nHost: localhost\r\nDestination: /over.txt\r\nOverwrite: F\r\nConnection: close\r\n\r\n",
		"COPY /file.txt HTTP/1.1\r\nHost: localhost\r\nDestination: /over.txt\r\nOverwrite: x\r\nConnection: close\r\n\r\n",
		"COPY /file.txt HTTP/1.1\r\nHost: localhost\r\nDestination: /dcopy/\r\nConnection: close\r\n\r\n",
		"COPY /file.txt HTTP/1.1\r\nHost: localhost\r\nDestination: /dir\r\nConnection: close\r\n\r\n",
		"COPY /file.txt HTTP/1.1\r\nHost: localhost\r\nDestination: /d1.txt\r\nDepth: 1\r\nConnection: close\r\n\r\n",
		"COPY /file.txt HTTP/1.1\r\nHost: localhost\r\nDestination: /d0.txt\r\nDepth: 0\r\nConnection: close\r\n\r\n",
		"COPY /missing.txt HTTP/1.1\r\nHost: localhost\r\nDestination: /m.txt\r\nConnection: close\r\n\r\n",
		"COPY /tree/ HTTP/1.1\r\nHost: localhost\r\nDestination: /treecopy/\r\nConnection: close\r\n\r\n",
		"COPY /tree/ HTTP/1.1\r\nHost: localhost\r\nDestination: /dir/\r\nConnection: close\r\n\r\n",
		"COPY /file.txt HTTP/1.1\r\nHost: localhost\r\nDestination: /file.txt?x=1\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
		"MOVE /mv/m.txt HTTP/1.1\r\nHost: localhost\r\nDestination: /moved/deep/m.txt\r\nConnection: close\r\n\r\n",
		"MOVE /mv/ HTTP/1.1\r\nHost: localhost\r\nDestination: /mvdir/\r\nConnection: close\r\n\r\n",
		"MOVE /treecopy/ HTTP/1.1\r\nHost: localhost\r\nDestination: /tc/\r\nDepth: 0\r\nConnection: close\r\n\r\n",
		"MOVE /treecopy HTTP/1.1\r\nHost: localhost\r\nDestination: /tc\r\nConnection: close\r\n\r\n",
		// DELETE
		"DELETE /copy.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"DELETE /copy.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"DELETE /file.txt/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"DELETE /del HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"DELETE /del/ HTTP/1.1\r\nHost: localhost\r\nDepth: 1\r\nConnection: close\r\n\r\n",
		"DELETE /del/ HTTP/1.1\r\nHost: localhost\r\nDepth: nope\r\nConnection: close\r\n\r\n",
		"DELETE /copy2.txt HTTP/1.1\r\nHost: localhost\r\nDepth: 1\r\nConnection: close\r\n\r\n",
		"DELETE /dir/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"DELETE /deep/a/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"DELETE /deep/a/d.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"DELETE /deep/a/b/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"DELETE /copy3.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx",
		"DELETE /ro/r.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"GET /new.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
	} {
		name := req[:strings.Index(req, "\r\n")]
		p.Check(t, name, req, "Location", "Content-Length", "Content-Type")
	}
	listing := func(s *nginxtest.Server) string {
		var out []string
		root := filepath.Join(s.Prefix, "html")
		filepath.Walk(root, func(path string, fi os.FileInfo, err error) error {
			if err != nil {
				return nil
			}
			rel, _ := filepath.Rel(root, path)
			line := fmt.Sprintf("%s %v", rel, fi.Mode())
			if !fi.IsDir() {
				line += fmt.Sprintf(" %d", fi.Size())
			}
			if fi.ModTime().Year() < 2025 {
				line += " " + fi.ModTime().UTC().Format(time.RFC3339Nano)
			}
			out = append(out, line)
			return nil
		})
		temps, _ := os.ReadDir(filepath.Join(s.Prefix, "client_body_temp"))
		return strings.Join(out, "\n") + fmt.Sprintf("\ntemporary files: %d", len(temps))
	}
	if a, b := listing(p.Nginx), listing(p.Gresty); a != b {
		t.Errorf("trees differ\nnginx:\n%s\ngresty:\n%s", a, b)
	}
	p.CheckLogLines(t, "error", "crit", "alert")
}

// The directives' checks are nginx's.
func TestDAVConfigMatchesNginx(t *testing.T) {
	for _, conf := range []string{
		"http {\n dav_methods get;\n}\n",
		"http {\n dav_methods put put;\n}\n",
		"http {\n dav_methods off;\n dav_methods PUT;\n}\n",
		"http {\n dav_access user:x;\n}\n",
		"http {\n dav_access owner:rw;\n}\n",
		"http {\n dav_access all:r;\n dav_access all:r;\n}\n",
		"http {\n min_delete_depth x;\n}\n",
		"http {\n create_full_put_path maybe;\n}\n",
		"http { server { location / {\n if ($uri) {\n  dav_methods put;\n }\n} } }\n",
	} {
		nginxtest.CheckConfig(t, conf)
	}
}
