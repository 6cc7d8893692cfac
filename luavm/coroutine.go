package luavm

import (
	lua "github.com/yuin/gopher-lua"
	"strconv"
)

// User coroutines follow ngx_lua's rules: a yield for I/O inside one
// suspends the whole request thread and the coroutine keeps waiting inside
// it, while coroutine.yield hands values back to coroutine.resume. A
// coroutine is a bare gopher-lua state. Before its first resume its body
// sits alone on its stack; while it waits for I/O the busy marker sits on
// top of its stack, so no side table has to follow coroutines the
// collector may reclaim at any time.

func (vm *VM) coCreate(L *lua.LState) int {
	f, ok := L.Get(1).(*lua.LFunction)
	if !ok || f.IsG {
		ArgError(L, 1, "Lua function expected")
	}
	co := vm.newCoState()
	if vm.budget != nil {
		vm.budget.attach(co)
	}
	co.Push(f)
	L.Push(co)
	return 1
}

func (vm *VM) coWrap(L *lua.LState) int {
	f, ok := L.Get(1).(*lua.LFunction)
	if !ok || f.IsG {
		ArgError(L, 1, "Lua function expected")
	}
	co := vm.newCoState()
	if vm.budget != nil {
		vm.budget.attach(co)
	}
	co.Push(f)
	// The wrapper is Lua, so the resume inside it is a plain call that can
	// forward an I/O yield.
	L.Push(vm.wrapper(L, co))
	return 1
}

// wrapper builds the glue's function(...) return wfinish(cfinish(cwstart(co, ...))) end.
func (vm *VM) wrapper(L *lua.LState, co *lua.LState) lua.LValue {
	L.Push(vm.mkwrap)
	L.Push(co)
	L.Call(1, 1)
	w := L.Get(-1)
	L.Pop(1)
	return w
}

// coStatusOf returns coroutine.status's answer for co as seen from L.
func (vm *VM) coStatusOf(L, co *lua.LState) string {
	if co.Dead {
		if vm.deadStatus != nil {
			if s := vm.deadStatus(co); s != "" {
				return s
			}
		}
		return "dead"
	}
	cur := vm.logical(L)
	if co == cur {
		return "running"
	}
	for t := cur; t.Parent != nil && t != vm.L; {
		t = vm.logical(t.Parent)
		if t == co {
			return "normal"
		}
	}
	if th := vm.tops[co]; th != nil || co == vm.L {
		// Request threads are scheduled by the runtime, never by
		// coroutine.resume; ngx_lua reports them as running, or normal
		// while one of their coroutines waits.
		if th != nil && th.state == stSuspended && th.nested {
			return "normal"
		}
		return "running"
	}
	if started(co) && co.GetTop() > 0 && co.Get(-1) == vm.busy {
		return "running"
	}
	return "suspended"
}

func (vm *VM) coStatus(L *lua.LState) int {
	co, ok := L.Get(1).(*lua.LState)
	if !ok {
		ArgError(L, 1, "coroutine expected")
	}
	L.Push(lua.LString(vm.coStatusOf(L, co)))
	return 1
}

// SetDeadStatus makes coroutine.status ask f about a coroutine that is
// over before answering "dead": f returns another status ("zombie" for a
// light thread whose results wait for ngx.thread.wait) or "" to keep
// "dead". Call it while setting the VM up.
func (vm *VM) SetDeadStatus(f func(co *lua.LState) string) { vm.deadStatus = f }

// Running returns the coroutine the Lua code calling the Go function that
// runs in L logically runs in, as coroutine.running() sees it (pcall
// helpers are seen through): a user coroutine, a request thread's state,
// or the main state. Callable from inside Lua.
func (vm *VM) Running(L *lua.LState) *lua.LState { return vm.logical(L) }

func (vm *VM) coRunning(L *lua.LState) int {
	cur := vm.logical(L)
	if cur == vm.L {
		L.Push(lua.LNil)
	} else {
		L.Push(cur)
	}
	return 1
}

// coIsYieldable is LuaJIT's coroutine.isyieldable, which ngx_lua hides;
// IsYieldable exposes the same answer to Go.
func (vm *VM) coIsYieldable(L *lua.LState) int {
	L.Push(lua.LBool(vm.IsYieldable(L)))
	return 1
}

// IsYieldable reports whether coroutine.yield would succeed if the Lua
// code calling the running Go function called it now. Callable from
// inside Lua.
func (vm *VM) IsYieldable(L *lua.LState) bool {
	f := curFrame(L)
	if f != nil {
		f = f.Parent
	}
	return f != nil && vm.canYield(L, f, false)
}

