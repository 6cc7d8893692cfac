// Package randomindex is nginx's ngx_http_random_index_module: a request
// for a directory ("/" at the end of its URI) in a location with
// "random_index on" is served a file of that directory picked at random.
//
// Directives are handled on the goroutine that builds the cycle; the
// handler runs on the request's loop.
package randomindex

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"syscall"

	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// Module is ngx_http_random_index_module.
var Module = &core.Module{
	Name:      "ngx_http_random_index_module",
	Type:      core.HTTPType,
	Configure: "--with-http_random_index_module",
}

// LocConf is the module's configuration at one level.
type LocConf struct {
	Enable core.Value[bool]
}

func init() {
	Module.Directives = []core.Directive{
		core.FlagSlot("random_index", core.HTTPLoc, core.LocLevel, func(c *LocConf) *core.Value[bool] { return &c.Enable }, false),
	}
	Module.HTTP = &http.Hooks{
		CreateLocConf: func(*http.Conf) any { return &LocConf{} },
		Postconfiguration: func(cf *http.Conf) error {
			cf.AddPhaseHandler(http.ContentPhase, handler)
			return nil
		},
	}
}

// handler is ngx_http_random_index_handler: the regular files of the
// directory (symbolic links followed), dot files left out; an empty
// directory is left to the next handler.
func handler(r *http.Request) int {
	uri := r.URI
	if len(uri) == 0 || uri[len(uri)-1] != '/' {
		return http.Declined
	}
	if r.Method&(httpparse.MethodGET|httpparse.MethodHEAD|httpparse.MethodPOST) == 0 {
		return http.Declined
	}
	if !r.Loc.LocConfOf(Module).(*LocConf).Enable.V {
		return http.Declined
	}
	path, _, ok := r.MapURIToPath(0)
	if !ok {
		return 500
	}
	// the URI ends with "/": nginx drops the path's last character
	if len(path) > 0 {
		path = path[:len(path)-1]
	}
	if r.Log().Enabled(errlog.Debug) {
		r.Logf(errlog.Debug, "http random index: \"%s\"", path)
	}
	d, err := os.Open(path)
	if err != nil {
		level, rc := errlog.Crit, 500
		switch {
		case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.ENAMETOOLONG):
			level, rc = errlog.Error, 404
		case errors.Is(err, syscall.EACCES):
			level, rc = errlog.Error, 403
		}
		r.Logf(level, "opendir() \"%s\" failed %s", path, errlog.Errno(err))
		return rc
	}
	entries, err := d.ReadDir(-1)
	if err != nil {
		d.Close()
		r.Logf(errlog.Crit, "readdir() \"%s\" failed %s", path, errlog.Errno(err))
		return 500
	}
	d.Close()
	var names []string
	for _, e := range entries {
		name := e.Name()
		if name[0] == '.' {
			continue
		}
		mode := e.Type()
		if mode&fs.ModeSymlink != 0 {
			fi, err := os.Stat(path + "/" + name)
			if err != nil {
				if !errors.Is(err, fs.ErrNotExist) {
					r.Logf(errlog.Crit, "stat() \"%s/%s\" failed %s", path, name, errlog.Errno(err))
					return 500
				}
				continue // a dangling link: nginx's lstat finds no file
			}
			mode = fi.Mode().Type()
		}
		if mode.IsRegular() {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return http.Declined
	}
	name := names[rand.IntN(len(names))]
	next := make([]byte, 0, len(uri)+len(name))
	next = append(append(next, uri...), name...)
	return r.InternalRedirect(next, r.Args)
}
