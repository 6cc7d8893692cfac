package http

// Subrequests (echo_location, ngx.location.capture, SSI-style includes)
// run a request for another URI inside the main one. A subrequest's output
// goes to its parent: into memory when the parent captures it, or through
// the postpone filter so that the client sees every part in order.

// SubrequestFlags are nginx's NGX_HTTP_SUBREQUEST_* options.
type SubrequestFlags uint8

// Subrequest options.
const (
	// SubrequestInMemory collects the output in Subrequest.Body instead
	// of sending it (ngx.location.capture).
	SubrequestInMemory SubrequestFlags = 1 << iota
	// SubrequestWaited keeps the subrequest until its parent looks at it.
	SubrequestWaited
	// SubrequestBackground runs it without its output (mirror).
	SubrequestBackground
)

// finalizeSubrequest ends a subrequest's processing: its parent is woken.
func (r *Request) finalizeSubrequest() {
	if r.bufferedOutput() {
		r.drainHandler = func(r *Request) {
			r.drainHandler = nil
			r.finalizeSubrequest()
		}
		return
	}
	if r.done {
		return
	}
	r.done = true
	if !r.logged {
		if r.Loc.LogSubrequest.V {
			r.runLogPhase()
		}
		r.logged = true
	}
	pr := r.Parent
	r.Main.count--
	if len(pr.postponed) > 0 && pr.postponed[0] == r {
		pr.postponed = pr.postponed[1:]
	}
	if r.onDone != nil {
		f := r.onDone
		r.onDone = nil
		f(r)
	}
	pr.wakeParent()
}

// wakeParent lets a parent that waits on its subrequests go on.
func (r *Request) wakeParent() {
	if r.onSubrequestsDone != nil && r.pendingSubrequests() == 0 {
		f := r.onSubrequestsDone
		r.onSubrequestsDone = nil
		f(r)
	}
}

func (r *Request) pendingSubrequests() int {
	n := 0
	for _, sr := range r.children {
		if !sr.done {
			n++
		}
	}
	return n
}

// subrequestOutput is the write filter of a subrequest: in-memory
// subrequests collect their body; others pass it to the parent's output in
// order.
func (r *Request) subrequestOutput(in []Buf) int {
	if r.inMemory {
		for i := range in {
			b := &in[i]
			if b.File != nil {
				data := make([]byte, b.FileLen)
				if _, err := b.File.ReadAt(data, b.FilePos); err != nil {
					return Error
				}
				r.SubBody = append(r.SubBody, data...)
				continue
			}
			r.SubBody = append(r.SubBody, b.Data...)
		}
		return OK
	}
	out := make([]Buf, 0, len(in))
	for _, b := range in {
		b.Last = false
		if b.IsSpecial() && !b.Flush {
			continue
		}
		if !b.Owned && len(b.Data) > 0 {
			b.Data = append([]byte(nil), b.Data...)
			b.Owned = true
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return OK
	}
	return writeFilter(r.Main, out)
}
