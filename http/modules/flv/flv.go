// Package flv is nginx's ngx_http_flv_module: the flv content handler
// serves Flash Video files as the static module does, and with a
// "start=OFFSET" argument from that byte on, behind the 13-byte FLV file
// header so that players can begin there.
//
// The directive is handled on the goroutine that builds the cycle; the
// handler runs on the request's loop.
package flv

import (
	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/http/modules/static"
	"gresty/httpparse"
)

// Module is ngx_http_flv_module.
var Module = &core.Module{
	Name:      "ngx_http_flv_module",
	Type:      core.HTTPType,
	Configure: "--with-http_flv_module",
}

func init() {
	Module.Directives = []core.Directive{
		{Name: "flv", Ctx: core.HTTPLoc, Args: core.NoArgs, Level: core.LocLevel, Set: setFLV},
	}
}

// header is the FLV file header nginx sends before a file sent from an
// offset: "FLV", version 1, audio and video, a 9-byte header, and the
// first PreviousTagSize (0).
var header = []byte("FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00")

// setFLV makes the handler the location's content handler.
func setFLV(p *core.Parser, d *conf.Directive, _ any) error {
	p.Ctx().ConfFor(http.CoreModule, core.LocLevel).(*http.LocConf).Handler = handler
	return nil
}

// handler is ngx_http_flv_handler.
func handler(r *http.Request) int {
	if r.Method&(httpparse.MethodGET|httpparse.MethodHEAD) == 0 {
		return 405
	}
	uri := r.URI
	if len(uri) == 0 || uri[len(uri)-1] == '/' {
		return http.Declined
	}
	if rc := r.DiscardBody(); rc != http.OK {
		return rc
	}
	path, _, ok := r.AppendPath(nil)
	if !ok {
		return 500
	}
	if r.Log().Enabled(errlog.Debug) {
		r.Logf(errlog.Debug, "http flv filename: \"%s\"", path)
	}
	var fi http.OpenFileInfo
	if !r.OpenFile(path, 0, &fi) {
		return static.OpenFailed(r, path, &fi)
	}
	if !fi.IsFile {
		return http.Declined
	}
	start, n := int64(0), fi.Size
	withHeader := false
	if len(r.Args) > 0 {
		if v, ok := http.ArgValue(r.Args, "start"); ok {
			// ngx_atoof: digits only; a bad or too large offset is 0
			if off, ok := httpparse.Atoof(v); ok && off < fi.Size && off > 0 {
				start = off
				n = int64(len(header)) + fi.Size - start
				withHeader = true
			}
		}
	}
	r.SetLogAction("sending flv to client")
	out := &r.Out
	out.Status = 200
	out.ContentLength = n
	out.LastModified = fi.Mtime
	r.SetETag()
	r.SetContentType()
	out.AllowRanges = true
	rc := r.SendHeader()
	if rc == http.Error || rc > http.OK || r.HeaderOnly {
		return rc
	}
	if fi.Size == 0 {
		return r.OutputBytes(nil, true, true)
	}
	last := r == r.Main
	file := http.Buf{File: fi.File(), FilePos: start, FileLen: fi.Size - start, Last: last, LastInChain: true}
	if !withHeader {
		return r.Output([]http.Buf{file})
	}
	// the header and the file go out in one chain, as nginx's
	return r.Output([]http.Buf{{Data: header, Owned: true}, file})
}
