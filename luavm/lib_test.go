package luavm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestPrint(t *testing.T) {
	var got []string
	vm, err := New(Options{Print: func(L *lua.LState, msg string) { got = append(got, msg) }})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	fn, err := vm.CompileInline(`print("a", 1, 0.5, nil, true, ngx_null, setmetatable({}, {__tostring = function() return "T" end}))
local function named() print("in named") end
named()
local t = {}
function t.field() print("in field") end
t.field()
print(1e15)`, "content_by_lua(nginx.conf:3)")
	if err != nil {
		t.Fatal(err)
	}
	vm.L.SetGlobal("ngx_null", vm.Null())
	if msg := runErr(vm, fn); msg != "" {
		t.Fatal(msg)
	}
	want := []string{
		"content_by_lua(nginx.conf:3):1: a10.5niltruenullT",
		"content_by_lua(nginx.conf:3):2: named(): in named",
		"content_by_lua(nginx.conf:3):5: field(): in field",
		"content_by_lua(nginx.conf:3):7: 1e+15",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, c := range []struct{ src, err string }{
		{`print({})`, "t:1: bad argument #1 to 'print' (expected table to have __tostring metamethod)"},
		{`print(1, print)`, "t:1: bad argument #2 to 'print' (string, number, boolean, or nil expected, got function)"},
	} {
		fn, _ := vm.CompileInline(c.src, "t")
		if msg := runErr(vm, fn); msg != c.err {
			t.Errorf("%s: %q, want %q", c.src, msg, c.err)
		}
	}
}

func TestLogPrefixBasename(t *testing.T) {
	vm := newVM(t)
	var got string
	vm.L.SetGlobal("prefix", vm.L.NewFunction(func(L *lua.LState) int { got = LogPrefix(L); return 0 }))
	dir := t.TempDir()
	p := filepath.Join(dir, "handler.lua")
	os.WriteFile(p, []byte("\nprefix()"), 0o644)
	fn, err := vm.CompileFile(p)
	if err != nil {
		t.Fatal(err)
	}
	runErr(vm, fn)
	if got != "handler.lua:2: " {
		t.Errorf("got %q", got)
	}
}

func TestOSExitDisabled(t *testing.T) {
	vm := newVM(t)
	fn, _ := vm.CompileInline(`os.exit(1)`, "t")
	if msg := runErr(vm, fn); msg != "t:1: os.exit is disabled" {
		t.Fatalf("got %q", msg)
	}
}

func TestRequire(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"mymod.lua":          "local M = {} M.name = ... function M.hi() return 'hi' end return M",
		"pkg/sub.lua":        "return {sub = true}",
		"pkg/init.lua":       "return 'init'",
		"noret.lua":          "x_loaded = true",
		"loop_a.lua":         "require 'loop_b' return 1",
		"loop_b.lua":         "require 'loop_a' return 2",
		"bad.lua":            "x = = 1",
		"failing.lua":        "error('module failed')",
		"sleepy.lua":         "sleep(1) return 1",
		"sleepy_pcall.lua":   "local ok, err = pcall(sleep, 1) return err",
		"wrapped/deep.lua":   "return 'deep'",
		"dotted.name.lua":    "return 'nope'",
		"cmod.so":            "",
		"pkgc/sub_c.so":      "",
		"shebang.lua":        "#!/bin/sh\nreturn debug.getinfo(1, 'l').currentline",
		"ret_false.lua":      "return false",
		"preload_shadow.lua": "return 'from file'",
	}
	for name, src := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := newSched(t, Options{
		PackagePath:  dir + "/?.lua;" + dir + "/?/init.lua;;",
		PackageCPath: dir + "/?.so",
	})
	defer s.vm.Close()
	s.vm.Preload("preload_shadow", func(L *lua.LState) int {
		L.Push(lua.LString("from preload " + L.CheckString(1)))
		return 1
	})
	path := lua.LVAsString(s.vm.L.GetField(s.vm.L.GetGlobal("package"), "path"))
	if want := dir + "/?.lua;" + dir + "/?/init.lua;" + DefaultPackagePath; path != want {
		t.Fatalf("package.path = %q, want %q", path, want)
	}
	runSchedCasesOn(t, s, []schedCase{
		{name: "module", src: `local m = require "mymod" say(m.name, m.hi(), require("mymod") == m)`, out: "mymodhitrue", st: Done},
		{name: "dots", src: `say(require("pkg.sub").sub, require "pkg")`, out: "trueinit", st: Done},
		{name: "no return", src: `say(require "noret", x_loaded, package.loaded.noret)`, out: "truetruetrue", st: Done},
		{name: "false return", src: `say(require "ret_false")`, out: "false", st: Done},
		{name: "preload first", src: `say(require "preload_shadow")`, out: "from preload preload_shadow", st: Done},
		{name: "builtins", src: `say(require("bit") == bit, require("jit") == jit, type(require "cjson"), type(require "table.new"))`,
			out: "truetruetablefunction", st: Done},
		{name: "loop", src: `require "loop_a"`, st: Failed, err: "loop or previous error loading module 'loop_a'"},
		{name: "syntax error", src: `require "bad"`, st: Failed,
			err: "error loading module 'bad' from file '" + dir + "/bad.lua':\n\t" + dir + "/bad.lua:1: unexpected symbol near '='"},
		{name: "failing main chunk", src: `say(pcall(require, "failing"))`, out: "false" + dir + "/failing.lua:1: module failed", st: Done},
		{name: "yield in main chunk", src: `require "sleepy"`, st: Failed, err: "attempt to yield across C-call boundary"},
		{name: "pcall in main chunk", src: `say(require "sleepy_pcall")`, out: "attempt to yield across C-call boundary", st: Done},
		{name: "shebang keeps lines", src: `say(require "shebang")`, out: "2", st: Done},
		{name: "c module", src: `require "cmod"`, st: Failed,
			err: "error loading module 'cmod' from file '" + dir + "/cmod.so':\n\tC modules are not supported"},
		{name: "ffi is absent", src: `say(pcall(require, "ffi"))`, st: Done,
			out: "falsemodule 'ffi' not found:\n\tno field package.preload['ffi']\n\tno file '" + dir + "/ffi.lua'\n\tno file '" + dir +
				"/ffi/init.lua'" + strings.ReplaceAll("\n\tno file '"+strings.ReplaceAll(DefaultPackagePath, ";", "'\n\tno file '")+"'", "?", "ffi") +
				"\n\tno file '" + dir + "/ffi.so'"},
	})
}

