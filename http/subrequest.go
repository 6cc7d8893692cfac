package http

import (
	"gresty/core"
	"gresty/errlog"
	"gresty/httpparse"
)

// Subrequests (echo_location, ngx.location.capture, auth_request, SSI-style
// includes) run a request for another URI inside the main one, as nginx's
// ngx_http_subrequest: they share the connection, the request headers and
// the variables of their parent, and run the phases from server rewrite
// on, skipping access. Their output goes through the same filters; the
// postpone filter keeps the parts of the response in order: only the
// connection's active request (nginx's c->data) writes, the others'
// output waits in their parent's postponed list.

// SubrequestOptions are nginx's NGX_HTTP_SUBREQUEST_* flags and the
// post-subrequest handler.
type SubrequestOptions struct {
	// Method and MethodName replace GET.
	Method     httpparse.Method
	MethodName string
	// InMemory collects the response body in Request.SubBody instead of
	// sending it (up to subrequest_output_buffer_size).
	InMemory bool
	// Waited keeps the subrequest's result until its parent reads it.
	Waited bool
	// Background runs it without output (mirror).
	Background bool
	// Clone continues the parent's current phase and location with the
	// new URI (NGX_HTTP_SUBREQUEST_CLONE).
	Clone bool
	// Post is called when the subrequest finishes, with its result; it
	// returns the result the subrequest finalizes with.
	Post func(sr *Request, rc int) int
	// Detached keeps the subrequest out of its parent's postponed list,
	// as ngx_lua's own ngx_http_lua_subrequest does: a module that
	// captures the whole response itself (ngx.location.capture) orders
	// nothing, and its Post makes the subrequest the active request
	// (MakeActive) so that it finalizes at once.
	Detached bool
}

// postponedNode is a subrequest or a piece of output waiting its turn
// (ngx_http_postponed_request_t).
type postponedNode struct {
	req *Request
	out []Buf
}

// Subrequest creates a subrequest of r for uri?args and posts it to run
// (ngx_http_subrequest). It returns nil and logs nginx's error when the
// subrequest limit is reached or r is an in-memory subrequest.
func (r *Request) Subrequest(uri, args []byte, o SubrequestOptions) (*Request, error) {
	c := r.Conn
	mr := r.Main
	if r.subrequests == 0 {
		r.Logf(errlog.Error, "subrequests cycle while processing \"%s\"", uri)
		return nil, errSubrequest
	}
	if mr.count >= 65535-1000 {
		r.Logf(errlog.Crit, "request reference counter overflow while processing \"%s\"", uri)
		return nil, errSubrequest
	}
	if r.inMemory {
		r.Logf(errlog.Error, "nested in-memory subrequest \"%s\"", uri)
		return nil, errSubrequest
	}
	sr := c.srv.getRequest()
	mr.subs = append(mr.subs, sr)
	sr.Conn = c
	sr.Head = r.Head
	sr.Main = mr
	sr.Parent = r
	sr.Srv = r.Srv
	sr.Loc = r.Srv.Loc()
	sr.Out.reset()
	sr.In = r.In
	sr.Body = r.Body
	sr.Host = r.Host
	sr.Method, sr.MethodName = httpparse.MethodGET, "GET"
	if o.MethodName != "" {
		sr.Method, sr.MethodName = o.Method, o.MethodName
	}
	sr.HTTPVersion = r.HTTPVersion
	sr.URI, sr.Args = uri, args
	sr.Exten = extenOf(uri)
	sr.inMemory = o.InMemory
	sr.waited = o.Waited
	sr.background = o.Background
	sr.postSubrequest = o.Post
	// subrequests share their parent's variables, as in nginx.
	r.varSlots(len(c.cfg.Main.vars.indexed))
	sr.vars = r.vars
	sr.Internal = true
	sr.discardBody = r.discardBody
	sr.expectTested = true
	sr.uriChanges = 11
	sr.subrequests = r.subrequests - 1
	sr.StartTime = c.loopNow()
	sr.ContentLength = r.ContentLength
	sr.KeepAlive = false
	if !sr.background && !o.Detached {
		if c.active == r && len(r.postponed) == 0 {
			c.active = sr
		}
		r.postponed = append(r.postponed, &postponedNode{req: sr})
	}
	mr.count++
	if o.Clone {
		sr.Method, sr.MethodName = r.Method, r.MethodName
		sr.Loc = r.Loc
		sr.contentHandler = r.contentHandler
		sr.phase = r.phase
		sr.captures, sr.capSubj = r.captures, r.capSubj
		sr.updateLocationConfig()
		sr.writeHandler = (*Request).runPhases
	} else {
		sr.writeHandler = (*Request).startInternal
	}
	sr.post()
	return sr, nil
}

var errSubrequest = &core.Error{Msg: "subrequest failed"}

// startInternal runs an internal request's phases from server rewrite on
// (ngx_http_handler for an internal request).
func (r *Request) startInternal() {
	r.Conn.action = ""
	r.phase = r.Conn.cfg.Main.engine.serverRewriteIndex
	r.writeHandler = (*Request).runPhases
	r.runPhases()
}

// post queues r to have its write handler run (ngx_http_post_request);
// the connection runs posted requests after the current event.
func (r *Request) post() {
	mr := r.Main
	for _, p := range mr.posted {
		if p == r {
			return
		}
	}
	mr.posted = append(mr.posted, r)
	c := r.Conn
	if !c.postScheduled {
		c.postScheduled = true
		if c.runPostedFn == nil {
			c.runPostedFn = c.runPosted
		}
		c.srv.loop.Defer(c.runPostedFn)
	}
}

