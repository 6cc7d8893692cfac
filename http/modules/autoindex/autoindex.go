// Package autoindex is nginx's ngx_http_autoindex_module: for a URI that
// ends with "/" and has no index file, it lists the directory as HTML,
// JSON, JSONP or XML, byte for byte as nginx does (directories first, then
// names in byte order, dot files hidden).
//
// Configuration runs on the goroutine that builds the cycle; the content
// handler runs on the request's loop. Reading a directory is a blocking
// system call, as it is in nginx.
package autoindex

import (
	"sort"
	"strconv"
	"time"
	"unsafe"

	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"

	"golang.org/x/sys/unix"
)

// Output formats (autoindex_format).
const (
	FormatHTML = iota
	FormatJSON
	FormatJSONP
	FormatXML
)

// Module is ngx_http_autoindex_module.
var Module = &core.Module{
	Name: "ngx_http_autoindex_module",
	Type: core.HTTPType,
	Directives: []core.Directive{
		core.FlagSlot("autoindex", core.HTTPMainSrvLoc, core.LocLevel,
			func(c *LocConf) *core.Value[bool] { return &c.Enable }, false),
		core.EnumSlot("autoindex_format", core.HTTPMainSrvLoc, core.LocLevel,
			func(c *LocConf) *core.Value[int] { return &c.Format }, FormatHTML,
			[]core.Enum[int]{{Name: "html", V: FormatHTML}, {Name: "json", V: FormatJSON},
				{Name: "jsonp", V: FormatJSONP}, {Name: "xml", V: FormatXML}}),
		core.FlagSlot("autoindex_localtime", core.HTTPMainSrvLoc, core.LocLevel,
			func(c *LocConf) *core.Value[bool] { return &c.Localtime }, false),
		core.FlagSlot("autoindex_exact_size", core.HTTPMainSrvLoc, core.LocLevel,
			func(c *LocConf) *core.Value[bool] { return &c.ExactSize }, true),
	},
}

func init() {
	// the handler finds its configuration through the module's index.
	Module.HTTP = &http.Hooks{
		CreateLocConf: func(*http.Conf) any { return &LocConf{} },
		Postconfiguration: func(cf *http.Conf) error {
			cf.AddPhaseHandler(http.ContentPhase, handler)
			return nil
		},
	}
}

// LocConf is the module's configuration at one level.
type LocConf struct {
	Enable    core.Value[bool]
	Format    core.Value[int]
	Localtime core.Value[bool]
	ExactSize core.Value[bool]
}

// Entry is one listed directory entry.
type Entry struct {
	Name []byte
	// Dir, File, Mtime and Size come from stat, which follows symbolic
	// links; a dangling link is lstat'ed and is neither.
	Dir   bool
	File  bool
	Mtime int64
	Size  int64
}

// Options are the settings a listing is rendered with.
type Options struct {
	// UTF8 counts names in characters (the response charset is utf-8).
	UTF8      bool
	Localtime bool
	// GMTOff is the local offset from UTC in seconds, used with
	// Localtime.
	GMTOff    int64
	ExactSize bool
}

// handler is ngx_http_autoindex_handler.
func handler(r *http.Request) int {
	uri := r.URI
	if len(uri) == 0 || uri[len(uri)-1] != '/' {
		return http.Declined
	}
	if r.Method&(httpparse.MethodGET|httpparse.MethodHEAD) == 0 {
		return http.Declined
	}
	alcf := r.Loc.LocConfOf(Module).(*LocConf)
	if !alcf.Enable.V {
		return http.Declined
	}
	if rc := r.DiscardBody(); rc != http.OK {
		return rc
	}
	path, _, ok := r.AppendPath(nil)
	if !ok {
		return 500
	}
	if len(path) > 1 {
		// the URI's trailing slash (or, for an alias without one, the
		// last byte: nginx's own quirk).
		path = path[:len(path)-1]
	}
	format := alcf.Format.V
	var callback []byte
	if format == FormatJSONP {
		cb, ok := jsonpCallback(r)
		if !ok {
			return 400
		}
		if len(cb) == 0 {
			format = FormatJSON
		}
		callback = cb
	}
	fd, err := unix.Open(string(path), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		level, rc := errlog.Crit, 500
		switch err {
		case unix.ENOENT, unix.ENOTDIR, unix.ENAMETOOLONG:
			level, rc = errlog.Error, 404
		case unix.EACCES:
			level, rc = errlog.Error, 403
		}
		r.Logf(level, "opendir() \"%s\" failed %s", path, errlog.Errno(err))
		return rc
	}
	out := &r.Out
	out.Status = 200
	switch format {
	case FormatJSON:
		out.ContentType = "application/json"
	case FormatJSONP:
		out.ContentType = "application/javascript"
	case FormatXML:
		out.ContentType = "text/xml"
		out.Charset = "utf-8"
	default:
		out.ContentType = "text/html"
	}
	rc := r.SendHeader()
	if rc == http.Error || rc > http.OK || r.HeaderOnly {
		closeDir(r, fd, path)
		return rc
	}
	entries, ok := readDir(r, fd, path)
	closeDir(r, fd, path)
	if !ok {
		return http.Error
	}
	SortEntries(entries)
	var body []byte
	switch format {
	case FormatJSON:
		body = AppendJSON(nil, entries, nil)
	case FormatJSONP:
		body = AppendJSON(nil, entries, callback)
	case FormatXML:
		body = AppendXML(nil, entries)
	default:
		_, off := r.Conn.Loop().Now().Zone()
		opts := Options{
			UTF8:      len(out.Charset) == 5 && equalFold(out.Charset, "utf-8"),
			Localtime: alcf.Localtime.V,
			GMTOff:    int64(off),
			ExactSize: alcf.ExactSize.V,
		}
		body = AppendHTML(nil, uri, entries, opts)
	}
	return r.OutputBytes(body, true, true)
}

