// Package dav is nginx's ngx_http_dav_module: the WebDAV methods PUT,
// DELETE, MKCOL, COPY and MOVE on the files under root or alias, for the
// methods dav_methods allows.
//
// Directives are handled on the goroutine that builds the cycle. The
// handler runs on the request's loop and works on the file system there,
// as nginx's worker does (a tree deleted or copied is walked in place).
package dav

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"syscall"
	"time"

	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// Module is ngx_http_dav_module.
var Module = &core.Module{
	Name:      "ngx_http_dav_module",
	Type:      core.HTTPType,
	Configure: "--with-http_dav_module",
}

// methodsOff is NGX_HTTP_DAV_OFF.
const methodsOff = 2

// LocConf is the module's configuration of one level.
type LocConf struct {
	Methods           core.Value[uint32]
	MinDeleteDepth    core.Value[int]
	Access            core.Value[os.FileMode]
	CreateFullPutPath core.Value[bool]
}

var methods = []core.Enum[uint32]{
	{Name: "off", V: methodsOff},
	{Name: "put", V: uint32(httpparse.MethodPUT)},
	{Name: "delete", V: uint32(httpparse.MethodDELETE)},
	{Name: "mkcol", V: uint32(httpparse.MethodMKCOL)},
	{Name: "copy", V: uint32(httpparse.MethodCOPY)},
	{Name: "move", V: uint32(httpparse.MethodMOVE)},
}

func init() {
	ctx := core.HTTPMainSrvLoc
	Module.Directives = []core.Directive{
		core.BitmaskSlot("dav_methods", ctx, core.LocLevel, func(c *LocConf) *core.Value[uint32] { return &c.Methods }, methodsOff, methods),
		core.FlagSlot("create_full_put_path", ctx, core.LocLevel, func(c *LocConf) *core.Value[bool] { return &c.CreateFullPutPath }, false),
		core.NumSlot("min_delete_depth", ctx, core.LocLevel, func(c *LocConf) *core.Value[int] { return &c.MinDeleteDepth }, 0),
		core.AccessSlot("dav_access", ctx, core.LocLevel, func(c *LocConf) *core.Value[os.FileMode] { return &c.Access }),
	}
	Module.HTTP = &http.Hooks{
		CreateLocConf: func(*http.Conf) any { return &LocConf{} },
		MergeLocConf: func(cf *http.Conf, parent, child any) error {
			core.MergeValue(&parent.(*LocConf).Access, &child.(*LocConf).Access, 0o600)
			return nil
		},
		Postconfiguration: func(cf *http.Conf) error {
			cf.AddPhaseHandler(http.ContentPhase, handler)
			return nil
		},
	}
}

var locationName = []byte("Location")

// handler is ngx_http_dav_handler.
func handler(r *http.Request) int {
	dl := r.Loc.LocConfOf(Module).(*LocConf)
	if uint32(r.Method)&dl.Methods.V == 0 {
		return http.Declined
	}
	switch r.Method {
	case httpparse.MethodPUT:
		if r.URI[len(r.URI)-1] == '/' {
			r.Logf(errlog.Error, "cannot PUT to a collection")
			return 409
		}
		if _, ok := r.KnownIn(httpparse.HdrContentRange); ok {
			r.Logf(errlog.Error, "PUT with range is unsupported")
			return 501
		}
		r.BodyInFile()
		if rc := r.ReadBody(put); rc >= 300 {
			return rc
		}
		return http.Done
	case httpparse.MethodDELETE:
		return deleteHandler(r, dl)
	case httpparse.MethodMKCOL:
		return mkcol(r, dl)
	case httpparse.MethodCOPY, httpparse.MethodMOVE:
		return copyMove(r, dl)
	}
	return http.Declined
}

// hasBody tells whether the request came with a body.
func hasBody(r *http.Request) bool { return r.ContentLength > 0 || r.Chunked }

