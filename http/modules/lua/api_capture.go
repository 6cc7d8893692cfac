package lua

import (
	"strconv"
	"strings"

	glua "github.com/yuin/gopher-lua"

	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
	"gresty/luavm"
)

// ngx.location.capture and capture_multi (ngx_http_lua_subrequest.c) and
// the capture filters (ngx_http_lua_capturefilter.c). The calling thread
// waits while its subrequests run; each one's response is caught by the
// capture filters, below header_filter_by_lua and body_filter_by_lua and
// above every other filter, so nothing of it reaches the client. The
// thread resumes with one table per subrequest once all have finished.

func init() { registerAPI(installCapture) }

func installCapture(st *loopState) {
	L := st.vm.L
	loc := L.NewTable()
	st.vm.RegisterYielding(loc, "capture", func(L *glua.LState) int { return st.capture(L) })
	st.vm.RegisterYielding(loc, "capture_multi", func(L *glua.LState) int {
		if n := L.GetTop(); n != 1 {
			luavm.Raise(L, "only one argument is expected, but got %d", n)
		}
		t, ok := L.Get(1).(*glua.LTable)
		if !ok {
			luavm.TypeError(L, 1, "table")
		}
		return st.captureMulti(L, t)
	})
	st.ngx.RawSetString("location", loc)
}

// captureState is one ngx.location.capture(_multi) of a thread: its
// subrequests and what they answered.
type captureState struct {
	co      *coCtx
	recs    []*captureRec
	pending int
}

// captureRec is one captured subrequest (the subrequest's side of
// ngx_lua's ctx->capture and the parent's sr_statuses, sr_headers,
// sr_bodies and sr_flags).
type captureRec struct {
	state    *captureState
	sr       *http.Request
	parent   *reqCtx
	status   int
	body     []byte
	seenLast bool
	// ran is set once the post-subrequest handler ran.
	ran bool
}

// captureQuery is one checked query of capture_multi.
type captureQuery struct {
	path, args []byte
	method     httpparse.Method
	methodName string
	body       []byte
	hasBody    bool
	forward    bool
	share      bool
	copyVars   bool
	vars       [][2]string
	ctx        *glua.LTable
}

// capture is ngx.location.capture(uri, opts?): capture_multi of one.
func (st *loopState) capture(L *glua.LState) int {
	n := L.GetTop()
	if n != 1 && n != 2 {
		luavm.Raise(L, "expecting one or two arguments")
	}
	q := L.CreateTable(n, 0)
	for i := 1; i <= n; i++ {
		q.RawSetInt(i, L.Get(i))
	}
	t := L.CreateTable(1, 0)
	t.RawSetInt(1, q)
	return st.captureMulti(L, t)
}

// capturePhases are where subrequests may be issued.
const capturePhases = PhaseRewrite | PhaseAccess | PhaseContent

