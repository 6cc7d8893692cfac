package conf

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// FileSystem is the file access the parser needs for the main file and
// include. A nil Options.FS means the operating system's files; tests and
// fuzzing supply their own.
type FileSystem interface {
	// ReadFile returns the content of the named file. An error from
	// opening the file is reported as nginx's open() failure; an error
	// wrapping an *fs.PathError whose Op is "read" is reported as nginx's
	// pread() failure (a directory opens but cannot be read). Errors that
	// wrap a syscall.Errno show its number and text as nginx does.
	ReadFile(name string) ([]byte, error)
	// ReadDir returns the names of the entries of the named directory, in
	// any order and without "." and "..".
	ReadDir(name string) ([]string, error)
	// Exists reports whether name exists, without following a final
	// symbolic link (lstat).
	Exists(name string) bool
}

// osFS reads the operating system's files.
type osFS struct{}

// ReadFile reads as many bytes as fstat reported when the file was opened,
// as nginx does: a device or a pipe reads as empty, and a file that grows
// while read is cut at its size; a file that shrinks is taken as read.
func (osFS) ReadFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	if size <= 0 {
		return nil, nil
	}
	data := make([]byte, size)
	n, err := f.ReadAt(data, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			pe.Op = "read"
			return nil, pe
		}
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return data[:n], nil
}

func (osFS) ReadDir(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

func (osFS) Exists(name string) bool {
	_, err := os.Lstat(name)
	return err == nil
}