// cstart is the Go half of coroutine.resume(co, ...).
func (vm *VM) cstart(L *lua.LState) int {
	co, ok := L.Get(1).(*lua.LState)
	if !ok {
		ArgError(L, 1, "coroutine expected")
	}
	if s := vm.coStatusOf(L, co); s != "suspended" {
		L.Push(lua.LFalse)
		L.Push(lua.LString("cannot resume " + s + " coroutine"))
		return 2
	}
	if !started(co) {
		f := co.Get(1)
		co.SetTop(0)
		return vm.codrive(L, co, vm.prun, vm.args(L, 2, f))
	}
	return vm.codrive(L, co, nil, vm.args(L, 2))
}

// cwstart is cstart for the function coroutine.wrap returns. In a request
// ngx_lua answers a call of a wrapper whose coroutine cannot be resumed
// with false and the reason, as values; elsewhere it is an error, as in
// LuaJIT.
func (vm *VM) cwstart(L *lua.LState) int {
	co := L.Get(1).(*lua.LState)
	if s := vm.coStatusOf(L, co); s != "suspended" {
		msg := lua.LString("cannot resume " + s + " coroutine")
		if vm.current == nil {
			L.Error(msg, 0)
		}
		L.Push(lua.LTrue)
		L.Push(lua.LFalse)
		L.Push(msg)
		return 3
	}
	if !started(co) {
		f := co.Get(1)
		co.SetTop(0)
		return vm.codrive(L, co, vm.prun, vm.args(L, 2, f))
	}
	return vm.codrive(L, co, nil, vm.args(L, 2))
}

// wrapError carries the error of a wrapped coroutine. In a request,
// ngx_lua aborts the coroutine that called the wrapper with that error,
// skipping any pcall in between; the error stops at the next coroutine
// boundary or ends the request thread.
type wrapError struct{ v lua.LValue }

func isWrapError(v lua.LValue) bool {
	ud, ok := v.(*lua.LUserData)
	if !ok {
		return false
	}
	_, ok = ud.Value.(wrapError)
	return ok
}

func unwrapError(v lua.LValue) lua.LValue {
	if ud, ok := v.(*lua.LUserData); ok {
		if we, ok := ud.Value.(wrapError); ok {
			return we.v
		}
	}
	return v
}

// werr raises the error a wrapped coroutine failed with.
func (vm *VM) werr(L *lua.LState) int {
	vm.wrapFailed()
	v := L.Get(1)
	if vm.current == nil {
		// Lua's own wrapper, outside request threads: a message gets
		// the position of the wrapper's call in front (luaL_where).
		if s, ok := v.(lua.LString); ok {
			v = lua.LString(wrapperCaller(L) + " " + string(s))
		} else if n, ok := v.(lua.LNumber); ok {
			v = lua.LString(wrapperCaller(L) + " " + FormatNumber(float64(n)))
		}
		L.Error(v, 0)
	}
	if isWrapError(v) {
		L.Error(v, 0)
	}
	L.Error(&lua.LUserData{Value: wrapError{v}, Metatable: lua.LNil}, 0)
	return 0
}

// wrapperCaller is the "chunk:line:" of the Lua code that called a
// coroutine.wrap function, werr's caller through the runtime's glue.
func wrapperCaller(L *lua.LState) string {
	_, caller := callSite(L)
	if caller == nil || caller.Fn.IsG {
		return ""
	}
	return caller.Fn.Proto.SourceName + ":" + strconv.Itoa(frameLine(caller)) + ":"
}

// cresume continues co after a forwarded I/O wait.
func (vm *VM) cresume(L *lua.LState) int {
	co := L.Get(1).(*lua.LState)
	if co.GetTop() > 0 && co.Get(-1) == vm.busy {
		co.Pop(1)
	}
	return vm.codrive(L, co, nil, vm.args(L, 2))
}

func (vm *VM) codrive(L, co *lua.LState, fn *lua.LFunction, args []lua.LValue) int {
	if vm.budget != nil {
		vm.budget.attach(co)
	}
	st, err, rets := vm.resume(L, co, fn, args)
	vm.dropScratch()
	switch st {
	case lua.ResumeOK:
		L.Push(lua.LTrue)
		for _, v := range rets[1:] {
			L.Push(v)
		}
		return len(rets)
	case lua.ResumeYield:
		if len(rets) > 0 && rets[0] == vm.sent {
			co.Push(vm.busy)
			L.Push(vm.pending)
			L.Push(co)
			for _, v := range rets {
				L.Push(v)
			}
			return 2 + len(rets)
		}
		L.Push(lua.LTrue)
		for _, v := range rets[1:] {
			L.Push(v)
		}
		return len(rets)
	}
	obj := lua.LValue(lua.LString("unknown error"))
	if ae, ok := err.(*lua.ApiError); ok {
		obj = fixMessage(unwrapError(ae.Object))
	}
	vm.coFailed(co)
	co.Dead = true
	L.Push(lua.LFalse)
	L.Push(obj)
	return 2
}

// cyield is the Go half of coroutine.yield, behind a trampoline.
func (vm *VM) cyield(L *lua.LState) int {
	if !vm.canYield(L, curFrame(L), false) {
		yieldAcrossC(L)
	}
	L.Insert(vm.mark, 1)
	return -1
}
