package luavm

import (
	"fmt"
	"reflect"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// gopher-lua keeps its call frames unexported. Deciding whether a yield is
// safe (trap L3), telling a finished thread from a fresh one and naming the
// caller in error messages all need to look at them, so this file reads them
// through a mirror struct whose layout is checked against the real type by
// reflection when the package initialises. A gopher-lua upgrade that changes
// the layout makes init panic instead of silently misreading memory.

// frame mirrors gopher-lua's callFrame (v1.1.2).
type frame struct {
	Idx        int
	Fn         *lua.LFunction
	Parent     *frame
	Pc         int
	Base       int
	LocalBase  int
	ReturnBase int
	NArgs      int
	NRet       int
	TailCall   int
}

// offCurrentFrame is the offset of LState.currentFrame, computed once at init.
var offCurrentFrame = layoutCheck()

func layoutCheck() uintptr {
	st := reflect.TypeOf(lua.LState{})
	cf, ok := st.FieldByName("currentFrame")
	if !ok || cf.Type.Kind() != reflect.Pointer {
		panic("luavm: gopher-lua LState has no currentFrame pointer; the frame mirror needs updating")
	}
	real := cf.Type.Elem()
	mirror := reflect.TypeOf(frame{})
	if real.Size() != mirror.Size() || real.NumField() != mirror.NumField() {
		panic(fmt.Sprintf("luavm: gopher-lua callFrame layout changed (size %d, %d fields)", real.Size(), real.NumField()))
	}
	for i := 0; i < mirror.NumField(); i++ {
		m, r := mirror.Field(i), real.Field(i)
		if m.Name != r.Name || m.Offset != r.Offset || m.Type.Size() != r.Type.Size() {
			panic("luavm: gopher-lua callFrame field " + r.Name + " does not match the mirror")
		}
	}
	if f, _ := real.FieldByName("Fn"); f.Type != reflect.TypeOf((*lua.LFunction)(nil)) {
		panic("luavm: gopher-lua callFrame.Fn changed type")
	}
	if f, _ := real.FieldByName("Parent"); f.Type != cf.Type {
		panic("luavm: gopher-lua callFrame.Parent changed type")
	}
	return cf.Offset
}

// curFrame returns the running (or, for a suspended thread, the resumption)
// frame of L, nil when L has not started or has finished.
func curFrame(L *lua.LState) *frame {
	return *(**frame)(unsafe.Add(unsafe.Pointer(L), offCurrentFrame))
}

// started reports whether L has a frame, that is, it was resumed at least
// once and has neither finished nor been reset.
func started(L *lua.LState) bool { return curFrame(L) != nil }

const opShift = 26

// callEntered reports whether f was pushed by an OP_CALL of its Lua caller.
// Frames pushed from Go (metamethods, iterators, table.sort, gsub, require,
// any Go function calling back into Lua) run in a nested VM loop on the Go
// stack, and a yield from inside them would tear that loop apart.
func callEntered(f *frame) bool {
	p := f.Parent
	if p == nil {
		return true
	}
	if p.Fn.IsG || p.Pc < 1 {
		return false
	}
	code := p.Fn.Proto.Code
	if p.Pc-1 >= len(code) {
		return false
	}
	return int(code[p.Pc-1]>>opShift) == lua.OP_CALL
}

// framesYieldable reports whether every frame from f down to the thread's
// base frame was entered by a plain call.
func framesYieldable(f *frame) bool {
	for ; f != nil; f = f.Parent {
		if !callEntered(f) {
			return false
		}
	}
	return true
}

// callerLine returns the source name and current line of the Lua function
// that called the running Go function of L, skipping the runtime's own
// trampolines, or ok=false when the caller is not a Lua function.
func (vm *VM) callerFrame(L *lua.LState) *frame {
	f := curFrame(L)
	if f == nil {
		return nil
	}
	if f.Fn.IsG {
		f = f.Parent
	}
	for f != nil && !f.Fn.IsG && vm.isGlue(f.Fn.Proto) {
		f = f.Parent
	}
	return f
}

// frameLine is the line f is executing.
func frameLine(f *frame) int {
	p := f.Fn.Proto
	if f.Pc > 0 && f.Pc-1 < len(p.DbgSourcePositions) {
		return p.DbgSourcePositions[f.Pc-1]
	}
	return p.LineDefined
}

// callName returns the name under which f's caller called it, as LuaJIT
// derives it for "bad argument" messages: the global, local, field or
// method name at the call site, or "?".
func callName(f *frame) string {
	p := f.Parent
	if p == nil || p.Fn.IsG || tailCalled(f) || isGlueProto(p.Fn.Proto) {
		// Called from Go, by a tail call or by the runtime's glue (which
		// stands for LuaJIT's C pcall or coroutine.resume): unnamed.
		return "?"
	}
	pc := p.Pc - 1
	for _, c := range p.Fn.Proto.DbgCalls {
		if c.Pc == pc {
			return c.Name
		}
	}
	// a metamethod the instruction ran is named after its event, as
	// LuaJIT names it.
	if pc >= 0 && pc < len(p.Fn.Proto.Code) {
		switch int(p.Fn.Proto.Code[pc] >> opShift) {
		case lua.OP_GETTABLE, lua.OP_GETTABLEKS, lua.OP_GETGLOBAL, lua.OP_SELF:
			return "__index"
		case lua.OP_SETTABLE, lua.OP_SETTABLEKS, lua.OP_SETGLOBAL:
			return "__newindex"
		}
	}
	return "?"
}

// tailCalled reports whether f was called by a tail call. LuaJIT has
// dropped the caller's frame by then, so it can neither name the callee
// nor place the call.
func tailCalled(f *frame) bool {
	if f == nil || f.Parent == nil {
		return false
	}
	p := f.Parent
	if p.Fn.IsG || p.Pc < 1 || p.Pc-1 >= len(p.Fn.Proto.Code) {
		return false
	}
	return int(p.Fn.Proto.Code[p.Pc-1]>>opShift) == lua.OP_TAILCALL
}
