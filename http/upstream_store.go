package http

// proxy_store (nginx's u->store): a buffered response of status 200 is
// also written to a temporary file as it is relayed, and moved to its
// place once the upstream is done and the length adds up
// (ngx_http_upstream_store); anything else deletes the file. While it
// stores, a client that goes away does not stop the upstream: the body
// is read to its end for the file, as nginx's event pipe does.

import (
	"os"
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
	ext := ExtRename{Access: u.Conf.Store.Access, PathAccess: u.Conf.Store.Access, CreatePath: true, DeleteFile: true}
	if v := u.resp.Get(httpparse.HdrLastModified); v != nil {
		if t := ParseHTTPTime(v); t != -1 {
			ext.Time = time.Unix(t, 0)
		}
	}
	r.RenameFile(name, to, &ext)
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
