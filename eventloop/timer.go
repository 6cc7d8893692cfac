//go:build linux

package eventloop

import "time"

// timer kinds used by the loop itself; user timers carry a function instead.
const (
	tkFunc uint8 = iota
	tkConnect
	tkLinger
	tkRate
)

// Timer runs a function on its loop's goroutine after a delay. Timers are
// kept in a 4-ary heap per loop, so thousands of them cost little; Stop and
// Reset work in place without allocating. Expired timers run after the
// loop has dispatched I/O for the iteration, each as its own dispatch.
//
// All Timer methods must be called on the owning loop's goroutine.
type Timer struct {
	l    *Loop
	when int64 // deadline, nanoseconds on the loop's monotonic clock
	seq  uint64
	idx  int32 // position in the heap, -1 when not armed
	kind uint8
	f    func()
	c    *Conn
}

// AfterFunc arms a timer that calls f on the loop goroutine once d has
// passed (d <= 0: at the next timer run). The deadline counts from the
// loop's cached clock, as nginx's timers count from ngx_current_msec.
// Loop goroutine only.
func (l *Loop) AfterFunc(d time.Duration, f func()) *Timer {
	t := &Timer{l: l, idx: -1, f: f}
	t.Reset(d)
	return t
}

// NewTimer returns a timer that calls f but is not armed; arm it with
// Reset. Useful for deadlines that are re-armed many times.
// Loop goroutine only.
func (l *Loop) NewTimer(f func()) *Timer {
	return &Timer{l: l, idx: -1, f: f}
}

// Stop disarms the timer. It reports whether the timer was armed (false:
// it had already fired or was stopped). Loop goroutine only.
func (t *Timer) Stop() bool {
	if t.idx < 0 {
		return false
	}
	t.l.timers.remove(int(t.idx))
	return true
}

// Reset re-arms the timer to fire d from the loop's cached clock, moving it
// in place. It reports whether the timer was armed before. Loop goroutine
// only.
func (t *Timer) Reset(d time.Duration) bool {
	if d < 0 {
		d = 0
	}
	return t.resetAt(t.l.mono + int64(d))
}

// ResetLazy is Reset, except that an armed timer whose deadline is less
// than slack away from the new one keeps it, as nginx's timers do within
// NGX_TIMER_LAZY_DELAY: a deadline pushed back on every request of a busy
// connection then costs nothing. Loop goroutine only.
func (t *Timer) ResetLazy(d, slack time.Duration) bool {
	if d < 0 {
		d = 0
	}
	when := t.l.mono + int64(d)
	if t.idx >= 0 && when-t.when < int64(slack) && t.when-when < int64(slack) {
		return true
	}
	return t.resetAt(when)
}

func (t *Timer) resetAt(when int64) bool {
	l := t.l
	l.timerSeq++
	t.when, t.seq = when, l.timerSeq
	if t.idx >= 0 {
		l.timers.fix(int(t.idx))
		return true
	}
	l.timers.push(t)
	return false
}

// Active reports whether the timer is armed. Loop goroutine only.
func (t *Timer) Active() bool { return t.idx >= 0 }

// Deadline returns when the timer fires, on the wall clock; the zero Time
// when it is not armed. Loop goroutine only.
func (t *Timer) Deadline() time.Time {
	if t.idx < 0 {
		return time.Time{}
	}
	return t.l.base.Add(time.Duration(t.when))
}

func (t *Timer) fire() {
	switch t.kind {
	case tkConnect:
		t.c.connectTimedOut()
	case tkLinger:
		t.c.lingerTimedOut()
	case tkRate:
		t.c.rateResume()
	default:
		t.f()
	}
}

// timerHeap is a 4-ary min-heap ordered by (when, seq): a shallower tree
// than a binary heap, so fewer cache misses per push and pop.
type timerHeap []*Timer

func timerLess(a, b *Timer) bool {
	return a.when < b.when || (a.when == b.when && a.seq < b.seq)
}

func (h *timerHeap) push(t *Timer) {
	*h = append(*h, t)
	i := len(*h) - 1
	t.idx = int32(i)
	h.up(i)
}

func (h *timerHeap) remove(i int) {
	s := *h
	last := len(s) - 1
	t := s[i]
	if i != last {
		s[i] = s[last]
		s[i].idx = int32(i)
	}
	s[last] = nil
	*h = s[:last]
	t.idx = -1
	if i != last {
		h.fix(i)
	}
}

func (h *timerHeap) fix(i int) {
	if !h.up(i) {
		h.down(i)
	}
}

func (h timerHeap) up(i int) bool {
	t := h[i]
	moved := false
	for i > 0 {
		p := (i - 1) / 4
		if !timerLess(t, h[p]) {
			break
		}
		h[i] = h[p]
		h[i].idx = int32(i)
		i = p
		moved = true
	}
	h[i] = t
	t.idx = int32(i)
	return moved
}

func (h timerHeap) down(i int) {
	n := len(h)
	t := h[i]
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		end := c + 4
		if end > n {
			end = n
		}
		for j := c + 1; j < end; j++ {
			if timerLess(h[j], h[m]) {
				m = j
			}
		}
		if !timerLess(h[m], t) {
			break
		}
		h[i] = h[m]
		h[i].idx = int32(i)
		i = m
	}
	h[i] = t
	t.idx = int32(i)
}
