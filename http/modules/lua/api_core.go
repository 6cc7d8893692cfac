package lua

import (
	"time"

	glua "github.com/yuin/gopher-lua"

	"gresty/errlog"
	"gresty/http"
	"gresty/luavm"
	"gresty/luavm/ltable"
)

// This file holds the ngx.* essentials every handler uses: output, exit,
// status, logging, ngx.ctx, ngx.var, sleeping, the phase, and the
// constants.

func init() { registerAPI(installCore) }

// request returns the context of the running code and checks that the
// API may run in its phase; it raises ngx_lua's errors otherwise.
func (st *loopState) request(L *glua.LState, allowed Phase) *reqCtx {
	c := st.cur()
	if c == nil {
		luavm.Raise(L, "no request found")
		return nil
	}
	if allowed != 0 && c.phase&allowed == 0 {
		luavm.Raise(L, "API disabled in the context of %s", c.phase.contextName())
		return nil
	}
	if c.r == nil && allowed&PhasesRequest != 0 && c.phase&PhasesRequest == 0 {
		luavm.Raise(L, "no request found")
		return nil
	}
	return c
}

// contextName is the phase as ngx_lua's error messages name it.
func (p Phase) contextName() string {
	if p == PhaseTimer {
		return "ngx.timer"
	}
	return p.directiveName()
}

const (
	outputPhases = PhaseRewrite | PhaseServerRewrite | PhaseAccess | PhaseContent
	exitPhases   = PhaseRewrite | PhaseServerRewrite | PhaseAccess | PhaseContent | PhaseTimer |
		PhaseHeaderFilter | PhaseBalancer | PhaseInitWorker
	sleepPhases = PhaseRewrite | PhaseServerRewrite | PhaseAccess | PhaseContent | PhaseTimer
)

var logLevels = map[string]errlog.Level{
	"STDERR": errlog.Stderr, "EMERG": errlog.Emerg, "ALERT": errlog.Alert, "CRIT": errlog.Crit,
	"ERR": errlog.Error, "WARN": errlog.Warn, "NOTICE": errlog.Notice, "INFO": errlog.Info, "DEBUG": errlog.Debug,
}

// httpConstants are ngx.HTTP_* as ngx_lua defines them.
var httpConstants = map[string]int{
	"HTTP_CONTINUE": 100, "HTTP_SWITCHING_PROTOCOLS": 101, "HTTP_OK": 200, "HTTP_CREATED": 201,
	"HTTP_ACCEPTED": 202, "HTTP_NO_CONTENT": 204, "HTTP_PARTIAL_CONTENT": 206, "HTTP_SPECIAL_RESPONSE": 300,
	"HTTP_MOVED_PERMANENTLY": 301, "HTTP_MOVED_TEMPORARILY": 302, "HTTP_SEE_OTHER": 303,
	"HTTP_NOT_MODIFIED": 304, "HTTP_TEMPORARY_REDIRECT": 307, "HTTP_PERMANENT_REDIRECT": 308,
	"HTTP_BAD_REQUEST": 400, "HTTP_UNAUTHORIZED": 401, "HTTP_PAYMENT_REQUIRED": 402, "HTTP_FORBIDDEN": 403,
	"HTTP_NOT_FOUND": 404, "HTTP_NOT_ALLOWED": 405, "HTTP_NOT_ACCEPTABLE": 406, "HTTP_REQUEST_TIMEOUT": 408,
	"HTTP_CONFLICT": 409, "HTTP_GONE": 410, "HTTP_UPGRADE_REQUIRED": 426, "HTTP_TOO_MANY_REQUESTS": 429,
	"HTTP_CLOSE": 444, "HTTP_ILLEGAL": 451, "HTTP_INTERNAL_SERVER_ERROR": 500, "HTTP_METHOD_NOT_IMPLEMENTED": 501,
	"HTTP_NOT_IMPLEMENTED": 501, "HTTP_BAD_GATEWAY": 502, "HTTP_SERVICE_UNAVAILABLE": 503, "HTTP_GATEWAY_TIMEOUT": 504,
	"HTTP_VERSION_NOT_SUPPORTED": 505, "HTTP_INSUFFICIENT_STORAGE": 507,
}