// captureMulti is ngx.location.capture_multi({{uri, opts?}, ...}).
func (st *loopState) captureMulti(L *glua.LState, t *glua.LTable) int {
	n := t.Len()
	if n == 0 {
		luavm.Raise(L, "at least one subrequest should be specified")
	}
	c := st.cur()
	if c == nil || c.r == nil && c.phase&(PhaseTimer|PhaseInitWorker) == 0 {
		luavm.Raise(L, "no request object found")
	}
	if c.phase&capturePhases == 0 {
		luavm.Raise(L, "API disabled in the context of %s", c.phase.contextName())
	}
	r := c.r
	// every query is checked before any subrequest is issued, so that
	// a bad one leaves none behind.
	qs := make([]captureQuery, n)
	for i := range qs {
		st.checkQuery(L, r, t, i, &qs[i])
	}
	st.vm.CheckYieldable(L)
	co := st.curCo()
	c.logDebug("lua location capture, uri:\"%s\" c:1", r.URI)
	state := &captureState{co: co}
	for i := range qs {
		q := &qs[i]
		if r.SubrequestsLeft() == 0 {
			r.Logf(errlog.Error, "lua subrequests cycle while processing \"%s\"", q.path)
			luavm.Raise(L, "failed to issue subrequest: %d", http.Error)
		}
		rec := &captureRec{state: state, parent: c}
		sr, err := r.Subrequest(q.path, q.args, http.SubrequestOptions{
			Method: q.method, MethodName: q.methodName, Detached: true, Post: rec.post,
		})
		if err != nil {
			luavm.Raise(L, "failed to issue subrequest: %d", http.Error)
		}
		rec.sr = sr
		c.logDebug("lua http subrequest \"%s?%s\"", q.path, q.args)
		if rc := adjustSubrequest(sr, r, q); rc != http.OK {
			sr.CancelSubrequest()
			luavm.Raise(L, "failed to adjust the subrequest: %d", rc)
		}
		sc := ctxOf(st, sr)
		if q.ctx != nil {
			sc.ctxTable = q.ctx
			sc.ctxCreated()
		}
		if c.sc.captures == nil {
			c.sc.captures = map[*http.Request]*captureRec{}
		}
		c.sc.captures[sr] = rec
		state.recs = append(state.recs, rec)
		state.pending++
	}
	co.sub = state
	c.rq.noAbort = true
	return st.vm.Suspend(L)
}

// checkQuery reads query i of capture_multi's table into q, raising
// ngx_lua's errors (which count queries from 0).
func (st *loopState) checkQuery(L *glua.LState, r *http.Request, t *glua.LTable, i int, q *captureQuery) {
	v := t.RawGetInt(i + 1)
	if v == glua.LNil {
		luavm.Raise(L, "only array-like tables are allowed")
	}
	qt, ok := v.(*glua.LTable)
	if !ok {
		luavm.Raise(L, "the query argument %d is not a table, but a %s", i, v.Type().String())
	}
	nargs := qt.Len()
	if nargs != 1 && nargs != 2 {
		luavm.Raise(L, "query argument %d expecting one or two arguments", i)
	}
	q.method, q.methodName = httpparse.MethodGET, "GET"
	var extraArgs string
	if nargs == 2 {
		opts, ok := qt.RawGetInt(2).(*glua.LTable)
		if !ok {
			luavm.Raise(L, "expecting table as the 2nd argument for subrequest %d, but got %s", i, qt.RawGetInt(2).Type().String())
		}
		switch a := opts.RawGetString("args").(type) {
		case *glua.LTable:
			extraArgs = argsFromTable(L, a)
		case *glua.LNilType:
		case glua.LString:
			extraArgs = string(a)
		case glua.LNumber:
			extraArgs = luavm.FormatNumber(float64(a))
		default:
			luavm.Raise(L, "Bad args option value")
		}
		switch vars := opts.RawGetString("vars").(type) {
		case *glua.LTable:
			vars.ForEach(func(k, v glua.LValue) {
				ks, ok := k.(glua.LString)
				if !ok {
					luavm.Raise(L, "attempt to use a non-string key in the \"vars\" option table")
				}
				var val string
				switch x := v.(type) {
				case glua.LString:
					val = string(x)
				case glua.LNumber:
					val = luavm.FormatNumber(float64(x))
				default:
					luavm.Raise(L, "attempt to use bad variable value type %s", v.Type().String())
				}
				q.vars = append(q.vars, [2]string{string(ks), val})
			})
		case *glua.LNilType:
		default:
			luavm.Raise(L, "Bad vars option value")
		}
		q.share = boolOption(L, opts, "share_all_vars", "Bad share_all_vars option value")
		q.copyVars = boolOption(L, opts, "copy_all_vars", "Bad copy_all_vars option value")
		q.forward = glua.LVAsBool(opts.RawGetString("always_forward_body"))
		switch m := opts.RawGetString("method").(type) {
		case *glua.LNilType:
		case glua.LNumber:
			q.method = httpparse.Method(int(m))
			q.methodName = ngxMethodNames[q.method]
		default:
			luavm.Raise(L, "Bad http request method")
		}
		switch x := opts.RawGetString("ctx").(type) {
		case *glua.LNilType:
		case *glua.LTable:
			q.ctx = x
		default:
			luavm.Raise(L, "Bad ctx option value type %s, expected a Lua table", x.Type().String())
		}
		switch b := opts.RawGetString("body").(type) {
		case *glua.LNilType:
		case glua.LString:
			q.body, q.hasBody = []byte(b), true
		case glua.LNumber:
			q.body, q.hasBody = []byte(luavm.FormatNumber(float64(b))), true
		default:
			luavm.Raise(L, "Bad http request body")
		}
	}
	var uri string
	switch u := qt.RawGetInt(1).(type) {
	case glua.LString:
		uri = string(u)
	case glua.LNumber:
		uri = luavm.FormatNumber(float64(u))
	default:
		// the URI sits third on ngx_lua's stack.
		luavm.ArgError(L, 3, "string expected, got "+u.Type().String())
	}
	path, args, ok := r.ParseUnsafeURI([]byte(uri))
	if !ok {
		luavm.Raise(L, "unsafe uri in argument #1: %s", uri)
	}
	q.path = append([]byte(nil), path...)
	switch {
	case len(args) == 0:
		if extraArgs != "" {
			q.args = []byte(extraArgs)
		}
	case extraArgs != "":
		q.args = append(append(append([]byte(nil), args...), '&'), extraArgs...)
	default:
		q.args = append([]byte(nil), args...)
	}
}

