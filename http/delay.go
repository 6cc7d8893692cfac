package http

import (
	"time"

	"gresty/errlog"
)

// delayMaxPending bounds what a delayed request's connection buffers.
const delayMaxPending = 64 << 10

// Delay parks r on its loop's timer for d, then calls then (which goes on
// with the request). Meanwhile the client is watched as nginx's
// ngx_http_test_reading does: closing the connection ends the request
// with 499. Bytes the client sends meanwhile (a body, the next request)
// stay for whoever reads them afterwards; past a bound reading stops
// until then, as nginx leaves them in the socket. The request is held
// (Hold) until then runs: then ends with a Finalize that drops it.
func (r *Request) Delay(d time.Duration, then func()) {
	r.Hold()
	ec := r.Conn.EventConn()
	done, paused := false, false
	t := r.Conn.Loop().AfterFunc(d, func() {
		if done {
			return
		}
		done = true
		r.SetReadHandler(nil)
		r.SetEOFHandler(nil)
		if paused {
			ec.ResumeRead()
		}
		then()
	})
	r.AddCleanup(func() {
		done = true
		t.Stop()
	})
	r.SetReadHandler(func(r *Request) {
		if len(r.PendingInput()) > delayMaxPending {
			paused = true
			ec.PauseRead()
		}
	})
	r.SetEOFHandler(func(r *Request) {
		if done {
			return
		}
		done = true
		t.Stop()
		r.SetReadHandler(nil)
		r.SetEOFHandler(nil)
		r.Logf(errlog.Info, "client prematurely closed connection")
		r.Finalize(499)
	})
}

// authDelay answers 401 after auth_delay (ngx_http_core_auth_delay): a
// client guessing passwords learns no more from the timing than from
// the status.
func (r *Request) authDelay() {
	d := r.Loc.AuthDelay.V
	if d <= 0 {
		r.Finalize(401)
		return
	}
	r.Logf(errlog.Info, "delaying unauthorized request")
	r.Delay(d, func() {
		r.Finalize(Done)
		r.Finalize(401)
	})
}
