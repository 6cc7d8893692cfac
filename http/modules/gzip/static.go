package gzip

import (
	"errors"
	"io"
	"os"
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

// smallFile is the size up to which a precompressed file is read into
// memory and closed at once rather than sent with sendfile.
const smallFile = 32 << 10

// ServeStatic is ngx_http_gzip_static_handler for a precompressed file
// with extension ext (".gz") and Content-Encoding encoding: for GET and
// HEAD of a URI not ending in "/", with mode on and accept(r), or mode
// always, the file "path+ext" is sent in place of "path", with its own
// length, Last-Modified and ETag, and the type of the uncompressed name.
// A missing file declines silently so that the static module serves the
// original. Mode on marks the response as varying on Accept-Encoding
// whenever the file exists, even for clients that do not get it.
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
	pb, _, found := r.AppendPath(r.Alloc(len(r.URI) + 256)[:0])
	if !found {
		return 500
	}
	pb = append(pb, ext...)
	path := string(pb)
	f, err := os.Open(path)
	if err != nil {
		level := errlog.Crit
		switch {
		case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.ENAMETOOLONG):
			return http.Declined
		case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EMLINK), errors.Is(err, syscall.ELOOP):
			level = errlog.Error
		}
		r.Logf(level, "open() \"%s\" failed %s", path, errlog.Errno(err))
		return http.Declined
	}
	if mode == StaticOn {
		r.GzipVary = true
		if !ok {
			f.Close()
			return http.Declined
		}
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		r.Logf(errlog.Crit, "fstat() \"%s\" failed %s", path, errlog.Errno(err))
		return 500
	}
	if fi.IsDir() {
		f.Close()
		return http.Declined
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		r.Logf(errlog.Crit, "\"%s\" is not a regular file", path)
		return 404
	}
	if rc := r.DiscardBody(); rc != http.OK {
		f.Close()
		return rc
	}
	size := fi.Size()
	r.Out.Status = 200
	r.Out.ContentLength = size
	r.Out.LastModified = fi.ModTime().Unix()
	r.SetETag()
	r.SetContentType()
	r.Out.Add(contentEncoding, encoding)

	var data []byte
	if size <= smallFile {
		// read before the header goes out: a read error is still a 500.
		data = r.Alloc(int(size))
		n, err := io.ReadFull(f, data)
		f.Close()
		if err != nil {
			r.Logf(errlog.Crit, "read() \"%s\" failed %s", path, errlog.Errno(err))
			return 500
		}
		data = data[:n]
	}
	rc := r.SendHeader()
	if rc == http.Error || rc > http.OK || r.HeaderOnly {
		if data == nil {
			f.Close()
		}
		return rc
	}
	last := r == r.Main
	if data != nil {
		return r.OutputBytes(data, true, true)
	}
	buf := [1]http.Buf{{File: f, FileLen: size, Last: last, LastInChain: true}}
	rc = r.Output(buf[:])
	r.ReleaseAfterSend(func() { f.Close() })
	return rc
}