// runPosted runs the posted requests of the connection's request
// (ngx_http_run_posted_requests).
func (c *Conn) runPosted() {
	c.postScheduled = false
	for {
		if c.closed() || c.r == nil {
			return
		}
		mr := c.r
		if len(mr.posted) == 0 {
			return
		}
		r := mr.posted[0]
		mr.posted = mr.posted[1:]
		if r.writeHandler != nil {
			r.writeHandler(r)
		}
	}
}

// Post queues r's write handler, for modules that wake a request (a
// parent whose subrequest finished).
func (r *Request) Post() { r.post() }

// SetWriteHandler sets what runs when r is posted (nginx's
// r->write_event_handler); nil does nothing.
func (r *Request) SetWriteHandler(f func(r *Request)) { r.writeHandler = f }

// writer flushes held output and finalizes r once nothing is held
// (ngx_http_writer).
func (r *Request) writer() {
	rc := r.Output(nil)
	if rc == Error {
		r.Finalize(rc)
		return
	}
	if r.bufferedOutput() {
		return
	}
	r.writeHandler = nil
	r.Finalize(rc)
}

// finalizer finalizes r again when it is woken (ngx_http_request_finalizer).
func (r *Request) finalizer() { r.Finalize(OK) }

// finalizeSubrequest is the subrequest branch of ngx_http_finalize_request.
func (r *Request) finalizeSubrequest() {
	c := r.Conn
	if r.bufferedOutput() {
		r.writeHandler = (*Request).writer
		return
	}
	pr := r.Parent
	if r == c.active || r.background {
		if !r.logged {
			if r.Loc.LogSubrequest.V {
				r.runLogPhase()
			}
			r.logged = true
		} else {
			r.Logf(errlog.Alert, "subrequest: \"%s?%s\" logged again", r.URI, r.Args)
		}
		r.done = true
		if r.background {
			r.finalizeConnection()
			return
		}
		r.Main.count--
		if len(pr.postponed) > 0 && pr.postponed[0].req == r {
			pr.postponed = pr.postponed[1:]
		}
		c.active = pr
	} else {
		r.writeHandler = (*Request).finalizer
		if r.waited {
			r.done = true
		}
	}
	pr.post()
}

// Done tells whether a subrequest has finished.
func (r *Request) Done() bool { return r.done }

// PostponeFilterModule is ngx_http_postpone_filter_module.
var PostponeFilterModule = &core.Module{
	Name: "ngx_http_postpone_filter_module",
	Type: core.HTTPType,
	HTTP: &Hooks{Postconfiguration: func(cf *Conf) error {
		cf.addPostponeFilter(func(next BodyFilterFunc) BodyFilterFunc {
			return func(r *Request, in []Buf) int { return postponeFilter(r, in, next) }
		})
		return nil
	}},
}

func postponeFilter(r *Request, in []Buf, next BodyFilterFunc) int {
	c := r.Conn
	// what passes on is the main request's output, for the filters below
	// this one in its location's chain, whichever location r is in.
	if lc := r.Main.Loc; lc != nil && lc.filters != nil {
		next = lc.filters.below
	}
	if r.inMemory {
		return r.postponeInMemory(in)
	}
	if r != c.active {
		if len(in) > 0 {
			r.postponeAdd(in)
		}
		return OK
	}
	if len(r.postponed) == 0 {
		if len(in) > 0 {
			return next(r.Main, in)
		}
		return OK
	}
	if len(in) > 0 {
		r.postponeAdd(in)
	}
	for len(r.postponed) > 0 {
		pr := r.postponed[0]
		if pr.req != nil {
			r.postponed = r.postponed[1:]
			c.active = pr.req
			pr.req.post()
			return OK
		}
		if pr.out == nil {
			r.Logf(errlog.Alert, "http postpone filter NULL output")
		} else if next(r.Main, pr.out) == Error {
			return Error
		}
		r.postponed = r.postponed[1:]
	}
	return OK
}

// postponeAdd keeps output of an inactive request (copying what the caller
// does not own).
func (r *Request) postponeAdd(in []Buf) {
	var node *postponedNode
	if n := len(r.postponed); n > 0 && r.postponed[n-1].req == nil {
		node = r.postponed[n-1]
	} else {
		node = &postponedNode{}
		r.postponed = append(r.postponed, node)
	}
	for _, b := range in {
		if !b.Owned && len(b.Data) > 0 {
			b.Data = append([]byte(nil), b.Data...)
			b.Owned = true
		}
		node.out = append(node.out, b)
	}
}

// postponeInMemory collects an in-memory subrequest's body
// (ngx_http_postpone_filter_in_memory).
func (r *Request) postponeInMemory(in []Buf) int {
	limit := r.Loc.SubrequestOutputBufferSize.V
	for i := range in {
		b := &in[i]
		n := b.Size()
		if int64(len(r.SubBody))+n > limit {
			r.Logf(errlog.Error, "too big subrequest response while sending to client")
			return Error
		}
		if b.File != nil {
			data := make([]byte, b.FileLen)
			if _, err := b.File.ReadAt(data, b.FilePos); err != nil {
				r.Logf(errlog.Crit, "pread() \"%s\" failed %s", b.File.Name(), errlog.Errno(err))
				return Error
			}
			r.SubBody = append(r.SubBody, data...)
			continue
		}
		r.SubBody = append(r.SubBody, b.Data...)
	}
	return OK
}
