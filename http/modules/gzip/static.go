package gzip

import (
	"syscall"

	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// StaticModule is ngx_http_gzip_static_module.
var StaticModule = &core.Module{
	Name:      "ngx_http_gzip_static_module",
	Type:      core.HTTPType,
	Configure: "--with-http_gzip_static_module",
}

func init() {
	StaticModule.Directives = []core.Directive{
		core.EnumSlot("gzip_static", core.HTTPMainSrvLoc, core.LocLevel, func(c *StaticConf) *core.Value[int] { return &c.Mode }, StaticOff,
			[]core.Enum[int]{{Name: "off", V: StaticOff}, {Name: "on", V: StaticOn}, {Name: "always", V: StaticAlways}}),
	}
	StaticModule.HTTP = &http.Hooks{
		CreateLocConf: func(*http.Conf) any { return &StaticConf{} },
		Postconfiguration: func(cf *http.Conf) error {
			cf.AddPhaseHandler(http.ContentPhase, staticHandler)
			return nil
		},
	}
}

func staticHandler(r *http.Request) int {
	c := r.Loc.Confs[StaticModule.TypeIndex].(*StaticConf)
	return ServeStatic(r, c.Mode.V, acceptGzipFresh, ".gz", encodingGzip)
}

// StaticConf is gzip_static's configuration at one level.
type StaticConf struct {
	Mode core.Value[int]
}

// The gzip_static (and zstd_static) modes.
const (
	StaticOff = iota
	StaticOn
	StaticAlways
)

// acceptGzipFresh runs the gzip decision again, as gzip_static does.
func acceptGzipFresh(r *http.Request) bool { return r.GzipCheck() }

// ServeStatic is ngx_http_gzip_static_handler for a precompressed file
// with extension ext (".gz") and Content-Encoding encoding: for GET and
// HEAD of a URI not ending in "/", with mode on and accept(r), or mode
// always, the file "path+ext" is sent in place of "path", with its own
// length, Last-Modified and ETag, and the type of the uncompressed name.
// A missing file declines silently so that the static module serves the
// original. Mode on marks the response as varying on Accept-Encoding
// whenever the file exists, even for clients that do not get it. The file
// is opened as the static module opens files (open_file_cache,
// disable_symlinks, the loop's small-file cache).
func ServeStatic(r *http.Request, mode int, accept func(r *http.Request) bool, ext string, encoding []byte) int {
	if mode == StaticOff || (r.Method != httpparse.MethodGET && r.Method != httpparse.MethodHEAD) {
		return http.Declined
	}
	if len(r.URI) == 0 || r.URI[len(r.URI)-1] == '/' {
		return http.Declined
	}
	ok := mode == StaticAlways || accept(r)
	if !r.Loc.GzipVary.V && !ok {
		return http.Declined
	}
	path, _, found := r.AppendPath(r.Alloc(len(r.URI) + 256)[:0])
	if !found {
		return 500
	}
	path = append(path, ext...)
	var fi http.OpenFileInfo
	if !r.OpenFile(path, http.OpenSmall, &fi) {
		level := errlog.Crit
		switch fi.Err {
		case 0:
			return 500
		case syscall.ENOENT, syscall.ENOTDIR, syscall.ENAMETOOLONG:
			return http.Declined
		case syscall.EACCES, syscall.EMLINK, syscall.ELOOP:
			level = errlog.Error
		}
		r.Logf(level, "%s \"%s\" failed %s", fi.Failed, path, errlog.Errno(fi.Err))
		return http.Declined
	}
	if mode == StaticOn {
		r.GzipVary = true
		if !ok {
			return http.Declined
		}
	}
	if fi.IsDir {
		return http.Declined
	}
	if !fi.IsFile {
		r.Logf(errlog.Crit, "\"%s\" is not a regular file", path)
		return 404
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
		if r.Loc.Etag.V {
			out.Add(etagName, fi.ETag)
		}
	} else {
		r.SetETag()
	}
	r.SetContentType()
	out.Add(contentEncoding, encoding)
	rc := r.SendHeader()
	if rc == http.Error || rc > http.OK || r.HeaderOnly {
		return rc
	}
	if fi.Data != nil || fi.Size == 0 {
		return r.OutputBytes(fi.Data, true, true)
	}
	return r.OutputFile(fi.File(), 0, fi.Size, true)
}

var etagName = []byte("ETag")