func runSchedCasesOn(t *testing.T, s *sched, cases []schedCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.out.Reset()
			s.waiting = nil
			out, st, msg := s.run(c.src)
			got := strings.TrimSuffix(out, "\n")
			if !strings.Contains(c.out, "\n") {
				got = strings.ReplaceAll(got, "\n", "|")
			}
			if got != c.out {
				t.Errorf("output\n got %q\nwant %q", got, c.out)
			}
			if st != c.st || (c.err != "" && !strings.Contains(msg, c.err)) || (c.err == "" && msg != "") {
				t.Errorf("status %v error %q, want %v %q", st, msg, c.st, c.err)
			}
		})
	}
}

func TestPackagePathDefault(t *testing.T) {
	vm := newVM(t)
	pkg := vm.L.GetGlobal("package")
	if got := lua.LVAsString(vm.L.GetField(pkg, "path")); got != DefaultPackagePath {
		t.Errorf("path %q", got)
	}
	vm.SetPackagePath("/a/?.lua;;")
	if got := lua.LVAsString(vm.L.GetField(pkg, "path")); got != "/a/?.lua;"+DefaultPackagePath {
		t.Errorf("path %q", got)
	}
	vm.SetPackageCPath(";;/b/?.so")
	if got := lua.LVAsString(vm.L.GetField(pkg, "cpath")); got != DefaultPackageCPath+";/b/?.so" {
		t.Errorf("cpath %q", got)
	}
}

