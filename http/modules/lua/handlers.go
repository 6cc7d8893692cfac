package lua

import (
	glua "github.com/yuin/gopher-lua"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/http/modules/rewrite"
	"gresty/luavm"
)

func stateOf(r *http.Request) *loopState {
	st, _ := r.LoopState(Module).(*loopState)
	if st == nil || r.Loc == nil {
		return st
	}
	if lc, ok := r.Loc.LocConfOf(Module).(*LocConf); ok && !lc.CodeCache.V {
		return st.requestState(r)
	}
	return st
}

// requestState returns the VM of a request in a location with
// lua_code_cache off. As ngx_lua, such a request runs in a Lua VM of its
// own, made for it (so require loads modules afresh and globals start
// clean) and set up by init_by_lua; the request and the timers it creates
// hold it, and it is closed with its connection pools when the last of
// them is done (vmRef).
func (st *loopState) requestState(r *http.Request) *loopState {
	if c, ok := r.Ctx(Module.TypeIndex).(*reqCtx); ok && c != nil && c.st.parent == st {
		return c.st
	}
	rs, err := newLoopState(st.cycle, st.main, st.ls)
	if err != nil {
		r.Logf(errlog.Error, "failed to create new Lua VM: %s", err)
		return st
	}
	rs.parent = st
	if st.main.Init != nil {
		if err := rs.runInit(st.main.Init); err != nil {
			r.Logf(errlog.Error, "%s", err)
			rs.vm.Close()
			return st
		}
	}
	return rs
}

func postconfiguration(cf *http.Conf) error {
	m := mainConf(cf)
	if m == nil {
		return nil
	}
	// init_by_lua runs at configuration time in nginx, so that a start
	// or a reload sees its errors (the loops' VMs run it again); not for
	// -t or -s, where ngx_lua starts no Lua at all.
	if !cf.Cycle.Test {
		if err := checkInit(cf, m); err != nil {
			return err
		}
	}
	// ngx_lua runs its rewrite and access handlers after the other
	// modules' of the same phase (the rewrite module's directives, allow
	// and deny come first).
	// As ngx_lua, a handler or filter is installed only when some
	// location uses its directive (the requires_* flags), so a server
	// that uses less Lua pays for less.
	var need struct{ rewrite, serverRewrite, access, log, header, body, capture bool }
	for _, l := range cf.AllLocations() {
		lc, ok := l.LocConfOf(Module).(*LocConf)
		if !ok {
			continue
		}
		need.rewrite = need.rewrite || lc.Rewrite != nil
		need.serverRewrite = need.serverRewrite || lc.ServerRewrite != nil
		need.access = need.access || lc.Access != nil
		need.log = need.log || lc.Log != nil
		need.header = need.header || lc.HeaderFilter != nil || lc.BodyFilter != nil
		need.body = need.body || lc.BodyFilter != nil
		need.capture = need.capture || lc.Rewrite != nil || lc.ServerRewrite != nil || lc.Access != nil || lc.Content != nil
		// content_by_lua is a location's exclusive content handler.
		if lc.Content != nil && !lc.contentInherited {
			l.Handler = contentHandler
		}
	}
	// ngx_lua runs its rewrite and access handlers after the other
	// modules' of the same phase (the rewrite module's directives, allow
	// and deny come first).
	// unless rewrite_by_lua_no_postpone (access_by_lua_no_postpone) says
	// otherwise: then they run first, as the phase's last registered.
	hl, _ := cf.HTTPLocConfOf(Module).(*LocConf)
	if need.rewrite {
		if hl != nil && hl.RewriteNoPostpone.V {
			cf.AddPhaseHandler(http.RewritePhase, rewriteHandler)
		} else {
			cf.AddPostponedPhaseHandler(http.RewritePhase, rewriteHandler)
		}
	}
	if need.access {
		if hl != nil && hl.AccessNoPostpone.V {
			cf.AddPhaseHandler(http.AccessPhase, accessHandler)
		} else {
			cf.AddPostponedPhaseHandler(http.AccessPhase, accessHandler)
		}
	}
	if need.serverRewrite {
		cf.AddPhaseHandler(http.ServerRewritePhase, serverRewriteHandler)
	}
	if need.log {
		cf.AddPhaseHandler(http.LogPhase, logHandler)
	}
	// ngx.location.capture's filters run right after
	// header_filter_by_lua's and body_filter_by_lua's, before every
	// other module's.
	if need.capture {
		cf.AddHeaderFilter(captureHeaderFilter)
		cf.AddBodyFilter(captureBodyFilter)
	}
	// the filters also log their debug line in every location, as
	// ngx_lua's do.
	if need.header {
		cf.AddHeaderFilterIf(func(l *http.LocConf) bool {
			lc, ok := l.LocConfOf(Module).(*LocConf)
			return ok && (lc.HeaderFilter != nil || lc.BodyFilter != nil) || cf.LocLog(l).Enabled(errlog.Debug)
		}, headerFilter)
	}
	if need.body {
		cf.AddBodyFilterIf(func(l *http.LocConf) bool {
			lc, ok := l.LocConfOf(Module).(*LocConf)
			return ok && lc.BodyFilter != nil || cf.LocLog(l).Enabled(errlog.Debug)
		}, bodyFilter)
	}
	return nil
}