// put is ngx_http_dav_put_handler: the body's file takes the URI's place.
func put(r *http.Request) {
	if r.DiscardingBody() {
		r.Logf(errlog.Error, "PUT request body is unavailable")
		r.Finalize(500)
		return
	}
	temp, ok := r.TakeBodyFile()
	if !ok {
		r.Logf(errlog.Error, "PUT request body must be in a file")
		r.Finalize(500)
		return
	}
	path, _, ok := r.AppendPath(nil)
	if !ok {
		syscall.Unlink(temp)
		r.Finalize(500)
		return
	}
	name := string(path)
	if r.Log().Enabled(errlog.Debug) {
		r.Logf(errlog.Debug, "http put filename: \"%s\"", name)
	}
	status := 204
	if fi, err := os.Stat(name); err != nil {
		status = 201
	} else if fi.IsDir() {
		r.Logf(errlog.Error, "\"%s\" could not be created %s", name, errlog.Errno(syscall.EISDIR))
		if err := syscall.Unlink(temp); err != nil {
			r.Logf(errlog.Crit, "unlink() \"%s\" failed %s", temp, errlog.Errno(err))
		}
		r.Finalize(409)
		return
	}
	dl := r.Loc.LocConfOf(Module).(*LocConf)
	ext := http.ExtRename{Access: dl.Access.V, PathAccess: dl.Access.V, CreatePath: dl.CreateFullPutPath.V, DeleteFile: true}
	if v, ok := r.KnownIn(httpparse.HdrDate); ok {
		if t := http.ParseHTTPTime(v); t != -1 {
			ext.Time = time.Unix(t, 0)
		}
	}
	if !r.RenameFile(temp, name, &ext) {
		r.Finalize(500)
		return
	}
	if status == 201 {
		setLocation(r)
		r.Out.ContentLength = 0
	}
	r.Out.Status = status
	r.HeaderOnly = true
	r.Finalize(r.SendHeader())
}

// deleteHandler is ngx_http_dav_delete_handler.
func deleteHandler(r *http.Request, dl *LocConf) int {
	if hasBody(r) {
		r.Logf(errlog.Error, "DELETE with body is unsupported")
		return 415
	}
	if depth := dl.MinDeleteDepth.V; depth > 0 {
		ok, d := false, 0
		for i := 0; i < len(r.URI); {
			c := r.URI[i]
			i++
			if c == '/' {
				d++
				if d >= depth && i < len(r.URI) {
					ok = true
					break
				}
			}
		}
		if !ok {
			r.Logf(errlog.Error, "insufficient URI depth:%d to DELETE", d)
			return 409
		}
	}
	p, _, ok := r.AppendPath(nil)
	if !ok {
		return 500
	}
	path := string(p)
	if r.Log().Enabled(errlog.Debug) {
		r.Logf(errlog.Debug, "http delete filename: \"%s\"", path)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		notFound := 404
		if errors.Is(err, syscall.ENOTDIR) {
			notFound = 409
		}
		return davError(r, err, notFound, "lstat()", path)
	}
	dir := fi.IsDir()
	if dir {
		if r.URI[len(r.URI)-1] != '/' {
			r.Logf(errlog.Error, "DELETE \"%s\" failed %s", path, errlog.Errno(syscall.EISDIR))
			return 409
		}
		if depthOf(r, infinity) != infinity {
			r.Logf(errlog.Error, "\"Depth\" header must be infinity")
			return 400
		}
	} else if d := depthOf(r, 0); d != 0 && d != infinity {
		r.Logf(errlog.Error, "\"Depth\" header must be 0 or infinity")
		return 400
	}
	walk := path
	if dir {
		walk = path[:len(path)-1]
	}
	if rc := deletePath(r, walk, path, dir); rc != http.OK {
		return rc
	}
	return 204
}

