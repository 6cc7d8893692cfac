package conf

import (
	"errors"
	"strings"
	"testing"
)

func TestInclude(t *testing.T) {
	files := memFS{
		"/c/a.conf":          "a;\n",
		"/c/b.conf":          "b { include a.conf; }\n",
		"/c/loop.conf":       "l;\ninclude loop.conf;\n",
		"/c/ping.conf":       "include pong.conf;\n",
		"/c/pong.conf":       "\ninclude ping.conf;\n",
		"/c/d/1.conf":        "one;",
		"/c/d/2.conf":        "two;",
		"/c/d/sub/x":         "",
		"/c/bad.conf":        "x;\n}\n",
		"/other/o.conf":      "o;\n",
		"/c/braces/b.conf":   "x {\n",
		"/c/self/nginx.conf": "include nginx.conf;",
		"/c/g.conf":          "include d/*.conf;\n",
	}
	tests := []struct {
		name, in, prefix, want, err string
	}{
		{"in place", "x;\ninclude a.conf;\ny;", "", "x;\na;\ny;\n", ""},
		{"inside a block", "s { include b.conf; }", "", "s {\n  b {\n    a;\n  }\n}\n", ""},
		{"absolute", "include /other/o.conf;", "", "o;\n", ""},
		{"conf prefix option", "include o.conf;", "/other/", "o;\n", ""},
		{"glob sorted", "include d/*.conf;", "", "one;\ntwo;\n", ""},
		{"glob without match", "include none/*.conf;", "", "", ""},
		{"same file twice", "include a.conf;\ninclude a.conf;", "", "a;\na;\n", ""},
		{"missing file", "x;\n\ninclude nope.conf;", "", "x;\n", `open() "/c/nope.conf" failed (2: No such file or directory) in /c/nginx.conf:3`},
		{"no argument", "include;", "", "", `invalid number of arguments in "include" directive in /c/nginx.conf:1`},
		{"two arguments", "include a b;", "", "", `invalid number of arguments in "include" directive in /c/nginx.conf:1`},
		{"block", "include a.conf {}", "", "", `directive "include" is not terminated by ";" in /c/nginx.conf:1`},
		{"error in included file", "y;\ninclude bad.conf;", "", "y;\nx;\n", `unexpected "}" in /c/bad.conf:2`},
		{"block cannot span files", "include braces/b.conf;\n}", "", "x {\n}\n", `unexpected end of file, expecting "}" in /c/braces/b.conf:2`},
		{"directory", "include d/*;", "", "one;\ntwo;\n", `pread() "/c/d/sub" failed (21: Is a directory)`},
		{"cycle", "include loop.conf;", "", "l;\n", `include of "/c/loop.conf" recurses into a file being read in /c/loop.conf:2`},
		{"map expands globs", "map $a $b { include d/*.conf; }", "", "map <$a> <$b> {\n  one;\n  two;\n}\n", ""},
		{"geo opens the name as written", "geo $a {\n include d/*.conf; }", "", "geo <$a> {\n}\n", `open() "/c/d/*.conf" failed (2: No such file or directory) in /c/nginx.conf:2`},
		{"geo rule holds in included files", "geo $a { include g.conf; }", "", "geo <$a> {\n}\n", `open() "/c/d/*.conf" failed (2: No such file or directory) in /c/g.conf:1`},
		{"geo argument count", "geo $a { include; }", "", "geo <$a> {\n}\n", `invalid number of the geo parameters in /c/nginx.conf:1`},
		{"types block", "types { include a.conf {} }", "", "types {\n}\n", `unexpected "{" in /c/nginx.conf:1`},
		{"split_clients line", "split_clients $a $b { include a.conf; }", "", "split_clients <$a> <$b> {\n  include <a.conf>;\n}\n", ""},
		{"charset_map line", "charset_map a b { include a.conf b; }", "", "charset_map <a> <b> {\n  include <a.conf> <b>;\n}\n", ""},
		{"longer cycle", "include ping.conf;", "", "", `include of "/c/ping.conf" recurses into a file being read in /c/pong.conf:2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseBytes("/c/nginx.conf", []byte(tt.in), Options{FS: files, ConfPrefix: tt.prefix})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.err {
				t.Errorf("error %q, want %q", got, tt.err)
			}
			if w := words(cfg.Main); w != tt.want {
				t.Errorf("tree\n%s\nwant\n%s", w, tt.want)
			}
		})
	}

	_, err := ParseFile("/c/self/nginx.conf", Options{FS: files})
	if err == nil || err.Error() != `include of "/c/self/nginx.conf" recurses into a file being read in /c/self/nginx.conf:1` {
		t.Errorf("self include: %v", err)
	}
	_, err = ParseFile("/c/none.conf", Options{FS: files})
	var e *Error
	if !errors.As(err, &e) || !e.NoLocation || e.Error() != `open() "/c/none.conf" failed (2: No such file or directory)` {
		t.Errorf("missing main file: %v", err)
	}
	_, err = ParseCommandLine("include nope.conf;", Options{FS: files, ConfPrefix: "/c/"})
	if err == nil || err.Error() != `open() "/c/nope.conf" failed (2: No such file or directory) in command line` {
		t.Errorf("include from the command line: %v", err)
	}
	cfg, err := ParseCommandLine("include d/*.conf;", Options{FS: files, ConfPrefix: "/c/"})
	if err != nil || words(cfg.Main) != "one;\ntwo;\n" || cfg.Main[0].File != "/c/d/1.conf" {
		t.Errorf("glob from the command line: %v %+v", err, cfg)
	}
}

func TestFilesListedOnce(t *testing.T) {
	files := memFS{"/c/a.conf": "a;\n", "/c/b.conf": "include a.conf;\n"}
	cfg, err := ParseBytes("/c/nginx.conf", []byte("include a.conf; include b.conf; include a.conf;"), Options{FS: files})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range cfg.Files {
		paths = append(paths, f.Path)
	}
	if got := strings.Join(paths, " "); got != "/c/nginx.conf /c/a.conf /c/b.conf" {
		t.Errorf("files %s", got)
	}
	if len(cfg.Main) != 3 {
		t.Errorf("%d directives", len(cfg.Main))
	}
}

func TestMaxDepth(t *testing.T) {
	deep := strings.Repeat("a {\n", MaxDepth) + strings.Repeat("}\n", MaxDepth)
	if _, err := ParseBytes("t.conf", []byte(deep), Options{}); err != nil {
		t.Fatalf("depth %d refused: %v", MaxDepth, err)
	}
	deeper := strings.Repeat("a {", MaxDepth+1)
	cfg, err := ParseBytes("t.conf", []byte(deeper), Options{})
	want := "too deep nesting of blocks and includes, the limit is 200 in t.conf:1"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
	if cfg == nil || len(cfg.Main) != 1 || !cfg.Main[0].Unclosed {
		t.Errorf("partial tree missing")
	}
}
