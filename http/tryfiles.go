package http

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"

	"gresty/core"
	"gresty/errlog"
)

// TryFilesModule is ngx_http_try_files_module. Its try_files directive is
// parsed into the core location configuration (LocConf.TryFiles, not
// inherited by nested locations, as in nginx); the module installs the
// pre-content phase handler that tries the files.
var TryFilesModule = &core.Module{
	Name: "ngx_http_try_files_module",
	Type: core.HTTPType,
	HTTP: &Hooks{
		Postconfiguration: func(cf *Conf) error {
			cf.AddPhaseHandler(PreContentPhase, tryFilesHandler)
			return nil
		},
	},
}

// tryFilesHandler is ngx_http_try_files_handler: each argument but the
// last names a file (or, with a trailing "/", a directory) under the root
// or alias; the first that exists becomes the URI and the request goes on
// to the content phase. Otherwise the last argument decides: "=code"
// answers with code, "@name" continues in a named location, anything else
// is an internal redirect. It runs on the request's loop; the file tests
// are stat calls, as nginx's (without open_file_cache).
func tryFilesHandler(r *Request) int {
	loc := r.Loc
	tfs := loc.TryFiles
	if tfs == nil {
		return Declined
	}
	alias := 0
	if loc.Alias {
		alias = loc.AliasLen
	}
	var root []byte
	mapped := false
	for i, tf := range tfs {
		if !mapped {
			// the root part of ngx_http_map_uri_to_path, where each
			// argument is written in place of the URI.
			m, ok := r.mapURIToPath()
			if !ok {
				return 500
			}
			root = m.path[:m.rootLen:m.rootLen]
			mapped = true
		}
		var name []byte
		switch {
		case tf.tpl == nil:
			name = []byte("=" + strconv.Itoa(tf.code))
		case tf.tpl.Static():
			name = []byte(tf.tpl.raw)
		default:
			name = tf.tpl.Eval(r, nil)
			// with a prefix alias, a value that starts with the
			// location's part of the URI is taken relative to it.
			if alias > 0 && len(name) >= alias && len(r.URI) >= alias && bytes.Equal(name[:alias], r.URI[:alias]) {
				name = name[alias:]
			}
		}
		path := append(root, name...)

		if i == len(tfs)-1 {
			if tf.tpl == nil && tf.code != 0 {
				return tf.code
			}
			if len(name) > 0 && name[0] == '@' {
				r.NamedLocation(string(name))
			} else {
				uri, args := SplitArgs(name)
				r.InternalRedirect(uri, args)
			}
			r.Finalize(Done)
			return Done
		}

		fi, err := os.Stat(string(path))
		if err != nil {
			var en syscall.Errno
			if !errors.As(err, &en) || (en != syscall.ENOENT && en != syscall.ENOTDIR && en != syscall.ENAMETOOLONG) {
				r.Logf(errlog.Crit, "stat() \"%s\" failed %s", path, errlog.Errno(err))
			}
			continue
		}
		if fi.IsDir() != tf.dir {
			continue
		}
		switch {
		case alias == 0:
			r.SetURI(name)
		case alias == AliasRegex:
			if !tf.dir {
				r.SetURI(name)
				r.addURIToAlias = true
			}
		default:
			uri := make([]byte, 0, alias+len(name))
			uri = append(uri, r.URI[:min(alias, len(r.URI))]...)
			r.SetURI(append(uri, name...))
		}
		return Declined
	}
	return Declined
}