// LUA_PATH and LUA_CPATH replace the built-in paths, their ";;" standing
// for them, as LuaJIT's package library reads them.
func TestPackagePathFromEnvironment(t *testing.T) {
	t.Setenv("LUA_PATH", "/foo/bar/baz")
	t.Setenv("LUA_CPATH", "/x/?.so;;")
	vm := newVM(t)
	vm.SetPackagePath("/a/?.lua;;")
	pkg := vm.L.GetGlobal("package")
	if got := lua.LVAsString(vm.L.GetField(pkg, "path")); got != "/a/?.lua;/foo/bar/baz" {
		t.Errorf("path %q", got)
	}
	if got := lua.LVAsString(vm.L.GetField(pkg, "cpath")); got != "/x/?.so;"+DefaultPackageCPath+";" {
		t.Errorf("cpath %q", got)
	}
}

func TestGlobalsLikeLuaJIT(t *testing.T) {
	vm := newVM(t)
	fn, err := vm.CompileInline(`
for _, name in ipairs{"_GOPHER_LUA_VERSION", "channel", "_printregs"} do
  assert(_G[name] == nil, name)
end
assert(table.unpack == nil and unpack ~= nil)
assert(math.huge == 1/0)
assert(coroutine.isyieldable == nil)
assert(package.loaded.coroutine == coroutine and package.loaded._G == _G)
assert(type(gcinfo()) == "number")
assert(collectgarbage("count") > 0 and collectgarbage() == 0 and collectgarbage("collect") == 0)
assert(collectgarbage("setpause", 100) == 200 and collectgarbage("step") == false)
`, "t")
	if err != nil {
		t.Fatal(err)
	}
	if msg := runErr(vm, fn); msg != "" {
		t.Fatal(msg)
	}
}

func TestTableExtensions(t *testing.T) {
	vm := newVM(t)
	fn, err := vm.CompileInline(`
local new, clear, nkeys = require "table.new", require "table.clear", require "table.nkeys"
local clone, isarray, isempty = require "table.clone", require "table.isarray", require "table.isempty"
assert(new == table.new and clear == table.clear and nkeys == table.nkeys)
local t = new(10, 5) assert(next(t) == nil and #t == 0)
t = {1, 2, 3, a = 1, b = 2} clear(t) assert(next(t) == nil and #t == 0)
t[1] = "again" assert(t[1] == "again")
assert(nkeys({}) == 0 and nkeys({1, 2, nil, 4, a = 1}) == 4)
local mt = {} local src = setmetatable({1, 2, a = {}}, mt)
local c = clone(src)
assert(c ~= src and c[1] == 1 and c[2] == 2 and c.a == src.a and getmetatable(c) == nil)
assert(isarray({}) and isarray({1, 2}) and isarray({1, nil, 3}) and isarray({[0] = 1}) and isarray({[5] = 1}))
assert(not isarray({a = 1}) and not isarray({[1.5] = 1}))
assert(isempty({}) and isempty({nil}) and not isempty({false}))
local m = table.move({1, 2, 3}, 1, 3, 2) assert(m[1] == 1 and m[2] == 1 and m[3] == 2 and m[4] == 3)
local ok, err = pcall(clear, 1) assert(not ok and err == "bad argument #1 to '?' (table expected, got number)", err)
`, "t")
	if err != nil {
		t.Fatal(err)
	}
	if msg := runErr(vm, fn); msg != "" {
		t.Fatal(msg)
	}
}

func TestConcatFormatting(t *testing.T) {
	vm := newVM(t)
	for _, c := range []struct{ src, want string }{
		{`return 0.1 + 0.2 .. ""`, "0.3"},
		{`return "t=" .. 1700000000.123`, "t=1700000000.123"},
		{`local x = 1e15 return x .. "|" .. x`, "1e+15|1e+15"},
		{`local a, b = 2^63, -0.0 return a .. b`, "9.2233720368548e+18-0"},
		{`local n = 7 local s = n .. "" return type(n) .. s .. n`, "number77"},
		{`local t = setmetatable({}, {__concat = function(a, b) return type(a) .. type(b) end}) return 1.5 .. t`, "numbertable"},
		{`return 1/0 .. "," .. -1/0 .. "," .. 0/0`, "inf,-inf,nan"},
	} {
		th, st := vm.Start(mustCompile(t, vm, c.src))
		if st != Done {
			t.Fatalf("%s: %v %v", c.src, st, th.Err())
		}
		if got := lua.LVAsString(th.Results()[0]); got != c.want {
			t.Errorf("%s = %q, want %q", c.src, got, c.want)
		}
		vm.Release(th)
	}
}