// boolOption reads a boolean option that may be absent.
func boolOption(L *glua.LState, opts *glua.LTable, name, bad string) bool {
	switch v := opts.RawGetString(name).(type) {
	case *glua.LNilType:
		return false
	case glua.LBool:
		return bool(v)
	}
	luavm.Raise(L, "%s", bad)
	return false
}

var contentLengthName = []byte("Content-Length")

// adjustSubrequest gives a new subrequest its method checks, body,
// headers and variables as ngx_http_lua_adjust_subrequest does. It
// returns OK, or the code capture reports ("failed to adjust the
// subrequest: N").
func adjustSubrequest(sr, r *http.Request, q *captureQuery) int {
	notChunked := false
	switch {
	case q.hasBody:
		sr.Body = http.NewMemoryBody(q.body)
	case !q.forward && q.method != httpparse.MethodPUT && q.method != httpparse.MethodPOST && r.ContentLength > 0:
		sr.Body = nil
	default:
		notChunked = !r.Chunked
	}
	in := make([]http.Header, 0, len(r.In)+1)
	if sr.Body != nil && !notChunked {
		n := sr.Body.Received
		in = append(in, http.Header{Name: contentLengthName, Value: strconv.AppendInt(nil, n, 10), Known: httpparse.HdrContentLength})
		sr.ContentLength = n
	} else if !notChunked {
		sr.ContentLength = -1
	}
	for _, h := range r.In {
		if !notChunked && len(h.Name) == len(contentLengthName) && strings.EqualFold(string(h.Name), "Content-Length") {
			continue
		}
		in = append(in, h)
	}
	sr.In = in
	if q.methodName == "" {
		r.Logf(errlog.Error, "unsupported HTTP method: %d", uint32(q.method))
		return http.Error
	}
	if !q.share {
		if q.copyVars {
			sr.CopyVariables()
		} else {
			sr.FreshVariables()
		}
	}
	for _, kv := range q.vars {
		name := strings.ToLower(kv[0])
		switch err := sr.AssignVariable(name, []byte(kv[1]), false); err {
		case nil:
		case http.ErrVarNotChangeable:
			r.Logf(errlog.Error, "variable \"%s\" not changeable", name)
			return 500
		default:
			r.Logf(errlog.Error, "variable \"%s\" cannot be assigned a value (maybe you forgot to define it first?) ", name)
			return http.Error
		}
	}
	return http.OK
}