// phaseHandler is the common body of the rewrite, server-rewrite and
// access handlers: the first call starts the code; when the code had to
// wait, the phases run again and the second call returns its result.
func phaseHandler(r *http.Request, h *Handler, phase Phase) int {
	if h == nil {
		return http.Declined
	}
	st := stateOf(r)
	if st == nil {
		return http.Declined
	}
	if c, ok := r.Ctx(Module.TypeIndex).(*reqCtx); ok && c != nil && c.entered && c.phase == phase {
		if !c.done {
			return http.Done
		}
		c.entered = false
		return c.phaseResult(c.result)
	}
	if rc := readBodyFirst(st, r); rc != http.OK {
		return rc
	}
	rc := runPhase(st, r, h, phase)
	if rc == http.Done {
		return http.Done
	}
	c := r.Ctx(Module.TypeIndex).(*reqCtx)
	c.entered = false
	return c.phaseResult(rc)
}

// phaseResult turns the code's result into the rewrite or access
// handler's: OK goes on (in the access phase it grants access), unless
// the code already sent a response, which then ends the request with
// 200 so that no later phase answers again (ngx_http_lua_rewrite_handler,
// ngx_http_lua_access_handler).
func (c *reqCtx) phaseResult(rc int) int {
	if rc != http.OK && rc != http.Declined {
		return rc
	}
	if (rc == http.OK || c.phase != PhaseAccess) && c.r.HeaderSent {
		if !c.eof {
			if rc := c.sendEOF(); rc == http.Error || rc > http.OK {
				return rc
			}
		}
		return 200
	}
	if rc == http.OK && c.phase == PhaseAccess {
		return http.OK
	}
	return http.Declined
}

func rewriteHandler(r *http.Request) int {
	if r.URIChanged() {
		return http.Declined
	}
	debugHandler(r, "rewrite")
	lc := r.Loc.LocConfOf(Module).(*LocConf)
	return phaseHandler(r, lc.Rewrite, PhaseRewrite)
}

func serverRewriteHandler(r *http.Request) int {
	lc := r.Srv.Loc().LocConfOf(Module).(*LocConf)
	return phaseHandler(r, lc.ServerRewrite, PhaseServerRewrite)
}

func accessHandler(r *http.Request) int {
	debugHandler(r, "access")
	lc := r.Loc.LocConfOf(Module).(*LocConf)
	return phaseHandler(r, lc.Access, PhaseAccess)
}

// debugHandler logs the debug line each of ngx_lua's phase handlers
// starts with.
func debugHandler(r *http.Request, which string) {
	if r.Log().Enabled(errlog.Debug) {
		r.Logf(errlog.Debug, "lua %s handler, uri:\"%s\" c:%d", which, r.URI, r.MainCount())
	}
}

// contentHandler is content_by_lua (ngx_http_lua_content_handler).
func contentHandler(r *http.Request) int {
	debugHandler(r, "content")
	st := stateOf(r)
	lc := r.Loc.LocConfOf(Module).(*LocConf)
	if st == nil || lc.Content == nil {
		return http.Declined
	}
	if lc.NeedRequestBody.V {
		rc := r.ReadBody(func(r *http.Request) {
			rc := runPhase(st, r, lc.Content, PhaseContent)
			if rc == http.Done {
				// the thread waits; it will finalize the request.
				r.Finalize(http.Done)
				return
			}
			r.Finalize(rc)
		})
		if rc != http.OK {
			return rc
		}
		return http.Done
	}
	return runPhase(st, r, lc.Content, PhaseContent)
}

// logHandler runs log_by_lua; its code cannot wait.
func logHandler(r *http.Request) int {
	debugHandler(r, "log")
	lc, ok := r.Loc.LocConfOf(Module).(*LocConf)
	if !ok || lc.Log == nil {
		return http.Declined
	}
	st := stateOf(r)
	if st == nil {
		return http.Declined
	}
	runSync(st, r, lc.Log, PhaseLog, "log_by_lua*")
	return http.OK
}

// runSync runs code that cannot wait (log, header and body filters,
// set_by_lua) on the VM's main state. It returns the code's results, and
// false when it failed (the failure is logged as ngx_lua logs it).
func runSync(st *loopState, r *http.Request, h *Handler, phase Phase, what string, args ...glua.LValue) ([]glua.LValue, bool) {
	lc := r.Loc.LocConfOf(Module).(*LocConf)
	f, err := st.fn(h, r, lc.CodeCache.V)
	if err != nil {
		r.Logf(errlog.Error, "%s", err)
		return nil, false
	}
	c := ctxOf(st, r)
	saved := c.phase
	c.phase = phase
	var rets []glua.LValue
	var lerr *luavm.Error
	st.withCtx(c, func() { rets, lerr = st.vm.Call(f, args...) })
	c.phase = saved
	if lerr != nil {
		text := "failed to run " + what + ": " + lerr.Msg()
		if lerr.Traceback != "" {
			text += "\n" + lerr.Traceback
		}
		r.Logf(errlog.Error, "%s", text)
		return nil, false
	}
	return rets, true
}

