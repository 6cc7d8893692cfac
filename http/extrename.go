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
		if err := os.Chtimes(src, ext.Time, ext.Time); err != nil {
			r.Logf(errlog.Crit, "utimes() \"%s\" failed %s", src, errlog.Errno(err))
			return r.renameFailed(src, to, ext, nil)
		}
	}
	err := os.Rename(src, to)
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
		if err = os.Rename(src, to); err == nil {
			return true
		}
	}
	if errors.Is(err, syscall.EXDEV) {
		tmp := fmt.Sprintf("%s.%010d", to, uint32(NextTempNumber()))
		if r.CopyFile(src, tmp, ext.Access, ext.Time) {
			err := os.Rename(tmp, to)
			if err == nil {
				if err := os.Remove(src); err != nil {
					r.Logf(errlog.Crit, "unlink() \"%s\" failed %s", src, errlog.Errno(err))
					return false
				}
				return true
			}
			r.Logf(errlog.Crit, "rename() \"%s\" to \"%s\" failed %s", tmp, to, errlog.Errno(err))
			if err := os.Remove(tmp); err != nil {
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
		if err := os.Remove(src); err != nil {
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

// CopyFile copies from to a new file to, as ngx_copy_file: with access
// (the source's permissions when 0, less the umask) and mtime (the
// source's when zero), logging what failed.
func (r *Request) CopyFile(from, to string, access os.FileMode, mtime time.Time) bool {
	src, err := os.Open(from)
	if err != nil {
		r.Logf(errlog.Crit, "open() \"%s\" failed %s", from, errlog.Errno(err))
		return false
	}
	defer src.Close()
	if access == 0 || mtime.IsZero() {
		fi, err := src.Stat()
		if err != nil {
			r.Logf(errlog.Alert, "fstat() \"%s\" failed %s", from, errlog.Errno(err))
			return false
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
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				r.Logf(errlog.Alert, "write() \"%s\" failed %s", to, errlog.Errno(werr))
				return false
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			r.Logf(errlog.Alert, "read() \"%s\" failed %s", from, errlog.Errno(err))
			return false
		}
	}
	if err := os.Chtimes(to, mtime, mtime); err != nil {
		r.Logf(errlog.Alert, "utimes() \"%s\" failed %s", to, errlog.Errno(err))
		return false
	}
	return true
}
