package static_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gresty/http/modules/static/statictest"
)

const staticConf = `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        root ROOT;
        port_in_redirect off;

        location /alias/ {
            alias ROOT/dir/;
        }
        location /aliasfile {
            alias ROOT/a.txt;
        }
        location ~ ^/re/(.+)$ {
            alias ROOT/$1;
        }
        location ~ ^/recap/([a-z]+)/(.*)$ {
            alias ROOT/$1/$2;
        }
        location /noetag/ {
            alias ROOT/;
            etag off;
        }
        location /nolog/ {
            alias ROOT/;
            log_not_found off;
        }
        location /rel/ {
            absolute_redirect off;
            alias ROOT/;
        }
        location /port/ {
            port_in_redirect on;
            alias ROOT/;
        }
        location /sn/ {
            server_name_in_redirect on;
            alias ROOT/;
        }
        location /types/ {
            alias ROOT/;
            types {
                text/x-custom txt;
                image/x-jpeg jpg;
            }
            default_type application/x-default;
        }
        location /deftype/ {
            alias ROOT/;
            default_type application/octet-stream;
        }
        location /sf/ {
            alias ROOT/;
            sendfile on;
        }
        location /nosf/ {
            alias ROOT/;
            sendfile off;
            output_buffers 1 4k;
        }
        location /ofc/ {
            alias ROOT/;
            open_file_cache max=4 inactive=30s;
            open_file_cache_valid 30s;
            open_file_cache_min_uses 2;
            open_file_cache_errors on;
        }
        location /sym/ {
            alias ROOT/;
            disable_symlinks on;
        }
        location /symowner/ {
            alias ROOT/;
            disable_symlinks if_not_owner;
        }
        location /symfrom/ {
            alias ROOT/;
            disable_symlinks on from=ROOT;
        }
    }
}
`

