package luavm

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// glueSource is the Lua half of the yield machinery. It is compiled once per
// VM under a chunk name that marks its functions as the runtime's own, so
// the yield check, error positions and tracebacks can see through them.
//
// Every Go function that may yield is called from here with a plain
// OP_CALL, never as a tail call: gopher-lua loses a yield from a tail-called
// Go function (trap L1). The finishers keep result counts exact without
// building tables.
const glueSource = `
local MARK, PENDING, pstart, presume, xstart, xresume, cstart, cresume, fwd, cyield, cwstart, werr, sethook, rfail = ...

local function id(...) return ... end

local function trampoline(g)
  return function(...) return id(g(...)) end
end

local function prun(f, ...)
  sethook()
  return MARK, f(...)
end

local function trun(f, ...)
  sethook()
  return f(...)
end

local function trun0(f)
  sethook()
  return f()
end

local pfinish
local function pwait(h, ...)
  return pfinish(presume(h, fwd(...)))
end
pfinish = function(tag, ...)
  if tag == PENDING then return pwait(...) end
  return tag, ...
end
local function pcall(...)
  return pfinish(pstart(...))
end

local xfinish
local function xwait(h, handler, ...)
  return xfinish(xresume(h, handler, fwd(...)))
end
xfinish = function(tag, ...)
  if tag == PENDING then return xwait(...) end
  return tag, ...
end
local function xpcall(...)
  return xfinish(xstart(...))
end

local cfinish
local function cwait(co, ...)
  return cfinish(cresume(co, fwd(...)))
end
cfinish = function(tag, ...)
  if tag == PENDING then return cwait(...) end
  return tag, ...
end
local function rfinish(ok, ...)
  if ok then return ok, ... end
  return rfail(ok, ...)
end
local function resume(...)
  return rfinish(cfinish(cstart(...)))
end

local function wfinish(ok, ...)
  if ok then return ... end
  return werr(...)
end
local function mkwrap(co)
  return function(...) return wfinish(cfinish(cwstart(co, ...))) end
end

return trampoline, prun, pcall, xpcall, resume, trampoline(cyield), mkwrap, trun, trun0
`

// glueChunk is the chunk name of the runtime's own Lua code. The leading
// "=" keeps it out of the way of any name a user chunk can get.
const glueChunk = "=[luavm]"

func (vm *VM) isGlue(p *lua.FunctionProto) bool { return isGlueProto(p) }

