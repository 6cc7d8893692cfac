package luavm

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// sched is a tiny stand-in for the ngx layer: say() appends to out,
// sleep(x) suspends the request thread until run() resumes it with the
// value "slept:x", and spawn(f, ...) starts a light thread.
type sched struct {
	t       *testing.T
	vm      *VM
	out     strings.Builder
	waiting []waiter
}

type waiter struct {
	th  *Thread
	val lua.LValue
}

func newSched(t testing.TB, opts Options) *sched {
	vm, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s := &sched{vm: vm}
	if tt, ok := t.(*testing.T); ok {
		s.t = tt
	}
	L := vm.L
	g := L.Get(lua.GlobalsIndex).(*lua.LTable)
	g.RawSetString("say", L.NewFunction(func(L *lua.LState) int {
		s.out.WriteString(vm.LogArgs(L, 1))
		s.out.WriteByte('\n')
		return 0
	}))
	vm.RegisterYielding(g, "sleep", func(L *lua.LState) int {
		vm.CheckYieldable(L)
		s.waiting = append(s.waiting, waiter{vm.Current(), lua.LString("slept:" + lua.LVAsString(vm.ToString(L, L.Get(1))))})
		return vm.Suspend(L)
	})
	vm.RegisterYielding(g, "sleep0", func(L *lua.LState) int {
		vm.CheckYieldable(L)
		s.waiting = append(s.waiting, waiter{vm.Current(), nil})
		return vm.Suspend(L)
	})
	g.RawSetString("isyieldable", L.NewFunction(vm.coIsYieldable))
	g.RawSetString("spawn", L.NewFunction(func(L *lua.LState) int {
		fn := L.CheckFunction(1)
		th, st := vm.Spawn(L, fn, vm.args(L, 2)...)
		_ = th
		L.Push(lua.LString(st.String()))
		return 1
	}))
	return s
}

// run compiles src as a handler, starts it and resumes every suspension
// in order until nothing waits. It returns the output and the entry
// thread's final status and error text.
func (s *sched) run(src string) (string, Status, string) {
	fn, err := s.vm.CompileInline(src, "test")
	if err != nil {
		return s.out.String(), Failed, err.Error()
	}
	th, st := s.vm.Start(fn)
	final, msg := st, ""
	if st == Failed {
		msg = th.Err().Msg()
	}
	entry := th
	for len(s.waiting) > 0 {
		w := s.waiting[0]
		s.waiting = s.waiting[1:]
		var st Status
		if w.val == nil {
			st = s.vm.Resume(w.th)
		} else {
			st = s.vm.Resume(w.th, w.val)
		}
		if w.th == entry {
			final = st
			if st == Failed {
				msg = w.th.Err().Msg()
			}
		}
	}
	return s.out.String(), final, msg
}
