package http

import (
	"strings"

	"gresty/conf"
	"gresty/core"
)

// MIMETypes is a list of response media types as nginx's types slot keeps
// it (sub_filter_types, charset_types): a level that sets the directive
// replaces what it inherits, its list always starts with the first of the
// module's default types, and "*" matches every response. Built while the
// configuration is parsed, read-only afterwards.
type MIMETypes struct {
	set  bool
	all  bool
	list []string
}

// Set adds the arguments of directive d (nginx's ngx_http_types_slot): the
// first use at a level starts the list with first, a type already listed
// draws the "duplicate MIME type" warning, and "*" makes the list match
// everything, after which the level's later arguments and directives are
// ignored.
func (t *MIMETypes) Set(p *core.Parser, d *conf.Directive, first string) {
	if t.all {
		return
	}
	if !t.set {
		t.set = true
		t.list = []string{first}
	}
	for _, a := range d.Args {
		if a == "*" {
			t.all = true
			t.list = nil
			return
		}
		low := strings.ToLower(a)
		dup := false
		for _, x := range t.list {
			if x == low {
				dup = true
				break
			}
		}
		if dup {
			p.Warnf(d, "duplicate MIME type \"%s\"", low)
			continue
		}
		t.list = append(t.list, low)
	}
}

// Merge gives t its parent's list when t's level set none, or defaults
// (lower case) when neither did (ngx_http_merge_types).
func (t *MIMETypes) Merge(parent *MIMETypes, defaults []string) {
	if t.set {
		return
	}
	if !parent.set {
		parent.set = true
		parent.list = defaults
	}
	*t = *parent
}

// Match tells whether the response's media type is listed
// (ngx_http_test_content_type): the type up to ContentTypeParts' length,
// compared without regard to case. A "*" list matches even a response
// without a Content-Type, as nginx's empty types hash does. Request loop
// only.
func (t *MIMETypes) Match(r *Request) bool {
	if t.all {
		return true
	}
	ct := r.Out.ContentType
	if ct == "" {
		return false
	}
	n, _ := r.ContentTypeParts()
	ct = ct[:n]
	for _, x := range t.list {
		if strings.EqualFold(x, ct) {
			return true
		}
	}
	return false
}

// ContentTypeParts tells how nginx would hold the response's Content-Type:
// mediaLen is the length of r.Out.ContentType that type lists are matched
// against (headers_out.content_type_len) and charset the response's
// charset (headers_out.charset). A value with parameters came either from
// an upstream, whose charset parameter nginx takes apart
// (ngx_http_upstream_copy_content_type), or from a module setting the
// header (Lua, headers-more), where the type ends at the first ";" and
// there is no charset. The charset returned aliases r.Out.ContentType or
// r.Out.Charset. Request loop only.
func (r *Request) ContentTypeParts() (mediaLen int, charset string) {
	ct := r.Out.ContentType
	if r.Out.Charset != "" {
		return len(ct), r.Out.Charset
	}
	semi := strings.IndexByte(ct, ';')
	if semi < 0 {
		return len(ct), ""
	}
	if u := r.UpstreamRequest(); u != nil {
		if v, ok := u.UpstreamHeader("content_type"); ok && string(v) == ct {
			return upstreamCharset(ct)
		}
	}
	return semi, ""
}

// upstreamCharset finds the charset parameter of an upstream's
// Content-Type as nginx does: after a ";" and blanks, "charset=" in any
// case; the byte after the blanks is not looked at again for a ";"; one
// pair of quotes around the value goes.
func upstreamCharset(v string) (int, string) {
	for i := 0; i < len(v); i++ {
		if v[i] != ';' {
			continue
		}
		j := i + 1
		for j < len(v) && v[j] == ' ' {
			j++
		}
		if j == len(v) {
			break
		}
		if len(v)-j < 8 || !strings.EqualFold(v[j:j+8], "charset=") {
			i = j
			continue
		}
		s, e := j+8, len(v)
		if s < e && v[s] == '"' {
			s++
		}
		if e > s && v[e-1] == '"' {
			e--
		}
		return i, v[s:e]
	}
	return len(v), ""
}

// copyInMemory marks, as the copy filter's request context, a request
// whose body filters asked for file ranges in memory before the copy
// filter saw its first buffer.
type copyInMemory struct{}

// NeedInMemory asks the copy filter to read the response's file ranges
// into memory even where sendfile is on, for a body filter that looks at
// the bytes (r->filter_need_in_memory). It is called from a header
// filter, before the body. Request loop only.
func (r *Request) NeedInMemory() {
	switch c := r.Ctx(CopyFilterModule.TypeIndex).(type) {
	case *copyCtx:
		c.inMemory = true
	case nil:
		r.SetCtx(CopyFilterModule.TypeIndex, copyInMemory{})
	}
}
