package conf

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// words flattens a tree into "name arg arg;" lines with args in Go
// quoting, so that tests see exactly what the lexer produced.
func words(ds []*Directive) string {
	var b strings.Builder
	var walk func([]*Directive, string)
	walk = func(ds []*Directive, indent string) {
		for _, d := range ds {
			b.WriteString(indent)
			b.WriteString(d.Name)
			for _, a := range d.Args {
				b.WriteString(" ")
				b.WriteString(strconvQuote(a))
			}
			switch {
			case d.RawBlock:
				b.WriteString(" {raw}\n")
			case d.HasBlock:
				b.WriteString(" {\n")
				walk(d.Block, indent+"  ")
				b.WriteString(indent + "}\n")
			default:
				b.WriteString(";\n")
			}
		}
	}
	walk(ds, "")
	return b.String()
}

func strconvQuote(s string) string {
	q := []byte{'<'}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\n':
			q = append(q, `\n`...)
		case '\t':
			q = append(q, `\t`...)
		case '\r':
			q = append(q, `\r`...)
		default:
			q = append(q, c)
		}
	}
	return string(append(q, '>'))
}

func TestLexer(t *testing.T) {
	tests := []struct {
		name, in, want, err string
	}{
		{"bare words", "a b c;", "a <b> <c>;\n", ""},
		{"no space before semicolon", "a b;c d;", "a <b>;\nc <d>;\n", ""},
		{"block", "a { b; }", "a {\n  b;\n}\n", ""},
		{"empty block", "a{}", "a {\n}\n", ""},
		{"word ends at brace", "location /x{ return 200; }", "location </x> {\n  return <200>;\n}\n", ""},
		{"close brace inside a word", "a b}; c;", "a <b}>;\nc;\n", ""},
		{"hash inside a word", "a b#c;", "a <b#c>;\n", ""},
		{"comment", "# one\na b; # two ; {\n# three", "a <b>;\n", ""},
		{"comment at end without newline", "a;#x", "a;\n", ""},
		{"double quotes", `a "b c" "";`, "a <b c> <>;\n", ""},
		{"single quotes", `a 'b "c"';`, "a <b \"c\">;\n", ""},
		{"quote inside a word", `a b"c d"e;`, "a <b\"c> <d\"e>;\n", ""},
		{"escapes", `a "\"\'\\\t\r\n\x";`, "a <\"'\\\\t\\r\\n\\x>;\n", ""},
		{"bare escapes", `a b\ c\;d\{;`, "a <b\\ c\\;d\\{>;\n", ""},
		{"escaped quote starts a bare word", `a \"b;`, "a <\"b>;\n", ""},
		{"newline inside quotes", "a \"b\nc\";", "a <b\\nc>;\n", ""},
		{"dollar brace stays in the word", "a ${b}c;", "a <${b}c>;\n", ""},
		{"dollar brace in a location", "location ~ ^/x${ { }", "location <~> <^/x${> {\n}\n", ""},
		{"dollar brace brace", "a $${{b;", "a <$${{b>;\n", ""},
		{"dollar then space then brace", "a $ {}", "a <$> {\n}\n", ""},
		{"paren after quote", `if ($a = "b") { }`, "if <($a> <=> <b> <)> {\n}\n", ""},
		{"paren word after quote", `a "b")c;`, "a <b> <)c>;\n", ""},
		{"quote then brace", `a "b"{}`, "a <b> {\n}\n", ""},
		{"quote then semicolon", `a "b";`, "a <b>;\n", ""},
		{"quoted name", `"a b" c;`, "a b <c>;\n", ""},
		{"cr lf", "a\r\nb;\r\n", "a <b>;\n", ""},
		{"nul byte", "a \x00;", "a <\x00>;\n", ""},

		{"char after quote", `a "b"c;`, "", `unexpected "c" in t.conf:1`},
		{"quote after quote", `a 'b''c';`, "", `unexpected "'" in t.conf:1`},
		{"close after quote", `a { b "c"}`, "", `unexpected "}" in t.conf:1`},
		{"lone semicolon", "a;\n;", "", `unexpected ";" in t.conf:2`},
		{"lone open brace", "\n\n{", "", `unexpected "{" in t.conf:3`},
		{"close inside statement", "a {\n b c }", "", `unexpected "}" in t.conf:2`},
		{"close at top", "a;\n}", "", `unexpected "}" in t.conf:2`},
		{"eof in statement", "a b", "", `unexpected end of file, expecting ";" or "}" in t.conf:1`},
		{"eof in statement after newline", "a b\n", "", `unexpected end of file, expecting ";" or "}" in t.conf:2`},
		{"eof in quotes", "a \"b\n\n", "", `unexpected end of file, expecting ";" or "}" in t.conf:3`},
		{"eof after backslash", `a \`, "", `unexpected end of file, expecting ";" or "}" in t.conf:1`},
		{"eof in block", "a {\n", "", `unexpected end of file, expecting "}" in t.conf:2`},
		{"eof in nested block", "a {\n b {\n c;\n}", "", `unexpected end of file, expecting "}" in t.conf:4`},
		{"high byte after quote", "a \"b\"\xff;", "", "unexpected \"\xff\" in t.conf:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseBytes("t.conf", []byte(tt.in), Options{})
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := words(cfg.Main); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestTooLong(t *testing.T) {
	long := strings.Repeat("x", bufSize)
	tests := []struct {
		name, in, err string
	}{
		{"bare word", "a;\nb " + long + ";", `too long parameter "xxxxxxxxxx..." started in t.conf:2`},
		{"word of exactly the buffer at the end", long, `unexpected end of file, expecting ";" or "}" in t.conf:1`},
		{"double quoted", "a;\nb \"\n" + long + "\";", `too long parameter, probably missing terminating """ character in t.conf:2`},
		{"single quoted", "b '" + long + "';", `too long parameter, probably missing terminating "'" character in t.conf:1`},
		{"comment", "#" + long + "\na;", `too long parameter "#xxxxxxxxx..." started in t.conf:1`},
		{"spaces", "a" + strings.Repeat(" ", bufSize+1) + ";", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseBytes("t.conf", []byte(tt.in), Options{})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.err {
				t.Errorf("error %q, want %q", got, tt.err)
			}
		})
	}
}

func TestLines(t *testing.T) {
	in := "a\n  b\n;\nc {\n  d \"x\ny\";\n\n}\ne_by_lua_block\n{ if x then\n  y() end\n}\n"
	cfg, err := ParseBytes("t.conf", []byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	type pos struct{ line, end, close, lua int }
	var got []pos
	var walk func([]*Directive)
	walk = func(ds []*Directive) {
		for _, d := range ds {
			got = append(got, pos{d.Line, d.EndLine, d.CloseLine, d.LuaLine})
			walk(d.Block)
		}
	}
	walk(cfg.Main)
	want := []pos{{1, 3, 0, 0}, {4, 4, 8, 0}, {5, 6, 0, 0}, {9, 10, 12, 10}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lines %v, want %v", got, want)
	}
	e := cfg.Main[0].Errorf("unknown directive \"%s\"", cfg.Main[0].Name)
	if e.Error() != `unknown directive "a" in t.conf:3` {
		t.Errorf("Errorf gives %q", e.Error())
	}
}

func TestPartialTree(t *testing.T) {
	in := "a;\nb {\n  c;\n  d {\n    e;\n    f \"x\"y;\n"
	cfg, err := ParseBytes("t.conf", []byte(in), Options{})
	var e *Error
	if !errors.As(err, &e) || e.Error() != `unexpected "y" in t.conf:6` {
		t.Fatalf("error %v", err)
	}
	if got, want := words(cfg.Main), "a;\nb {\n  c;\n  d {\n    e;\n  }\n}\n"; got != want {
		t.Errorf("partial tree\n%s\nwant\n%s", got, want)
	}
	b := cfg.Main[1]
	if !b.Unclosed || !b.Block[1].Unclosed || cfg.Main[0].Unclosed || b.Block[0].Unclosed {
		t.Errorf("Unclosed marks wrong: b=%v d=%v", b.Unclosed, b.Block[1].Unclosed)
	}

	// A raw block cut short keeps the directive, without a body.
	cfg, err = ParseBytes("t.conf", []byte("x {\n content_by_lua_block {\n  ngx.say('{')\n"), Options{})
	if err == nil || err.Error() != `unexpected end of file, expecting terminating characters for lua code block in t.conf:2` {
		t.Fatalf("error %v", err)
	}
	d := cfg.Main[0].Block[0]
	if !d.RawBlock || !d.Unclosed || len(d.Args) != 0 || len(d.HeadArgs()) != 0 {
		t.Errorf("unclosed raw block: %+v", d)
	}
}

func TestRawBlocks(t *testing.T) {
	tests := []struct {
		name, in, src, err string
	}{
		{"plain", "content_by_lua_block { ngx.say(1) }", " ngx.say(1) ", ""},
		{"empty", "content_by_lua_block {}", "", ""},
		{"nested tables", "init_by_lua_block {local t = {a = {b = {}}}}", "local t = {a = {b = {}}}", ""},
		{"braces in strings", `access_by_lua_block { x("}", '}', "\"}", '\'}') }`, ` x("}", '}', "\"}", '\'}') `, ""},
		{"braces in comments", "log_by_lua_block { -- }\n --[[ } ]] --[==[ } ]==]\n}", " -- }\n --[[ } ]] --[==[ } ]==]\n", ""},
		{"long strings", "header_filter_by_lua_block { x = [[}]] .. [=[ ]] } ]=] }", " x = [[}]] .. [=[ ]] } ]=] ", ""},
		{"dashes are not a comment", "body_filter_by_lua_block { x = 1 - -1 }", " x = 1 - -1 ", ""},
		{"string with newline escape", "init_by_lua_block { x = \"a\\\n{\" }", "", `unexpected end of file, expecting terminating characters for lua code block in t.conf:2`},
		{"unclosed long string", "init_by_lua_block {\n x = [==[ ]=] ]] \n}", "", `Lua code block missing the closing long bracket "]==]", the inlined Lua code may be too long in t.conf:2`},
		{"unclosed long comment", "init_by_lua_block {\n\n --[[ x }\n}", "", `Lua code block missing the closing long bracket "]]", the inlined Lua code may be too long in t.conf:3`},
		{"eof at the last curly", "init_by_lua_block {\n x = {}\n y()\n", "", `unexpected end of file, expecting terminating characters for lua code block in t.conf:2`},
		{"set_by_lua_block args", "set_by_lua_block $v { return 1 }", " return 1 ", ""},
		{"not raw without brace", "content_by_lua_block;", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseBytes("t.conf", []byte(tt.in), Options{})
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			d := cfg.Main[0]
			if !d.HasBlock {
				if d.RawBlock || len(d.Args) != 0 {
					t.Errorf("directive without block: %+v", d)
				}
				return
			}
			if !d.RawBlock || d.Block != nil {
				t.Fatalf("not a raw block: %+v", d)
			}
			if got := d.Args[len(d.Args)-1]; got != tt.src {
				t.Errorf("source %q, want %q", got, tt.src)
			}
			if len(d.HeadArgs()) != len(d.Args)-1 {
				t.Errorf("HeadArgs %q", d.HeadArgs())
			}
		})
	}
}

func TestRawBlockOption(t *testing.T) {
	opts := Options{RawBlock: func(name string) bool { return name == "script" }}
	cfg, err := ParseBytes("t.conf", []byte("script { a { b } }\ncontent_by_lua_block { c; }"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if d := cfg.Main[0]; !d.RawBlock || d.Args[0] != " a { b } " {
		t.Errorf("script: %+v", d)
	}
	if d := cfg.Main[1]; d.RawBlock || len(d.Block) != 1 || d.Block[0].Name != "c" {
		t.Errorf("content_by_lua_block parsed as %+v", d)
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"daemon off; worker_processes 2;", "daemon <off>;\nworker_processes <2>;\n", ""},
		{"", "", ""},
		{"daemon off", "", `unexpected end of parameter, expecting ";" in command line`},
		{"events {}", "", `block directives are not supported in -g option in command line`},
		{"}", "", `unexpected "}" in command line`},
		{"a \"b\"c;", "", `unexpected "c" in command line`},
	}
	for _, tt := range tests {
		cfg, err := ParseCommandLine(tt.in, Options{})
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%q: error %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got := words(cfg.Main); got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
		for _, d := range cfg.Main {
			if d.File != "" {
				t.Errorf("%q: directive file %q", tt.in, d.File)
			}
		}
	}
}

func TestErrorText(t *testing.T) {
	long := strings.Repeat("p", 2000)
	tests := []struct {
		err  *Error
		want string
	}{
		{NewError("/a.conf", 3, "m"), "m in /a.conf:3"},
		{NewError("", 0, "m"), "m in command line"},
		{&Error{Msg: "m", NoLocation: true}, "m"},
		{NewError("f", 1, long), strings.Repeat("p", 1024) + " in f:1"},
		{sysError("f", 1, "open() \""+long+"\" failed", errors.New("x")), "open() \"" + strings.Repeat("p", 974-8) + "... (5: Input/output error) in f:1"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q\nwant %q", got, tt.want)
		}
	}
}
