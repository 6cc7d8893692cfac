package conf

import (
	"errors"
	"io/fs"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// memFS is an in-memory FileSystem for tests and fuzzing: includes resolve
// without touching the disk, and the fuzzer can reach cycles, globs and a
// directory.
type memFS map[string]string

func (m memFS) ReadFile(name string) ([]byte, error) {
	if s, ok := m[name]; ok {
		return []byte(s), nil
	}
	if m.isDir(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.ENOENT}
}

func (m memFS) isDir(name string) bool {
	for k := range m {
		if strings.HasPrefix(k, name+"/") {
			return true
		}
	}
	return false
}

func (m memFS) ReadDir(name string) ([]string, error) {
	seen := map[string]bool{}
	for k := range m {
		if rest, ok := strings.CutPrefix(k, name+"/"); ok {
			seen[strings.SplitN(rest, "/", 2)[0]] = true
		}
	}
	if len(seen) == 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.ENOENT}
	}
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

func (m memFS) Exists(name string) bool {
	_, ok := m[name]
	return ok || m.isDir(name)
}

var fuzzFS = memFS{
	"/fz/a.conf":        "a b;\nc { d; }\n",
	"/fz/loop.conf":     "x;\ninclude loop.conf;\n",
	"/fz/d/x.conf":      "x { y \"z\"; }\n",
	"/fz/d/y.conf":      "include d/*.conf;\n",
	"/fz/d/.h.conf":     "}\n",
	"/fz/dir/sub/f":     "f;\n",
	"/fz/lua.conf":      "content_by_lua_block { ngx.say('}') }\n",
	"/fz/broken.conf":   "a \"b\"c;\n",
	"/fz/unclosed.conf": "a {\n",
}

// checkTree verifies what every successful parse must satisfy: lines in
// order, blocks consistent with their flags, and, for small inputs (which
// fit nginx's buffer, so no buffer effect applies), a Format that parses
// back to the same tree.
func checkTree(t *testing.T, cfg *Config, small bool) {
	var walk func([]*Directive)
	walk = func(ds []*Directive) {
		for _, d := range ds {
			if d.Unclosed {
				t.Fatalf("Unclosed without error: %+v", d)
			}
			if d.Line > d.EndLine || (d.HasBlock && d.EndLine > d.CloseLine) {
				t.Fatalf("lines out of order: %+v", d)
			}
			if d.RawBlock && (!d.HasBlock || d.Block != nil || len(d.Args) == 0) {
				t.Fatalf("bad raw block: %+v", d)
			}
			if !d.HasBlock && (d.Block != nil || d.CloseLine != 0) {
				t.Fatalf("block on a plain directive: %+v", d)
			}
			walk(d.Block)
		}
	}
	walk(cfg.Main)
	if !small {
		return
	}
	text := Format(cfg.Main)
	if len(text) >= bufSize/2 {
		return
	}
	again, err := ParseBytes("/fz/again.conf", text, Options{FS: memFS{}})
	if err != nil {
		t.Fatalf("formatted tree does not parse: %v\n%q", err, text)
	}
	if words(again.Main) != words(cfg.Main) {
		t.Fatalf("round trip changed the tree:\n%q\nbecame\n%q", words(cfg.Main), words(again.Main))
	}
}

func FuzzParseBytes(f *testing.F) {
	f.Add([]byte("events {}\nhttp { include /fz/d/*.conf; }\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseBytes("/fz/nginx.conf", data, Options{FS: fuzzFS})
		if cfg == nil {
			t.Fatalf("nil config with %v", err)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Msg == "" {
				t.Fatalf("error %T %v", err, err)
			}
			if e.File == "/fz/nginx.conf" && e.Line > strings.Count(string(data), "\n")+1 {
				t.Fatalf("line %d beyond the input", e.Line)
			}
			return
		}
		checkTree(t, cfg, len(data) < bufSize/2)
	})
}

// FuzzLuaBlock feeds arbitrary text to the Lua block lexer. For inputs that
// fit nginx's buffer, a block that parses is a prefix of the text followed
// by its closing "}", and text without a "}" is the source.
func FuzzLuaBlock(f *testing.F) {
	f.Add([]byte(` ngx.say("}") -- }` + "\n" + ` local t = {[ [[k]] ] = [=[ ]] ]=]} `))
	f.Fuzz(func(t *testing.T, data []byte) {
		const opener = "content_by_lua_block {"
		in := append([]byte(opener), data...)
		in = append(in, '}')
		cfg, err := ParseBytes("/fz/nginx.conf", in, Options{FS: memFS{}})
		if err != nil || len(in) >= bufSize/2 {
			return
		}
		d := cfg.Main[0]
		if !d.RawBlock {
			t.Fatalf("not a raw block: %+v", d)
		}
		src := d.Args[len(d.Args)-1]
		if !strings.HasPrefix(string(data), src) || in[len(opener)+len(src)] != '}' {
			t.Fatalf("source %q is not the text up to a closing brace in %q", src, data)
		}
		if !strings.Contains(string(data), "}") && src != string(data) {
			t.Fatalf("source %q, want %q", src, data)
		}
	})
}

func FuzzFnmatch(f *testing.F) {
	f.Add("*.conf", "a.conf")
	f.Add("[!a-c]*[[:digit:]]\\?", ".x9?")
	f.Fuzz(func(t *testing.T, pat, name string) {
		got := fnmatch(pat, name)
		if !strings.ContainsAny(pat, "*?[\\") && got != (pat == name) {
			t.Fatalf("literal pattern %q vs %q: %v", pat, name, got)
		}
	})
}
