package luavm

import (
	"fmt"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// Threads give the results gopher-lua's own Resume gives: a function
// that returns nothing returns one nil, values come back in order through
// suspensions and coroutines, errors carry their value. Starting a
// thread that returns nothing and suspending one allocate nothing.
func TestResumeResults(t *testing.T) {
	vm := newVM(t)
	g := vm.L.Get(lua.GlobalsIndex).(*lua.LTable)
	vm.RegisterYielding(g, "wait", func(L *lua.LState) int { return vm.Suspend(L) })
	cases := []struct {
		src  string
		want string
	}{
		{"local x = 1", "[nil]"},
		{"return 1, 'two', nil, true", "[1 two nil true]"},
		{"local v = wait() return v, 'after'", "[resumed after]"},
		{`local co = coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
		  local ok1, v1 = coroutine.resume(co, 1)
		  local ok2, v2 = coroutine.resume(co, 10)
		  local ok3, e3 = coroutine.resume(co)
		  return ok1, v1, ok2, v2, ok3, e3`, "[true 2 true 20 false cannot resume dead coroutine]"},
		{"local t = coroutine.wrap(function() coroutine.yield() end) t() return 'wrapped'", "[wrapped]"},
	}
	for _, c := range cases {
		fn, err := vm.CompileInline(c.src, "t")
		if err != nil {
			t.Fatal(err)
		}
		th, st := vm.Start(fn)
		for st == Suspended {
			st = vm.Resume(th, lua.LString("resumed"))
		}
		if st != Done {
			t.Fatalf("%s: %v %v", c.src, st, th.Err())
		}
		if got := fmt.Sprint(th.Results()); got != c.want {
			t.Errorf("%s: results %s, want %s", c.src, got, c.want)
		}
		vm.Release(th)
	}
	fn, err := vm.CompileInline("error({code = 7})", "t")
	if err != nil {
		t.Fatal(err)
	}
	th, st := vm.Start(fn)
	if st != Failed {
		t.Fatalf("error: %v", st)
	}
	if tb, ok := th.Err().Value.(*lua.LTable); !ok || tb.RawGetString("code") != lua.LNumber(7) {
		t.Fatalf("error value %v", th.Err().Value)
	}
	fn, err = vm.CompileInline("error('boom')", "t")
	if err != nil {
		t.Fatal(err)
	}
	if th, st := vm.Start(fn); st != Failed || !strings.Contains(th.Err().Error(), "boom") {
		t.Fatalf("error: %v %v", st, th.Err())
	}

	vals := []lua.LValue{lua.LTrue} // Resume's arguments escape
	for _, src := range []string{"local x = 1", "local v = wait()"} {
		fn, err := vm.CompileInline(src, "t")
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() {
			th, st := vm.Start(fn)
			for st == Suspended {
				st = vm.Resume(th, vals...)
			}
			vm.Release(th)
		}); n != 0 {
			t.Errorf("%s: %v allocations per run", src, n)
		}
	}
}
