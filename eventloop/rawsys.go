//go:build linux

package eventloop

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The loop's system calls on its own descriptors, all non-blocking, go
// straight to the kernel without the runtime's syscall bookkeeping
// (entersyscall/exitsyscall): none of them can block, so the locked loop
// thread keeps its P, and a request costs two such round trips less.

// readFd reads into p (never empty).
func readFd(fd int, p []byte) (int, unix.Errno) {
	r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

// closeFd closes a descriptor; a socket closes without waiting (no
// SO_LINGER timeout is ever set).
func closeFd(fd int) {
	unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
}

// epollCtl changes an interest list entry.
func epollCtl(epfd, op, fd int, ev *unix.EpollEvent) unix.Errno {
	_, _, e := unix.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(ev)), 0, 0)
	return e
}
