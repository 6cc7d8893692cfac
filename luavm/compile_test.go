package luavm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func newVM(t testing.TB) *VM {
	t.Helper()
	vm, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(vm.Close)
	return vm
}

// runErr runs fn on the main state and returns its error message.
func runErr(vm *VM, fn *lua.LFunction) string {
	vm.L.Push(fn)
	if err := vm.L.PCall(0, 0, nil); err != nil {
		return lua.LVAsString(err.(*lua.ApiError).Object)
	}
	return ""
}

func TestShortName(t *testing.T) {
	long := strings.Repeat("a", 70)
	for _, c := range []struct{ in, want string }{
		{"=content_by_lua(nginx.conf:12)", "content_by_lua(nginx.conf:12)"},
		{"=" + long, long[:59]},
		{"@/etc/nginx/x.lua", "/etc/nginx/x.lua"},
		{"@/" + long + ".lua", "..." + ("/" + long + ".lua")[75-56:]},
		{"return 1", `[string "return 1"]`},
		{"local x = 1\nreturn x", `[string "local x = 1..."]`},
		{strings.Repeat("x", 49), `[string "` + strings.Repeat("x", 45) + `..."]`},
		{strings.Repeat("x", 48), `[string "` + strings.Repeat("x", 48) + `"]`},
	} {
		if got := ShortName(c.in); got != c.want {
			t.Errorf("ShortName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCompileInline(t *testing.T) {
	vm := newVM(t)
	for _, c := range []struct {
		name, src string
		compile   string // expected compile error
		run       string // expected runtime error
	}{
		{name: "content_by_lua(nginx.conf:12)", src: "local a = 1\nlocal b = 2\nerror('boom')",
			run: "content_by_lua(nginx.conf:12):3: boom"},
		{name: "content_by_lua(nginx.conf:12)", src: "local a = 1\n\nx x",
			compile: "failed to load inlined Lua code: content_by_lua(nginx.conf:12):3: '=' expected near 'x'"},
		{name: "content_by_lua(../html/lua.conf:2)", src: "\n'for end';\n",
			compile: "failed to load inlined Lua code: content_by_lua(../html/lua.conf:2):2: unexpected symbol near ''for end''"},
		{name: "init_by_lua(nginx.conf:25)", src: "\n  ngx.log(ngx.debug, \"pass\")\n  error(\"failed to init\"\n  ngx.log(ngx.debug, \"unreachable\")\n",
			compile: "failed to load inlined Lua code: init_by_lua(nginx.conf:25):4: ')' expected (to close '(' at line 3) near 'ngx'"},
		{name: "balancer_by_lua(nginx.conf:27)", src: "\n  ngx.say(\"hello\"\n  ",
			compile: "failed to load inlined Lua code: balancer_by_lua(nginx.conf:27):3: ')' expected (to close '(' at line 2) near '<eof>'"},
		{name: "content_by_lua(nginx.conf:40)", src: `local m = ngx.re.match("hello, 1234", "(\d+)")`,
			compile: `failed to load inlined Lua code: content_by_lua(nginx.conf:40):1: invalid escape sequence near '"('`},
		// "\z" swallows newlines inside the string; later lines keep
		// their numbers.
		{name: "t", src: "local s = \"a\\z\n\n   b\"\nassert(s == 'ab')\nerror('line 5')", run: "t:5: line 5"},
		{name: "t", src: "local s = \"\\x41\\u{48}\" assert(s == 'AH') error('ok')", run: "t:1: ok"},
		{name: "t", src: "-- \\x41 in a comment\n--[[ \\q ]] local s = [[\\x41]] assert(s == '\\\\x41') error(#s)", run: "t:2: 4"},
		{name: "t", src: "assert(0x1p4 == 16 and 0x.8 == 0.5 and 0xA == 10) error('hex')", run: "t:1: hex"},
		// UTF-8 names, with the marker the pre-pass spells them with
		// written in the source too.
		{name: "t", src: "local é = {ñ = 1}; local __u8 = 'x'; function é:ü(ß) return ß end\n" +
			"assert(é.ñ == 1 and é['ñ'] == 1 and é:ü(2) == 2 and __u8 == 'x')\nµ = 3 assert(_G['µ'] == 3) error(é.ñ + µ)",
			run: "t:3: 4"},
	} {
		fn, err := vm.CompileInline(c.src, c.name)
		if c.compile != "" {
			if err == nil || err.Error() != c.compile {
				t.Errorf("%q: compile error %v, want %q", c.src, err, c.compile)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.src, err)
			continue
		}
		if got := runErr(vm, fn); got != c.run {
			t.Errorf("%q: run error %q, want %q", c.src, got, c.run)
		}
	}
}

func TestNameSpelling(t *testing.T) {
	for _, s := range []string{"a", "语言", "arg_语言", "x语y言z", "é_ab", "ñ00ff_"} {
		src := "local " + s
		m := nameMarker(src)
		spelled := string(appendName(nil, s, src))
		for i := 0; i < len(spelled); i++ {
			if c := spelled[i]; !isIdentStart(c) && !isDigit(c) {
				t.Errorf("%q spelled %q", s, spelled)
			}
		}
		if back := restoreName(spelled, m); back != s {
			t.Errorf("%q spelled %q restored %q", s, spelled, back)
		}
	}
}

// Handlers must be non-vararg: gopher-lua builds an "arg" table on every
// call of a vararg function that does not use "...".
func TestHandlersAreNotVararg(t *testing.T) {
	vm := newVM(t)
	fn, err := vm.CompileInline("local t = {} return function(...) return ... end", "t")
	if err != nil {
		t.Fatal(err)
	}
	if fn.Proto.IsVarArg != 0 {
		t.Fatalf("handler IsVarArg = %d", fn.Proto.IsVarArg)
	}
	if inner := fn.Proto.FunctionPrototypes[0]; inner.IsVarArg&lua.VarArgNeedsArg != 0 {
		t.Fatal("a nested vararg function still builds an arg table")
	}
	fn, err = vm.CompileInline("local a, b = ... return select('#', ...)", "t")
	if err != nil {
		t.Fatal(err)
	}
	if fn.Proto.IsVarArg&lua.VarArgIsVarArg == 0 {
		t.Fatal("a chunk using ... lost its varargs")
	}
	th, st := vm.Start(fn, lua.LNumber(1), lua.LNumber(2))
	if st != Done || th.Results()[0] != lua.LNumber(2) {
		t.Fatalf("%v %v", st, th.Results())
	}
	if allocs := testing.AllocsPerRun(100, func() {
		fn, _ := vm.CompileInline("local x = 1", "t")
		th, _ := vm.Start(fn)
		vm.Release(th)
	}); allocs < 1 {
		t.Fatal("allocation counter broken")
	}
}

func TestCompileFile(t *testing.T) {
	vm := newVM(t)
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := write("ok.lua", "#!/usr/bin/env luajit\nlocal x = 1\nerror('in file')")
	fn, err := vm.CompileFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := runErr(vm, fn), p+":3: in file"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	p = write("bad.lua", "x = = 1")
	if _, err := vm.CompileFile(p); err == nil || err.Error() != `failed to load external Lua file "`+p+`": `+p+`:1: unexpected symbol near '='` {
		t.Errorf("syntax error: %v", err)
	}
	missing := filepath.Join(dir, "test2.lua")
	want := `failed to load external Lua file "` + missing + `": cannot open ` + missing + `: No such file or directory`
	if _, err := vm.CompileFile(missing); err == nil || err.Error() != want {
		t.Errorf("missing file: %v, want %q", err, want)
	}
}
