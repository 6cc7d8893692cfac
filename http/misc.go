package http

import (
	"crypto/rand"
	"encoding/base64"
	"path/filepath"
	"strings"

	"gresty/core"
	"gresty/errlog"
	"gresty/httpparse"

	"golang.org/x/sys/unix"
)

// Escape tables, re-exported from httpparse for the modules.
const (
	escapeURITable     = httpparse.EscapeURI
	escapeArgsTable    = httpparse.EscapeArgs
	escapeRefreshTable = httpparse.EscapeRefresh
)

func escapeInto(dst []byte, s []byte, typ httpparse.EscapeType) []byte {
	return httpparse.AppendEscape(dst, s, typ)
}

func fillRandom(b []byte) { rand.Read(b) }

func realpath(p string) (string, error) { return filepath.EvalSymlinks(p) }

func parseSize(s string) (int64, bool) { return core.ParseSize(s) }

// tcpInfo reads one field of TCP_INFO for the $tcpinfo_* variables: rtt,
// rttvar (microseconds), snd_cwnd, rcv_space.
func tcpInfo(fd int, which int) (uint32, bool) {
	if fd < 0 {
		return 0, false
	}
	ti, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return 0, false
	}
	switch which {
	case 0:
		return ti.Rtt, true
	case 1:
		return ti.Rttvar, true
	case 2:
		return ti.Snd_cwnd, true
	}
	return ti.Rcv_space, true
}

// AliasRegex is LocConf.AliasLen for an alias in a regex location (and
// in if blocks inside one): the alias replaces the whole URI.
const AliasRegex = -1

// MapURIToPath maps the request URI to a file path with root or alias, as
// ngx_http_map_uri_to_path; reserve bytes are kept free after the path
// (for index file names). It returns the path and the length of its root
// part. It fails (after an alert) for an alias location whose URI a
// rewrite changed.
func (r *Request) MapURIToPath(reserve int) (path string, rootLen int, ok bool) {
	b, ok := r.mapURIToPath()
	if !ok {
		return "", 0, false
	}
	return string(b.path), b.rootLen, true
}

type mappedPath struct {
	path    []byte
	rootLen int
}

func (r *Request) mapURIToPath() (mappedPath, bool) {
	loc := r.Loc
	root := loc.Root.V
	if root == nil {
		return mappedPath{}, false
	}
	alias := 0
	if loc.Alias {
		alias = loc.AliasLen
	}
	if alias != 0 && r.locationInvalid {
		r.Logf(errlog.Alert, "\"alias\" cannot be used in location \"%s\" where URI was rewritten", loc.Name)
		return mappedPath{}, false
	}
	var b []byte
	if root.Static() {
		b = append(b, root.raw...)
	} else {
		b = root.Eval(r, b)
		if !filepath.IsAbs(string(b)) {
			b = []byte(r.Conn.cfg.cycle.FullName(string(b), false))
		}
	}
	rootLen := len(b)
	if alias == AliasRegex {
		if !r.addURIToAlias {
			return mappedPath{b, rootLen}, true
		}
		alias = 0
	}
	uri := r.URI
	if alias > len(uri) {
		alias = len(uri)
	}
	b = append(b, uri[alias:]...)
	return mappedPath{b, rootLen}, true
}

// BasicAuth returns the user and password of "Authorization: Basic ...",
// as ngx_http_auth_basic_user.
func (r *Request) BasicAuth() (user, pass []byte, ok bool) {
	v, found := r.KnownIn(httpparse.HdrAuthorization)
	if !found || len(v) < 6 || !equalFoldBS(v[:6], "basic ") {
		return nil, nil, false
	}
	enc := v[6:]
	for len(enc) > 0 && enc[0] == ' ' {
		enc = enc[1:]
	}
	// nginx's decoder stops at the first '=' and needs no padding.
	if i := indexByte(enc, '='); i >= 0 {
		enc = enc[:i]
	}
	if len(enc) == 0 || len(enc)%4 == 1 {
		return nil, nil, false
	}
	dec := make([]byte, base64.RawStdEncoding.DecodedLen(len(enc)))
	n, err := base64.RawStdEncoding.Decode(dec, enc)
	if err != nil {
		return nil, nil, false
	}
	dec = dec[:n]
	i := indexByte(dec, ':')
	if i <= 0 {
		return nil, nil, false
	}
	return dec[:i], dec[i+1:], true
}

// upgraded tells whether the response switches protocols.
func (r *Request) upgraded() bool { return r.Out.Status == 101 }

// gzipVary tells whether "Vary: Accept-Encoding" goes out (gzip_vary with
// a response gzip or gzip_static looked at).
func (r *Request) gzipVary() bool { return r.GzipVary && r.Loc.GzipVary.V }

// SetURI replaces the request URI (rewrite, try_files), keeping Exten in
// step.
func (r *Request) SetURI(uri []byte) {
	r.URI = uri
	r.Exten = extenOf(uri)
}

// SplitArgs splits "uri?args" (ngx_http_split_args).
func SplitArgs(b []byte) (uri, args []byte) {
	if i := indexByte(b, '?'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

// TypeOf returns the MIME type the location's types give an extension,
// or the default_type.
func (r *Request) TypeOf(exten []byte) string {
	loc := r.Loc
	if len(exten) > 0 {
		if t, ok := loc.types[string(exten)]; ok {
			return t
		}
		low := strings.ToLower(string(exten))
		if t, ok := loc.types[low]; ok {
			return t
		}
	}
	return loc.DefaultType.V
}

// SetContentType sets Content-Type from the URI's extension
// (ngx_http_set_content_type).
func (r *Request) SetContentType() {
	if r.Out.ContentType != "" {
		return
	}
	r.Out.ContentType = r.TypeOf(r.Exten)
}
