// Package static is nginx's ngx_http_static_module: the content handler
// that answers GET and HEAD with the file the URI maps to under root or
// alias. A directory without a trailing slash is redirected to one; a file
// goes out with Last-Modified, an ETag and the type its extension maps to,
// and may then be cut by the range and not-modified filters.
//
// Small files come from the loop's validated byte cache (see
// http.OpenFile): a hit costs one stat and no allocation, and the bytes are
// queued without copying. Larger files are sent with sendfile, or read a
// buffer at a time by the copy filter when sendfile is off.
//
// The module has no directives. Its handler runs on the request's loop.
package static

import (
	"syscall"

	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// Module is ngx_http_static_module.
var Module = &core.Module{
	Name: "ngx_http_static_module",
	Type: core.HTTPType,
	HTTP: &http.Hooks{
		Postconfiguration: func(cf *http.Conf) error {
			cf.AddPhaseHandler(http.ContentPhase, handler)
			return nil
		},
	},
}

var (
	etagName     = []byte("ETag")
	locationName = []byte("Location")
)

// pathReserve is the room taken from the request arena for the file name
// beyond the URI's length; a longer root makes append grow it.
const pathReserve = 256

// handler is ngx_http_static_handler.
func handler(r *http.Request) int {
	if r.Method&(httpparse.MethodGET|httpparse.MethodHEAD|httpparse.MethodPOST) == 0 {
		return 405
	}
	uri := r.URI
	if len(uri) == 0 || uri[len(uri)-1] == '/' {
		return http.Declined
	}
	path, _, ok := r.AppendPath(r.Alloc(len(uri) + pathReserve)[:0])
	if !ok {
		return 500
	}
	loc := r.Loc
	var fi http.OpenFileInfo
	if !r.OpenFile(path, http.OpenSmall, &fi) {
		return OpenFailed(r, path, &fi)
	}
	if fi.IsDir {
		return redirectDir(r)
	}
	if !fi.IsFile {
		r.Logf(errlog.Crit, "\"%s\" is not a regular file", path)
		return 404
	}
	if r.Method == httpparse.MethodPOST {
		return 405
	}
	if rc := r.DiscardBody(); rc != http.OK {
		return rc
	}
	r.SetLogAction("sending response to client")
	out := &r.Out
	out.Status = 200
	out.ContentLength = fi.Size
	out.LastModified = fi.Mtime
	if fi.ETag != nil {
		if loc.Etag.V {
			out.Add(etagName, fi.ETag)
		}
	} else {
		r.SetETag()
	}
	r.SetContentType()
	if r != r.Main && fi.Size == 0 {
		return r.SendHeader()
	}
	out.AllowRanges = true
	rc := r.SendHeader()
	if rc == http.Error || rc > http.OK || r.HeaderOnly {
		return rc
	}
	if fi.Data != nil || fi.Size == 0 {
		return r.OutputBytes(fi.Data, true, true)
	}
	return r.OutputFile(fi.File(), 0, fi.Size, true)
}

// OpenFailed answers a failed open of path with nginx's status and
// error-log line (the file-serving handlers' common code).
func OpenFailed(r *http.Request, path []byte, fi *http.OpenFileInfo) int {
	level, rc := errlog.Crit, 500
	switch fi.Err {
	case 0:
		return 500
	case syscall.ENOENT, syscall.ENOTDIR, syscall.ENAMETOOLONG:
		level, rc = errlog.Error, 404
	case syscall.EACCES, syscall.EMLINK, syscall.ELOOP:
		level, rc = errlog.Error, 403
	}
	if rc != 404 || r.Loc.LogNotFound.V {
		r.Logf(level, "%s \"%s\" failed %s", fi.Failed, path, errlog.Errno(fi.Err))
	}
	return rc
}

// redirectDir answers a directory named without its trailing slash with
// 301 to the URI plus "/" (escaped, with the arguments), which the header
// filter makes absolute.
func redirectDir(r *http.Request) int {
	uri := r.URI
	n := len(uri) + 2*httpparse.EscapeCount(uri, httpparse.EscapeURI) + 1
	if len(r.Args) > 0 {
		n += len(r.Args) + 1
	}
	v := r.Alloc(n)[:0]
	v = httpparse.AppendEscape(v, uri, httpparse.EscapeURI)
	v = append(v, '/')
	if len(r.Args) > 0 {
		v = append(v, '?')
		v = append(v, r.Args...)
	}
	r.Out.DelKnown(httpparse.HdrLocation)
	r.Out.Add(locationName, v)
	return 301
}
