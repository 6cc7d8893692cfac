package http

// proxy_store (nginx's u->store): a buffered response of status 200 is
// also written to a temporary file as it is relayed, and moved to its
// place once the upstream is done and the length adds up
// (ngx_http_upstream_store); anything else deletes the file. While it
// stores, a client that goes away does not stop the upstream: the body
// is read to its end for the file, as nginx's event pipe does.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"gresty/errlog"
	"gresty/httpparse"
)

// StoreConf is where and how proxy_store keeps responses.
type StoreConf struct {
	// Path is the file's name; nil stores at the request's root and URI.
	Path *Template
	// Access is proxy_store_access's permissions of the files (and,
	// with their x bits, of the directories made for them).
	Access os.FileMode
}

// storeStart opens the store file when the response is one to keep.
func (u *UpstreamRequest) storeStart() {
	sc := u.Conf.Store
	if sc == nil || u.status() != 200 || !u.buffering || u.r.HeaderOnly || u.Conf.TempPath == nil {
		return
	}
	f, name, err := u.Conf.TempPath.openTempFile()
	if err != nil {
		u.r.Logf(errlog.Crit, "open() \"%s\" failed %s", name, errlog.Errno(err))
		return
	}
	u.storeFile, u.storeName, u.storeOff = f, name, 0
}

// storeWrite adds relayed body bytes to the store file; a failed write
// gives the file up.
func (u *UpstreamRequest) storeWrite(b []byte) {
	if u.storeFile == nil {
		return
	}
	if _, err := u.storeFile.WriteAt(b, u.storeOff); err != nil {
		u.r.Logf(errlog.Crit, "pwrite() \"%s\" failed %s", u.storeName, errlog.Errno(err))
		u.storeDrop()
		return
	}
	u.storeOff += int64(len(b))
}

// storeFinish ends the store when the relay ends: a complete body of the
// length announced (or of a close-delimited response) goes to its place,
// anything else is deleted.
func (u *UpstreamRequest) storeFinish(complete bool) {
	if u.storeFile == nil {
		return
	}
	cl := u.resp.ContentLength
	if !complete || cl >= 0 && cl != u.storeOff {
		u.storeDrop()
		return
	}
	r := u.r
	f, name := u.storeFile, u.storeName
	u.storeFile, u.storeName = nil, ""
	f.Close()
	var to string
	if t := u.Conf.Store.Path; t != nil {
		to = t.EvalString(r)
	} else {
		p, _, ok := r.MapURIToPath(0)
		if !ok {
			os.Remove(name)
			return
		}
		to = p
	}
	if r.Log().Enabled(errlog.Debug) {
		r.Logf(errlog.Debug, "upstream stores \"%s\" to \"%s\"", name, to)
	}
	access := u.Conf.Store.Access
	if err := os.Chmod(name, access); err != nil {
		r.Logf(errlog.Crit, "chmod() \"%s\" failed %s", name, errlog.Errno(err))
		os.Remove(name)
		return
	}
	mtime := time.Time{}
	if v := u.resp.Get(httpparse.HdrLastModified); v != nil {
		if t := ParseHTTPTime(v); t != -1 {
			mtime = time.Unix(t, 0)
			if err := os.Chtimes(name, mtime, mtime); err != nil {
				r.Logf(errlog.Crit, "utimes() \"%s\" failed %s", name, errlog.Errno(err))
				os.Remove(name)
				return
			}
		}
	}
	err := os.Rename(name, to)
	if errors.Is(err, syscall.ENOENT) {
		dirAccess := access | (access&0o444)>>2
		if derr := os.MkdirAll(filepath.Dir(to), dirAccess); derr != nil {
			r.Logf(errlog.Crit, "mkdir() \"%s\" failed %s", filepath.Dir(to), errlog.Errno(derr))
			os.Remove(name)
			return
		}
		err = os.Rename(name, to)
	}
	if errors.Is(err, syscall.EXDEV) {
		// the temporary file is on another file system: it is copied
		// beside its place and renamed there
		tmp := fmt.Sprintf("%s.%010d", to, uint32(NextTempNumber()))
		if copyStoreFile(r, name, tmp, access, mtime) {
			err := os.Rename(tmp, to)
			if err == nil {
				if err := os.Remove(name); err != nil {
					r.Logf(errlog.Crit, "unlink() \"%s\" failed %s", name, errlog.Errno(err))
				}
				return
			}
			r.Logf(errlog.Crit, "rename() \"%s\" to \"%s\" failed %s", tmp, to, errlog.Errno(err))
		}
		if err := os.Remove(tmp); err != nil && !errors.Is(err, syscall.ENOENT) {
			r.Logf(errlog.Crit, "unlink() \"%s\" failed %s", tmp, errlog.Errno(err))
		}
		os.Remove(name)
		return
	}
	if err != nil {
		os.Remove(name)
		r.Logf(errlog.Crit, "rename() \"%s\" to \"%s\" failed %s", name, to, errlog.Errno(err))
	}
}

// copyStoreFile copies a stored response to another file system with
// the store's permissions and time, logging as ngx_copy_file does.
func copyStoreFile(r *Request, from, to string, access os.FileMode, mtime time.Time) bool {
	src, err := os.Open(from)
	if err != nil {
		r.Logf(errlog.Crit, "open() \"%s\" failed %s", from, errlog.Errno(err))
		return false
	}
	defer src.Close()
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
	if mtime.IsZero() {
		if fi, err := src.Stat(); err == nil {
			mtime = fi.ModTime()
		}
	}
	if err := os.Chtimes(to, mtime, mtime); err != nil {
		r.Logf(errlog.Alert, "utimes() \"%s\" failed %s", to, errlog.Errno(err))
		return false
	}
	return true
}

// storeDrop deletes the store file.
func (u *UpstreamRequest) storeDrop() {
	if u.storeFile == nil {
		return
	}
	u.storeFile.Close()
	if err := os.Remove(u.storeName); err != nil {
		u.r.Logf(errlog.Crit, "unlink() \"%s\" failed %s", u.storeName, errlog.Errno(err))
	}
	u.storeFile, u.storeName = nil, ""
}
