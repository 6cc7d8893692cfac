package luavm

import (
	"reflect"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// gopher-lua's LState.Resume copies the values a thread returns or yields
// into a new slice on every call, one allocation per request even when
// the handler returns nothing, and one per I/O wait for the single value
// a suspension yields. resumeState is the same procedure (v1.1.2) through
// gopher-lua's own unexported steps: the frame push, the frame set-up,
// the interpreter loop. It hands back shared read-only slices for the
// two common results (nothing; the suspension marker) and copies only
// the rest. A state it does not know how to drive (a stack kind other
// than the VM's own) goes to LState.Resume.

//go:linkname threadRun github.com/yuin/gopher-lua.threadRun
func threadRun(L *lua.LState)

//go:linkname initCallFrame github.com/yuin/gopher-lua.(*LState).initCallFrame
func initCallFrame(L *lua.LState, cf *frame)

//go:linkname panicWithoutTraceback github.com/yuin/gopher-lua.panicWithoutTraceback
func panicWithoutTraceback(L *lua.LState)

//go:linkname growingPush github.com/yuin/gopher-lua.(*autoGrowingCallFrameStack).Push
func growingPush(cs unsafe.Pointer, v frame)

//go:linkname growingLast github.com/yuin/gopher-lua.(*autoGrowingCallFrameStack).Last
func growingLast(cs unsafe.Pointer) *frame

// iface is an interface value's two words.
type iface struct {
	tab  unsafe.Pointer
	data unsafe.Pointer
}

// offStack is the offset of LState.stack; growingTab is the interface
// table of the frame stack MinimizeStackMemory gives a state.
var offStack, growingTab = stackLayout()

func stackLayout() (uintptr, unsafe.Pointer) {
	f, ok := reflect.TypeOf(lua.LState{}).FieldByName("stack")
	cf, _ := reflect.TypeOf(lua.LState{}).FieldByName("currentFrame")
	if !ok || f.Type.Kind() != reflect.Interface {
		panic("luavm: gopher-lua LState has no stack interface; resumeState needs updating")
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: true, MinimizeStackMemory: true})
	defer L.Close()
	dyn := reflect.ValueOf(L).Elem().FieldByIndex(f.Index).Elem().Type()
	push, okPush := dyn.MethodByName("Push")
	last, okLast := dyn.MethodByName("Last")
	if dyn.String() != "*lua.autoGrowingCallFrameStack" || !okPush || !okLast ||
		push.Type.NumIn() != 2 || push.Type.In(1) != cf.Type.Elem() || push.Type.NumOut() != 0 ||
		last.Type.NumIn() != 1 || last.Type.NumOut() != 1 || last.Type.Out(0) != cf.Type {
		panic("luavm: gopher-lua's minimal-memory frame stack changed; resumeState needs updating")
	}
	return f.Offset, (*iface)(unsafe.Add(unsafe.Pointer(L), f.Offset)).tab
}

// Shared results: what a thread that returned nothing returns (gopher-lua
// reports one nil), and a VM's suspension (vm.sentRet). Nobody writes to
// a thread's results.
var nilRet = []lua.LValue{lua.LNil}

// resumeState is from.Resume(co, fn, args...).
func (vm *VM) resumeState(from, co *lua.LState, fn *lua.LFunction, args []lua.LValue) (lua.ResumeState, error, []lua.LValue) {
	st := (*iface)(unsafe.Add(unsafe.Pointer(co), offStack))
	if st.tab != growingTab || from.G.CurrentThread == co || co.Dead {
		return from.Resume(co, fn, args...)
	}
	fresh := curFrame(co) == nil
	if fresh {
		growingPush(st.data, frame{Fn: fn, LocalBase: 1, NRet: lua.MultRet})
	}
	co.Parent = from
	from.G.CurrentThread = co
	if fresh {
		cf := growingLast(st.data)
		*(**frame)(unsafe.Add(unsafe.Pointer(co), offCurrentFrame)) = cf
		co.SetTop(0)
		for _, a := range args {
			co.Push(a)
		}
		cf.NArgs = len(args)
		initCallFrame(co, cf)
		co.Panic = panicWithoutTraceback
	} else {
		for _, a := range args {
			co.Push(a)
		}
	}
	top := from.GetTop()
	threadRun(co)
	n := from.GetTop() - top - 1 // the values after the status
	ok := from.Get(top + 1)
	var rets []lua.LValue
	switch {
	case n <= 0:
		rets = nilRet
	case n == 1 && from.Get(top+2) == vm.sent:
		rets = vm.sentRet
	default:
		rets = make([]lua.LValue, n)
		for i := range rets {
			rets[i] = from.Get(top + 2 + i)
		}
	}
	from.SetTop(top)
	switch {
	case ok == lua.LNil || ok == lua.LFalse:
		return lua.ResumeError, &lua.ApiError{Type: lua.ApiErrorRun, Object: rets[0]}, nil
	case curFrame(co) == nil:
		return lua.ResumeOK, nil, rets
	}
	return lua.ResumeYield, nil, rets
}
