package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFnmatch(t *testing.T) {
	tests := []struct {
		pat, name string
		want      bool
	}{
		{"*.conf", "a.conf", true},
		{"*.conf", "a.conf.bak", false},
		{"*.conf", ".a.conf", false},
		{".*", ".a", true},
		{".*", ".", true},
		{"?a", ".a", false},
		{"[.]a", ".a", false},
		{"a*", "a", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyyd", false},
		{"*a*a*a*a*a*b", strings.Repeat("a", 200), false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"[abc]x", "bx", true},
		{"[a-c]x", "dx", false},
		{"[!a-c]x", "dx", true},
		{"[^a-c]x", "ax", false},
		{"[]]", "]", true},
		{"[!]]", "a", true},
		{"[a-]", "-", true},
		{"[[:digit:]]*", "7z", true},
		{"[[:alpha:]]", "7", false},
		{"[[:upper:][:digit:]]", "Q", true},
		{"[z-a]", "m", false},
		{"[ab", "[ab", true},
		{"[ab", "a", false},
		{`\*`, "*", true},
		{`\*`, "a", false},
		{`[\]]`, "]", true},
		{"*", "", true},
	}
	for _, tt := range tests {
		if got := fnmatch(tt.pat, tt.name); got != tt.want {
			t.Errorf("fnmatch(%q, %q) = %v, want %v", tt.pat, tt.name, got, tt.want)
		}
	}
}

func TestHasMagic(t *testing.T) {
	tests := []struct {
		pat  string
		want bool
	}{
		{"a.conf", false},
		{"*.conf", true},
		{"a?", true},
		{"[ab]", true},
		{"[ab", false},
		{"a]", false},
		{`\*`, false},
		{`[a\]`, false},
	}
	for _, tt := range tests {
		if got := hasMagic(tt.pat); got != tt.want {
			t.Errorf("hasMagic(%q) = %v, want %v", tt.pat, got, tt.want)
		}
	}
}

func TestGlob(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"a/x.conf":     "",
		"a/y.conf":     "",
		"a/.z.conf":    "",
		"b/x.conf":     "",
		"b-c/x.conf":   "",
		"star*/x.conf": "",
		"d/sub/x.conf": "",
	})
	if err := os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "a", "dangling.conf")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		pat  string
		want []string
	}{
		{"a/*.conf", []string{"a/dangling.conf", "a/x.conf", "a/y.conf"}},
		{"a/.*", []string{"a/.", "a/..", "a/.z.conf"}},
		{"*/x.conf", []string{"a/x.conf", "b-c/x.conf", "b/x.conf", "star*/x.conf"}},
		{`star\*/*`, []string{"star*/x.conf"}},
		{"*/sub/*", []string{"d/sub/x.conf"}},
		{"*/missing.conf", nil},
		{"nodir/*", nil},
		{"d/*/", []string{"d/sub/"}},
	}
	for _, tt := range tests {
		got := glob(osFS{}, dir+"/"+tt.pat)
		for i := range got {
			got[i] = strings.TrimPrefix(got[i], dir+"/")
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("glob(%q) = %q, want %q", tt.pat, got, tt.want)
		}
	}
}
