package autoindex

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gresty/internal/nginxtest"
)

func TestUTF8(t *testing.T) {
	tests := []struct {
		s            string
		length       int
		prefix3bytes int
	}{
		{"abc", 3, 3},
		{"äöü", 3, 6},
		{"a€b", 3, 5},
		{"😀x", 2, 5},
		{"\xff", 1, 0},
		{"a\xc3", 2, 1},
		{"ab\xe2\x82", 4, 2},
		{"\xc0\x80", 2, 0},
		{"\xe0\x80\x80", 3, 0},
	}
	for _, tt := range tests {
		if got := utf8Length([]byte(tt.s)); got != tt.length {
			t.Errorf("utf8Length(%q) = %d, want %d", tt.s, got, tt.length)
		}
		if got := utf8Prefix([]byte(tt.s), 3); got != tt.prefix3bytes {
			t.Errorf("utf8Prefix(%q, 3) = %d, want %d", tt.s, got, tt.prefix3bytes)
		}
	}
}

// With "charset utf-8" nginx counts names in characters; gresty has no
// charset module yet, so the rendering is compared with nginx's own
// listing directly.
func TestHTMLUTF8MatchesNginx(t *testing.T) {
	dir := t.TempDir()
	mtime := time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC)
	names := []string{
		"ascii.txt",
		"äöü.txt",
		strings.Repeat("é", 50),
		strings.Repeat("é", 51),
		strings.Repeat("€", 60) + ".bin",
		"<ü>&\"x\".txt",
		strings.Repeat("<ü", 30),
		"invalid\xff\xfe.txt",
	}
	for i, n := range names {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, bytes.Repeat([]byte("z"), i*3000), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, mtime, mtime)
	}
	sub := filepath.Join(dir, strings.Repeat("д", 49))
	os.Mkdir(sub, 0o755)
	os.Chtimes(sub, mtime, mtime)

	s := nginxtest.Start(t, "http {\n server {\n  listen 127.0.0.1:%%PORT%%;\n  root "+dir+";\n  charset utf-8;\n  autoindex on;\n  autoindex_exact_size off;\n }\n}\n")
	raw, err := nginxtest.Exchange(s.Addr, []byte("GET / HTTP/1.0\r\n\r\n"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(raw, []byte("\r\n\r\n"))
	if i < 0 || !bytes.Contains(raw[:i], []byte("charset=utf-8")) {
		t.Fatalf("unexpected answer:\n%s", raw)
	}
	want := raw[i+4:]

	var es []Entry
	des, _ := os.ReadDir(dir)
	for _, de := range des {
		fi, err := os.Stat(filepath.Join(dir, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, Entry{Name: []byte(de.Name()), Dir: fi.IsDir(), File: fi.Mode().IsRegular(), Mtime: fi.ModTime().Unix(), Size: fi.Size()})
	}
	SortEntries(es)
	got := AppendHTML(nil, []byte("/"), es, Options{UTF8: true})
	if !bytes.Equal(got, want) {
		t.Errorf("listing differs\nnginx:\n%s\ngresty:\n%s", want, got)
	}
}