// methodConstants are ngx.HTTP_GET and friends (ngx_lua's method bits).
var methodConstants = map[string]int{
	"HTTP_GET": 0x0002, "HTTP_HEAD": 0x0004, "HTTP_POST": 0x0008, "HTTP_PUT": 0x0010,
	"HTTP_DELETE": 0x0020, "HTTP_MKCOL": 0x0040, "HTTP_COPY": 0x0080, "HTTP_MOVE": 0x0100,
	"HTTP_OPTIONS": 0x0200, "HTTP_PROPFIND": 0x0400, "HTTP_PROPPATCH": 0x0800, "HTTP_LOCK": 0x1000,
	"HTTP_UNLOCK": 0x2000, "HTTP_PATCH": 0x4000, "HTTP_TRACE": 0x8000,
}

func installCore(st *loopState) {
	L := st.vm.L
	ngx := st.ngx
	set := func(name string, v glua.LValue) { ngx.RawSetString(name, v) }
	fn := func(name string, f glua.LGFunction) { ngx.RawSetString(name, L.NewFunction(f)) }

	set("OK", glua.LNumber(0))
	set("ERROR", glua.LNumber(-1))
	set("AGAIN", glua.LNumber(-2))
	set("DONE", glua.LNumber(-4))
	set("DECLINED", glua.LNumber(-5))
	set("null", st.vm.Null())
	for k, v := range httpConstants {
		set(k, glua.LNumber(v))
	}
	for k, v := range methodConstants {
		set(k, glua.LNumber(v))
	}
	for k, v := range logLevels {
		set(k, glua.LNumber(v))
	}

	fn("say", func(L *glua.LState) int { return st.say(L, true) })
	fn("print", func(L *glua.LState) int { return st.say(L, false) })
	fn("log", func(L *glua.LState) int {
		lv := L.CheckInt(1)
		if lv < int(errlog.Stderr) || lv > int(errlog.Debug) {
			L.RaiseError("bad log level: %d", lv)
		}
		// ngx_lua counts the arguments after the level in its
		// "bad argument" errors.
		L.Remove(1)
		logLua(st, L, errlog.Level(lv), st.vm.LogArgs(L, 1))
		return 0
	})
	fn("get_phase", func(L *glua.LState) int {
		c := st.cur()
		if c == nil {
			L.Push(glua.LString("init"))
			return 1
		}
		L.Push(glua.LString(c.phase.Name()))
		return 1
	})
	st.vm.RegisterYielding(ngx, "exit", func(L *glua.LState) int { return st.exit(L) })
	st.vm.RegisterYielding(ngx, "eof", func(L *glua.LState) int {
		c := st.request(L, outputPhases)
		if c.rawSocketAcquired() {
			return pushErr(L, "raw request socket acquired")
		}
		if L.GetTop() != 0 {
			L.RaiseError("no argument is expected")
		}
		if c.eof {
			L.Push(glua.LNil)
			L.Push(glua.LString("seen eof"))
			return 2
		}
		rc := c.sendEOF()
		if rc == http.Error || rc >= 300 {
			L.Push(glua.LNil)
			L.Push(glua.LString("nginx output filter error"))
			return 2
		}
		L.Push(glua.LTrue)
		return 1
	})
	st.vm.RegisterYielding(ngx, "flush", func(L *glua.LState) int { return st.flush(L) })
	st.vm.RegisterYielding(ngx, "sleep", func(L *glua.LState) int { return st.sleep(L) })

	// ngx.status, ngx.ctx and the like are properties: a metatable on ngx.
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *glua.LState) int {
		key := L.CheckString(2)
		switch key {
		case "ctx":
			c := st.cur()
			if c == nil || c.r == nil && c.phase&(PhaseTimer|PhaseInitWorker) == 0 {
				L.RaiseError("no request found")
			}
			if c.ctxTable == nil {
				c.ctxTable = L.NewTable()
				c.ctxCreated()
			}
			L.Push(c.ctxTable)
			return 1
		}
		if g, ok := propertyGetters[key]; ok {
			return g(st, L)
		}
		L.Push(glua.LNil)
		return 1
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *glua.LState) int {
		key := L.CheckString(2)
		switch key {
		case "ctx":
			c := st.cur()
			if c == nil || c.r == nil && c.phase&(PhaseTimer|PhaseInitWorker) == 0 {
				L.RaiseError("no request found")
			}
			t, ok := L.Get(3).(*glua.LTable)
			if !ok {
				L.RaiseError("ctx should be a table while getting a %s value", L.Get(3).Type().String())
			}
			if c.ctxTable == nil {
				c.ctxCreated()
			}
			c.ctxTable = t
			return 0
		}
		if s, ok := propertySetters[key]; ok {
			return s(st, L)
		}
		ngx.RawSetString(key, L.Get(3))
		return 0
	}))
	L.SetMetatable(ngx, mt)
}

