package luavm

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// A failed request thread's traceback reads as ngx_lua logs it: one
// "coroutine N:" section per thread, the innermost frame of the failed
// one without a line, Go functions named as the code called them.
func TestThreadTraceback(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"vm error in main chunk", "local t = nil\nlocal x = t.field",
			"stack traceback:\ncoroutine 0:\n\tc: in main chunk"},
		{"error() in main chunk", "error('boom')",
			"stack traceback:\ncoroutine 0:\n\t[C]: in function 'error'\n\tc:1: in main chunk"},
		{"nested functions", "local function g() local t; return t.x + 1 end\nlocal function f() g() end\nf()",
			"stack traceback:\ncoroutine 0:\n\tc: in function 'g'\n\tc:2: in function 'f'\n\tc:3: in main chunk"},
		{"anonymous function", "local t = {function() error('x') end}\nt[1]()",
			"stack traceback:\ncoroutine 0:\n\t[C]: in function 'error'\n\tc:1: in function <c:1>\n\tc:2: in main chunk"},
		{"trampolined Go function", "local r = {} r.fail('x')",
			"stack traceback:\ncoroutine 0:\n\t[C]: in function 'fail'\n\tc:1: in main chunk"},
		{"metamethod", "local t = setmetatable({}, {__newindex = fail})\nt.x = 1",
			"stack traceback:\ncoroutine 0:\n\t[C]: in function '__newindex'\n\tc:2: in main chunk"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vm := newVM(t)
			defer vm.Close()
			fail := func(L *lua.LState) int {
				L.RaiseError("failed")
				return 0
			}
			vm.L.SetGlobal("fail", vm.L.NewFunction(fail))
			src := c.src
			if c.name == "trampolined Go function" {
				r := vm.L.NewTable()
				vm.RegisterYielding(r, "fail", fail)
				vm.L.SetGlobal("reg", r)
				src = "local r = reg r.fail('x')"
			}
			fn, err := vm.CompileInline(src, "c")
			if err != nil {
				t.Fatal(err)
			}
			th, st := vm.Start(fn)
			if st != Failed {
				t.Fatalf("status %v, want failed", st)
			}
			if got := th.Err().Traceback; got != c.want {
				t.Errorf("traceback\n got %q\nwant %q", got, c.want)
			}
		})
	}
}
