// Package index is nginx's ngx_http_index_module: for a URI that ends with
// "/", the first index file that exists under the directory becomes the
// URI through an internal redirect. Names may hold variables; an absolute
// name (normally the last) is a redirect target that is not tested.
//
// Configuration runs on the goroutine that builds the cycle; the content
// handler runs on the request's loop.
package index

import (
	"strings"
	"syscall"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// Module is ngx_http_index_module.
var Module = &core.Module{
	Name: "ngx_http_index_module",
	Type: core.HTTPType,
	Directives: []core.Directive{
		core.Custom("index", core.HTTPMainSrvLoc, core.OneMore, core.LocLevel, setIndex, nil),
	},
}

func init() {
	// the handler finds its configuration through the module's index.
	Module.HTTP = &http.Hooks{
		CreateLocConf: func(*http.Conf) any { return &LocConf{} },
		MergeLocConf:  mergeLocConf,
		Postconfiguration: func(cf *http.Conf) error {
			cf.AddPhaseHandler(http.ContentPhase, handler)
			return nil
		},
	}
}

// defaultIndex is the index of a location that names none.
const defaultIndex = "index.html"

// LocConf is the module's configuration at one level.
type LocConf struct {
	// Indices are the names in order; nil when the level has no index
	// directive and inherits its parent's.
	Indices []Index
}

// Index is one index name: static text (also in bytes, for the request
// path), or a template with variables.
type Index struct {
	Name  string
	Tpl   *http.Template
	bytes []byte
}

// setIndex is ngx_http_index_set_index. Several index directives at one
// level add up.
func setIndex(p *core.Parser, d *conf.Directive, c *LocConf) error {
	if c.Indices == nil {
		c.Indices = []Index{}
	}
	for i, v := range d.Args {
		if strings.HasPrefix(v, "/") && i != len(d.Args)-1 {
			p.Warnf(d, "only the last index in \"index\" directive should be absolute")
		}
		if v == "" {
			return p.Errorf(d, "index \"%s\" in \"index\" directive is invalid", d.Args[0])
		}
		if !strings.Contains(v, "$") {
			c.Indices = append(c.Indices, Index{Name: v, bytes: []byte(v)})
			continue
		}
		t, err := http.CompileTemplateP(p, v)
		if err != nil {
			return err
		}
		c.Indices = append(c.Indices, Index{Name: v, Tpl: t})
	}
	return nil
}

func mergeLocConf(cf *http.Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	if c.Indices == nil {
		c.Indices = p.Indices
	}
	if c.Indices == nil {
		c.Indices = []Index{{Name: defaultIndex, bytes: []byte(defaultIndex)}}
	}
	return nil
}

// handler is ngx_http_index_handler. It tries the first index before it
// looks at the directory, because valid requests should be the fast ones.
func handler(r *http.Request) int {
	uri := r.URI
	if len(uri) == 0 || uri[len(uri)-1] != '/' {
		return http.Declined
	}
	if r.Method&(httpparse.MethodGET|httpparse.MethodHEAD|httpparse.MethodPOST) == 0 {
		return http.Declined
	}
	ilcf := r.Loc.LocConfOf(Module).(*LocConf)
	var base []byte
	mapped, dirTested := false, false
	for _, ix := range ilcf.Indices {
		name := ix.bytes
		if ix.Tpl == nil && ix.Name[0] == '/' {
			return r.InternalRedirect(name, r.Args)
		}
		if !mapped {
			b, _, ok := r.AppendPath(r.Alloc(len(uri) + 256)[:0])
			if !ok {
				return 500
			}
			base, mapped = b[:len(b):len(b)], true
		}
		if ix.Tpl != nil {
			name = ix.Tpl.Eval(r, nil)
			if len(name) > 0 && name[0] == '/' {
				return r.InternalRedirect(r.Keep(name), r.Args)
			}
		}
		path := append(base, name...)
		var fi http.OpenFileInfo
		if !r.OpenFile(path, http.OpenTestOnly, &fi) {
			switch fi.Err {
			case 0:
				return 500
			case syscall.EMLINK, syscall.ELOOP:
				return 403
			case syscall.ENOTDIR, syscall.ENAMETOOLONG, syscall.EACCES:
				return indexError(r, path, fi.Err)
			}
			if !dirTested {
				if rc := testDir(r, path, len(base)); rc != http.OK {
					return rc
				}
				dirTested = true
			}
			if fi.Err == syscall.ENOENT {
				continue
			}
			r.Logf(errlog.Crit, "%s \"%s\" failed %s", fi.Failed, path, errlog.Errno(fi.Err))
			return 500
		}
		next := r.Alloc(len(uri) + len(name))
		copy(next[copy(next, uri):], name)
		return r.InternalRedirect(next, r.Args)
	}
	return http.Declined
}

// testDir is ngx_http_index_test_dir: when an index file is missing, the
// directory must exist. The directory is the path up to the slash before
// the index name (or up to the name, for an alias without a trailing
// slash). Messages about it name the whole index path, as nginx's do.
func testDir(r *http.Request, path []byte, nameAt int) int {
	end := nameAt - 1
	if end < 0 || path[end] != '/' || end == 0 {
		end++
	}
	dir := path[:end]
	var fi http.OpenFileInfo
	if !r.OpenFile(dir, http.OpenTestOnly|http.OpenTestDir, &fi) {
		switch fi.Err {
		case 0:
			return 500
		case syscall.EMLINK, syscall.ELOOP:
			return 403
		case syscall.ENOENT:
			return indexError(r, path, syscall.ENOENT)
		case syscall.EACCES:
			// the index test did not fail with EACCES, so the
			// directory can be searched.
			return http.OK
		}
		r.Logf(errlog.Crit, "%s \"%s\" failed %s", fi.Failed, dir, errlog.Errno(fi.Err))
		return 500
	}
	if fi.IsDir {
		return http.OK
	}
	r.Logf(errlog.Alert, "\"%s\" is not a directory", path)
	return 500
}

// indexError is ngx_http_index_error.
func indexError(r *http.Request, file []byte, err syscall.Errno) int {
	if err == syscall.EACCES {
		r.Logf(errlog.Error, "\"%s\" is forbidden %s", file, errlog.Errno(err))
		return 403
	}
	if r.Loc.LogNotFound.V {
		r.Logf(errlog.Error, "\"%s\" is not found %s", file, errlog.Errno(err))
	}
	return 404
}