func TestStaticDifferential(t *testing.T) {
	root := statictest.Fixture(t)
	p := statictest.StartPair(t, strings.ReplaceAll(staticConf, "ROOT", root))
	reqs := []statictest.Request{
		{Name: "file", Raw: statictest.Get("/a.txt")},
		{Name: "head", Raw: statictest.Method("HEAD", "/a.txt")},
		{Name: "empty", Raw: statictest.Get("/empty.txt")},
		{Name: "head empty", Raw: statictest.Method("HEAD", "/empty.txt")},
		{Name: "html type", Raw: statictest.Get("/page.html")},
		{Name: "uppercase extension", Raw: statictest.Get("/Photo.JPG")},
		{Name: "no extension", Raw: statictest.Get("/noext")},
		{Name: "mid file", Raw: statictest.Get("/mid.bin")},
		{Name: "big file", Raw: statictest.Get("/big.bin")},
		{Name: "big head", Raw: statictest.Method("HEAD", "/big.bin")},
		{Name: "escaped space", Raw: statictest.Get("/sp%20ace.txt")},
		{Name: "escaped percent", Raw: statictest.Get("/pct%2541.txt")},
		{Name: "utf8 name", Raw: statictest.Get("/utf-%C3%BC.txt")},
		{Name: "hidden", Raw: statictest.Get("/.hidden")},
		{Name: "args", Raw: statictest.Get("/a.txt?x=1")},
		{Name: "http10", Raw: "GET /a.txt HTTP/1.0\r\n\r\n"},
		{Name: "missing", Raw: statictest.Get("/missing.txt")},
		{Name: "missing in missing dir", Raw: statictest.Get("/nodir/missing.txt")},
		{Name: "file as dir", Raw: statictest.Get("/a.txt/x")},
		{Name: "file with slash", Raw: statictest.Get("/a.txt/")},
		{Name: "name too long", Raw: statictest.Get("/" + strings.Repeat("n", 300))},
		{Name: "dir redirect", Raw: statictest.Get("/dir")},
		{Name: "dir redirect args", Raw: statictest.Get("/dir?a=b&c")},
		{Name: "dir redirect escaped", Raw: statictest.Get("/sp%20dir")},
		{Name: "dir with index", Raw: statictest.Get("/dir/")},
		{Name: "dir head", Raw: statictest.Method("HEAD", "/dir/")},
		{Name: "dir without index", Raw: statictest.Get("/noindex/")},
		{Name: "empty dir", Raw: statictest.Get("/emptydir/")},
		{Name: "nested dir redirect", Raw: statictest.Get("/dir/sub")},
		{Name: "post file", Raw: statictest.Method("POST", "/a.txt", "Content-Length: 3") + "abc"},
		{Name: "post missing", Raw: statictest.Method("POST", "/missing.txt", "Content-Length: 0")},
		{Name: "post dir", Raw: statictest.Method("POST", "/dir", "Content-Length: 0")},
		{Name: "put", Raw: statictest.Method("PUT", "/a.txt", "Content-Length: 0")},
		{Name: "delete", Raw: statictest.Method("DELETE", "/a.txt")},
		{Name: "options", Raw: statictest.Method("OPTIONS", "/a.txt")},
		{Name: "symlink file", Raw: statictest.Get("/link.txt")},
		{Name: "symlink dir", Raw: statictest.Get("/linkdir/")},
		{Name: "symlink dir redirect", Raw: statictest.Get("/linkdir")},
		{Name: "broken symlink", Raw: statictest.Get("/broken")},
		{Name: "alias file", Raw: statictest.Get("/alias/a.txt")},
		{Name: "alias index", Raw: statictest.Get("/alias/")},
		{Name: "alias dir redirect", Raw: statictest.Get("/alias/sub")},
		{Name: "alias missing", Raw: statictest.Get("/alias/missing")},
		{Name: "alias exact file", Raw: statictest.Get("/aliasfile")},
		{Name: "regex alias", Raw: statictest.Get("/re/a.txt")},
		{Name: "regex alias dir", Raw: statictest.Get("/re/dir")},
		{Name: "regex alias missing", Raw: statictest.Get("/re/none")},
		{Name: "regex alias two captures", Raw: statictest.Get("/recap/dir/a.txt")},
		{Name: "etag off", Raw: statictest.Get("/noetag/a.txt")},
		{Name: "log_not_found off", Raw: statictest.Get("/nolog/missing")},
		{Name: "log_not_found off forbidden dir", Raw: statictest.Get("/nolog/noindex/")},
		{Name: "relative redirect", Raw: statictest.Get("/rel/dir")},
		{Name: "server_name_in_redirect", Raw: statictest.Get("/sn/dir")},
		{Name: "port_in_redirect", Raw: statictest.Get("/port/dir")},
		{Name: "redirect without host", Raw: "GET /port/dir HTTP/1.0\r\n\r\n"},
		{Name: "types block", Raw: statictest.Get("/types/a.txt")},
		{Name: "types default", Raw: statictest.Get("/types/page.html")},
		{Name: "types uppercase", Raw: statictest.Get("/types/Photo.JPG")},
		{Name: "default_type", Raw: statictest.Get("/deftype/noext")},
		{Name: "sendfile on", Raw: statictest.Get("/sf/big.bin")},
		{Name: "sendfile on small", Raw: statictest.Get("/sf/a.txt")},
		{Name: "sendfile off big", Raw: statictest.Get("/nosf/big.bin")},
		{Name: "sendfile off mid", Raw: statictest.Get("/nosf/mid.bin")},
		{Name: "open_file_cache 1", Raw: statictest.Get("/ofc/big.bin")},
		{Name: "open_file_cache 2", Raw: statictest.Get("/ofc/big.bin")},
		{Name: "open_file_cache 3", Raw: statictest.Get("/ofc/big.bin")},
		{Name: "open_file_cache dir", Raw: statictest.Get("/ofc/dir")},
		{Name: "open_file_cache missing 1", Raw: statictest.Get("/ofc/missing")},
		{Name: "open_file_cache missing 2", Raw: statictest.Get("/ofc/missing")},
		{Name: "open_file_cache small", Raw: statictest.Get("/ofc/a.txt")},
		{Name: "open_file_cache evict 1", Raw: statictest.Get("/ofc/mid.bin")},
		{Name: "open_file_cache evict 2", Raw: statictest.Get("/ofc/noext")},
		{Name: "open_file_cache evict 3", Raw: statictest.Get("/ofc/page.html")},
		{Name: "open_file_cache evict 4", Raw: statictest.Get("/ofc/empty.txt")},
		{Name: "open_file_cache after evict", Raw: statictest.Get("/ofc/big.bin")},
		{Name: "disable_symlinks plain", Raw: statictest.Get("/sym/a.txt")},
		{Name: "disable_symlinks link", Raw: statictest.Get("/sym/link.txt")},
		{Name: "disable_symlinks dir link", Raw: statictest.Get("/sym/linkdir/a.txt")},
		{Name: "disable_symlinks link component", Raw: statictest.Get("/sym/viadir/target.txt")},
		{Name: "disable_symlinks missing", Raw: statictest.Get("/sym/missing")},
		{Name: "disable_symlinks dir", Raw: statictest.Get("/sym/dir")},
		{Name: "disable_symlinks index", Raw: statictest.Get("/sym/dir/")},
		{Name: "if_not_owner link", Raw: statictest.Get("/symowner/link.txt")},
		{Name: "if_not_owner dir link", Raw: statictest.Get("/symowner/linkdir/a.txt")},
		{Name: "if_not_owner foreign link", Raw: statictest.Get("/symowner/otherlink")},
		{Name: "if_not_owner foreign dir link", Raw: statictest.Get("/symowner/otherdir/a.txt")},
		{Name: "if_not_owner foreign dir index", Raw: statictest.Get("/symowner/otherdir/")},
		{Name: "disable_symlinks foreign link", Raw: statictest.Get("/sym/otherlink")},
		{Name: "from link", Raw: statictest.Get("/symfrom/link.txt")},
		{Name: "from plain", Raw: statictest.Get("/symfrom/dir/a.txt")},
	}
	statictest.Run(t, p, reqs)
}