func (vm *VM) openGlue() error {
	L := vm.L
	vm.panicFn = vm.panicHook
	chunk, err := parse.Parse(strings.NewReader(glueSource), glueChunk)
	if err != nil {
		return err
	}
	proto, err := lua.Compile(chunk, glueChunk)
	if err != nil {
		return err
	}
	vm.fnPStart = L.NewFunction(vm.pstart)
	vm.fnPResume = L.NewFunction(vm.presume)
	vm.fnXStart = L.NewFunction(vm.xstart)
	vm.fnXResume = L.NewFunction(vm.xresume)
	vm.fnCStart = L.NewFunction(vm.cstart)
	vm.fnCResume = L.NewFunction(vm.cresume)
	vm.fnFwd = L.NewFunction(vm.fwd)
	vm.fnCWStart = L.NewFunction(vm.cwstart)

	fn := L.NewFunctionFromProto(proto)
	L.Push(fn)
	for _, v := range []lua.LValue{vm.mark, vm.pending, vm.fnPStart, vm.fnPResume, vm.fnXStart, vm.fnXResume,
		vm.fnCStart, vm.fnCResume, vm.fnFwd, L.NewFunction(vm.cyield), vm.fnCWStart, L.NewFunction(vm.werr),
		L.NewFunction(vm.setHook), L.NewFunction(vm.resumeFailed)} {
		L.Push(v)
	}
	if err := L.PCall(14, 9, nil); err != nil {
		return err
	}
	vm.factory = L.Get(-9).(*lua.LFunction)
	vm.prun = L.Get(-8).(*lua.LFunction)
	pcall, xpcall, resume, yield := L.Get(-7), L.Get(-6), L.Get(-5), L.Get(-4)
	vm.mkwrap = L.Get(-3).(*lua.LFunction)
	vm.trun = L.Get(-2).(*lua.LFunction)
	vm.trun0 = L.Get(-1).(*lua.LFunction)
	L.Pop(9)

	g := L.Get(lua.GlobalsIndex).(*lua.LTable)
	g.RawSetString("pcall", pcall)
	g.RawSetString("xpcall", xpcall)
	co := L.NewTable()
	co.RawSetString("create", L.NewFunction(vm.coCreate))
	co.RawSetString("resume", resume)
	co.RawSetString("yield", yield)
	co.RawSetString("status", L.NewFunction(vm.coStatus))
	co.RawSetString("running", L.NewFunction(vm.coRunning))
	// ngx_lua swaps in a coroutine table without isyieldable; so do we.
	co.RawSetString("wrap", L.NewFunction(vm.coWrap))
	// ngx_lua keeps LuaJIT's functions as _create, _wrap... and its own as
	// __create, __wrap..., the public names choosing between them by
	// phase. Here one set serves every phase: the other names are that.
	for _, k := range []string{"create", "wrap", "resume", "yield", "status"} {
		fn := co.RawGetString(k)
		co.RawSetString("_"+k, fn)
		co.RawSetString("__"+k, fn)
	}
	g.RawSetString("coroutine", co)
	if loaded, ok := L.GetField(L.GetField(g, "package"), "loaded").(*lua.LTable); ok {
		loaded.RawSetString("coroutine", co)
		loaded.RawSetString("_G", g)
		// LuaJIT registers the package library itself, so that
		// require("package") works; gopher-lua leaves it out.
		loaded.RawSetString("package", L.GetField(g, "package"))
	}
	return nil
}

// YieldingFunction wraps a Go function that may call Suspend into the Lua
// trampoline it must be called through. Use it for methods set in
// metatables; RegisterYielding covers table fields.
func (vm *VM) YieldingFunction(fn lua.LGFunction) *lua.LFunction {
	L := vm.L
	L.Push(vm.factory)
	L.Push(L.NewFunction(fn))
	L.Call(1, 1)
	tr := L.Get(-1).(*lua.LFunction)
	L.Pop(1)
	return tr
}

// RegisterYielding sets tbl[name] to fn behind its trampoline. Every Go
// function that may call Suspend must be exposed this way and only this
// way.
func (vm *VM) RegisterYielding(tbl *lua.LTable, name string, fn lua.LGFunction) {
	tbl.RawSetString(name, vm.YieldingFunction(fn))
}

// args copies L's stack from index from to the top into the VM's scratch
// slice. The slice is only valid until the next call of args; Resume
// copies it onto the resumed state before running anything.
func (vm *VM) args(L *lua.LState, from int, prefix ...lua.LValue) []lua.LValue {
	a := vm.scratch[:0]
	a = append(a, prefix...)
	for i, n := from, L.GetTop(); i <= n; i++ {
		a = append(a, L.Get(i))
	}
	vm.scratch = a
	return a
}

// dropScratch lets go of the values the last args call copied, so an idle
// VM does not keep a request's data alive.
func (vm *VM) dropScratch() {
	clear(vm.scratch)
	vm.scratch = vm.scratch[:0]
}

// callable reports whether v can be called, directly or through __call.
func callable(L *lua.LState, v lua.LValue) bool {
	if _, ok := v.(*lua.LFunction); ok {
		return true
	}
	_, ok := L.GetMetaField(v, "__call").(*lua.LFunction)
	return ok
}

// pstart is the Go half of pcall(f, ...): run f in a helper state so a
// yield inside it can be forwarded instead of tearing a nested VM loop.
func (vm *VM) pstart(L *lua.LState) int {
	if L.GetTop() == 0 {
		ArgError(L, 1, "value expected")
	}
	f := L.Get(1)
	if !callable(L, f) {
		L.Push(lua.LFalse)
		L.Push(lua.LString("attempt to call a " + f.Type().String() + " value"))
		return 2
	}
	h := vm.helper()
	return vm.drive(L, h, vm.prun, vm.args(L, 1), nil)
}

