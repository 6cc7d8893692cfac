package proxy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// proxy_store compared with nginx: a 200 response is stored at the
// root and URI (or the path proxy_store names), with proxy_store_access's
// permissions, the upstream's Last-Modified as its time and the
// directories it needs; HEAD, 404, a body shorter than its
// Content-Length and a buffering-off location store nothing, and no
// temporary file is left behind.
func TestProxyStoreMatchesNginx(t *testing.T) {
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%PREFIX%%/html;
        location /store/ {
            proxy_pass http://127.0.0.1:%%PORT%%/files/;
            proxy_store on;
            proxy_store_access user:rw group:r all:r;
        }
        location /named/ {
            proxy_pass http://127.0.0.1:%%PORT%%/files/;
            proxy_store %%PREFIX%%/named$uri.copy;
        }
        location /unbuffered/ {
            proxy_pass http://127.0.0.1:%%PORT%%/files/;
            proxy_store on;
            proxy_buffering off;
        }
        location /short/ {
            proxy_pass http://127.0.0.1:%%PORT%%/lua/;
            proxy_store on;
        }
        location /files/ { alias %%PREFIX%%/files/; }
        location /lua/ {
            content_by_lua_block {
                ngx.header["Content-Length"] = 10
                ngx.print("short")
            }
        }
    }
%%HTTP_GLOBALS%%
}
`, "lua")
	for _, s := range []*nginxtest.Server{p.Nginx, p.Gresty} {
		files := filepath.Join(s.Prefix, "files")
		if err := os.MkdirAll(filepath.Join(files, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, body := range map[string]string{"a.txt": "content of a\n", "sub/b.txt": strings.Repeat("b", 100000), "h.txt": "head\n", "u.txt": "unbuffered\n"} {
			if err := os.WriteFile(filepath.Join(files, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		os.Chtimes(filepath.Join(files, "a.txt"), mustTime(t, "2020-01-02T03:04:05Z"), mustTime(t, "2020-01-02T03:04:05Z"))
	}
	for _, req := range []string{
		"GET /store/a.txt", "GET /store/sub/b.txt", "HEAD /store/h.txt", "GET /store/missing.txt",
		"GET /named/a.txt", "GET /unbuffered/u.txt", "GET /short/x",
	} {
		ng, gr := p.Do(t, req+" HTTP/1.0\r\nHost: localhost\r\n\r\n")
		if ng.Status != gr.Status || string(ng.Body) != string(gr.Body) {
			t.Errorf("%s: nginx %d %d bytes, gresty %d %d bytes", req, ng.Status, len(ng.Body), gr.Status, len(gr.Body))
		}
	}
	// what each server stored, with modes and times
	listing := func(s *nginxtest.Server) string {
		var out []string
		for _, dir := range []string{"html", "named", "proxy_temp"} {
			filepath.Walk(filepath.Join(s.Prefix, dir), func(path string, fi os.FileInfo, err error) error {
				if err != nil {
					return nil
				}
				rel, _ := filepath.Rel(s.Prefix, path)
				line := fmt.Sprintf("%s %v", rel, fi.Mode())
				if !fi.IsDir() {
					line += fmt.Sprintf(" %d", fi.Size())
					if strings.HasSuffix(rel, "a.txt") {
						line += " " + fi.ModTime().UTC().Format("2006-01-02T15:04:05")
					}
				}
				out = append(out, line)
				return nil
			})
		}
		return strings.Join(out, "\n")
	}
	a, b := listing(p.Nginx), listing(p.Gresty)
	if a != b || !strings.Contains(a, "html/store/a.txt -rw-r--r-- 13 2020-01-02T03:04:05") {
		t.Errorf("stored files differ\nnginx:\n%s\ngresty:\n%s", a, b)
	}
}

// A store on another file system than the temporary files is copied
// beside its place and renamed there, as nginx does (the copy is made
// with the permissions less the umask, where a rename keeps them whole).
func TestProxyStoreAcrossFileSystemsMatchesNginx(t *testing.T) {
	shm, err := os.MkdirTemp("/dev/shm", "store")
	if err != nil {
		t.Skip("no /dev/shm:", err)
	}
	defer os.RemoveAll(shm)
	var a, b syscall.Stat_t
	if syscall.Stat(shm, &a) != nil || syscall.Stat(t.TempDir(), &b) != nil || a.Dev == b.Dev {
		t.Skip("/dev/shm is not a file system of its own here")
	}
	p := difftest.Start(t, fmt.Sprintf(`
http {
    server {
        listen 127.0.0.1:%%%%PORT%%%%;
        location /xdev/ {
            proxy_pass http://127.0.0.1:%%%%PORT%%%%/files/;
            proxy_store %s/$server_port$uri;
            proxy_store_access user:rw group:rw all:r;
        }
        location /files/ { alias %%%%PREFIX%%%%/files/; }
    }
}
`, shm))
	for _, s := range []*nginxtest.Server{p.Nginx, p.Gresty} {
		files := filepath.Join(s.Prefix, "files")
		if err := os.MkdirAll(files, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(files, "x.txt"), []byte(strings.Repeat("x", 70000)), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(filepath.Join(files, "x.txt"), mustTime(t, "2021-05-06T07:08:09Z"), mustTime(t, "2021-05-06T07:08:09Z"))
	}
	ng, gr := p.Do(t, "GET /xdev/x.txt HTTP/1.0\r\nHost: localhost\r\n\r\n")
	if ng.Status != 200 || gr.Status != 200 {
		t.Fatalf("nginx %d, gresty %d", ng.Status, gr.Status)
	}
	listing := func(s *nginxtest.Server) string {
		var out []string
		port := s.Addr[strings.LastIndexByte(s.Addr, ':')+1:]
		filepath.Walk(filepath.Join(shm, port), func(path string, fi os.FileInfo, err error) error {
			if err == nil {
				rel, _ := filepath.Rel(filepath.Join(shm, port), path)
				line := fmt.Sprintf("%s %v", rel, fi.Mode())
				if !fi.IsDir() {
					line += fmt.Sprintf(" %d %s", fi.Size(), fi.ModTime().UTC().Format(time.RFC3339))
				}
				out = append(out, line)
			}
			return nil
		})
		entries, _ := os.ReadDir(filepath.Join(s.Prefix, "proxy_temp"))
		return strings.Join(out, "\n") + fmt.Sprintf("\ntemp files left: %d", len(entries))
	}
	if a, b := listing(p.Nginx), listing(p.Gresty); a != b || !strings.Contains(a, " 70000 2021-05-06T07:08:09Z") {
		t.Errorf("stored files differ\nnginx:\n%s\ngresty:\n%s", a, b)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// proxy_store's and proxy_store_access's checks are nginx's.
func TestProxyStoreConfigMatchesNginx(t *testing.T) {
	for _, conf := range []string{
		"http { proxy_store on; proxy_store off; }",
		"http { proxy_store_access user:rw group:rw all:r; server { location / { proxy_store /x$uri; proxy_pass http://127.0.0.1:1; } } }",
		"http { proxy_store_access user:x; }",
		"http { proxy_store_access nobody:rw; }",
		"http { proxy_store_access group:r; proxy_store_access all:r; }",
		"http { proxy_store_access a b c d; }",
	} {
		nginxtest.CheckConfig(t, conf)
	}
}