// deletePath is ngx_http_dav_delete_path: a file, or a directory with
// everything in it. name is the path as the last call names it: nginx
// keeps the URI's slash there.
func deletePath(r *http.Request, path, name string, dir bool) int {
	failed := "unlink()"
	var err error
	if dir {
		rm := func(p string, _ fs.FileInfo) {
			if err := syscall.Unlink(p); err != nil {
				davError(r, err, 0, "unlink()", p)
			}
		}
		t := tree{
			file: rm,
			spec: rm,
			post: func(p string, _ fs.FileInfo) {
				if err := syscall.Rmdir(p); err != nil {
					davError(r, err, 0, "rmdir()", p)
				}
			},
		}
		if !t.walk(r, path, name) {
			return 500
		}
		failed, err = "rmdir()", syscall.Rmdir(name)
	} else {
		err = syscall.Unlink(name)
	}
	if err == nil {
		return http.OK
	}
	return davError(r, err, 404, failed, name)
}

// mkcol is ngx_http_dav_mkcol_handler.
func mkcol(r *http.Request, dl *LocConf) int {
	if hasBody(r) {
		r.Logf(errlog.Error, "MKCOL with body is unsupported")
		return 415
	}
	if r.URI[len(r.URI)-1] != '/' {
		r.Logf(errlog.Error, "MKCOL can create a collection only")
		return 409
	}
	p, _, ok := r.AppendPath(nil)
	if !ok {
		return 500
	}
	path := string(p[:len(p)-1])
	if r.Log().Enabled(errlog.Debug) {
		r.Logf(errlog.Debug, "http mkcol path: \"%s\"", path)
	}
	if err := syscall.Mkdir(path, uint32(http.DirAccess(dl.Access.V))); err != nil {
		return davError(r, err, 409, "mkdir()", path)
	}
	setLocation(r)
	return 201
}

