package http

import "gresty/eventloop"

// PooledUpstreams looks at the pooled requests of rt's first loop, on
// that loop: how many keep an upstream state for their next request, and
// how many timers of those states are armed (none may be: the requests
// they served are over).
func PooledUpstreams(rt *Runtime) (kept, armed int) {
	s := rt.servers[0]
	done := make(chan struct{})
	if !s.loop.Post(func() {
		defer close(done)
		for _, r := range s.reqs {
			u := r.upstreamSpare
			if u == nil {
				continue
			}
			kept++
			for _, t := range [...]*eventloop.Timer{u.store.timer, u.store.ctimer, u.store.wtimer} {
				if t != nil && t.Active() {
					armed++
				}
			}
		}
	}) {
		return -1, -1
	}
	<-done
	return kept, armed
}
