package lua

import (
	"strings"

	glua "github.com/yuin/gopher-lua"

	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
	"gresty/luavm"
)

// The ngx API that ends a phase's code early: ngx.exit, ngx.exec,
// ngx.redirect and the jump of ngx.req.set_uri, and what the phase then
// returns (ngx_lua's ngx_http_lua_handle_exit, _handle_exec and
// _handle_rewrite_jump).

func init() { registerAPI(installCtl) }

// reqExt is the request context's state for the request and response
// API.
type reqExt struct {
	// jump is set by ngx.req.set_uri(uri, true): the location is searched
	// again after the rewrite phase.
	jump bool
	// exec, execURI and execArgs are ngx.exec's internal redirect.
	exec     bool
	execURI  []byte
	execArgs []byte
	// noAbort is set while subrequests of the running code are pending:
	// nothing may end the request's code then.
	noAbort bool
	// body is the body ngx.req.init_body started.
	body *bodyBuilder
	// bodyRead and bodyWait track lua_need_request_body's read before
	// rewrite and access code.
	bodyRead, bodyWait bool
}

func installCtl(st *loopState) {
	st.vm.RegisterYielding(st.ngx, "exec", func(L *glua.LState) int { return st.exec(L) })
	st.vm.RegisterYielding(st.ngx, "redirect", func(L *glua.LState) int { return st.redirect(L) })
}

// ctlPhases are where ngx.exec and ngx.redirect may run.
const ctlPhases = PhaseRewrite | PhaseServerRewrite | PhaseAccess | PhaseContent

// exit is ngx.exit(status), as lua-resty-core's exit.lua with
// ngx_http_lua_ffi_exit: the phase's code stops here, except in a header
// filter, where it returns.
func (st *loopState) exit(L *glua.LState) int {
	c := st.cur()
	if c == nil || c.phase == PhaseInit {
		luavm.Raise(L, "no request found")
	}
	code := checkInteger(L, 1)
	if code == http.Again || code == http.Done {
		luavm.Raise(L, "bad argument to 'ngx.exit': does not accept NGX_AGAIN or NGX_DONE")
	}
	if c.phase&exitPhases == 0 {
		luavm.Raise(L, "API disabled in the context of %s", c.phase.contextName())
	}
	if c.rq.noAbort && code != http.Error && code != 444 && code != 408 && code != 499 {
		luavm.Raise(L, "attempt to abort with pending subrequests")
	}
	if r := c.r; r != nil && (r.HeaderSent || c.headersSent) && code >= 300 && code != 408 && code != 499 && code != 444 {
		if code != r.Out.Status {
			r.Logf(errlog.Error, "attempt to set status %d via ngx.exit after sending out the response status %d", code, r.Out.Status)
		}
		code = 200
	}
	c.exited = true
	c.exitCode = code
	if c.phase&(PhaseHeaderFilter|PhaseBalancer) != 0 {
		return 0
	}
	return st.vm.Suspend(L)
}

// exec is ngx.exec(uri, args?): an internal redirect once the thread has
// stopped.
func (st *loopState) exec(L *glua.LState) int {
	n := L.GetTop()
	if n != 1 && n != 2 {
		luavm.Raise(L, "expecting one or two arguments, but got %d", n)
	}
	c := st.cur()
	if c == nil || c.r == nil && c.phase&(PhaseTimer|PhaseInitWorker) == 0 {
		// a timer has a (fake) request in ngx_lua: the phase check
		// answers.
		luavm.Raise(L, "no request object found")
	}
	uri := checkLuaString(L, 1)
	if uri == "" {
		luavm.Raise(L, "The uri argument is empty")
	}
	if c.phase&ctlPhases == 0 {
		luavm.Raise(L, "API disabled in the context of %s", c.phase.contextName())
	}
	if c.rq.noAbort {
		luavm.Raise(L, "attempt to abort with pending subrequests")
	}
	path, args, ok := httpparse.CheckUnsafeURI(nil, []byte(uri))
	if !ok {
		c.r.Logf(errlog.Error, "unsafe URI \"%s\" was detected", uri)
		luavm.Raise(L, "unsafe uri")
	}
	var user []byte
	if n == 2 {
		switch v := L.Get(2).(type) {
		case glua.LString:
			user = []byte(v)
		case glua.LNumber:
			user = []byte(luavm.FormatNumber(float64(v)))
		case *glua.LTable:
			user = []byte(argsFromTable(L, v))
		case *glua.LNilType:
		default:
			luavm.ArgError(L, 2, "string, number, or table expected, but got "+v.Type().String())
		}
	}
	if len(user) > 0 {
		if len(args) == 0 {
			args = user
		} else {
			args = append(append(append([]byte(nil), args...), '&'), user...)
		}
	}
	r := c.r
	if r.HeaderSent || c.headersSent {
		luavm.Raise(L, "attempt to call ngx.exec after sending out response headers")
	}
	c.rq.exec = true
	c.rq.execURI = append([]byte(nil), path...)
	c.rq.execArgs = append([]byte(nil), args...)
	return st.vm.Suspend(L)
}

