//go:build linux

package eventloop

import (
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// epollPoller is the raw epoll backend. Descriptors are level-triggered:
// a loop reads once per readiness report and relies on the next wait to
// report what is left, which keeps every connection's turn short.
type epollPoller struct {
	epfd     int
	efd      int // eventfd that Wake writes
	events   []unix.EpollEvent
	ctl      unix.EpollEvent // scratch for epoll_ctl, kept off the stack
	drain    [8]byte
	busy     bool // the last wait returned events
	noPwait2 bool // the kernel lacks epoll_pwait2
	ts       unix.Timespec

	mu     sync.Mutex // guards closed against a concurrent Wake
	closed bool
	one    [8]byte // the eventfd increment, written once at creation
}

func newEpollPoller() (*epollPoller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, &OpError{Op: "epoll_create1", Err: err}
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, &OpError{Op: "eventfd", Err: err}
	}
	p := &epollPoller{epfd: epfd, efd: efd, events: make([]unix.EpollEvent, 128)}
	p.one[0] = 1 // little- and big-endian alike read a non-zero counter
	if err := p.Add(efd, evRead); err != nil {
		unix.Close(efd)
		unix.Close(epfd)
		return nil, err
	}
	return p, nil
}

func epollBits(ev uint32) uint32 {
	var e uint32
	if ev&evRead != 0 {
		e |= unix.EPOLLIN
		if ev&evExclusive == 0 {
			// the peer's FIN is then seen before a read returns 0
			// (Conn.ReadReady); epoll refuses it with EPOLLEXCLUSIVE.
			e |= unix.EPOLLRDHUP
		}
	}
	if ev&evWrite != 0 {
		e |= unix.EPOLLOUT
	}
	if ev&evExclusive != 0 {
		e |= unix.EPOLLEXCLUSIVE
	}
	return e
}

func (p *epollPoller) ctlOp(op, fd int, ev uint32) error {
	p.ctl = unix.EpollEvent{Events: epollBits(ev), Fd: int32(fd)}
	if e := epollCtl(p.epfd, op, fd, &p.ctl); e != 0 {
		return &OpError{Op: "epoll_ctl", Err: e}
	}
	return nil
}

func (p *epollPoller) Add(fd int, ev uint32) error { return p.ctlOp(unix.EPOLL_CTL_ADD, fd, ev) }
func (p *epollPoller) Mod(fd int, ev uint32) error { return p.ctlOp(unix.EPOLL_CTL_MOD, fd, ev) }

func (p *epollPoller) Del(fd int) error {
	if e := epollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, &p.ctl); e != 0 {
		return &OpError{Op: "epoll_ctl", Err: e}
	}
	return nil
}

func (p *epollPoller) Wait(timeout time.Duration, s sink) error {
	var n int
	var errno unix.Errno
	if p.busy && timeout != 0 {
		// After a busy round, look again without blocking first: under
		// load something is usually ready, and a non-blocking poll is
		// cheaper than going through the scheduler to sleep. (Yielding
		// with runtime.Gosched here, as gnet does, measured worse per loop
		// CPU-second with clients in another process: a locked thread
		// hands its P off and back.)
		n, errno = p.epollWait(0)
		if n == 0 && errno == 0 {
			n, errno = p.epollWait(timeout)
		}
	} else {
		n, errno = p.epollWait(timeout)
	}
	if errno != 0 {
		if errno != unix.EINTR {
			return &OpError{Op: "epoll_wait", Err: errno}
		}
		n = 0
	}
	p.busy = n > 0
	s.polled()
	for i := 0; i < n; i++ {
		fd := int(p.events[i].Fd)
		if fd == p.efd {
			unix.Read(p.efd, p.drain[:])
			continue
		}
		s.event(fd, p.events[i].Events)
	}
	if n == len(p.events) && n < 4096 {
		p.events = make([]unix.EpollEvent, 2*n)
	}
	return nil
}

// epollWait waits up to timeout (negative: forever). A zero timeout cannot
// block, so it skips the runtime's syscall bookkeeping. A positive one uses
// epoll_pwait2's nanosecond timeout when the kernel has it (5.11+), so
// timers are not rounded up to the next millisecond.
func (p *epollPoller) epollWait(timeout time.Duration) (int, unix.Errno) {
	ev := uintptr(unsafe.Pointer(&p.events[0]))
	nev := uintptr(len(p.events))
	if timeout == 0 {
		r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(p.epfd), ev, nev, 0, 0, 0)
		return int(r), e
	}
	if timeout > 0 && !p.noPwait2 {
		p.ts = unix.NsecToTimespec(int64(timeout))
		r, _, e := unix.Syscall6(unix.SYS_EPOLL_PWAIT2, uintptr(p.epfd), ev, nev, uintptr(unsafe.Pointer(&p.ts)), 0, 0)
		if e != unix.ENOSYS {
			return int(r), e
		}
		p.noPwait2 = true
	}
	ms := -1
	if timeout > 0 {
		// Round up: waking before the deadline would only cost another wait.
		ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	r, _, e := unix.Syscall6(unix.SYS_EPOLL_PWAIT, uintptr(p.epfd), ev, nev, uintptr(ms), 0, 0)
	return int(r), e
}

func (p *epollPoller) Wake() {
	p.mu.Lock()
	if !p.closed {
		unix.Write(p.efd, p.one[:])
	}
	p.mu.Unlock()
}

func (p *epollPoller) Close() error {
	p.mu.Lock()
	p.closed = true
	unix.Close(p.efd)
	p.mu.Unlock()
	return unix.Close(p.epfd)
}
