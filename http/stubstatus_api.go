package http

import "sync/atomic"

// Connection counters for stub_status, kept per loop (each written only
// by its loop, read by any) and summed on read, as nginx's shared
// ngx_stat_* counters are summed over its workers.
type connStats struct {
	accepted, handled, requests       atomic.Uint64
	active, reading, writing, waiting atomic.Int64
}

// Connection states as stub_status counts them.
const (
	statNone    uint8 = iota
	statWaiting       // idle: before the first byte of a request (keepalive too)
	statReading       // reading a request head
	statWriting       // the request is being processed and answered
)

// setStat moves the connection to another counted state.
func (c *Conn) setStat(s uint8) {
	if c.stat == s {
		return
	}
	st := &c.srv.stats
	switch c.stat {
	case statWaiting:
		st.waiting.Add(-1)
	case statReading:
		st.reading.Add(-1)
	case statWriting:
		st.writing.Add(-1)
	}
	switch s {
	case statWaiting:
		st.waiting.Add(1)
	case statReading:
		st.reading.Add(1)
		st.requests.Add(1)
	case statWriting:
		st.writing.Add(1)
	}
	c.stat = s
}

// ConnStats are the server's connection counters (nginx's stub_status):
// connections accepted and handled, client requests, and the connections
// open now, split into those reading a request head, those processing or
// answering a request, and idle ones.
type ConnStats struct {
	Accepted, Handled, Requests       uint64
	Active, Reading, Writing, Waiting int64
}

// Stats returns the counters summed over every loop of the runtime. Any
// goroutine.
func (rt *Runtime) Stats() ConnStats {
	var s ConnStats
	for _, ls := range rt.servers {
		st := &ls.stats
		s.Accepted += st.accepted.Load()
		s.Handled += st.handled.Load()
		s.Requests += st.requests.Load()
		s.Active += st.active.Load()
		s.Reading += st.reading.Load()
		s.Writing += st.writing.Load()
		s.Waiting += st.waiting.Load()
	}
	return s
}

// ServerStats returns the counters of the runtime serving r (see
// Runtime.Stats). Loop goroutine only.
func (r *Request) ServerStats() ConnStats { return r.Conn.srv.rt.Stats() }