// headerFilter runs header_filter_by_lua.
func headerFilter(next http.HeaderFilterFunc) http.HeaderFilterFunc {
	return func(r *http.Request) int {
		if r.Log().Enabled(errlog.Debug) {
			r.Logf(errlog.Debug, "lua header filter for user lua code, uri \"%s\"", r.URI)
		}
		lc, ok := r.Loc.LocConfOf(Module).(*LocConf)
		if !ok || lc.HeaderFilter == nil {
			return next(r)
		}
		st := stateOf(r)
		if st == nil {
			return next(r)
		}
		c := ctxOf(st, r)
		wasExited, old := c.exited, 0
		if c.exited {
			old = c.exitCode
		}
		if _, ok := runSync(st, r, lc.HeaderFilter, PhaseHeaderFilter, "header_filter_by_lua*"); !ok {
			return http.Error
		}
		if c.exited && c.exitCode != old {
			// ngx.exit in the filter: the response is replaced by
			// the status's (ngx_http_filter_finalize_request).
			code := c.exitCode
			rc := http.Error
			if code != http.Error {
				rc = r.FilterFinalizeKeeping(Module, code)
			}
			// the exit was the filter's: the code whose output ran
			// the filter does not stop because of it.
			c.exited, c.exitCode = wasExited, old
			if rc == http.Error || rc == http.Again {
				return rc
			}
			return http.OK
		}
		return next(r)
	}
}

// bodyFilter runs body_filter_by_lua with ngx.arg[1] the chunk and
// ngx.arg[2] the eof flag (ngx_http_lua_body_filter).
func bodyFilter(next http.BodyFilterFunc) http.BodyFilterFunc {
	return func(r *http.Request, in []http.Buf) int {
		if r.Log().Enabled(errlog.Debug) {
			r.Logf(errlog.Debug, "lua body filter for user lua code, uri \"%s\"", r.URI)
		}
		lc, ok := r.Loc.LocConfOf(Module).(*LocConf)
		if !ok || lc.BodyFilter == nil || r.HeaderOnly {
			return next(r, in)
		}
		st := stateOf(r)
		if st == nil {
			return next(r, in)
		}
		c := ctxOf(st, r)
		if c.filterSeenLast || len(in) == 0 {
			// after the code's last buffer nothing more goes out.
			return next(r, nil)
		}
		var data []byte
		last, flush := false, false
		for i := range in {
			b := &in[i]
			if b.File != nil {
				buf := make([]byte, b.FileLen)
				if _, err := b.File.ReadAt(buf, b.FilePos); err != nil {
					r.Logf(errlog.Crit, "pread() \"%s\" failed %s", b.File.Name(), errlog.Errno(err))
					return http.Error
				}
				data = append(data, buf...)
			} else {
				data = append(data, b.Data...)
			}
			if b.Last || b.LastInChain {
				last = true
			}
			if b.Flush {
				flush = true
			}
		}
		c.filterIn, c.filterLast, c.filterFlush = data, last, flush
		rets, ok := runSync(st, r, lc.BodyFilter, PhaseBodyFilter, "body_filter_by_lua*")
		if !ok {
			return http.Error
		}
		if len(rets) > 0 {
			if rc, isNum := luaToInteger(rets[0]); isNum && (rc == http.Error || rc >= 300) {
				return http.Error
			}
		}
		if c.filterLast {
			c.filterSeenLast = true
		}
		if len(c.filterIn) == 0 && !c.filterLast && !c.filterFlush {
			return http.OK
		}
		out := []http.Buf{{Data: c.filterIn, Owned: true, Flush: c.filterFlush,
			Last: c.filterLast && r == r.Main, LastInChain: c.filterLast}}
		c.filterIn = nil
		return next(r, out)
	}
}

// luaToInteger is lua_tointeger of a phase's return value: a number or a
// numeric string, truncated.
func luaToInteger(v glua.LValue) (int, bool) {
	switch x := v.(type) {
	case glua.LNumber:
		return int(x), true
	case glua.LString:
		if f, ok := luavm.ParseNumber(string(x)); ok {
			return int(f), true
		}
	}
	return 0, false
}

// addSetStep makes set_by_lua a step of the rewrite module's script.
func addSetStep(p *core.Parser, d *conf.Directive, cf *http.Conf, name string, h *Handler) error {
	return rewrite.AddSet(p, d, name, func(r *http.Request) ([]byte, int) {
		st := stateOf(r)
		if st == nil {
			return nil, 500
		}
		args := make([]glua.LValue, len(h.Args))
		for i, t := range h.Args {
			args[i] = glua.LString(t.EvalString(r))
		}
		c := ctxOf(st, r)
		c.setArgs = args
		rets, ok := runSync(st, r, h, PhaseSet, "set_by_lua*", args...)
		c.setArgs = nil
		if !ok {
			return nil, 500
		}
		if len(rets) == 0 || rets[0] == glua.LNil {
			return []byte{}, 0
		}
		return []byte(st.vm.ToString(st.vm.L, rets[0]).String()), 0
	})
}