func mustCompile(t testing.TB, vm *VM, src string) *lua.LFunction {
	t.Helper()
	fn, err := vm.CompileInline(src, "t")
	if err != nil {
		t.Fatal(err)
	}
	return fn
}

// Tracebacks read as LuaJIT's do: the runtime's glue is invisible and
// pcall shows as the C function it is in LuaJIT.
func TestTraceback(t *testing.T) {
	vm := newVM(t)
	for _, c := range []struct{ src, want string }{
		{`local s = debug.traceback("m") return s`, "m\nstack traceback:\n\tsnip:1: in main chunk"},
		{`local s = debug.traceback() return s`, "stack traceback:\n\tsnip:1: in main chunk"},
		{`local s = debug.traceback("m", 2) return s`, "m\nstack traceback:"},
		// A tail call drops the caller's frame, as in LuaJIT.
		{`return debug.traceback("m")`, "m\nstack traceback:"},
		{`return tostring(debug.traceback(nil)) .. type(debug.traceback({}))`, "niltable"},
		{`local s = debug.traceback(12) return s`, "12\nstack traceback:\n\tsnip:1: in main chunk"},
		{`local co = coroutine.create(function() coroutine.yield() end) coroutine.resume(co)
return debug.traceback(co, "co")`, "co\nstack traceback:\n\tsnip:1: in function <snip:1>"},
		{`return select(2, xpcall(function() error("x") end, debug.traceback))`,
			"snip:1: x\nstack traceback:\n\tsnip:1: in function <snip:1>\n\t[C]: in function 'xpcall'\n\tsnip:1: in main chunk"},
		{`return select(2, pcall(function() return debug.traceback("p") end))`,
			"p\nstack traceback:\n\t[C]: in function 'pcall'\n\tsnip:1: in main chunk"},
		{`return select(2, pcall(function() local s = debug.traceback("p") return s end))`,
			"p\nstack traceback:\n\tsnip:1: in function <snip:1>\n\t[C]: in function 'pcall'\n\tsnip:1: in main chunk"},
		{`local function g() error("deep") end
local function f() g() end
return select(2, xpcall(f, debug.traceback))`,
			"snip:1: deep\nstack traceback:\n\tsnip:1: in function 'g'\n\tsnip:2: in function <snip:2>\n\t[C]: in function 'xpcall'\n\tsnip:3: in main chunk"},
	} {
		if got := evalSnippet(vm, c.src); got != c.want {
			t.Errorf("%s\n got %q\nwant %q", c.src, got, c.want)
		}
	}
}

// Argument errors name the function as the caller wrote the call, see
// through the yield trampoline, and do not count self in method calls.
func TestArgErrorNames(t *testing.T) {
	s := newSched(t, Options{})
	defer s.vm.Close()
	vm := s.vm
	obj := vm.L.NewTable()
	vm.RegisterYielding(obj, "recv", func(L *lua.LState) int {
		if _, ok := L.Get(1).(*lua.LTable); !ok {
			ArgError(L, 1, "table expected")
		}
		if L.Get(2) == lua.LNil {
			TypeError(L, 2, "number")
		}
		return vm.Suspend(L)
	})
	vm.L.SetGlobal("obj", obj)
	for _, c := range []struct{ src, err string }{
		{`obj:recv()`, "test:1: bad argument #1 to 'recv' (number expected, got no value)"},
		{`obj.recv(obj)`, "test:1: bad argument #2 to 'recv' (number expected, got no value)"},
		{`obj.recv(1)`, "test:1: bad argument #1 to 'recv' (table expected)"},
		{`local o = {recv = obj.recv} o:recv(nil)`, "test:1: bad argument #1 to 'recv' (number expected, got nil)"},
		{`local r = obj.recv r(obj)`, "test:1: bad argument #2 to 'r' (number expected, got no value)"},
		{`return obj.recv(1)`, "bad argument #1 to '?' (table expected)"},
	} {
		s.out.Reset()
		if _, st, msg := s.run(c.src); st != Failed || msg != c.err {
			t.Errorf("%s: %v %q, want %q", c.src, st, msg, c.err)
		}
	}
}
