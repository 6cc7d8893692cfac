// Package authbasic is nginx's ngx_http_auth_basic_module: HTTP Basic
// authentication against an htpasswd file, in the access phase.
//
// The user file is read as nginx reads it (one "user:hash[:comment]" per
// line, "#" comments), but each loop keeps its contents and reads the file
// again only when its size, times or inode change. Hashes are checked by
// Crypt, which knows nginx's own schemes and the common crypt(3) ones.
//
// Configuration runs on the goroutine that builds the cycle; the handler
// runs on the request's loop.
package authbasic

import (
	"errors"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// Module is ngx_http_auth_basic_module.
var Module = &core.Module{
	Name: "ngx_http_auth_basic_module",
	Type: core.HTTPType,
}

func init() {
	ctx := core.HTTPMainSrvLoc | core.HTTPLmt
	Module.Directives = []core.Directive{
		core.Custom("auth_basic", ctx, core.Take1, core.LocLevel, setRealm, nil),
		core.Custom("auth_basic_user_file", ctx, core.Take1, core.LocLevel, setUserFile, nil),
	}
	Module.HTTP = &http.Hooks{
		CreateLocConf:     func(*http.Conf) any { return &LocConf{} },
		MergeLocConf:      mergeLocConf,
		Postconfiguration: postconfiguration,
		InitLoop: func(*http.Config, *http.LoopServer) (any, error) {
			return &fileCache{files: map[string]*cachedFile{}}, nil
		},
	}
}

// LocConf is the module's configuration at one level.
type LocConf struct {
	// Realm is auth_basic's value (nil: unset); "off" at run time turns
	// authentication off.
	Realm    *http.Template
	realmSet bool
	// UserFile is auth_basic_user_file; a relative result is taken from
	// the configuration's directory (confPrefix).
	UserFile    *http.Template
	userFileSet bool
	confPrefix  string
}

func setRealm(p *core.Parser, d *conf.Directive, c *LocConf) error {
	if c.realmSet {
		return p.Invalid(d, "is duplicate")
	}
	t, err := http.CompileTemplateP(p, d.Args[0])
	if err != nil {
		return err
	}
	c.Realm, c.realmSet = t, true
	return nil
}

func setUserFile(p *core.Parser, d *conf.Directive, c *LocConf) error {
	if c.userFileSet {
		return p.Invalid(d, "is duplicate")
	}
	v := d.Args[0]
	if !strings.Contains(v, "$") {
		v = p.Cycle.FullName(v, true)
	}
	t, err := http.CompileTemplateP(p, v)
	if err != nil {
		return err
	}
	c.UserFile, c.userFileSet, c.confPrefix = t, true, p.Cycle.ConfPrefix
	return nil
}

func mergeLocConf(_ *http.Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	if !c.realmSet {
		c.Realm, c.realmSet = p.Realm, p.realmSet
	}
	if !c.userFileSet {
		c.UserFile, c.userFileSet, c.confPrefix = p.UserFile, p.userFileSet, p.confPrefix
	}
	return nil
}

func postconfiguration(cf *http.Conf) error {
	cf.AddPhaseHandlerIf(http.AccessPhase, func(l *http.LocConf) bool {
		c := l.Confs[Module.TypeIndex].(*LocConf)
		return c.Realm != nil && c.UserFile != nil
	}, handler)
	return nil
}

// handler is ngx_http_auth_basic_handler.
func handler(r *http.Request) int {
	c := r.Loc.Confs[Module.TypeIndex].(*LocConf)
	if c.Realm == nil || c.UserFile == nil {
		return http.Declined
	}
	realm := c.Realm.EvalBytes(r)
	if string(realm) == "off" {
		return http.Declined
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		r.Logf(errlog.Info, "no user/password was provided for basic authentication")
		return challenge(r, realm)
	}
	path := c.UserFile.EvalString(r)
	if !strings.HasPrefix(path, "/") {
		path = c.confPrefix + path
	}
	fc, _ := r.LoopState(Module).(*fileCache)
	data, err := fc.read(path)
	if err != nil {
		var op *os.PathError
		if errors.As(err, &op) && op.Op == "read" {
			r.Logf(errlog.Crit, "pread() \"%s\" failed %s", path, errlog.Errno(err))
			return 500
		}
		if errors.Is(err, syscall.ENOENT) {
			r.Logf(errlog.Error, "open() \"%s\" failed %s", path, errlog.Errno(err))
			return 403
		}
		r.Logf(errlog.Crit, "open() \"%s\" failed %s", path, errlog.Errno(err))
		return 500
	}
	hash, found := lookup(data, user)
	if !found {
		r.Logf(errlog.Error, "user \"%s\" was not found in \"%s\"", user, path)
		return challenge(r, realm)
	}
	if string(Crypt(pass, hash)) == string(hash) {
		return http.OK
	}
	r.Logf(errlog.Error, "user \"%s\": password mismatch", user)
	return challenge(r, realm)
}

// challenge adds the WWW-Authenticate header and answers 401
// (ngx_http_auth_basic_set_realm).
func challenge(r *http.Request, realm []byte) int {
	v := make([]byte, 0, len(realm)+14)
	v = append(v, "Basic realm=\""...)
	v = append(v, realm...)
	v = append(v, '"')
	r.Out.Headers = append(r.Out.Headers, http.Header{Name: []byte("WWW-Authenticate"), Value: v, Known: httpparse.HdrWWWAuthenticate})
	return 401
}

// lookup finds user's hash in an htpasswd file with nginx's line rules: a
// line starting with '#' or CR is skipped, the name must be followed by
// ':', the hash ends at CR, LF, ':' or the end of the file. As in nginx, a
// line that ends inside a partial match of the name also hides the next
// line.
func lookup(file, user []byte) ([]byte, bool) {
	const (
		stLogin = iota
		stPasswd
		stSkip
	)
	state, login, start := stLogin, 0, 0
	for i, c := range file {
		switch state {
		case stLogin:
			if login == 0 {
				if c == '#' || c == '\r' {
					state = stSkip
					continue
				}
				if c == '\n' {
					continue
				}
			}
			want := byte(':')
			if login < len(user) {
				want = user[login]
			}
			if c != want {
				state = stSkip
				continue
			}
			if login == len(user) {
				state, start = stPasswd, i+1
			}
			login++
		case stPasswd:
			if c == '\n' || c == '\r' || c == ':' {
				return file[start:i], true
			}
		case stSkip:
			if c == '\n' {
				state, login = stLogin, 0
			}
		}
	}
	if state == stPasswd {
		return file[start:], true
	}
	return nil, false
}

// fileCache keeps a loop's user files, read again when they change.
type fileCache struct {
	files map[string]*cachedFile
}

type cachedFile struct {
	st   unix.Stat_t
	data []byte
}

// maxCachedFiles bounds a loop's cache (user files named with variables
// could be many).
const maxCachedFiles = 64

// read returns the file's contents, from the cache while the file's
// inode, size and change times are those it was read with.
func (fc *fileCache) read(path string) ([]byte, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if fc != nil {
		if f := fc.files[path]; f != nil && sameFile(&f.st, &st) {
			return f.data, nil
		}
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	data := make([]byte, 0, max(st.Size, 512))
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			break
		}
		data = append(data, buf[:n]...)
	}
	if fc != nil {
		if len(fc.files) >= maxCachedFiles {
			clear(fc.files)
		}
		fc.files[path] = &cachedFile{st: st, data: data}
	}
	return data, nil
}

func sameFile(a, b *unix.Stat_t) bool {
	return a.Dev == b.Dev && a.Ino == b.Ino && a.Size == b.Size && a.Mtim == b.Mtim && a.Ctim == b.Ctim
}