// copyMove is ngx_http_dav_copy_move_handler.
func copyMove(r *http.Request, dl *LocConf) int {
	if hasBody(r) {
		r.Logf(errlog.Error, "COPY and MOVE with body are unsupported")
		return 415
	}
	dest, ok := r.KnownIn(httpparse.HdrDestination)
	if !ok {
		r.Logf(errlog.Error, "client sent no \"Destination\" header")
		return 400
	}
	invalid := func() int {
		r.Logf(errlog.Error, "client sent invalid \"Destination\" header: \"%s\"", dest)
		return 400
	}
	duri := dest
	if len(dest) == 0 || dest[0] != '/' {
		server := r.Host
		if len(server) == 0 {
			r.Logf(errlog.Error, "client sent no \"Host\" header")
			return 400
		}
		if !bytes.HasPrefix(dest, []byte("http://")) {
			return invalid()
		}
		host := dest[len("http://"):]
		if !bytes.HasPrefix(host, server) {
			r.Logf(errlog.Error, "\"Destination\" URI \"%s\" is handled by different repository than the source URI", dest)
			return 400
		}
		i := bytes.IndexByte(host[len(server):], '/')
		if i < 0 {
			return invalid()
		}
		duri = host[len(server)+i:]
	}
	dpath, _, ok := r.ParseUnsafeURI(duri)
	if !ok {
		// nginx names the path as it found it unsafe: decoded when it
		// had escapes
		bad := duri
		if i := bytes.IndexByte(bad, '?'); i >= 0 {
			bad = bad[:i]
		}
		if bytes.IndexByte(bad, '%') >= 0 {
			bad, _ = httpparse.AppendUnescape(nil, bad, httpparse.UnescapePlain)
		} else {
			bad = duri
		}
		r.Logf(errlog.Error, "unsafe URI \"%s\" was detected", bad)
		return invalid()
	}
	srcColl, dstColl := r.URI[len(r.URI)-1] == '/', dest[len(dest)-1] == '/'
	if srcColl != dstColl {
		r.Logf(errlog.Error, "both URI \"%s\" and \"Destination\" URI \"%s\" should be either collections or non-collections", r.URI, dest)
		return 409
	}
	move := r.Method == httpparse.MethodMOVE
	if d := depthOf(r, infinity); d != infinity {
		if !move {
			if d != 0 {
				r.Logf(errlog.Error, "\"Depth\" header must be 0 or infinity")
				return 400
			}
		} else {
			r.Logf(errlog.Error, "\"Depth\" header must be infinity")
			return 400
		}
	}
	overwrite := true
	if v, ok := r.KnownIn(httpparse.HdrOverwrite); ok {
		switch {
		case len(v) == 1 && (v[0] == 'T' || v[0] == 't'):
		case len(v) == 1 && (v[0] == 'F' || v[0] == 'f'):
			overwrite = false
		default:
			r.Logf(errlog.Error, "client sent invalid \"Overwrite\" header: \"%s\"", v)
			return 400
		}
	}
	p, _, ok := r.AppendPath(nil)
	if !ok {
		return 500
	}
	path := string(p)
	if r.Log().Enabled(errlog.Debug) {
		r.Logf(errlog.Debug, "http copy from: \"%s\"", path)
	}
	uri := r.URI
	r.URI = dpath
	cp, _, ok := r.AppendPath(nil)
	r.URI = uri
	if !ok {
		return 500
	}
	to := string(cp)
	slash := false
	if len(to) > 0 && to[len(to)-1] == '/' {
		slash, to = true, to[:len(to)-1]
	}
	if r.Log().Enabled(errlog.Debug) {
		r.Logf(errlog.Debug, "http copy to: \"%s\"", to)
	}
	dir := false
	if fi, err := os.Lstat(to); err != nil {
		if !errors.Is(err, syscall.ENOENT) {
			return davError(r, err, 404, "lstat()", to)
		}
		overwrite = false
	} else {
		if fi.IsDir() && !slash {
			method := "COPY"
			if move {
				method = "MOVE"
			}
			r.Logf(errlog.Error, "\"%s\" could not be %sed to collection \"%s\"", r.URI, method, dest)
			return 409
		}
		if !overwrite {
			r.Logf(errlog.Error, "\"%s\" could not be created %s", to, errlog.Errno(syscall.EEXIST))
			return 412
		}
		dir = fi.IsDir()
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return davError(r, err, 404, "lstat()", path)
	}
	if !fi.IsDir() {
		if move {
			ext := http.ExtRename{PathAccess: dl.Access.V, CreatePath: true}
			if r.RenameFile(path, to, &ext) {
				return 204
			}
			return 500
		}
		if r.CopyFile(path, to, fi.Size(), fi.Mode().Perm(), fi.ModTime()) {
			return 204
		}
		return 500
	}
	if !srcColl {
		r.Logf(errlog.Error, "\"%s\" is collection", r.URI)
		return 400
	}
	if overwrite {
		if r.Log().Enabled(errlog.Debug) {
			r.Logf(errlog.Debug, "http delete: \"%s\"", to)
		}
		if rc := deletePath(r, to, to, dir); rc != http.OK {
			return rc
		}
	}
	name := path
	path = path[:len(path)-1]
	if move {
		if syscall.Rename(name, to) == nil {
			return 201
		}
	}
	if err := syscall.Mkdir(to, uint32(fi.Mode().Perm())); err != nil {
		return davError(r, err, 404, "mkdir()", to)
	}
	// the copy's names are the source's with path's length replaced by to
	target := func(p string) string { return to + p[len(path):] }
	t := tree{
		file: func(p string, fi fs.FileInfo) { r.CopyFile(p, target(p), fi.Size(), fi.Mode().Perm(), fi.ModTime()) },
		pre: func(p string, fi fs.FileInfo) {
			if err := syscall.Mkdir(target(p), uint32(http.DirAccess(fi.Mode().Perm()))); err != nil {
				davError(r, err, 0, "mkdir()", target(p))
			}
		},
		post: func(p string, fi fs.FileInfo) {
			if err := http.SetFileTime(target(p), fi.ModTime()); err != nil {
				r.Logf(errlog.Alert, "utimes() \"%s\" failed %s", target(p), errlog.Errno(err))
			}
		},
	}
	if !t.walk(r, path, name) {
		return 500
	}
	if move {
		if rc := deletePath(r, path, name, true); rc != http.OK {
			return rc
		}
	}
	return 201
}

