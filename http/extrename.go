package http

// Moving a finished temporary file to its place, as nginx's
// ngx_ext_rename_file, ngx_create_full_path and ngx_copy_file do it for
// proxy_store and the dav module: with the errors, their log lines and
// the cross-file-system copy of nginx.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"gresty/errlog"
)

// ExtRename says how RenameFile moves a file (ngx_ext_rename_file_t).
type ExtRename struct {
	// Access, when not 0, is given to the file before it moves.
	Access os.FileMode
	// PathAccess is the permissions of the directories CreatePath makes
	// (their x bits are added to the read ones).
	PathAccess os.FileMode
	// Time, when not zero, becomes the file's modification time.
	Time time.Time
	// CreatePath makes the missing directories of the destination.
	CreatePath bool
	// DeleteFile removes the source when the move failed.
	DeleteFile bool
}

// DirAccess is ngx_dir_access: the x bits added where r bits are.
func DirAccess(a os.FileMode) os.FileMode { return a | (a&0o444)>>2 }

// RenameFile moves src to to as ngx_ext_rename_file: permissions and
// time first, the directories on the way when they are missing, and a
// copy beside the destination, renamed there, when the two are on
// different file systems. Failures are logged; it reports success.
func (r *Request) RenameFile(src, to string, ext *ExtRename) bool {
	if ext.Access != 0 {
		if err := os.Chmod(src, ext.Access); err != nil {
			r.Logf(errlog.Crit, "chmod() \"%s\" failed %s", src, errlog.Errno(err))
			return r.renameFailed(src, to, ext, nil)
		}
	}
	if !ext.Time.IsZero() {
		if err := SetFileTime(src, ext.Time); err != nil {
			r.Logf(errlog.Crit, "utimes() \"%s\" failed %s", src, errlog.Errno(err))
			return r.renameFailed(src, to, ext, nil)
		}
	}
	err := syscall.Rename(src, to)
	if err == nil {
		return true
	}
	if errors.Is(err, syscall.ENOENT) {
		if !ext.CreatePath {
			return r.renameFailed(src, to, ext, err)
		}
		if err := CreateFullPath(to, DirAccess(ext.PathAccess)); err != nil {
			r.Logf(errlog.Crit, "mkdir() \"%s\" failed %s", to, errlog.Errno(err))
			return r.renameFailed(src, to, ext, nil)
		}
		if err = syscall.Rename(src, to); err == nil {
			return true
		}
	}
	if errors.Is(err, syscall.EXDEV) {
		tmp := fmt.Sprintf("%s.%010d", to, uint32(NextTempNumber()))
		if r.CopyFile(src, tmp, -1, ext.Access, ext.Time) {
			err := syscall.Rename(tmp, to)
			if err == nil {
				if err := syscall.Unlink(src); err != nil {
					r.Logf(errlog.Crit, "unlink() \"%s\" failed %s", src, errlog.Errno(err))
					return false
				}
				return true
			}
			r.Logf(errlog.Crit, "rename() \"%s\" to \"%s\" failed %s", tmp, to, errlog.Errno(err))
			if err := syscall.Unlink(tmp); err != nil {
				r.Logf(errlog.Crit, "unlink() \"%s\" failed %s", tmp, errlog.Errno(err))
			}
		}
		return r.renameFailed(src, to, ext, nil)
	}
	return r.renameFailed(src, to, ext, err)
}

// renameFailed removes the source when asked to and logs the rename's
// error, if any.
func (r *Request) renameFailed(src, to string, ext *ExtRename, err error) bool {
	if ext.DeleteFile {
		if err := syscall.Unlink(src); err != nil {
			r.Logf(errlog.Crit, "unlink() \"%s\" failed %s", src, errlog.Errno(err))
		}
	}
	if err != nil {
		r.Logf(errlog.Crit, "rename() \"%s\" to \"%s\" failed %s", src, to, errlog.Errno(err))
	}
	return false
}

// CreateFullPath makes the directories of path (all but its last
// element) that are missing, as ngx_create_full_path: an existing one is
// fine, one that cannot be searched is passed over (and its error
// returned when nothing else fails).
func CreateFullPath(path string, access os.FileMode) error {
	var last error
	for i := 1; i < len(path); i++ {
		if path[i] != '/' {
			continue
		}
		err := syscall.Mkdir(path[:i], uint32(access))
		switch {
		case err == nil, err == syscall.EEXIST:
			last = nil
		case err == syscall.EACCES:
			last = err
		default:
			return err
		}
	}
	return last
}

// SetFileTime is ngx_set_file_time: the modification time in whole
// seconds, the access time now.
func SetFileTime(name string, mtime time.Time) error {
	return os.Chtimes(name, time.Unix(time.Now().Unix(), 0), time.Unix(mtime.Unix(), 0))
}

// CopyFile copies size bytes (the whole file when -1) of from to a new
// file to, as ngx_copy_file: with access (the source's permissions when
// 0, less the umask) and mtime (the source's when zero), logging what
// failed.
func (r *Request) CopyFile(from, to string, size int64, access os.FileMode, mtime time.Time) bool {
	src, err := os.Open(from)
	if err != nil {
		r.Logf(errlog.Crit, "open() \"%s\" failed %s", from, errlog.Errno(err))
		return false
	}
	defer src.Close()
	if size < 0 || access == 0 || mtime.IsZero() {
		fi, err := src.Stat()
		if err != nil {
			r.Logf(errlog.Alert, "fstat() \"%s\" failed %s", from, errlog.Errno(err))
			return false
		}
		if size < 0 {
			size = fi.Size()
		}
		if access == 0 {
			access = fi.Mode().Perm()
		}
		if mtime.IsZero() {
			mtime = fi.ModTime()
		}
	}
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, access)
	if err != nil {
		r.Logf(errlog.Crit, "open() \"%s\" failed %s", to, errlog.Errno(err))
		return false
	}
	defer dst.Close()
	buf := make([]byte, min(size, 64<<10))
	for left := size; left > 0; {
		want := min(left, int64(len(buf)))
		n, err := io.ReadFull(src, buf[:want])
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			r.Logf(errlog.Alert, "read() \"%s\" failed %s", from, errlog.Errno(err))
			return false
		}
		if int64(n) != want {
			r.Logf(errlog.Alert, "read() has read only %d of %d from %s", n, size, from)
			return false
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			r.Logf(errlog.Alert, "write() \"%s\" failed %s", to, errlog.Errno(err))
			return false
		}
		left -= int64(n)
	}
	if err := SetFileTime(to, mtime); err != nil {
		r.Logf(errlog.Alert, "utimes() \"%s\" failed %s", to, errlog.Errno(err))
		return false
	}
	return true
}
