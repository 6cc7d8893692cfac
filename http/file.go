package http

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// File is an open file that response buffers refer to (nginx's
// ngx_file_t): a descriptor sent with sendfile or read with pread, and the
// name log lines give. Whoever opened it closes it once the output that
// refers to it has been sent.
//
// It is not an *os.File on purpose: wrapping every opened file in one
// costs an fcntl, a refused epoll registration and a finalizer per
// request.
type File struct {
	fd   int
	name []byte
	osf  *os.File
}

// NewFile wraps f, which stays its caller's to close.
func NewFile(f *os.File) *File {
	return &File{fd: int(f.Fd()), name: []byte(f.Name()), osf: f}
}

// Fd returns the descriptor.
func (f *File) Fd() int { return f.fd }

// Name returns the file's path.
func (f *File) Name() string { return string(f.name) }

// ReadAt reads len(p) bytes at off with pread, as os.File.ReadAt: fewer
// bytes come with an error, io.EOF at the end of the file.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		k, err := unix.Pread(f.fd, p[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if k == 0 {
			return n, io.EOF
		}
		n += k
	}
	return n, nil
}
