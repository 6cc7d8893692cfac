package luavm

import (
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// budget implements lua_max_running_time. gopher-lua checks a state's
// context before every instruction once one is set (and runs its plain,
// faster loop otherwise), so the VM gives every thread the same
// cancellable context only when a limit is configured. A watchdog
// goroutine cancels it when one slice of Lua, a Start or Resume from the
// loop, runs past the limit; the loop then swaps in a fresh context before
// the next slice, and threads pick it up as they are resumed.
type budget struct {
	limit time.Duration
	// state is gen<<2 | fired<<1 | active. The loop flips active; the
	// watchdog sets fired with a compare-and-swap on the same word, so a
	// slice that ended before the watchdog acted is never cancelled.
	state atomic.Uint64
	start atomic.Int64
	cur   atomic.Pointer[budgetCtx]
	// mu orders the watchdog's cancel before the loop's swap of cur.
	mu   sync.Mutex
	quit chan struct{}
}

const (
	bActive = 1 << iota
	bFired
	bGen
)

type budgetCtx struct {
	done  chan struct{}
	fired atomic.Bool
}

func newBudgetCtx() *budgetCtx { return &budgetCtx{done: make(chan struct{})} }

// budgetCtx is a context.Context whose Err names the limit, which is the
// text gopher-lua raises when it sees the context done.
func (c *budgetCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *budgetCtx) Done() <-chan struct{}       { return c.done }
func (c *budgetCtx) Value(any) any               { return nil }
func (c *budgetCtx) Err() error {
	if c.fired.Load() {
		return ErrRunningTime
	}
	return nil
}

func newBudget(limit time.Duration) *budget {
	b := &budget{limit: limit, quit: make(chan struct{})}
	b.cur.Store(newBudgetCtx())
	go b.watch()
	return b
}

// attach gives co the current context. Loop goroutine only.
func (b *budget) attach(co *lua.LState) {
	c := b.cur.Load()
	if co.Context() != c {
		co.SetContext(c)
	}
}

// begin marks the start of a slice. Loop goroutine only.
func (b *budget) begin() {
	s := b.state.Load()
	if s&bFired != 0 {
		b.mu.Lock()
		b.cur.Store(newBudgetCtx())
		s = (s &^ (bFired | bActive)) + bGen
		b.state.Store(s)
		b.mu.Unlock()
	}
	b.start.Store(time.Now().UnixNano())
	b.state.Store(s | bActive)
}

// end marks the end of a slice and reports whether the watchdog cancelled
// it. Loop goroutine only.
func (b *budget) end() bool {
	s := b.state.Load()
	if s&bFired != 0 {
		return true
	}
	if b.state.CompareAndSwap(s, (s&^bActive)+bGen) {
		return false
	}
	return b.state.Load()&bFired != 0
}

func (b *budget) stop() { close(b.quit) }

// watch is the watchdog goroutine. It never touches Lua state.
func (b *budget) watch() {
	every := b.limit / 4
	if every < time.Millisecond {
		every = time.Millisecond
	}
	if every > 250*time.Millisecond {
		every = 250 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.quit:
			return
		case now := <-t.C:
			s := b.state.Load()
			if s&bActive == 0 || s&bFired != 0 {
				continue
			}
			if now.UnixNano()-b.start.Load() < int64(b.limit) {
				continue
			}
			b.mu.Lock()
			if b.state.CompareAndSwap(s, s|bFired) {
				c := b.cur.Load()
				c.fired.Store(true)
				close(c.done)
			}
			b.mu.Unlock()
		}
	}
}