func closeDir(r *http.Request, fd int, path []byte) {
	if err := unix.Close(fd); err != nil {
		r.Logf(errlog.Alert, "closedir() \"%s\" failed %s", path, errlog.Errno(err))
	}
}

func equalFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

// jsonpCallback is ngx_http_autoindex_jsonp_callback: the "callback"
// argument, at most 128 letters, digits, "_" and ".".
func jsonpCallback(r *http.Request) ([]byte, bool) {
	cb, ok := http.ArgValue(r.Args, "callback")
	if !ok {
		return nil, true
	}
	if len(cb) > 128 {
		r.Logf(errlog.Info, "client sent too long callback name: \"%s\"", cb)
		return nil, false
	}
	for _, ch := range cb {
		c := ch | 0x20
		if c >= 'a' && c <= 'z' || ch >= '0' && ch <= '9' || ch == '_' || ch == '.' {
			continue
		}
		r.Logf(errlog.Info, "client sent invalid callback name: \"%s\"", cb)
		return nil, false
	}
	return cb, true
}

// readDir reads the entries of the open directory fd (getdents64), skips
// names that start with ".", and stats each one, falling back to lstat
// for broken links, with nginx's messages for failures.
func readDir(r *http.Request, fd int, dir []byte) ([]Entry, bool) {
	var entries []Entry
	buf := make([]byte, 32<<10)
	name := append([]byte(nil), dir...)
	name = append(name, '/')
	base := len(name)
	var st unix.Stat_t
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			r.Logf(errlog.Crit, "readdir() \"%s\" failed %s", dir, errlog.Errno(err))
			return nil, false
		}
		if n <= 0 {
			break
		}
		for off := 0; off < n; {
			// struct linux_dirent64: ino, off, reclen, type, name.
			reclen := int(*(*uint16)(unsafe.Pointer(&buf[off+16])))
			nm := buf[off+19 : off+reclen]
			for i, c := range nm {
				if c == 0 {
					nm = nm[:i]
					break
				}
			}
			off += reclen
			if len(nm) == 0 || nm[0] == '.' {
				continue
			}
			name = append(append(name[:base], nm...), 0)
			if err := stat(name, &st, false); err != nil {
				if err != unix.ENOENT && err != unix.ELOOP {
					r.Logf(errlog.Crit, "stat() \"%s\" failed %s", name[:len(name)-1], errlog.Errno(err))
					if err == unix.EACCES {
						continue
					}
					return nil, false
				}
				if err := stat(name, &st, true); err != nil {
					r.Logf(errlog.Crit, "lstat() \"%s\" failed %s", name[:len(name)-1], errlog.Errno(err))
					return nil, false
				}
			}
			// nginx's ngx_de_info forgets the entry's d_type: the
			// type is stat's, so a link counts as what it points to.
			entries = append(entries, Entry{
				Name:  append([]byte(nil), nm...),
				Dir:   st.Mode&unix.S_IFMT == unix.S_IFDIR,
				File:  st.Mode&unix.S_IFMT == unix.S_IFREG,
				Mtime: st.Mtim.Sec,
				Size:  st.Size,
			})
		}
	}
	return entries, true
}

func stat(name []byte, st *unix.Stat_t, link bool) error {
	flags := 0
	if link {
		flags = unix.AT_SYMLINK_NOFOLLOW
	}
	s := unsafe.String(&name[0], len(name)-1)
	return unix.Fstatat(unix.AT_FDCWD, s, st, flags)
}

