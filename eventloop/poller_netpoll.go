//go:build linux

package eventloop

import (
	"errors"
	"sync"
	"time"

	gerrors "github.com/panjf2000/gnet/v2/pkg/errors"
	"github.com/panjf2000/gnet/v2/pkg/netpoll"
	"golang.org/x/sys/unix"
)

// netpollPoller runs the loop inside gnet's netpoll.Poller.Polling, which
// never returns on its own and has no timeout. Wait therefore arms a runtime
// timer that writes an eventfd of ours, and the Polling callback returns
// gnet's shutdown error to leave Polling when that eventfd fires or when the
// loop asks to (sink.event returning true makes it write the eventfd).
// Descriptors are level-triggered, so events left in the batch when Polling
// is left are reported again by the next Wait.
//
// gnet's own Trigger queue is not used: a task that ends Polling leaves its
// wake-up flag set, after which Trigger would never wake the poller again.
// gnet offers no write-only Mod and no EPOLLEXCLUSIVE; Mod to write-only
// is a Delete plus AddWrite, and a descriptor shared between loops wakes
// all of them.
type netpollPoller struct {
	np    *netpoll.Poller
	efd   int
	drain [8]byte
	timer *time.Timer
	sink  sink
	cb    netpoll.PollEventHandler
	leave bool // the eventfd was seen (or written) during this Wait

	mu     sync.Mutex // guards closed against a concurrent Wake
	closed bool
	one    [8]byte
}

var errLeavePolling = gerrors.ErrEngineShutdown

func newNetpollPoller() (*netpollPoller, error) {
	np, err := netpoll.OpenPoller()
	if err != nil {
		return nil, err
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		np.Close()
		return nil, &OpError{Op: "eventfd", Err: err}
	}
	p := &netpollPoller{np: np, efd: efd}
	p.one[0] = 1
	if err := np.AddRead(&netpoll.PollAttachment{FD: efd}, false); err != nil {
		unix.Close(efd)
		np.Close()
		return nil, err
	}
	p.cb = p.callback
	p.timer = time.AfterFunc(time.Hour, p.Wake)
	p.timer.Stop()
	return p, nil
}

func (p *netpollPoller) Add(fd int, ev uint32) error {
	pa := netpoll.PollAttachment{FD: fd}
	switch ev & (evRead | evWrite) {
	case evRead:
		return p.np.AddRead(&pa, false)
	case evWrite:
		return p.np.AddWrite(&pa, false)
	default:
		return p.np.AddReadWrite(&pa, false)
	}
}

func (p *netpollPoller) Mod(fd int, ev uint32) error {
	pa := netpoll.PollAttachment{FD: fd}
	switch ev & (evRead | evWrite) {
	case evRead:
		return p.np.ModRead(&pa, false)
	case evWrite:
		if err := p.np.Delete(fd); err != nil {
			return err
		}
		return p.np.AddWrite(&pa, false)
	default:
		return p.np.ModReadWrite(&pa, false)
	}
}

func (p *netpollPoller) Del(fd int) error { return p.np.Delete(fd) }

// callback leaves Polling on the second report of the eventfd within one
// Wait. The first report only notes it: the eventfd stays readable, so the
// rest of the batch (which may hold ready connections) is dispatched first
// and the next epoll_wait reports it again. Leaving on the first report
// could starve every descriptor queued behind the eventfd, for example
// under a timer that keeps re-arming itself with zero delay.
func (p *netpollPoller) callback(fd int, ev netpoll.IOEvent, _ netpoll.IOFlags) error {
	if fd == p.efd {
		if p.leave {
			unix.Read(p.efd, p.drain[:])
			return errLeavePolling
		}
		p.leave = true
		return nil
	}
	p.sink.polled()
	if p.sink.event(fd, ev) && !p.leave {
		p.leave = true
		p.Wake()
	}
	return nil
}

func (p *netpollPoller) Wait(timeout time.Duration, s sink) error {
	p.sink = s
	p.leave = false
	switch {
	case timeout == 0:
		p.Wake()
	case timeout > 0:
		p.timer.Reset(timeout)
	}
	err := p.np.Polling(p.cb)
	if timeout > 0 {
		p.timer.Stop()
	}
	s.polled()
	if err != nil && !errors.Is(err, errLeavePolling) {
		return err
	}
	return nil
}

func (p *netpollPoller) Wake() {
	p.mu.Lock()
	if !p.closed {
		unix.Write(p.efd, p.one[:])
	}
	p.mu.Unlock()
}

func (p *netpollPoller) Close() error {
	p.timer.Stop()
	p.mu.Lock()
	p.closed = true
	unix.Close(p.efd)
	p.mu.Unlock()
	return p.np.Close()
}
