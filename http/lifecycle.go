package http

import (
	"gresty/errlog"
)

// start runs a freshly parsed request: it selects the virtual server and
// enters the phases (ngx_http_process_request, ngx_http_handler).
func (r *Request) start() {
	c := r.Conn
	h := c.head
	c.action = "reading client request headers"
	for i := 0; i < h.NumIgnored(); i++ {
		r.Logf(errlog.Info, "client sent invalid header line: \"%s\"", h.Ignored(i))
	}
	c.action = ""
	if s, err := c.vs.find(r, r.Host); err != nil {
		r.Finalize(500)
		return
	} else if s != nil {
		r.Srv = s
		r.Loc = s.Loc()
	}
	if r.ContentLength > 0 || r.Chunked {
		c.lingering = true
	}
	r.phase = 0
	r.writeHandler = (*Request).runPhases
	r.runPhases()
}

// Hold keeps the request alive across an asynchronous operation (nginx's
// r->main->count++); the operation ends with Finalize.
func (r *Request) Hold() { r.Main.count++ }

// Finalize ends a stage of the request with rc, as
// ngx_http_finalize_request: OK finishes it (once its output is sent), a
// status >= 300 answers with that status, Declined goes on with the
// phases, Done drops a reference taken by Hold, Error and 408/499
// terminate it.
func (r *Request) Finalize(rc int) {
	c := r.Conn
	if rc == Done {
		r.finalizeConnection()
		return
	}
	if rc == OK && r.filterFinalize {
		// nginx only marks the connection failed here (c->error): the
		// filter that finalized returns an error to its own caller,
		// whose Finalize terminates the request once the response
		// queued by the special response has been sent.
		return
	}
	if rc == Declined {
		r.contentHandler = nil
		r.runPhases()
		return
	}
	if r != r.Main && r.postSubrequest != nil {
		rc = r.postSubrequest(r, rc)
	}
	if rc == Error || rc == 408 || rc == 499 || c.closed() || c.failed {
		r.Terminate(rc)
		return
	}
	if rc >= 300 || rc == 201 || rc == 204 {
		if rc == 444 {
			c.timedout = true
			r.Terminate(rc)
			return
		}
		if r == r.Main && c.timerKind == tmBody {
			c.stopTimer()
		}
		r.Finalize(r.specialResponse(rc))
		return
	}
	if r != r.Main {
		r.finalizeSubrequest()
		return
	}
	if r.bufferedOutput() {
		// held output (a subrequest's turn has not come): the writer
		// flushes it when the request is woken, then finalizes.
		r.writeHandler = (*Request).writer
		return
	}
	if r.finalized {
		return
	}
	r.finalized = true
	r.readHandler = nil
	r.finalizeConnection()
}

// bufferedOutput tells whether the response is still held by a filter
// (r->buffered) or subrequests are pending (r->postponed).
func (r *Request) bufferedOutput() bool {
	return r.buffered != 0 || len(r.postponed) > 0
}

// finalizeConnection is ngx_http_finalize_connection: with references
// left (a body being read or discarded, subrequests) it only drops one;
// with the last one it keeps the connection alive, lingers or closes.
func (r *Request) finalizeConnection() {
	mr := r.Main
	c := r.Conn
	if mr.count != 1 {
		r.closeRequest(0)
		return
	}
	if c.eof {
		r.closeRequest(0)
		return
	}
	if mr.Body != nil && mr.Body.reading {
		mr.KeepAlive = false
		c.lingering = true
	}
	if c.srv.exiting() {
		mr.KeepAlive = false
	}
	if mr.KeepAlive && mr.Loc.KeepaliveTimeout.V > 0 {
		mr.count = 0
		mr.free(0)
		c.requestDone(mr, true)
		return
	}
	r.closeRequest(0)
}

// closeRequest drops one reference of the main request, freeing it and
// closing the connection at the last one (ngx_http_close_request).
func (r *Request) closeRequest(rc int) {
	mr := r.Main
	mr.count--
	if mr.count > 0 {
		return
	}
	mr.free(rc)
	mr.Conn.requestDone(mr, false)
}

// Terminate ends the request at once: cleanups run, the response is cut,
// the connection closes (ngx_http_terminate_request).
func (r *Request) Terminate(rc int) {
	mr := r.Main
	if rc > 0 && (mr.Out.Status == 0 || !mr.HeaderSent) {
		mr.Out.Status = rc
	}
	mr.runCleanups()
	mr.KeepAlive = false
	mr.count = 1
	// output the write filter still held back is lost, as nginx
	// closes without sending it.
	mr.Conn.ec.DropHeld()
	mr.closeRequest(rc)
}

func (r *Request) runCleanups() {
	cl := r.cleanups
	r.cleanups = nil
	for i := len(cl) - 1; i >= 0; i-- {
		cl[i]()
	}
	if r.cleanups == nil {
		clear(cl)
		r.cleanups = cl[:0]
	}
	if len(r.files) > 0 {
		c := r.Conn
		for i, o := range r.files {
			c.releaseFile(o)
			r.files[i] = nil
		}
		r.files = r.files[:0]
	}
}

// free runs the log phase and releases the request's resources
// (ngx_http_free_request); the Request goes back to the pool when the
// connection is done with it.
func (r *Request) free(rc int) {
	if r.freed {
		return
	}
	r.freed = true
	r.runCleanups()
	if rc > 0 && (r.Out.Status == 0 || !r.HeaderSent) {
		r.Out.Status = rc
	}
	if !r.logged {
		r.logged = true
		c := r.Conn
		c.action = "logging request"
		r.runLogPhase()
		c.action = "closing request"
	}
	// nginx runs a pool's cleanups newest first.
	for i := len(r.poolCleanups) - 1; i >= 0; i-- {
		r.poolCleanups[i]()
		r.poolCleanups[i] = nil
	}
	r.poolCleanups = r.poolCleanups[:0]
	if r.Body != nil {
		r.Body.release()
	}
	c := r.Conn
	if c.timedout && r.Loc != nil && r.Loc.ResetTimedoutConnection.V {
		c.ec.Abort()
	}
	for _, sr := range r.subs {
		sr.runCleanups()
		c.srv.putRequest(sr)
	}
	r.subs = r.subs[:0]
	if c.active == r {
		c.active = nil
	}
	c.srv.putRequest(r)
}

// runLogPhase runs the log-phase handlers (ngx_http_log_request).
func (r *Request) runLogPhase() {
	for _, h := range r.Conn.cfg.Main.engine.logHandlers {
		h(r)
	}
}

// connClosed is called when the connection closed under a live request.
func (r *Request) connClosed() {
	mr := r.Main
	if mr.freed {
		return
	}
	if mr.Out.Status == 0 || !mr.lastSent {
		if !mr.HeaderSent || !mr.lastSent {
			mr.logStatus = 499
		}
	}
	mr.runCleanups()
	mr.free(0)
}

// ErrStatus returns the status the special response handler answers with.
func (r *Request) ErrStatus() int { return r.errStatus }

// DiscardBody discards the request body the handler will not read
// (ngx_http_discard_request_body); a body whose reading failed is not
// read again: its connection is closed. It returns OK, 400 for a malformed
// chunked body already received, or Error when the connection cannot be
// kept.
func (r *Request) DiscardBody() int {
	if r != r.Main || r.discardBody || (r.Body != nil && (r.Body.reading || r.Body.Done || r.Body.err != 0)) {
		return OK
	}
	if r.testExpect() != OK {
		return Error
	}
	r.discardBody = true
	if r.ContentLength <= 0 && !r.Chunked {
		return OK
	}
	return r.startDiscard()
}