// SortEntries orders a listing as nginx does: directories first, then by
// name in byte order.
func SortEntries(es []Entry) {
	sort.Slice(es, func(i, j int) bool {
		a, b := &es[i], &es[j]
		if a.Dir != b.Dir {
			return a.Dir
		}
		return string(a.Name) < string(b.Name)
	})
}

// nameLen is the width of the name column of the HTML listing.
const nameLen = 50

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// AppendHTML appends nginx's HTML listing of uri (ngx_http_autoindex_html).
func AppendHTML(b, uri []byte, es []Entry, o Options) []byte {
	b = append(b, "<html>\r\n<head><title>Index of "...)
	b = httpparse.AppendEscapeHTML(b, uri)
	b = append(b, "</title></head>\r\n<body>\r\n<h1>Index of "...)
	b = httpparse.AppendEscapeHTML(b, uri)
	b = append(b, "</h1><hr><pre><a href=\"../\">../</a>\r\n"...)
	for i := range es {
		e := &es[i]
		b = append(b, "<a href=\""...)
		b = httpparse.AppendEscape(b, e.Name, httpparse.EscapeURIComponent)
		if e.Dir {
			b = append(b, '/')
		}
		b = append(b, '"', '>')
		n := len(e.Name)
		if o.UTF8 {
			n = utf8Length(e.Name)
		}
		escapeHTML := httpparse.EscapeHTMLCount(e.Name) > 0
		var last int
		switch {
		case len(e.Name) != n:
			chars := nameLen + 1
			if n > nameLen {
				chars = nameLen - 3 + 1
			}
			k := utf8Prefix(e.Name, chars-1)
			if escapeHTML {
				b = httpparse.AppendEscapeHTML(b, e.Name[:k])
			} else {
				b = append(b, e.Name[:k]...)
			}
			last = len(b)
		case escapeHTML:
			k := n
			if n > nameLen {
				k = nameLen - 3
			}
			b = httpparse.AppendEscapeHTML(b, e.Name[:k])
			last = len(b)
		default:
			b = append(b, e.Name[:min(n, nameLen)]...)
			last = len(b) - 3
		}
		if n > nameLen {
			b = append(b[:last], "..&gt;</a>"...)
		} else {
			if e.Dir && nameLen-n > 0 {
				b = append(b, '/')
				n++
			}
			b = append(b, "</a>"...)
			for k := n; k < nameLen; k++ {
				b = append(b, ' ')
			}
		}
		b = append(b, ' ')
		t := e.Mtime
		if o.Localtime {
			t += o.GMTOff
		}
		tm := time.Unix(t, 0).UTC()
		b = append2(b, tm.Day())
		b = append(b, '-')
		b = append(b, months[tm.Month()-1]...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(tm.Year()), 10)
		b = append(b, ' ')
		b = append2(b, tm.Hour())
		b = append(b, ':')
		b = append2(b, tm.Minute())
		b = append(b, ' ')
		b = appendSize(b, e, o.ExactSize)
		b = append(b, '\r', '\n')
	}
	return append(b, "</pre><hr></body>\r\n</html>\r\n"...)
}

func append2(b []byte, v int) []byte {
	return append(b, byte('0'+v/10%10), byte('0'+v%10))
}

// appendPadded appends v right-aligned in width columns.
func appendPadded(b []byte, v int64, width int) []byte {
	var tmp [24]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	for k := len(s); k < width; k++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}

func appendSize(b []byte, e *Entry, exact bool) []byte {
	if exact {
		if e.Dir {
			return append(b, "                  -"...)
		}
		return appendPadded(b, e.Size, 19)
	}
	if e.Dir {
		return append(b, "      -"...)
	}
	const (
		kb = 1024
		mb = 1024 * 1024
		gb = 1024 * 1024 * 1024
	)
	length := e.Size
	var size int64
	var scale byte
	switch {
	case length > gb-1:
		size = length / gb
		if length%gb > gb/2-1 {
			size++
		}
		scale = 'G'
	case length > mb-1:
		size = length / mb
		if length%mb > mb/2-1 {
			size++
		}
		scale = 'M'
	case length > 9999:
		size = length / kb
		if length%kb > 511 {
			size++
		}
		scale = 'K'
	default:
		size = length
	}
	if scale != 0 {
		b = appendPadded(b, size, 6)
		return append(b, scale)
	}
	b = append(b, ' ')
	return appendPadded(b, size, 6)
}

