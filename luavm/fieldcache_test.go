package luavm

import (
	"os"
	"path/filepath"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// runDone runs src to its end and returns its results.
func runDone(t *testing.T, vm *VM, src string) []lua.LValue {
	t.Helper()
	th, st := vm.Start(mustCompile(t, vm, src))
	if st != Done {
		t.Fatalf("%v: %v", st, th.Err())
	}
	return th.Results()
}

// A table with a field cache reads as one without: every way Lua code
// writes a field (t.k = v, t[k] = v, a global, rawset, table.clear,
// through a metatable's __newindex that uses rawset) is seen by the next
// read, and Go code's change is seen after TouchTable.
func TestFieldCacheSeesWrites(t *testing.T) {
	vm := newVM(t)
	L := vm.L
	lib := L.NewTable()
	lib.RawSetString("f", lua.LString("one"))
	lib.RawSetString("g", lua.LString("gee"))
	L.SetGlobal("lib", lib)
	L.SetGlobal("gv", lua.LString("global one"))
	g := L.Get(lua.GlobalsIndex).(*lua.LTable)
	vm.CacheFields(g, lib)
	if cacheOf(g) == nil || cacheOf(lib) == nil {
		t.Skip("the tables' slots are taken") // cannot happen in a fresh process
	}
	g.RawSetString("goSet", L.NewFunction(func(L *lua.LState) int {
		lib.RawSetString("f", L.Get(1))
		TouchTable(lib)
		return 0
	}))
	rets := runDone(t, vm, `
		local function read() return lib.f, gv end
		local function check(step, f, v)
			for i = 1, 3 do -- the first read fills the cache, the others hit it
				local gotf, gotv = read()
				assert(gotf == f and gotv == v, step .. ": " .. tostring(gotf) .. " " .. tostring(gotv))
			end
		end
		check("start", "one", "global one")
		lib.f = "two"                 check("SETTABLEKS", "two", "global one")
		local k = "f" lib[k] = "three" check("SETTABLE", "three", "global one")
		gv = "global two"             check("SETGLOBAL", "three", "global two")
		_G.gv = "global three"        check("SETTABLEKS on _G", "three", "global three")
		rawset(lib, "f", "four")      check("rawset", "four", "global three")
		rawset(_G, "gv", "global four") check("rawset on _G", "four", "global four")
		goSet("five")                 check("Go", "five", "global four")
		lib.f = nil                   check("deleted", nil, "global four")
		lib.f = "six"                 check("added again", "six", "global four")
		table.clear(lib)              check("table.clear", nil, "global four")
		lib.f = "seven"
		setmetatable(lib, {__index = function(t, k) return "meta " .. k end})
		lib.f = nil                   check("__index after delete", "meta f", "global four")
		local proxy = setmetatable({}, {__newindex = function(t, k, v) rawset(lib, k, v) end})
		proxy.f = "eight"             check("__newindex with rawset", "eight", "global four")
		assert(rawget(lib, "g") == nil and lib.g == "meta g", "cleared key came back")
		setmetatable(lib, nil)
		local k2 = "f" lib[k2] = 9      check("SETTABLE of a number", 9, "global four")
		local via = setmetatable({}, {__newindex = lib})
		via.f = "nine"                check("__newindex table", "nine", "global four")
		local env = setmetatable({}, {__index = _G, __newindex = lib})
		local setter = setfenv(function() f = "ten" end, env)
		setter()                      check("SETGLOBAL through __newindex", "ten", "global four")
		return "ok"
	`)
	if got := rets[0]; got != lua.LString("ok") {
		t.Fatalf("results %v", rets)
	}
}

// Reads of cached tables hit: after a first read, a changed map behind
// the cache's back (what TouchTable exists for) still shows the
// remembered value, which is how the test knows the cache answered.
func TestFieldCacheRemembers(t *testing.T) {
	vm := newVM(t)
	L := vm.L
	lib := L.NewTable()
	lib.RawSetString("f", lua.LString("old"))
	L.SetGlobal("lib", lib)
	vm.CacheFields(lib)
	if cacheOf(lib) == nil {
		t.Skip("slot taken")
	}
	run := func() lua.LValue { return runDone(t, vm, `return lib.f`)[0] }
	if v := run(); v != lua.LString("old") {
		t.Fatalf("first read %v", v)
	}
	lib.RawSetString("f", lua.LString("new")) // no TouchTable
	if v := run(); v != lua.LString("old") {
		t.Fatalf("the cache did not answer: %v", v)
	}
	TouchTable(lib)
	if v := run(); v != lua.LString("new") {
		t.Fatalf("after TouchTable: %v", v)
	}
	vm.Close()
	if cacheOf(lib) != nil {
		t.Fatal("a closed VM's table keeps its cache slot")
	}
}

// A Lua module's table gets a field cache when require loads it, and
// obj:method() finds methods through the cache of the table its
// metatable's __index names, seeing every change: a method replaced, a
// method the object itself holds, an __index table swapped.
func TestFieldCacheMethods(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "counter.lua"), []byte(`
		local _M = {}
		local mt = { __index = _M }
		function _M.new(n) return setmetatable({ n = n }, mt) end
		function _M.get(self) return self.n end
		function _M.name(self) return "counter" end
		return _M
	`), 0o644); err != nil {
		t.Fatal(err)
	}
	vm, err := New(Options{PackagePath: filepath.Join(dir, "?.lua")})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	rets := runDone(t, vm, `
		local counter = require "counter"
		local function check(step, obj, want)
			for i = 1, 3 do
				local got = obj:get() .. " " .. obj:name()
				assert(got == want, step .. ": " .. got)
			end
		end
		local c = counter.new(1)
		check("start", c, "1 counter")
		counter.get = function(self) return self.n * 10 end
		check("method replaced", c, "10 counter")
		c.name = function() return "own" end
		check("own method", c, "10 own")
		c.name = nil
		rawset(counter, "name", function() return "raw" end)
		check("rawset", c, "10 raw")
		setmetatable(c, { __index = { get = function() return 0 end, name = counter.name } })
		check("other __index", c, "0 raw")
		return counter
	`)
	if m, ok := rets[0].(*lua.LTable); !ok || cacheOf(m) == nil {
		t.Fatal("the module's table has no field cache")
	}
}
