package http

// This file is what ngx_lua's timers and subrequests need of a connection
// and a request beyond the public fields. Every method here runs on the
// request's loop.

// ListenText returns the address of the listening socket the connection
// came in on, as nginx's addr_text of the listening ("0.0.0.0:80"):
// timers created by a request name it in their log lines.
func (c *Conn) ListenText() string { return c.la.Opt.Text }

// MakeActive makes r the request that may write to the connection (nginx's
// c->data = r), as ngx_lua's post-subrequest handler does for a detached
// subrequest so that its finalization completes at once.
func (r *Request) MakeActive() { r.Conn.active = r }

// WriteHandler returns what runs when r is posted (nginx's
// r->write_event_handler), so that a module that replaces it for a while
// can put it back.
func (r *Request) WriteHandler() func(r *Request) { return r.writeHandler }

// SubrequestsLeft returns how many more levels of subrequests r may
// create (r->subrequests); at 0 a new one is refused.
func (r *Request) SubrequestsLeft() int { return r.subrequests }

// CopyVariables gives a subrequest its own copy of its parent's variable
// values (ngx_lua's copy_all_vars). It is called right after Subrequest,
// before the subrequest runs.
func (r *Request) CopyVariables() {
	r.vars = append([]varValue(nil), r.Parent.vars...)
}

// CancelSubrequest undoes Subrequest for a detached subrequest that has
// not run yet (ngx_lua's ngx_http_lua_cancel_subreq): it is no longer
// posted, and its reference on the main request is dropped.
func (r *Request) CancelSubrequest() {
	mr := r.Main
	for i, p := range mr.posted {
		if p == r {
			mr.posted = append(mr.posted[:i], mr.posted[i+1:]...)
			break
		}
	}
	mr.count--
	r.writeHandler = nil
	r.postSubrequest = nil
	if r.Conn.active == r {
		r.Conn.active = r.Parent
	}
}

// MainCount is the main request's reference count (nginx's
// r->main->count), as ngx_lua's handlers show it in their debug lines.
func (r *Request) MainCount() int { return r.Main.count }