// infinity is NGX_HTTP_DAV_INFINITY_DEPTH; invalid is a Depth header
// that is neither 0, 1 nor infinity.
const (
	infinity = -1
	invalid  = -2
)

// depthOf is ngx_http_dav_depth.
func depthOf(r *http.Request, def int) int {
	v, ok := r.KnownIn(httpparse.HdrDepth)
	if !ok {
		return def
	}
	switch string(v) {
	case "0":
		return 0
	case "1":
		return 1
	case "infinity":
		return infinity
	}
	r.Logf(errlog.Error, "client sent invalid \"Depth\" header: \"%s\"", v)
	return invalid
}

// davError is ngx_http_dav_error: the status for err (notFound for a
// missing file) and its log line.
func davError(r *http.Request, err error, notFound int, failed, path string) int {
	var en syscall.Errno
	errors.As(err, &en)
	level, rc := errlog.Crit, 500
	switch en {
	case syscall.ENOENT, syscall.ENOTDIR, syscall.ENAMETOOLONG:
		level, rc = errlog.Error, notFound
	case syscall.EACCES, syscall.EPERM:
		level, rc = errlog.Error, 403
	case syscall.EEXIST:
		level, rc = errlog.Error, 405
	case syscall.ENOSPC:
		rc = 507
	}
	r.Logf(level, "%s \"%s\" failed %s", failed, path, errlog.Errno(err))
	return rc
}

// setLocation is ngx_http_dav_location: the URI, escaped, which the
// header filter makes absolute.
func setLocation(r *http.Request) {
	uri := r.URI
	v := httpparse.AppendEscape(r.Alloc(len(uri) + 2*httpparse.EscapeCount(uri, httpparse.EscapeURI))[:0], uri, httpparse.EscapeURI)
	r.Out.Add(locationName, v)
}

// tree walks a directory as ngx_walk_tree: regular files, directories
// (before and after their contents) and anything else each have their
// handler; links are followed, and what cannot be read is logged and
// passed over.
type tree struct {
	file, pre, post, spec func(path string, fi fs.FileInfo)
}

// walk walks dir, which opendir names as name (nginx keeps the URI's
// slash there at the top).
func (t *tree) walk(r *http.Request, dir, name string) bool {
	d, err := os.Open(name)
	if err != nil {
		r.Logf(errlog.Crit, "opendir() \"%s\" failed %s", name, errlog.Errno(err))
		return false
	}
	entries, rerr := d.ReadDir(-1)
	d.Close()
	for _, e := range entries {
		p := dir + "/" + e.Name()
		// what a link points to is what counts, as nginx stats it
		fi, err := os.Stat(p)
		if err != nil {
			r.Logf(errlog.Crit, "stat() \"%s\" failed %s", p, errlog.Errno(err))
			continue
		}
		switch {
		case fi.Mode().IsRegular():
			if t.file != nil {
				t.file(p, fi)
			}
		case fi.IsDir():
			if t.pre != nil {
				t.pre(p, fi)
			}
			t.walk(r, p, p)
			if t.post != nil {
				t.post(p, fi)
			}
		default:
			if t.spec != nil {
				t.spec(p, fi)
			}
		}
	}
	if rerr != nil {
		r.Logf(errlog.Crit, "readdir() \"%s\" failed %s", name, errlog.Errno(rerr))
		return false
	}
	return true
}
