package luavm

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// The GETTABLEKS and SETTABLEKS wrappers must keep gopher-lua's semantics
// for every kind of receiver.
func TestFieldAccessSemantics(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	if err := L.DoString(`
		local log = {}
		local proxy = setmetatable({}, {
			__index = function(t, k) log[#log + 1] = "get " .. k; return k .. "!" end,
			__newindex = function(t, k, v) log[#log + 1] = "set " .. k .. "=" .. tostring(v) end,
		})
		assert(proxy.alpha == "alpha!")
		proxy.beta = 2
		proxy.gamma = nil
		assert(table.concat(log, ",") == "get alpha,set beta=2,set gamma=nil", table.concat(log, ","))
		assert(rawget(proxy, "beta") == nil)

		-- an existing key never reaches __newindex
		local seen = 0
		local t = setmetatable({x = 1}, {__newindex = function() seen = seen + 1 end})
		t.x = 2
		t.y = 3
		assert(t.x == 2 and rawget(t, "y") == nil and seen == 1)

		-- __index and __newindex tables chain as before
		local base = {inherited = "yes"}
		local store = {}
		local obj = setmetatable({}, {__index = base, __newindex = store})
		assert(obj.inherited == "yes" and obj.missing == nil)
		obj.k = "v"
		assert(rawget(obj, "k") == nil and store.k == "v")

		-- plain tables: new keys, overwrite, delete, iteration
		local p = {}
		p.a = 1; p.b = 2; p.a = 3; p.b = nil; p.c = 4
		local keys = {}
		for k, v in pairs(p) do keys[#keys + 1] = k .. "=" .. v end
		table.sort(keys)
		assert(table.concat(keys, " ") == "a=3 c=4", table.concat(keys, " "))

		-- constructors with named fields go through SETTABLEKS
		local c = {one = 1, two = 2, [3] = "three"}
		assert(c.one == 1 and c.two == 2 and c[3] == "three")

		-- strings index through their metatable
		local s = "abc"
		assert(s.len == string.len)
	`); err != nil {
		t.Fatal(err)
	}
	for code, want := range map[string]string{
		`local n = nil; return n.field`: "attempt to index a non-table object(nil) with key 'field'",
		`local n = 5; n.field = 1`:      "attempt to index a non-table object(number) with key 'field'",
		`local t = setmetatable({}, {__index = function() error("boom") end}); return t.x`: "boom",
	} {
		err := L.DoString(code)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", code, err, want)
		}
	}
}

// A field read through an __index function, a write through __newindex
// and a new key of a plain table box nothing per access.
func TestFieldAccessAllocs(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	if err := L.DoString(`
		local proxy = setmetatable({}, {
			__index = function(t, k) return 1 end,
			__newindex = function(t, k, v) end,
		})
		local plain = {}
		function fields()
			local a = proxy.alpha
			proxy.beta = a
			plain.gamma = a
			plain.gamma = nil
		end
		function nothing() end
	`); err != nil {
		t.Fatal(err)
	}
	call := func(name string) func() {
		fn := L.GetGlobal(name)
		return func() {
			if err := L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true}); err != nil {
				t.Fatal(err)
			}
		}
	}
	base := testing.AllocsPerRun(200, call("nothing"))
	if n := testing.AllocsPerRun(200, call("fields")); n > base {
		t.Fatalf("field accesses allocate %v times per call (an empty call: %v)", n, base)
	}
}

// A fast path answers what it is sure of; the function itself runs for
// the rest, and a closed VM's fast paths are gone.
func TestFastIndexPaths(t *testing.T) {
	vm := newVM(t)
	L := vm.L
	calls := 0
	get := L.NewFunction(func(L *lua.LState) int {
		calls++
		L.Push(lua.LString("slow " + L.CheckString(2)))
		return 1
	})
	set := L.NewFunction(func(L *lua.LState) int {
		calls++
		L.RawSet(L.CheckTable(1), lua.LString("slow_"+L.CheckString(2)), L.Get(3))
		return 0
	})
	vm.SetFastIndex(get, func(_ *lua.LTable, key lua.LString) (lua.LValue, bool) {
		if key == "fast" {
			return lua.LString("fast!"), true
		}
		return nil, false
	})
	vm.SetFastNewIndex(set, func(t *lua.LTable, key lua.LString, v lua.LValue) bool {
		if _, ok := v.(lua.LString); !ok {
			return false
		}
		t.RawSetString("fast_"+string(key), v)
		return true
	})
	mt := L.NewTable()
	mt.RawSetString("__index", get)
	mt.RawSetString("__newindex", set)
	obj := L.NewTable()
	L.SetMetatable(obj, mt)
	L.SetGlobal("obj", obj)
	fn, err := vm.CompileInline(`
		assert(obj.fast == "fast!")
		assert(obj.other == "slow other")
		obj.a = "s"
		obj.b = 1
		assert(rawget(obj, "fast_a") == "s" and rawget(obj, "slow_b") == 1)
	`, "t")
	if err != nil {
		t.Fatal(err)
	}
	if msg := runErr(vm, fn); msg != "" {
		t.Fatal(msg)
	}
	if calls != 2 {
		t.Errorf("the functions ran %d times, want 2", calls)
	}
	vm.Close()
	if fastOf(get).get != nil {
		t.Error("a closed VM's fast path is still registered")
	}
}
