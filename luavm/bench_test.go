package luavm

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// benchVM has say (appends to a buffer, like ngx.say) and wait (suspends
// the request thread; the benchmark resumes it at once).
func benchVM(b *testing.B, opts Options) (*VM, *[]byte) {
	vm, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(vm.Close)
	buf := make([]byte, 0, 1024)
	g := vm.L.Get(lua.GlobalsIndex).(*lua.LTable)
	g.RawSetString("say", vm.L.NewFunction(func(L *lua.LState) int {
		if s, ok := L.Get(1).(lua.LString); ok {
			buf = append(buf[:0], s...)
		}
		return 0
	}))
	vm.RegisterYielding(g, "wait", func(L *lua.LState) int { return vm.Suspend(L) })
	return vm, &buf
}

func benchRun(b *testing.B, vm *VM, src string) {
	fn, err := vm.CompileInline(src, "bench")
	if err != nil {
		b.Fatal(err)
	}
	vals := []lua.LValue{lua.LTrue}
	b.ReportAllocs()
	for b.Loop() {
		th, st := vm.Start(fn)
		for st == Suspended {
			st = vm.Resume(th, vals...)
		}
		if st != Done {
			b.Fatal(st, th.Err())
		}
		vm.Release(th)
	}
}

// BenchmarkHello is a content_by_lua hello world through a pooled thread.
func BenchmarkHello(b *testing.B) {
	vm, _ := benchVM(b, Options{})
	benchRun(b, vm, `say("hello, world")`)
}

// BenchmarkSuspendResume is one I/O wait: suspend, then resume with a value.
func BenchmarkSuspendResume(b *testing.B) {
	vm, _ := benchVM(b, Options{})
	benchRun(b, vm, `local ok = wait() say("x")`)
}

func BenchmarkPcall(b *testing.B) {
	vm, _ := benchVM(b, Options{})
	benchRun(b, vm, `local ok, v = pcall(function() return "v" end)`)
}

// BenchmarkPcallSuspend is an I/O wait inside pcall, as lua-resty
// libraries do around cosocket calls.
func BenchmarkPcallSuspend(b *testing.B) {
	vm, _ := benchVM(b, Options{})
	benchRun(b, vm, `local ok, v = pcall(wait)`)
}

func BenchmarkCoroutineWrap(b *testing.B) {
	vm, _ := benchVM(b, Options{})
	benchRun(b, vm, `local n = 0 for v in coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end) do n = n + v end`)
}

// BenchmarkLoop measures the interpreter on a tight loop, without and with
// the lua_max_running_time watchdog.
func BenchmarkLoop(b *testing.B) {
	src := `local s = 0 for i = 1, 1000 do s = s + i end`
	b.Run("plain", func(b *testing.B) {
		vm, _ := benchVM(b, Options{})
		benchRun(b, vm, src)
	})
	b.Run("budget", func(b *testing.B) {
		vm, _ := benchVM(b, Options{MaxRunningTime: 10e9})
		benchRun(b, vm, src)
	})
}

func BenchmarkFormatNumber(b *testing.B) {
	buf := make([]byte, 0, 32)
	b.ReportAllocs()
	for _, f := range []float64{42, 0.1 + 0.2, 1700000000.123} {
		b.Run(FormatNumber(f), func(b *testing.B) {
			for b.Loop() {
				buf = AppendNumber(buf[:0], f)
			}
		})
	}
}