// AppendJSON appends nginx's JSON listing, wrapped in the callback for
// JSONP when callback is not nil (ngx_http_autoindex_json).
func AppendJSON(b []byte, es []Entry, callback []byte) []byte {
	if callback != nil {
		b = append(b, "/* callback */\r\n"...)
		b = append(b, callback...)
		b = append(b, '(')
	}
	b = append(b, '[')
	for i := range es {
		e := &es[i]
		b = append(b, "\r\n{ \"name\":\""...)
		b = appendJSONEscaped(b, e.Name)
		b = append(b, "\", \"type\":\""...)
		b = append(b, entryType(e)...)
		b = append(b, "\", \"mtime\":\""...)
		b = http.AppendHTTPDate(b, e.Mtime)
		if e.File {
			b = append(b, "\", \"size\":"...)
			b = strconv.AppendInt(b, e.Size, 10)
		} else {
			b = append(b, '"')
		}
		b = append(b, " },"...)
	}
	if len(es) > 0 {
		b = b[:len(b)-1]
	}
	b = append(b, "\r\n]"...)
	if callback != nil {
		b = append(b, ')', ';')
	}
	return b
}

// AppendXML appends nginx's XML listing (ngx_http_autoindex_xml).
func AppendXML(b []byte, es []Entry) []byte {
	b = append(b, "<?xml version=\"1.0\"?>\r\n<list>\r\n"...)
	for i := range es {
		e := &es[i]
		typ := entryType(e)
		b = append(b, '<')
		b = append(b, typ...)
		b = append(b, " mtime=\""...)
		tm := time.Unix(e.Mtime, 0).UTC()
		b = appendPadded(b, int64(tm.Year()), 4)
		b = append(b, '-')
		b = append2(b, int(tm.Month()))
		b = append(b, '-')
		b = append2(b, tm.Day())
		b = append(b, 'T')
		b = append2(b, tm.Hour())
		b = append(b, ':')
		b = append2(b, tm.Minute())
		b = append(b, ':')
		b = append2(b, tm.Second())
		b = append(b, 'Z')
		if e.File {
			b = append(b, "\" size=\""...)
			b = strconv.AppendInt(b, e.Size, 10)
		}
		b = append(b, '"', '>')
		b = httpparse.AppendEscapeHTML(b, e.Name)
		b = append(b, '<', '/')
		b = append(b, typ...)
		b = append(b, ">\r\n"...)
	}
	return append(b, "</list>\r\n"...)
}

func entryType(e *Entry) string {
	switch {
	case e.Dir:
		return "directory"
	case e.File:
		return "file"
	}
	return "other"
}

// appendJSONEscaped is ngx_escape_json: '"' and '\\' get a backslash,
// control characters their short escape or \u00XX.
func appendJSONEscaped(b, s []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range s {
		if c > 0x1f {
			if c == '\\' || c == '"' {
				b = append(b, '\\')
			}
			b = append(b, c)
			continue
		}
		b = append(b, '\\')
		switch c {
		case '\n':
			b = append(b, 'n')
		case '\r':
			b = append(b, 'r')
		case '\t':
			b = append(b, 't')
		case '\b':
			b = append(b, 'b')
		case '\f':
			b = append(b, 'f')
		default:
			b = append(b, 'u', '0', '0', '0'+c>>4, hex[c&0xf])
		}
	}
	return b
}

// utf8Decode is ngx_utf8_decode: the code point at the start of p (n
// bytes available) and its length; a value above 0x10ffff is invalid.
func utf8Decode(p []byte, n int) (uint32, int) {
	u := uint32(p[0])
	var valid uint32
	var l int
	switch {
	case u >= 0xf0:
		u &= 0x07
		valid, l = 0xffff, 3
	case u >= 0xe0:
		u &= 0x0f
		valid, l = 0x7ff, 2
	case u >= 0xc2:
		u &= 0x1f
		valid, l = 0x7f, 1
	default:
		return 0xffffffff, 1
	}
	if n-1 < l {
		return 0xfffffffe, 1
	}
	i := 1
	for ; l > 0; l-- {
		if i >= len(p) {
			return 0xffffffff, i
		}
		c := uint32(p[i])
		i++
		if c < 0x80 {
			return 0xffffffff, i
		}
		u = u<<6 | c&0x3f
	}
	if u > valid {
		return u, i
	}
	return 0xffffffff, i
}

// utf8Length is ngx_utf8_length: characters in s, or its byte length
// when it is not valid UTF-8.
func utf8Length(s []byte) int {
	n := 0
	for p := 0; p < len(s); n++ {
		if s[p] < 0x80 {
			p++
			continue
		}
		u, k := utf8Decode(s[p:], len(s)-p)
		if u > 0x10ffff {
			return len(s)
		}
		p += k
	}
	return n
}

// utf8Prefix is the byte length of the first chars characters of s, as
// ngx_utf8_cpystrn copies them.
func utf8Prefix(s []byte, chars int) int {
	p := 0
	for ; chars > 0 && p < len(s); chars-- {
		if s[p] < 0x80 {
			p++
			continue
		}
		u, k := utf8Decode(s[p:], len(s)-p+1)
		if u > 0x10ffff {
			break
		}
		p += k
	}
	return p
}
