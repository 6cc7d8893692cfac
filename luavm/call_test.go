package luavm

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestCall(t *testing.T) {
	s := newSched(t, Options{})
	defer s.vm.Close()
	vm := s.vm
	for _, c := range []struct {
		src, want, err string
	}{
		{src: `return 1, "two"`, want: "1,two"},
		{src: `local co = coroutine.wrap(function() coroutine.yield("y") end) return co()`, want: "y"},
		{src: `return pcall(error, "e", 0)`, want: "false,e"},
		{src: `sleep(1)`, err: "attempt to yield across C-call boundary"},
		{src: `return pcall(sleep, 1)`, want: "false,attempt to yield across C-call boundary"},
		{src: `coroutine.yield()`, err: "attempt to yield across C-call boundary"},
		{src: `local t = nil
return t.x`, err: "init_by_lua(nginx.conf:1):2: attempt to index"},
		{src: `error({})`, err: "unknown reason"},
	} {
		fn, err := vm.CompileInline(c.src, "init_by_lua(nginx.conf:1)")
		if err != nil {
			t.Fatal(err)
		}
		rets, e := vm.Call(fn)
		if c.err != "" {
			if e == nil || !strings.Contains(e.Msg(), c.err) {
				t.Errorf("%s: error %v, want %q", c.src, e, c.err)
			}
			if e != nil && !strings.HasPrefix(e.Traceback, "stack traceback:") {
				t.Errorf("%s: traceback %q", c.src, e.Traceback)
			}
			continue
		}
		if e != nil {
			t.Errorf("%s: %v", c.src, e)
			continue
		}
		var parts []string
		for _, v := range rets {
			parts = append(parts, lua.LVAsString(vm.ToString(vm.L, v)))
		}
		if got := strings.Join(parts, ","); got != c.want {
			t.Errorf("%s: got %q, want %q", c.src, got, c.want)
		}
		if vm.L.GetTop() != 0 {
			t.Fatalf("%s: main stack left at %d", c.src, vm.L.GetTop())
		}
	}
}

// A filter runs through Call from inside a request thread's Go function,
// the way ngx.print runs body_filter_by_lua.
func TestCallNested(t *testing.T) {
	s := newSched(t, Options{})
	defer s.vm.Close()
	vm := s.vm
	filter, err := vm.CompileInline(`local chunk = ... return chunk:upper(), coroutine.running() == nil`, "body_filter_by_lua(nginx.conf:2)")
	if err != nil {
		t.Fatal(err)
	}
	bad, _ := vm.CompileInline(`error("filter failed")`, "body_filter_by_lua(nginx.conf:3)")
	vm.L.SetGlobal("filter", vm.L.NewFunction(func(L *lua.LState) int {
		rets, e := vm.Call(filter, L.Get(1))
		if e != nil {
			L.RaiseError("%s", e.Msg())
		}
		L.Push(rets[0])
		L.Push(rets[1])
		return 2
	}))
	vm.L.SetGlobal("badfilter", vm.L.NewFunction(func(L *lua.LState) int {
		_, e := vm.Call(bad)
		L.Push(lua.LString(e.Msg()))
		return 1
	}))
	out, st, msg := s.run(`say(filter("a")) sleep(1) say(pcall(filter, "b")) say(badfilter()) say(coroutine.running() ~= nil)`)
	if st != Done || out != "Atrue\ntrueBtrue\nbody_filter_by_lua(nginx.conf:3):1: filter failed\ntrue\n" {
		t.Fatalf("%v %q %q", st, out, msg)
	}
}
