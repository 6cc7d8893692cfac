package luavm

import (
	"errors"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

func TestRunningTimeBudget(t *testing.T) {
	const limit = 100 * time.Millisecond
	s := newSched(t, Options{MaxRunningTime: limit})
	defer s.vm.Close()
	s.vm.L.SetGlobal("busy", s.vm.L.NewFunction(func(L *lua.LState) int {
		for end := time.Now().Add(time.Duration(L.CheckNumber(1)) * time.Millisecond); time.Now().Before(end); {
		}
		return 0
	}))
	for _, c := range []struct{ name, src string }{
		{"loop", `while true do end`},
		{"loop under pcall", `while true do pcall(function() while true do end end) end`},
		{"loop in coroutine", `coroutine.wrap(function() local x = 0 while true do x = x + 1 end end)()`},
		{"loop after a wait", `sleep(1) while true do end`},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, st, msg := s.run(c.src)
			took := time.Since(start)
			if st != Failed || !strings.Contains(msg, "lua_max_running_time exceeded") {
				t.Fatalf("status %v error %q", st, msg)
			}
			if !strings.HasPrefix(msg, "test:1: ") && msg != "lua_max_running_time exceeded" {
				t.Errorf("error %q", msg)
			}
			if took > 20*limit {
				t.Errorf("stopped after %v, limit %v", took, limit)
			}
		})
	}
	// The thread's error says why it stopped.
	fn := mustCompile(t, s.vm, `while true do end`)
	th, st := s.vm.Start(fn)
	if st != Failed || !errors.Is(th.Err(), ErrRunningTime) {
		t.Fatalf("%v %v", st, th.Err())
	}
	s.vm.Release(th)
	// Slices shorter than the limit never trip it, however many there are.
	s.out.Reset()
	out, st, msg := s.run(`local n = 0 for i = 1, 8 do sleep(i) busy(2) n = n + 1 end say(n)`)
	if st != Done || out != "8\n" {
		t.Fatalf("short slices: %v %q %q", st, out, msg)
	}
	// A handler started after a cancelled one runs normally.
	s.out.Reset()
	if out, st, msg := s.run(`say(pcall(function() return sleep("ok") end))`); st != Done || out != "trueslept:ok\n" {
		t.Fatalf("after a cancel: %v %q %q", st, out, msg)
	}
}

// Without a limit no state gets a context, so gopher-lua runs its plain
// interpreter loop.
func TestNoBudgetNoContext(t *testing.T) {
	s := newSched(t, Options{})
	defer s.vm.Close()
	fn := mustCompile(t, s.vm, `sleep(1)`)
	th, st := s.vm.Start(fn)
	if st != Suspended {
		t.Fatal(st)
	}
	if th.Co().Context() != nil {
		t.Fatal("a request thread has a context without a limit")
	}
	s.vm.Kill(th)
}