// presume continues helper h after a forwarded yield with the values the
// outer resume passed in.
func (vm *VM) presume(L *lua.LState) int {
	h := L.Get(1).(*lua.LState)
	return vm.drive(L, h, nil, vm.args(L, 2), nil)
}

func (vm *VM) xstart(L *lua.LState) int {
	n := L.GetTop()
	if n < 2 {
		ArgError(L, n+1, "value expected")
	}
	handler, ok := L.Get(2).(*lua.LFunction)
	if !ok {
		ArgError(L, 2, "function expected, got "+typeName(L.Get(2)))
	}
	f := L.Get(1)
	if !callable(L, f) {
		return vm.handle(L, handler, lua.LString("attempt to call a "+f.Type().String()+" value"))
	}
	L.Remove(2)
	h := vm.helper()
	return vm.drive(L, h, vm.prun, vm.args(L, 1), handler)
}

func (vm *VM) xresume(L *lua.LState) int {
	h := L.Get(1).(*lua.LState)
	handler := L.Get(2).(*lua.LFunction)
	return vm.drive(L, h, nil, vm.args(L, 3), handler)
}

// drive resumes helper h and turns the outcome into pcall's results:
// true and the function's results, false and the error (through the
// xpcall handler when there is one), or PENDING, h[, handler] and the
// yielded values for the Lua side to forward.
func (vm *VM) drive(L, h *lua.LState, fn *lua.LFunction, args []lua.LValue, handler *lua.LFunction) int {
	if vm.budget != nil {
		vm.budget.attach(h)
	}
	st, err, rets := vm.resume(L, h, fn, args)
	vm.dropScratch()
	switch st {
	case lua.ResumeOK:
		vm.putHelper(h)
		L.Push(lua.LTrue)
		for _, v := range rets[1:] {
			L.Push(v)
		}
		return len(rets)
	case lua.ResumeYield:
		L.Push(vm.pending)
		L.Push(h)
		n := 2
		if handler != nil {
			L.Push(handler)
			n++
		}
		for _, v := range rets {
			L.Push(v)
		}
		return n + len(rets)
	}
	obj := lua.LValue(lua.LString("unknown error"))
	if ae, ok := err.(*lua.ApiError); ok {
		obj = fixMessage(ae.Object)
	}
	if isWrapError(obj) {
		// A coroutine.wrap failure passes through pcall, as in ngx_lua.
		L.Error(obj, 0)
	}
	if handler != nil {
		if handler == vm.fnTraceback {
			// debug.traceback as the handler: trace the failed function,
			// which is gone once the handler could run.
			if s, ok := obj.(lua.LString); ok {
				var b strings.Builder
				b.WriteString(string(s) + "\nstack traceback:")
				n := 0
				vm.writeFrames(&b, h, curFrame(h), &n, 0)
				b.WriteString("\n\t[C]: in function 'xpcall'")
				if f := curFrame(L); f != nil {
					vm.writeFrames(&b, L, f.Parent, &n, 0)
				}
				obj = lua.LString(b.String())
			}
		} else {
			return vm.handle(L, handler, obj)
		}
	}
	L.Push(lua.LFalse)
	L.Push(obj)
	return 2
}

// handle runs an xpcall message handler on obj. A handler that fails makes
// xpcall return "error in error handling", as LuaJIT does.
func (vm *VM) handle(L *lua.LState, handler *lua.LFunction, obj lua.LValue) int {
	top := L.GetTop()
	L.Push(handler)
	L.Push(obj)
	if err := L.PCall(1, 1, nil); err != nil {
		L.SetTop(top)
		L.Push(lua.LFalse)
		L.Push(lua.LString("error in error handling"))
		return 2
	}
	v := L.Get(-1)
	L.SetTop(top)
	L.Push(lua.LFalse)
	L.Push(v)
	return 2
}

// fwd yields its arguments from the state that called pcall or
// coroutine.resume, forwarding what the inner state yielded. The inner
// yield was already checked all the way to its target.
func (vm *VM) fwd(L *lua.LState) int {
	if L.Parent == nil || L == vm.L {
		yieldAcrossC(L)
	}
	return -1
}