// propertyGetters and propertySetters extend ngx's metatable with the
// properties other API files define (ngx.header, ngx.var, ngx.arg...).
var (
	propertyGetters = map[string]func(st *loopState, L *glua.LState) int{}
	propertySetters = map[string]func(st *loopState, L *glua.LState) int{}
)

// appendOutput formats ngx.say/print arguments: strings, numbers,
// booleans, nil, ngx.null and array tables of those (flattened).
func (st *loopState) appendOutput(L *glua.LState, b []byte, v glua.LValue, arg int, fname string) []byte {
	switch x := v.(type) {
	case glua.LString:
		return append(b, x...)
	case glua.LNumber:
		return luavm.AppendNumber(b, float64(x))
	case glua.LBool:
		if x {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case *glua.LNilType:
		return append(b, "nil"...)
	case *glua.LUserData:
		if x == st.vm.Null() {
			return append(b, "null"...)
		}
	case *glua.LTable:
		return st.appendTable(L, b, x, arg, fname)
	}
	L.ArgError(arg, "string, number, boolean, nil, ngx.null, or array table expected, got "+v.Type().String())
	return b
}

// appendTable flattens an array table as ngx_lua's output does: its keys
// must all be positive integers; the elements from 1 to the largest key
// are written, a missing one as "nil", booleans and ngx.null as words,
// nested tables flattened.
func (st *loopState) appendTable(L *glua.LState, b []byte, t *glua.LTable, arg int, fname string) []byte {
	max, _, ok := ltable.ArrayKeys(t)
	if !ok {
		L.RaiseError("bad argument #%d to '%s' (non-array table found)", arg, fname)
	}
	for i := 1; i <= int(max); i++ {
		switch x := t.RawGetInt(i).(type) {
		case glua.LString:
			b = append(b, x...)
		case glua.LNumber:
			b = luavm.AppendNumber(b, float64(x))
		case glua.LBool:
			if x {
				b = append(b, "true"...)
			} else {
				b = append(b, "false"...)
			}
		case *glua.LNilType:
			b = append(b, "nil"...)
		case *glua.LTable:
			b = st.appendTable(L, b, x, arg, fname)
		default:
			if x == st.vm.Null() {
				b = append(b, "null"...)
				continue
			}
			L.RaiseError("bad argument #%d to '%s' (bad data type %s found)", arg, fname, x.Type().String())
		}
	}
	return b
}

// putSayBuf gives ngx.say's buffer back unless it grew large.
func (st *loopState) putSayBuf(b []byte) {
	if cap(b) <= 64<<10 {
		st.sayBuf = b[:0]
	}
}

// say is ngx.say (newline) and ngx.print.
func (st *loopState) say(L *glua.LState, newline bool) int {
	c := st.request(L, outputPhases)
	if c.rawSocketAcquired() {
		return pushErr(L, "raw request socket acquired")
	}
	if c.r.HeaderOnly {
		return pushErr(L, "header only")
	}
	fname := "print"
	if newline {
		fname = "say"
	}
	b := st.sayBuf[:0]
	st.sayBuf = nil
	for i, n := 1, L.GetTop(); i <= n; i++ {
		b = st.appendOutput(L, b, L.Get(i), i, fname)
	}
	if newline {
		b = append(b, '\n')
	}
	// output copies what it keeps (the filters see the bytes as not
	// owned), so the buffer is free again once it returns.
	defer st.putSayBuf(b)
	if len(b) == 0 && !c.eof {
		// nothing to print: only the head goes out, before any HTTP/1.0
		// buffering is decided (ngx_http_lua_ngx_echo).
		if rc := c.sendHeaderIfNeeded(); rc == http.Error || rc > http.OK {
			return pushErr(L, "nginx output filter error")
		}
		L.Push(glua.LNumber(1))
		return 1
	}
	c.out.seenBody = true
	if c.eof {
		L.Push(glua.LNil)
		L.Push(glua.LString("seen eof"))
		return 2
	}
	rc := c.output(b, false)
	if rc == http.Error || rc >= 300 {
		L.Push(glua.LNil)
		L.Push(glua.LString("nginx output filter error"))
		return 2
	}
	L.Push(glua.LNumber(1))
	return 1
}

// flush is ngx.flush([wait]) (ngx_http_lua_ngx_flush): nothing happens
// before the response head or any body went out, and HTTP/1.0 buffering
// makes it a no-op; with wait the thread waits until the output has
// drained.
func (st *loopState) flush(L *glua.LState) int {
	n := L.GetTop()
	if n > 1 {
		luavm.Raise(L, "attempt to pass %d arguments, but accepted 0 or 1", n)
	}
	wait := false
	if c := st.cur(); n == 1 && (c == nil || c.r == nil || c.r == c.r.Main) {
		// a subrequest's flush never waits.
		v, ok := L.Get(1).(glua.LBool)
		if !ok {
			luavm.TypeError(L, 1, "boolean")
		}
		wait = bool(v)
	}
	c := st.request(L, outputPhases)
	if c.rawSocketAcquired() {
		return pushErr(L, "raw request socket acquired")
	}
	if c.r.HeaderOnly {
		return pushErr(L, "header only")
	}
	if c.eof {
		return pushErr(L, "seen eof")
	}
	if c.out.buffering {
		c.logDebug("lua http 1.0 buffering makes ngx.flush() a no-op")
		return pushErr(L, "buffering")
	}
	if !c.r.HeaderSent && !c.headersSent || !c.out.seenBody && !wait {
		return pushErr(L, "nothing to flush")
	}
	if rc := c.r.SendFlush(); rc == http.Error || rc >= 300 {
		return pushErr(L, "nginx output filter error")
	}
	ec := c.r.Conn.EventConn()
	// nginx's output chain has written what it could by now.
	if written := ec.WriteNow(); wait && (!written || ec.Delayed()) {
		delayed := 0
		if ec.Delayed() {
			delayed = 1
		}
		c.logDebug("lua flush requires waiting: buffered 0x%x, delayed:%d", ec.Buffered(), delayed)
		return st.waitFlush(L, c)
	}
	c.logDebug("lua flush asynchronously")
	L.Push(glua.LNumber(1))
	return 1
}

// sleep is ngx.sleep(seconds) (ngx_http_lua_ngx_sleep): the thread waits
// on a loop timer of whole milliseconds.
func (st *loopState) sleep(L *glua.LState) int {
	if n := L.GetTop(); n != 1 {
		luavm.Raise(L, "attempt to pass %d arguments, but accepted 1", n)
	}
	c := st.cur()
	if c == nil || c.phase == PhaseInit {
		luavm.Raise(L, "no request found")
	}
	delay := int64(float64(L.CheckNumber(1)) * 1000)
	if delay < 0 {
		luavm.Raise(L, "invalid sleep duration \"%d\"", delay)
	}
	if c.phase&sleepPhases == 0 {
		luavm.Raise(L, "API disabled in the context of %s", c.phase.contextName())
	}
	if delay == 0 {
		// nginx without OpenResty's delayed-events patch, as Debian's.
		c.logf(errlog.Warn, "ngx.sleep(0) called without delayed events patch, this will hurt performance")
	}
	c.logDebug("lua ready to sleep for %d ms", delay)
	if !st.vm.CanSuspend(L) {
		// ngx_lua arms the timer before its yield fails; the thread's
		// end then cleans it up.
		c.logDebug("lua clean up the timer for pending ngx.sleep")
		st.vm.CheckYieldable(L)
	}
	co := st.curCo()
	t := st.ls.Loop().AfterFunc(time.Duration(delay)*time.Millisecond, func() {
		if r := c.r; r != nil {
			c.logDebug("lua sleep timer expired: \"%s?%s\"", r.URI, r.Args)
		} else {
			c.logDebug("lua sleep timer expired: \"?\"")
		}
		co.wake()
	})
	co.cancel = func() {
		if t.Stop() {
			c.logDebug("lua clean up the timer for pending ngx.sleep")
		}
	}
	return st.vm.Suspend(L)
}
