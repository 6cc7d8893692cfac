package http

// This file is what the SSI filter needs of a request beyond the public
// fields: a filter that keeps unprocessed body data across calls (while a
// subrequest it waits for runs) must say so, so that finalizing the
// request waits for it, as nginx's r->buffered bits do. Every method here
// runs on the request's loop.

// Filter bits of a request's buffered state (nginx's NGX_HTTP_*_BUFFERED):
// a filter sets its bit while it holds body data it has not passed on.
const (
	// BufferedSSI is the SSI filter's bit (NGX_HTTP_SSI_BUFFERED).
	BufferedSSI = 0x01
)

// SetBuffered sets (on) or clears the filter bit in r's buffered state.
// While any bit is set, finalizing r leaves it to the writer, which runs
// the body filters again when r is posted and finalizes r once no bit is
// set and nothing is postponed.
func (r *Request) SetBuffered(bit int, on bool) {
	if on {
		r.buffered |= bit
	} else {
		r.buffered &^= bit
	}
}

// Buffered tells whether the filter bit is set in r's buffered state.
func (r *Request) Buffered(bit int) bool { return r.buffered&bit != 0 }