// post is the subrequest's post-subrequest handler
// (ngx_http_lua_post_subrequest): it records the status and wakes the
// parent's thread once the last of its subrequests has finished.
func (rec *captureRec) post(sr *http.Request, rc int) int {
	if rec.ran {
		sr.MakeActive()
		return http.OK
	}
	rec.ran = true
	pc := rec.parent
	sr.Logf(errlog.Debug, "lua run post subrequest handler, rc:%d c:1", rc)
	state := rec.state
	state.pending--
	if state.pending == 0 {
		pc.rq.noAbort = false
		pc.sc.capDone = append(pc.sc.capDone, state)
	}
	pc.watchCaptures()
	rec.status = sr.Out.Status
	if rec.status == 0 {
		switch {
		case rc == http.OK:
			rec.status = 200
		case rc == http.Error:
			rec.status = 500
		case rc >= 100:
			rec.status = rc
		}
	}
	sr.MakeActive()
	if rc == http.Error || rc == 201 || rc == 204 || rc >= 300 && rc != 444 && rc != 408 && rc != 499 {
		if rc > 0 {
			// ngx_lua answers for nginx's special response handler: an
			// empty response of that status.
			sr.Out.Status = rc
			sr.Out.ContentType = ""
			sr.Out.ContentLength = 0
			sr.Out.DelKnown(httpparse.HdrAcceptRanges)
			sr.Out.LastModified = -1
			sr.Out.DelKnown(httpparse.HdrLastModified)
			if st := stateOf(sr); st != nil {
				if rc := ctxOf(st, sr).sendHeaderIfNeeded(); rc == http.Error {
					return http.Error
				}
			}
		}
		return http.OK
	}
	return rc
}

// watchCaptures makes the parent request's wake-up (it is posted when one
// of its subrequests finishes) resume the threads whose captures are
// complete, as ngx_lua sets the parent's write event handler.
func (c *reqCtx) watchCaptures() {
	if c.sc.capSaved {
		return
	}
	c.sc.capSaved = true
	r := c.r
	c.sc.capWH = r.WriteHandler()
	r.SetWriteHandler(func(r *http.Request) { c.capturesPosted() })
}

// capturesPosted resumes the threads whose subrequests have all
// finished (ngx_http_lua_subrequest_resume). The request's own write
// handler is back before they run: what they do next (another phase,
// another capture) starts from it.
func (c *reqCtx) capturesPosted() {
	done := c.sc.capDone
	c.sc.capDone = nil
	for _, state := range done {
		for _, rec := range state.recs {
			delete(c.sc.captures, rec.sr)
		}
	}
	if len(c.sc.captures) == 0 && c.sc.capSaved && c.r != nil {
		c.sc.capSaved = false
		c.r.SetWriteHandler(c.sc.capWH)
		c.sc.capWH = nil
	}
	for _, state := range done {
		co := state.co
		if co.sub == state {
			co.sub = nil
		}
		if co.status != coRunning || co.th == nil || !co.th.Alive() {
			continue
		}
		c.logDebug("lua run subrequests done, resuming lua thread")
		co.wake(c.captureResults(state)...)
	}
}

// captureResults builds the tables capture returns
// (ngx_http_lua_handle_subreq_responses).
func (c *reqCtx) captureResults(state *captureState) []glua.LValue {
	L := c.st.vm.L
	out := make([]glua.LValue, 0, len(state.recs))
	for _, rec := range state.recs {
		t := L.CreateTable(0, 4)
		t.RawSetString("status", glua.LNumber(rec.status))
		t.RawSetString("truncated", glua.LBool(!rec.seenLast))
		t.RawSetString("body", glua.LString(rec.body))
		t.RawSetString("header", responseHeaderTable(L, rec.sr))
		rec.body = nil
		out = append(out, t)
	}
	return out
}

