package luavm

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// ngx_lua logs a failed request thread with a traceback of its own shape
// (ngx_http_lua_thread_traceback): one "coroutine N:" section per thread,
// from the failed one up through the light threads' parents, each listing
// at most 22 frames. The failed thread's innermost frame carries no line
// number: LuaJIT no longer knows the position of a coroutine that died.
// The frames are only intact while the error is being raised, so the
// panic hook records the traceback then, for request threads only (an
// error in a pcall helper or a user coroutine is caught, or reaches the
// thread later).

const (
	btDepth    = 22
	btMaxCoros = 5
)

// recordTrace stores the traceback of the request thread whose state L
// is raising an error. An error raised in a user coroutine may yet reach
// the request thread through coroutine.wrap: its frames are kept until
// the wrapper knows (see coErrTrace), and head the thread's traceback.
func (vm *VM) recordTrace(L *lua.LState) {
	th := vm.tops[L]
	if th == nil {
		var b strings.Builder
		vm.writeSection(&b, L, stRunning, true)
		vm.coErr = coErrTrace{co: L, frames: b.String()}
		return
	}
	if th.state != stRunning {
		return
	}
	th.trace = vm.threadTraceback(th)
	vm.wrapTrace = vm.wrapTrace[:0]
}

// coErrTrace holds the frames of the user coroutine that raised the last
// error, until its resume returns.
type coErrTrace struct {
	co     *lua.LState
	frames string
}

// coFailed notes that co's resume ended in an error: its frames wait for
// a wrapper to pass the error on (wrapFailed).
func (vm *VM) coFailed(co *lua.LState) {
	vm.failedFrames = ""
	if vm.coErr.co == co {
		vm.failedFrames = vm.coErr.frames
	}
	vm.coErr = coErrTrace{}
}

// wrapFailed adds the frames of the coroutine whose error a wrapper
// passes on to the traceback to come.
func (vm *VM) wrapFailed() {
	if vm.failedFrames != "" && len(vm.wrapTrace) < btMaxCoros {
		vm.wrapTrace = append(vm.wrapTrace, vm.failedFrames)
	}
	vm.failedFrames = ""
}

// resumeFailed forgets the frames: coroutine.resume returned the error.
func (vm *VM) resumeFailed(L *lua.LState) int {
	vm.failedFrames = ""
	vm.wrapTrace = vm.wrapTrace[:0]
	return L.GetTop()
}

// threadTraceback formats th and its running parents as ngx_lua does,
// after the coroutines whose error came up through wrappers.
func (vm *VM) threadTraceback(th *Thread) string {
	var b strings.Builder
	b.WriteString("stack traceback:")
	coid := 0
	for _, frames := range vm.wrapTrace {
		b.WriteString("\ncoroutine ")
		b.WriteString(strconv.Itoa(coid))
		b.WriteByte(':')
		b.WriteString(frames)
		coid++
	}
	for t := th; t != nil && t.co != nil && coid < btMaxCoros; t = t.parent {
		b.WriteString("\ncoroutine ")
		b.WriteString(strconv.Itoa(coid))
		b.WriteByte(':')
		vm.writeSection(&b, t.co, t.state, coid == 0)
		coid++
		if t.parent != nil && !t.parent.Alive() {
			break
		}
	}
	return b.String()
}

// writeSection writes the frames of one coroutine section, the innermost
// first; dead says whether it failed (its first Lua frame has no line).
func (vm *VM) writeSection(b *strings.Builder, co *lua.LState, state threadState, dead bool) {
	level := 0
	for f := curFrame(co); f != nil; f = f.Parent {
		if f.Fn == nil || (!f.Fn.IsG && vm.isGlue(f.Fn.Proto)) {
			if level == 0 && f.Fn != nil && state == stSuspended {
				// a thread waiting in a Go function (a parent in
				// ngx.thread.spawn) has left its frame, which
				// LuaJIT keeps: the trampoline names it.
				if name := callName(f); name != "?" {
					level++
					b.WriteString("\n\t[C]: in function '" + name + "'")
				}
			}
			continue
		}
		level++
		if level > btDepth {
			b.WriteString("\n\t...")
			break
		}
		writeNgxFrame(b, f, dead && level == 1)
		if f.Fn.IsG && tailCalled(f) && f.Parent != nil {
			f = f.Parent
		}
	}
}

// writeNgxFrame writes one frame as ngx_http_lua_thread_traceback does.
func writeNgxFrame(b *strings.Builder, f *frame, dead bool) {
	b.WriteString("\n\t")
	if f.Fn.IsG {
		b.WriteString("[C]:")
		if name := goFrameName(f); name != "?" {
			b.WriteString(" in function '" + name + "'")
		} else {
			b.WriteString(" ?")
		}
		return
	}
	p := f.Fn.Proto
	b.WriteString(p.SourceName)
	b.WriteByte(':')
	if !dead {
		b.WriteString(strconv.Itoa(frameLine(f)))
		b.WriteByte(':')
	}
	switch name := callName(f); {
	case name != "?":
		b.WriteString(" in function '" + name + "'")
	case p.LineDefined == 0:
		b.WriteString(" in main chunk")
	default:
		b.WriteString(" in function <" + p.SourceName + ":" + strconv.Itoa(p.LineDefined) + ">")
	}
}

// goFrameName is callName for a Go function's frame: one behind a
// runtime trampoline is named by the call to the trampoline, as LuaJIT
// names the C function itself.
func goFrameName(f *frame) string {
	if tailCalled(f) {
		// LuaJIT drops the frame of a Lua function that tail-calls a C
		// one, which then goes by that function's name; gopher-lua keeps
		// the frame until the Go function returns.
		return callName(f.Parent)
	}
	name := callName(f)
	if name != "?" {
		return name
	}
	g := f
	for g.Parent != nil && !g.Parent.Fn.IsG && isGlueProto(g.Parent.Fn.Proto) {
		g = g.Parent
	}
	if g != f {
		return callName(g)
	}
	// a metamethod is named after its event, as LuaJIT does.
	if p := f.Parent; p != nil && !p.Fn.IsG && p.Pc >= 1 && p.Pc-1 < len(p.Fn.Proto.Code) {
		switch int(p.Fn.Proto.Code[p.Pc-1] >> opShift) {
		case lua.OP_GETTABLE, lua.OP_GETTABLEKS, lua.OP_SELF:
			return "__index"
		case lua.OP_SETTABLE, lua.OP_SETTABLEKS:
			return "__newindex"
		}
	}
	return name
}