const ofcConf = `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        root ROOT;
        location /ofc/ {
            alias ROOT/;
            open_file_cache max=10;
            open_file_cache_errors on;
            open_file_cache_valid 2s;
        }
        location /noerrors/ {
            alias ROOT/;
            open_file_cache max=10;
            open_file_cache_valid 2s;
        }
    }
}
`

// open_file_cache keeps what it saw for open_file_cache_valid: a cached
// error hides a new file, a cached descriptor keeps serving a file that
// was replaced, until the entry is re-checked; both servers agree.
func TestOpenFileCacheDifferential(t *testing.T) {
	root := statictest.Fixture(t)
	p := statictest.StartPair(t, strings.ReplaceAll(ofcConf, "ROOT", root))
	get := statictest.Get
	put := func(name string, fill byte) {
		tmp := filepath.Join(root, "tmp")
		if err := os.WriteFile(tmp, bytes.Repeat([]byte{fill}, 40<<10), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(tmp, statictest.FixedTime, statictest.FixedTime)
		if err := os.Rename(tmp, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name  string
		do    func()
		uri   string
		sleep bool
	}{
		{"missing, error cached", nil, "/ofc/new.bin", false},
		{"missing, not cached", nil, "/noerrors/new.bin", false},
		{"created, cached error hides it", func() { put("new.bin", 'a') }, "/ofc/new.bin", false},
		{"created, found without error caching", nil, "/noerrors/new.bin", false},
		{"after valid", nil, "/ofc/new.bin", true},
		{"replaced, old descriptor still served", func() { put("new.bin", 'b') }, "/ofc/new.bin", false},
		{"replaced, other cache re-opens", nil, "/noerrors/new.bin", true},
		{"after valid, new file", nil, "/ofc/new.bin", false},
		{"removed, descriptor still served", func() { os.Remove(filepath.Join(root, "new.bin")) }, "/ofc/new.bin", false},
		{"removed, after valid", nil, "/ofc/new.bin", true},
	}
	for _, s := range steps {
		if s.do != nil {
			s.do()
		}
		if s.sleep {
			time.Sleep(2100 * time.Millisecond)
		}
		statictest.Run(t, p, []statictest.Request{{Name: s.name, Raw: get(s.uri)}})
	}
}

// Unreadable files and unsearchable directories answer 403 with nginx's
// log lines. Root reads everything, so there is nothing to compare then.
func TestPermissionsDifferential(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: file permissions do not deny anything")
	}
	root := statictest.Fixture(t)
	secret := filepath.Join(root, "secret.txt")
	os.WriteFile(secret, []byte("secret"), 0o000)
	closed := filepath.Join(root, "closed")
	os.Mkdir(closed, 0o755)
	os.WriteFile(filepath.Join(closed, "in.txt"), []byte("in"), 0o644)
	os.Chmod(closed, 0o000)
	t.Cleanup(func() { os.Chmod(closed, 0o755) })
	p := statictest.StartPair(t, strings.ReplaceAll(staticConf, "ROOT", root))
	get := statictest.Get
	statictest.Run(t, p, []statictest.Request{
		{Name: "unreadable file", Raw: get("/secret.txt")},
		{Name: "unreadable file, log_not_found off", Raw: get("/nolog/secret.txt")},
		{Name: "unsearchable dir", Raw: get("/closed/in.txt")},
		{Name: "unsearchable dir index", Raw: get("/closed/")},
		{Name: "unsearchable dir redirect", Raw: get("/closed")},
		{Name: "unreadable with symlinks checked", Raw: get("/sym/secret.txt")},
	})
}