// responseHeaderTable is res.header: the subrequest's response headers,
// repeated ones as lists, plus the ones nginx keeps apart.
func responseHeaderTable(L *glua.LState, sr *http.Request) *glua.LTable {
	out := &sr.Out
	h := L.CreateTable(0, len(out.Headers)+5)
	hasCL, hasLM := false, false
	for i := range out.Headers {
		hd := &out.Headers[i]
		if hd.Name == nil {
			continue
		}
		switch hd.Known {
		case httpparse.HdrContentLength:
			hasCL = true
		case httpparse.HdrLastModified:
			hasLM = true
		}
		key := glua.LString(hd.Name)
		val := glua.LString(hd.Value)
		switch prev := h.RawGet(key).(type) {
		case *glua.LNilType:
			h.RawSet(key, val)
		case *glua.LTable:
			prev.Append(val)
		default:
			list := L.CreateTable(4, 0)
			list.Append(prev)
			list.Append(val)
			h.RawSet(key, list)
		}
	}
	if out.ContentType != "" {
		h.RawSetString("Content-Type", glua.LString(out.ContentType))
	}
	if !hasCL && out.ContentLength >= 0 {
		h.RawSetString("Content-Length", glua.LNumber(out.ContentLength))
	}
	if loc := out.Known(httpparse.HdrLocation); loc != nil && len(loc.Value) > 0 {
		h.RawSetString("Location", glua.LString(loc.Value))
	}
	if out.LastModified != -1 {
		switch out.Status {
		case 200, 206, 304, 204:
			if !hasLM {
				h.RawSetString("Last-Modified", glua.LString(gmtime(out.LastModified).Format("Mon, 02 Jan 2006 15:04:05 GMT")))
			}
		}
	}
	return h
}

// captureRecOf returns the capture record of a subrequest issued by
// ngx.location.capture, nil for any other request.
func captureRecOf(r *http.Request) *captureRec {
	if r == r.Main || r.Parent == nil {
		return nil
	}
	pc, ok := r.Parent.Ctx(Module.TypeIndex).(*reqCtx)
	if !ok || pc == nil {
		return nil
	}
	return pc.sc.captures[r]
}

// captureHeaderFilter keeps a captured subrequest's response head from
// the filters below it (ngx_http_lua_capture_header_filter).
func captureHeaderFilter(next http.HeaderFilterFunc) http.HeaderFilterFunc {
	return func(r *http.Request) int {
		debug := r.Log().Enabled(errlog.Debug)
		if debug {
			r.Logf(errlog.Debug, "lua capture header filter, uri \"%s\"", r.URI)
		}
		rec := captureRecOf(r)
		if rec == nil {
			return next(r)
		}
		if debug {
			r.Logf(errlog.Debug, "lua capturing response body")
		}
		r.HeaderSent = true
		if sc, ok := r.Ctx(Module.TypeIndex).(*reqCtx); ok && sc != nil {
			sc.headersSent = true
		}
		if r.Method == httpparse.MethodHEAD {
			r.HeaderOnly = true
		}
		return http.OK
	}
}

// captureBodyFilter collects a captured subrequest's body
// (ngx_http_lua_capture_body_filter).
func captureBodyFilter(next http.BodyFilterFunc) http.BodyFilterFunc {
	return func(r *http.Request, in []http.Buf) int {
		if r.Log().Enabled(errlog.Debug) {
			r.Logf(errlog.Debug, "lua capture body filter, uri \"%s\"", r.URI)
		}
		if len(in) == 0 {
			return next(r, in)
		}
		rec := captureRecOf(r)
		if rec == nil {
			return next(r, in)
		}
		if rec.ran {
			r.Logf(errlog.Debug, "lua body filter skipped because post subrequest already run")
			return http.OK
		}
		for i := range in {
			b := &in[i]
			if b.File != nil {
				buf := make([]byte, b.FileLen)
				if _, err := b.File.ReadAt(buf, b.FilePos); err != nil {
					r.Logf(errlog.Crit, "pread() \"%s\" failed %s", b.File.Name(), errlog.Errno(err))
					return http.Error
				}
				rec.body = append(rec.body, buf...)
			} else {
				rec.body = append(rec.body, b.Data...)
			}
			if b.Last || b.LastInChain {
				rec.seenLast = true
			}
		}
		return http.OK
	}
}
