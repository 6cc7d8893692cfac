//go:build linux

package eventloop

import (
	"errors"
	"strconv"
	"syscall"
)

var (
	// ErrClosed is returned by operations on a Conn that is closed, or whose
	// write side was closed (CloseWrite, CloseAfterDrain, LingeringClose).
	ErrClosed = errors.New("eventloop: connection closed")
	// ErrLoopStopped is passed to OnClose (and to dial callbacks) for
	// connections torn down because their loop stopped.
	ErrLoopStopped = errors.New("eventloop: loop stopped")
	// ErrNotSupported is returned for an operation the connection's kind
	// cannot do, such as Sendfile or CloseWrite on a UDP socket.
	ErrNotSupported = errors.New("eventloop: operation not supported on this connection")
	// ErrFileTruncated is the OnClose error when a file being sent with
	// Sendfile ended before the requested length; nginx reports this as
	// "sendfile() reported that ... was truncated".
	ErrFileTruncated = errors.New("eventloop: file truncated during sendfile")
)

// OpError is a failed socket operation. Op is the system call as nginx names
// it in its messages ("connect", "recv", "writev", "sendfile", "send",
// "accept4", "bind", "listen", ...), and Err is the syscall.Errno.
type OpError struct {
	Op string
	// Msg, if set, replaces "Op()" in the message with nginx's fuller
	// wording, e.g. "bind() to 0.0.0.0:80".
	Msg string
	Err error
}

// Error formats the failure as nginx logs it, e.g.
// "connect() failed (111: Connection refused)" or
// "bind() to 0.0.0.0:80 failed (98: Address already in use)". Any goroutine.
func (e *OpError) Error() string {
	m := e.Msg
	if m == "" {
		m = e.Op + "()"
	}
	return m + " failed " + ErrnoText(e.Err)
}

// Unwrap returns the errno, so errors.Is(err, syscall.ECONNREFUSED) works.
// Any goroutine.
func (e *OpError) Unwrap() error { return e.Err }

// Timeout reports whether the operation failed because a timer fired (a
// connect timeout). Any goroutine.
func (e *OpError) Timeout() bool { return errors.Is(e.Err, syscall.ETIMEDOUT) }

// Errno extracts the errno carried by err, if any. Any goroutine.
func Errno(err error) (syscall.Errno, bool) {
	var en syscall.Errno
	if errors.As(err, &en) {
		return en, true
	}
	return 0, false
}

// Strerror returns the C library's message for errno, the text nginx prints,
// e.g. "Connection refused" for 111. Any goroutine.
func Strerror(errno syscall.Errno) string {
	if errno > 0 && int(errno) < len(strerrorText) && strerrorText[errno] != "" {
		return strerrorText[errno]
	}
	return "Unknown error " + strconv.Itoa(int(errno))
}

// ErrnoText formats the errno carried by err the way nginx appends it to a
// log message: "(111: Connection refused)". An error without an errno is
// formatted as "(0: " + err.Error() + ")" so that no information is lost;
// nil gives "". Any goroutine.
func ErrnoText(err error) string {
	if err == nil {
		return ""
	}
	if en, ok := Errno(err); ok {
		return "(" + strconv.Itoa(int(en)) + ": " + Strerror(en) + ")"
	}
	return "(0: " + err.Error() + ")"
}
