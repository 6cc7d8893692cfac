package static_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gresty/http/modules/static"
	"gresty/http/modules/static/statictest"
)

// debianMimeTypes is where Debian's nginx package puts the file the
// embedded copy was generated from.
const debianMimeTypes = "/etc/nginx/mime.types"

func TestMimeTypesMatchDebian(t *testing.T) {
	b, err := os.ReadFile(debianMimeTypes)
	if err != nil {
		t.Skipf("%s not installed: %v", debianMimeTypes, err)
	}
	if string(b) != static.MimeTypesConf {
		t.Errorf("MimeTypesConf differs from %s: run go generate", debianMimeTypes)
	}
}

func TestMimeTypesTable(t *testing.T) {
	m := static.MimeTypes()
	for ext, typ := range map[string]string{
		"html": "text/html", "htm": "text/html", "css": "text/css", "js": "application/javascript",
		"jpg": "image/jpeg", "png": "image/png", "svgz": "image/svg+xml", "json": "application/json",
		"woff2": "font/woff2", "mp4": "video/mp4", "avi": "video/x-msvideo", "exe": "application/octet-stream",
	} {
		if m[ext] != typ {
			t.Errorf("%s: %q, want %q", ext, m[ext], typ)
		}
	}
	if len(m) < 100 {
		t.Errorf("only %d extensions", len(m))
	}
}

// Files served with "include mime.types" get the same types from both
// servers.
func TestMimeTypesDifferential(t *testing.T) {
	root := statictest.Fixture(t)
	m := static.MimeTypes()
	var reqs []statictest.Request
	n := 0
	for ext := range m {
		if n++; n > 40 {
			break
		}
		name := "f." + ext
		if err := os.WriteFile(filepath.Join(root, name), []byte(ext), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(filepath.Join(root, name), statictest.FixedTime, statictest.FixedTime)
		reqs = append(reqs, statictest.Request{Name: ext, Raw: statictest.Get("/" + strings.ToUpper(name[:2]) + name[2:])})
		reqs = append(reqs, statictest.Request{Name: ext + " upper", Raw: statictest.Get("/f." + strings.ToUpper(ext))})
	}
	types := filepath.Join(root, "mime.types")
	if err := os.WriteFile(types, []byte(static.MimeTypesConf), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := "http {\n    include " + types + ";\n    default_type application/octet-stream;\n" +
		"    server {\n        listen 127.0.0.1:%%PORT%%;\n        root " + root + ";\n    }\n}\n"
	statictest.Run(t, statictest.StartPair(t, conf), reqs)
}
