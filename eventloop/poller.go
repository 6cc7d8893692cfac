//go:build linux

package eventloop

import (
	"os"
	"time"
)

// Backend selects the poller a Loop waits on.
type Backend int

const (
	// BackendDefault is BackendEpoll, unless the environment variable
	// GRESTY_EVENTLOOP_POLLER is "netpoll".
	BackendDefault Backend = iota
	// BackendEpoll waits with epoll_wait directly; the nearest timer
	// deadline is the wait timeout and an eventfd wakes the loop.
	BackendEpoll
	// BackendNetpoll waits in gnet's pkg/netpoll Poller; a runtime timer
	// and an eventfd wake it for timers and posted functions.
	BackendNetpoll
)

// String returns "epoll", "netpoll" or "default". Any goroutine.
func (b Backend) String() string {
	switch b {
	case BackendEpoll:
		return "epoll"
	case BackendNetpoll:
		return "netpoll"
	}
	return "default"
}

// resolve maps BackendDefault to a concrete backend.
func (b Backend) resolve() Backend {
	if b != BackendDefault {
		return b
	}
	if os.Getenv("GRESTY_EVENTLOOP_POLLER") == "netpoll" {
		return BackendNetpoll
	}
	return BackendEpoll
}

// Interest bits passed to poller.Add and poller.Mod.
const (
	evRead uint32 = 1 << iota
	evWrite
	// evExclusive asks for EPOLLEXCLUSIVE (Add only): a descriptor shared
	// by several loops wakes one of them, not all.
	evExclusive
)

// sink receives what a poller reports. Both methods run on the loop
// goroutine, inside poller.Wait.
type sink interface {
	// polled is called when the poller has returned from the kernel, so the
	// loop can refresh its cached clock before dispatching.
	polled()
	// event dispatches one ready descriptor; ev holds epoll event bits. It
	// returns true when the loop needs Wait to return soon (a timer became
	// due or was armed earlier than the wait deadline, or the loop is
	// stopping). A backend that returns after every batch may ignore it.
	event(fd int, ev uint32) bool
}

// poller is the small interface both backends implement. Everything but
// Wake runs on the loop goroutine.
type poller interface {
	// Add starts watching fd for the given interest bits.
	Add(fd int, ev uint32) error
	// Mod replaces the interest of a watched fd (ev is never 0; the loop
	// calls Del instead).
	Mod(fd int, ev uint32) error
	// Del stops watching fd.
	Del(fd int) error
	// Wait blocks until I/O is ready, Wake is called or timeout passes
	// (negative: no timeout), dispatching ready descriptors to s.
	Wait(timeout time.Duration, s sink) error
	// Wake makes a blocked or future Wait return. Any goroutine.
	Wake()
	// Close releases the poller; Wake becomes a no-op.
	Close() error
}

func newPoller(b Backend) (poller, error) {
	if b == BackendNetpoll {
		return newNetpollPoller()
	}
	return newEpollPoller()
}
