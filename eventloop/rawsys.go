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

// Every Conn is a socket, so its input and output use the socket calls
// (recvfrom, sendto, sendmsg) rather than read and writev: they reach the
// protocol without the file layer's position lock, permission hook and
// range check, a few percent of a small request's kernel time.

// recvFd reads into p (never empty).
func recvFd(fd int, p []byte) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

// sendFd writes p (never empty); a peer that has gone answers EPIPE
// without raising SIGPIPE.
func sendFd(fd int, p []byte) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), unix.MSG_NOSIGNAL, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

// sendDgram sends p, which may be empty, as one datagram.
func sendDgram(fd int, p []byte) unix.Errno {
	var ptr unsafe.Pointer
	if len(p) > 0 {
		ptr = unsafe.Pointer(&p[0])
	}
	_, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(ptr), uintptr(len(p)), unix.MSG_NOSIGNAL, 0, 0)
	return e
}

// sendIov writes iov (never empty) as writev would, one buffer by sendto.
func sendIov(fd int, iov []unix.Iovec) (int, unix.Errno) {
	var r uintptr
	var e unix.Errno
	if len(iov) == 1 {
		r, _, e = unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(iov[0].Base)), uintptr(iov[0].Len), unix.MSG_NOSIGNAL, 0, 0)
	} else {
		msg := unix.Msghdr{Iov: &iov[0]}
		msg.SetIovlen(len(iov))
		r, _, e = unix.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), unix.MSG_NOSIGNAL)
	}
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