// redirect is ngx.redirect(uri, status?): a Location header and the
// status, then the thread stops as with ngx.exit.
func (st *loopState) redirect(L *glua.LState) int {
	n := L.GetTop()
	if n != 1 && n != 2 {
		luavm.Raise(L, "expecting one or two arguments")
	}
	uri := checkLuaString(L, 1)
	status := 302
	if n == 2 {
		num, ok := L.Get(2).(glua.LNumber)
		if !ok {
			if s, isStr := L.Get(2).(glua.LString); isStr {
				if f, ok2 := luavm.ParseNumber(string(s)); ok2 {
					num, ok = glua.LNumber(f), true
				}
			}
			if !ok {
				luavm.TypeError(L, 2, "number")
			}
		}
		status = int(num)
		switch status {
		case 301, 302, 303, 307, 308:
		default:
			luavm.Raise(L, "only ngx.HTTP_MOVED_TEMPORARILY, ngx.HTTP_MOVED_PERMANENTLY, ngx.HTTP_PERMANENT_REDIRECT, ngx.HTTP_SEE_OTHER, and ngx.HTTP_TEMPORARY_REDIRECT are allowed")
		}
	}
	c := st.cur()
	if c == nil || c.r == nil && c.phase&(PhaseTimer|PhaseInitWorker) == 0 {
		// a timer has a (fake) request in ngx_lua: the phase check
		// answers.
		luavm.Raise(L, "no request object found")
	}
	if c.phase&ctlPhases == 0 {
		luavm.Raise(L, "API disabled in the context of %s", c.phase.contextName())
	}
	if c.rq.noAbort {
		luavm.Raise(L, "attempt to abort with pending subrequests")
	}
	r := c.r
	if r.HeaderSent || c.headersSent {
		luavm.Raise(L, "attempt to call ngx.redirect after sending out the headers")
	}
	if b, bad := unsafeURIByte(uri); bad {
		luavm.Raise(L, "unsafe byte \"0x%02x\" in redirect uri \"%s\"", b, escapeLog(uri))
	}
	r.Out.Add([]byte("Location"), []byte(uri))
	if uri == "" || uri[0] == '/' {
		// ngx_lua does not make a relative redirect nginx's Location:
		// the header filter leaves it relative.
		r.Out.DetachLocation()
	}
	r.Out.Status = status
	c.exited = true
	c.exitCode = status
	return st.vm.Suspend(L)
}

// stopsThread tells whether the code asked to end the phase (ngx.exit,
// ngx.exec, ngx.redirect, a URI jump): the suspended thread is then
// abandoned rather than waiting.
func (c *reqCtx) stopsThread() bool {
	return c.exited || c.rq.exec || c.rq.jump
}

// abandon ends the phase's code after a thread stopped it: every thread
// of the request is killed and the phase gets its result.
func (c *reqCtx) abandon(th *luavm.Thread) int {
	// cleanup kills th with the others.
	c.cleanup()
	switch {
	case c.rq.jump:
		return c.jumpResult()
	case c.rq.exec:
		return c.execResult()
	}
	return c.exitResult()
}

// exitResult is the phase's result after ngx.exit(code) or ngx.redirect
// (ngx_http_lua_handle_exit).
func (c *reqCtx) exitResult() int {
	code := c.exitCode
	r := c.r
	if r == nil {
		return code
	}
	if !r.HeaderSent && !c.headersSent && r.Out.Status == 0 && code >= 200 {
		r.Out.Status = code
	}
	if c.out.buffering && r.Out.Status != 0 && code != http.Error && code != 408 && code != 499 && code != 444 {
		if rc := c.sendEOF(); rc == http.Error || rc >= 300 {
			return rc
		}
		if code >= 200 {
			return 200
		}
		return code
	}
	if (code == http.OK && c.phase == PhaseContent) || (code >= 200 && code < 300 && code != 204) {
		if rc := c.sendEOF(); rc == http.Error || rc >= 300 {
			return rc
		}
	}
	if (r.HeaderSent || c.headersSent) && code > http.OK && code != 408 && code != 499 && code != 444 {
		if c.phase == PhaseContent {
			return http.OK
		}
		return 200
	}
	if c.phase == PhaseContent && code < http.OK && code != http.Error {
		// ngx.exit(ngx.DECLINED) and the like end the content phase
		// as done (ngx_http_lua_content_by_chunk).
		return http.OK
	}
	return code
}

// execResult performs ngx.exec's redirect (ngx_http_lua_handle_exec) and
// returns Done: the request goes on elsewhere. Outside the content phase
// the reference the redirect took is dropped here, as ngx_lua's phase
// handlers do; the content phase's caller drops it.
func (c *reqCtx) execResult() int {
	r := c.r
	uri, args := c.rq.execURI, c.rq.execArgs
	c.rq.exec = false
	content := c.phase == PhaseContent
	if len(uri) > 0 && uri[0] == '@' {
		if len(args) > 0 {
			r.Logf(errlog.Warn, "query strings %s ignored when exec'ing named location %s", args, uri)
		}
		r.NamedLocation(string(uri))
	} else {
		r.InternalRedirect(uri, args)
	}
	if !content {
		r.Finalize(http.Done)
	}
	return http.Done
}

// jumpResult ends the rewrite phase after ngx.req.set_uri(uri, true): the
// Lua context starts afresh and the location is searched again
// (ngx_http_lua_handle_rewrite_jump).
func (c *reqCtx) jumpResult() int {
	c.rq = reqExt{}
	c.ctxTable = nil
	c.exited = false
	c.exitCode = 0
	return http.Declined
}

// loadFailStatus is the status a phase answers with when its code cannot
// be loaded (ngx_http_lua_cache_loadfile): 404 for a missing file, 503
// for one that cannot be read, 500 for code that does not compile.
func loadFailStatus(h *Handler, err error) int {
	if h.File == "" {
		return 500
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, ": cannot open ") && strings.HasSuffix(msg, ": No such file or directory"):
		return 404
	case strings.Contains(msg, ": cannot open ") || strings.Contains(msg, ": cannot read "):
		return 503
	}
	return 500
}
