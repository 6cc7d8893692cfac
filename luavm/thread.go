package luavm

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Status is how a run of a request thread ended.
type Status int

const (
	// Done: the thread's function returned; Results holds its values.
	Done Status = iota
	// Suspended: a Go function called Suspend; the thread waits until the
	// loop calls Resume with the values that Go function returns.
	Suspended
	// Yielded: the thread called coroutine.yield outside any user
	// coroutine. ngx_lua discards the yielded values and resumes the
	// thread again after other pending threads have run.
	Yielded
	// Failed: the thread raised an error; Err describes it.
	Failed
)

// String names the status for logs and tests.
func (s Status) String() string {
	switch s {
	case Done:
		return "done"
	case Suspended:
		return "suspended"
	case Yielded:
		return "yielded"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

type threadState uint8

const (
	stIdle threadState = iota
	stRunning
	stSuspended
	stYielded
	stDone
	stFailed
	stKilled
)

// Thread is a request thread: an entry thread, a light thread spawned by
// one, or a timer's thread. The scheduler owns it from Start until Release.
type Thread struct {
	vm     *VM
	co     *lua.LState
	parent *Thread
	state  threadState
	// nested is set while the thread waits for I/O started inside one of
	// its user coroutines: coroutine.status reads "normal" for it then.
	nested bool
	// kept marks a spawned light thread: its state is its own for good,
	// never recycled, so the coroutine object Lua code holds keeps its
	// identity and reads as dead once the thread is over.
	kept    bool
	results []lua.LValue
	err     *Error
	// trace is the traceback recorded when the thread raised its error.
	trace string

	// Data is the owner's value for this thread, typically the request it
	// runs for. The runtime never reads it.
	Data any
}

// Parent returns the thread that spawned t, nil for a thread started by
// Start.
func (t *Thread) Parent() *Thread { return t.parent }

// Results returns the values the thread's function returned (Done only).
// gopher-lua reports a function that returned nothing as returning one nil.
// The slice is owned by the thread and valid until Release.
func (t *Thread) Results() []lua.LValue { return t.results }

// Err returns the error a Failed thread ended with, nil otherwise.
func (t *Thread) Err() *Error { return t.err }

// Co returns the thread's Lua coroutine, as coroutine.running() returns it
// in the thread. Nil once the thread has finished, except for a light
// thread started by Spawn, which keeps its coroutine until Release.
func (t *Thread) Co() *lua.LState { return t.co }

// Alive reports whether the thread can still run: it is running,
// suspended or yielded.
func (t *Thread) Alive() bool {
	return t.state == stRunning || t.state == stSuspended || t.state == stYielded
}

// Error is the error a thread failed with.
type Error struct {
	// Value is the Lua error object as raised.
	Value lua.LValue
	// Traceback is a best-effort "stack traceback:" of the failed thread.
	Traceback string
	// cause is ErrRunningTime when the runaway watchdog stopped the thread.
	cause error
}

// Msg returns the error as ngx_lua logs it: the message if the error
// object is a string or number, "unknown reason" otherwise.
func (e *Error) Msg() string {
	switch v := e.Value.(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return FormatNumber(float64(v))
	}
	return "unknown reason"
}

// Error returns Msg, so an *Error is an error.
func (e *Error) Error() string { return e.Msg() }

// Unwrap returns ErrRunningTime for a thread stopped by the watchdog.
func (e *Error) Unwrap() error { return e.cause }

// Current returns the request thread whose Lua code is running, nil when
// none is (for example on the main state during init). During Spawn it is
// the spawned thread. Callable from inside Lua.
func (vm *VM) Current() *Thread { return vm.current }

// Start runs fn with args in a fresh pooled thread until it finishes, fails
// or suspends. Call it from the loop, outside Lua.
func (vm *VM) Start(fn *lua.LFunction, args ...lua.LValue) (*Thread, Status) {
	return vm.StartWith(nil, fn, args...)
}

// StartWith is Start with the thread's Data set to data before it first
// runs, so that Go functions the thread calls at once find it. Call it
// from the loop, outside Lua.
func (vm *VM) StartWith(data any, fn *lua.LFunction, args ...lua.LValue) (*Thread, Status) {
	vm.mustBeOutside("Start")
	th := vm.newThread(nil, false)
	th.Data = data
	return th, vm.run(vm.L, th, fn, args)
}

// Resume continues a Suspended or Yielded thread. For a Suspended thread,
// vals become the return values of the Go function that called Suspend.
// Call it from the loop, outside Lua.
func (vm *VM) Resume(th *Thread, vals ...lua.LValue) Status {
	vm.mustBeOutside("Resume")
	if th.vm != vm || (th.state != stSuspended && th.state != stYielded) {
		return vm.fail(th, lua.LString("cannot resume a thread that is not suspended"))
	}
	return vm.run(vm.L, th, nil, vals)
}

// Spawn starts fn in a new light thread whose parent is the current thread,
// as ngx.thread.spawn does: it runs at once until it finishes, fails or
// suspends, then the caller continues. L is the state of the running Go
// function. Callable from inside Lua only.
//
// The light thread runs on a state of its own that is never recycled:
// Co keeps returning it after the thread ended (then coroutine.status
// reads "dead", or what the dead-status hook says), so the coroutine
// object ngx.thread.spawn hands out keeps its identity.
func (vm *VM) Spawn(L *lua.LState, fn *lua.LFunction, args ...lua.LValue) (*Thread, Status) {
	th := vm.newThread(vm.current, true)
	return th, vm.run(L, th, fn, args)
}

// StartChild runs fn in a new light thread whose parent is parent, as
// Spawn does, but from the loop, outside Lua: ngx_lua's ngx.thread.spawn
// suspends the spawning thread and its scheduler starts the child. The
// thread's Data is set to data before it first runs. Call it from the
// loop, outside Lua.
func (vm *VM) StartChild(parent *Thread, data any, fn *lua.LFunction, args ...lua.LValue) (*Thread, Status) {
	vm.mustBeOutside("StartChild")
	th := vm.newThread(parent, true)
	th.Data = data
	return th, vm.run(vm.L, th, fn, args)
}

// Kill stops a thread that is suspended or yielded; it will never run
// again. Whatever it waits for must be cancelled by the caller. A thread
// that is running (the current one or one of its ancestors) cannot be
// killed and Kill returns false.
func (vm *VM) Kill(th *Thread) bool {
	if th.state != stSuspended && th.state != stYielded {
		return false
	}
	th.state = stKilled
	if th.kept && th.co != nil {
		th.co.Dead = true
	}
	vm.dropCo(th)
	return true
}

// Release returns a finished, failed or killed thread to the pool. The
// thread and its Results must not be used afterwards.
func (vm *VM) Release(th *Thread) {
	if th.Alive() || th.vm != vm {
		return
	}
	if th.kept && th.co != nil {
		delete(vm.tops, th.co)
	}
	*th = Thread{vm: vm}
	vm.free = append(vm.free, th)
}

func (vm *VM) mustBeOutside(what string) {
	if vm.current != nil {
		panic("luavm: " + what + " called while Lua is running; use Spawn from inside Lua")
	}
}

// newThread takes a thread from the pool; a kept one gets a fresh state.
func (vm *VM) newThread(parent *Thread, kept bool) *Thread {
	var th *Thread
	if n := len(vm.free); n > 0 {
		th = vm.free[n-1]
		vm.free = vm.free[:n-1]
	} else {
		th = &Thread{vm: vm}
	}
	th.parent = parent
	th.state = stIdle
	th.kept = kept
	switch n := len(vm.threads); {
	case kept:
		th.co = vm.newCoState()
	case n > 0:
		th.co = vm.threads[n-1]
		vm.threads = vm.threads[:n-1]
	default:
		th.co = vm.newState()
	}
	vm.tops[th.co] = th
	return th
}

// newState creates a thread state sharing the main state's globals.
func (vm *VM) newState() *lua.LState {
	co, _ := vm.L.NewThread()
	return co
}

// newCoState creates the state of a user coroutine. Coroutines are never
// pooled (Lua code may keep a reference to one forever), so they start
// with a small value stack that grows on demand.
func (vm *VM) newCoState() *lua.LState {
	o := vm.L.Options
	vm.L.Options.RegistrySize = 64
	co, _ := vm.L.NewThread()
	vm.L.Options = o
	return co
}

func (vm *VM) run(from *lua.LState, th *Thread, fn *lua.LFunction, args []lua.LValue) Status {
	prev := vm.current
	vm.current = th
	th.state = stRunning
	outer := from == vm.L && vm.budget != nil
	if vm.budget != nil {
		if outer {
			vm.budget.begin()
		}
		vm.budget.attach(th.co)
	}
	if fn != nil {
		// Fresh start: run fn through trun, which installs the error
		// message hook first.
		// args may be the scratch slice of vm.args, so another buffer.
		// Handlers take no arguments: trun0 spares them a vararg frame.
		base := vm.trun
		if len(args) == 0 {
			base = vm.trun0
		}
		args = append(append(vm.startArgs[:0], fn), args...)
		vm.startArgs = args
		fn = base
	}
	st, err, rets := vm.resume(from, th.co, fn, args)
	clear(vm.startArgs)
	fired := outer && vm.budget.end()
	vm.current = prev
	switch st {
	case lua.ResumeOK:
		th.state = stDone
		th.results = rets
		vm.recycleCo(th)
		return Done
	case lua.ResumeYield:
		if len(rets) > 0 && rets[0] == vm.sent {
			th.state = stSuspended
			return Suspended
		}
		th.state = stYielded
		return Yielded
	}
	th.state = stFailed
	th.err = vm.newError(th.co, err)
	if th.trace != "" {
		th.err.Traceback = th.trace
	}
	if fired {
		th.err.cause = ErrRunningTime
	}
	vm.dropCo(th)
	return Failed
}

func (vm *VM) fail(th *Thread, v lua.LValue) Status {
	th.err = &Error{Value: v}
	return Failed
}

// resume runs one slice of co. A panic escaping gopher-lua (trap L4) leaves
// the resumer's current-thread pointer and stack top wrong; they are put
// back and the panic becomes an error of co, which must then be discarded.
func (vm *VM) resume(from, co *lua.LState, fn *lua.LFunction, args []lua.LValue) (st lua.ResumeState, err error, rets []lua.LValue) {
	top := from.GetTop()
	defer func() {
		if r := recover(); r != nil {
			from.G.CurrentThread = from
			from.SetTop(top)
			co.Dead = true
			st, rets = lua.ResumeError, nil
			if ae, ok := r.(*lua.ApiError); ok {
				err = ae
			} else {
				err = &lua.ApiError{Type: lua.ApiErrorPanic, Object: lua.LString(fmt.Sprint(r))}
			}
		}
	}()
	return vm.resumeState(from, co, fn, args)
}

// recycleCo puts the state of a thread that finished cleanly back in the
// pool. A state that ended in an error keeps stale frames and is never
// reused (trap L6).
func (vm *VM) recycleCo(th *Thread) {
	co := th.co
	if th.kept {
		if co != nil {
			co.Dead = true
			delete(vm.tops, co)
		}
		return
	}
	th.co = nil
	if co == nil {
		return
	}
	if len(vm.threads) >= vm.opts.MaxIdleThreads {
		delete(vm.tops, co)
		return
	}
	co.Dead = false
	vm.threads = append(vm.threads, co)
}

func (vm *VM) dropCo(th *Thread) {
	if th.co != nil {
		delete(vm.tops, th.co)
		if th.kept {
			th.co.Dead = true
			return
		}
		th.co = nil
	}
}

// helper returns an idle pcall helper state.
func (vm *VM) helper() *lua.LState {
	if n := len(vm.helpers); n > 0 {
		h := vm.helpers[n-1]
		vm.helpers = vm.helpers[:n-1]
		return h
	}
	return vm.newState()
}

func (vm *VM) putHelper(h *lua.LState) {
	if len(vm.helpers) < vm.opts.MaxIdleThreads {
		h.Dead = false
		vm.helpers = append(vm.helpers, h)
	}
}

// Suspend suspends the request thread running the calling Go function,
// which must be registered with RegisterYielding and must return what
// Suspend returns:
//
//	return vm.Suspend(L)
//
// The thread's Start or Resume then returns Suspended; the values of the
// Resume that continues it become the Go function's return values in Lua.
// It raises "attempt to yield across C-call boundary" when the call comes
// from a place that cannot yield: a metamethod, an iterator, a table.sort
// comparator, a gsub callback, a module's main chunk run by require, or
// code that does not run in a request thread. Callable from inside Lua.
func (vm *VM) Suspend(L *lua.LState) int {
	f := curFrame(L)
	if f == nil || !f.Fn.IsG || f.Parent == nil || f.Parent.Fn.IsG || !vm.isGlue(f.Parent.Fn.Proto) {
		L.RaiseError("luavm: Suspend called from a Go function not registered with RegisterYielding")
	}
	if !vm.canYield(L, f, true) {
		yieldAcrossC(L)
	}
	if th := vm.current; th != nil {
		th.nested = vm.logical(L) != th.co
	}
	return L.Yield(vm.sent)
}

// CheckYieldable raises "attempt to yield across C-call boundary" unless
// the Go function running in L could Suspend now. Call it before
// registering anything the thread would wait for. Callable from inside
// Lua.
func (vm *VM) CheckYieldable(L *lua.LState) {
	if f := curFrame(L); f == nil || !vm.canYield(L, f, true) {
		yieldAcrossC(L)
	}
}

// CanSuspend reports whether the Go function running in L could Suspend
// now, without raising anything. Callable from inside Lua.
func (vm *VM) CanSuspend(L *lua.LState) bool {
	f := curFrame(L)
	return f != nil && vm.canYield(L, f, true)
}

func yieldAcrossC(L *lua.LState) {
	L.Error(lua.LString("attempt to yield across C-call boundary"), 0)
}

// canYield reports whether a yield from L, whose innermost frame to check
// is f, reaches its target through plain calls only. An I/O yield (io)
// targets the current request thread and passes through pcall helpers and
// user coroutines; a user yield targets the nearest user coroutine or the
// request thread.
func (vm *VM) canYield(L *lua.LState, f *frame, io bool) bool {
	var top *lua.LState
	if vm.current != nil {
		top = vm.current.co
	}
	if io && top == nil {
		return false
	}
	t := L
	for {
		if t == vm.L || !framesYieldable(f) {
			return false
		}
		if t == top {
			return true
		}
		p := t.Parent
		if p == nil {
			return false
		}
		pf := curFrame(p)
		if pf == nil || !pf.Fn.IsG {
			return false
		}
		switch pf.Fn {
		case vm.fnPStart, vm.fnPResume, vm.fnXStart, vm.fnXResume:
		case vm.fnCStart, vm.fnCResume, vm.fnCWStart:
			if !io {
				return true
			}
		default:
			return false
		}
		t, f = p, pf.Parent
	}
}

// isHelperDriver reports whether fn is the Go half of pcall or xpcall,
// the frame a pcall helper's resumer is in.
func (vm *VM) isHelperDriver(fn *lua.LFunction) bool {
	return fn == vm.fnPStart || fn == vm.fnPResume || fn == vm.fnXStart || fn == vm.fnXResume
}

// logical maps a pcall helper state to the thread the Lua code logically
// runs in, as coroutine.running() must report it.
func (vm *VM) logical(L *lua.LState) *lua.LState {
	for {
		p := L.Parent
		if p == nil {
			return L
		}
		pf := curFrame(p)
		if pf == nil {
			return L
		}
		switch pf.Fn {
		case vm.fnPStart, vm.fnPResume, vm.fnXStart, vm.fnXResume:
			L = p
		default:
			return L
		}
	}
}

// newError builds the Error of a failed state.
func (vm *VM) newError(co *lua.LState, err error) *Error {
	e := &Error{Value: lua.LString("unknown error")}
	if ae, ok := err.(*lua.ApiError); ok {
		e.Value = fixMessage(unwrapError(ae.Object))
		if ae.Type == lua.ApiErrorPanic {
			e.Value = lua.LString("runtime error: " + lua.LVAsString(ae.Object))
		}
	}
	e.Traceback = vm.traceback(co, 0)
	return e
}

// traceback formats the frames of L from level on, as LuaJIT's
// debug.traceback does. The runtime's own Lua frames are left out, and a
// pcall helper's frames continue with the code that called pcall, so the
// traceback reads as if pcall ran in place.
func (vm *VM) traceback(L *lua.LState, level int) string {
	var b strings.Builder
	b.WriteString("stack traceback:")
	n := 0
	vm.writeFrames(&b, L, curFrame(L), &n, level)
	return b.String()
}

func (vm *VM) writeFrames(b *strings.Builder, t *lua.LState, f *frame, n *int, level int) {
	for {
		for ; f != nil; f = f.Parent {
			if f.Fn == nil || (!f.Fn.IsG && vm.isGlue(f.Fn.Proto)) {
				continue
			}
			if *n++; *n > level {
				writeFrame(b, f)
			}
			if f.Fn.IsG && tailCalled(f) && f.Parent != nil {
				// LuaJIT has already dropped the frame that tail-called
				// a C function.
				f = f.Parent
			}
		}
		p := t.Parent
		if p == nil {
			return
		}
		pf := curFrame(p)
		if pf == nil || !vm.isHelperDriver(pf.Fn) {
			return
		}
		if *n++; *n > level {
			b.WriteString("\n\t[C]: in function '" + vm.driverName(pf.Fn) + "'")
		}
		t, f = p, pf.Parent
	}
}

func (vm *VM) driverName(fn *lua.LFunction) string {
	if fn == vm.fnXStart || fn == vm.fnXResume {
		return "xpcall"
	}
	return "pcall"
}

func writeFrame(b *strings.Builder, f *frame) {
	b.WriteString("\n\t")
	if f.Fn.IsG {
		if name := goFrameName(f); name != "?" {
			fmt.Fprintf(b, "[C]: in function '%s'", name)
		} else {
			b.WriteString("[C]: ?")
		}
		return
	}
	p := f.Fn.Proto
	fmt.Fprintf(b, "%s:%d: in ", p.SourceName, frameLine(f))
	switch {
	case f.Parent == nil:
		b.WriteString("main chunk")
	case callName(f) != "?":
		fmt.Fprintf(b, "function '%s'", callName(f))
	default:
		fmt.Fprintf(b, "function <%s:%d>", p.SourceName, p.LineDefined)
	}
}

// Call runs fn to completion on the main state, for code that must not
// wait: init_by_lua, init_worker_by_lua, set_by_lua, header and body
// filters. Coroutines work inside it; anything that would Suspend fails
// with "attempt to yield across C-call boundary". It may be called from
// the loop or from a Go function running inside Lua (a body filter run by
// ngx.print); the current request thread, if any, stays current.
func (vm *VM) Call(fn *lua.LFunction, args ...lua.LValue) (rets []lua.LValue, err *Error) {
	L := vm.L
	top := L.GetTop()
	cur := L.G.CurrentThread
	var trace string
	handler := L.NewFunction(func(hl *lua.LState) int {
		// level 1: the handler's own frame is not part of the story.
		trace = vm.traceback(hl, 1)
		return 1
	})
	defer func() {
		if r := recover(); r != nil {
			L.G.CurrentThread = cur
			L.SetTop(top)
			rets, err = nil, &Error{Value: lua.LString(fmt.Sprint(r))}
		}
	}()
	L.Push(vm.trun)
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	if e := L.PCall(len(args)+1, lua.MultRet, handler); e != nil {
		L.SetTop(top)
		v := lua.LValue(lua.LString(e.Error()))
		if ae, ok := e.(*lua.ApiError); ok {
			v = fixMessage(unwrapError(ae.Object))
		}
		return nil, &Error{Value: v, Traceback: trace}
	}
	n := L.GetTop() - top
	rets = make([]lua.LValue, n)
	for i := 0; i < n; i++ {
		rets[i] = L.Get(top + 1 + i)
	}
	L.SetTop(top)
	return rets, nil
}
