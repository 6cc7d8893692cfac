package gzip

import (
	"strings"

	"gresty/conf"
	"gresty/core"
	"gresty/http"
)

// Types is a MIME type list as gzip_types keeps it (ngx_http_types_slot):
// text/html is always in it, "*" matches every response, and a level
// that sets the directive replaces its parent's list.
type Types struct {
	set  bool
	all  bool
	list []string
}

// defaultType is the type every list includes
// (ngx_http_html_default_types).
const defaultType = "text/html"

// Set adds the directive's arguments to the list, with nginx's duplicate
// warning. A "*" makes the list match everything; later arguments and
// directives at the same level are then ignored, as in nginx.
func (t *Types) Set(p *core.Parser, d *conf.Directive) error {
	if t.all {
		return nil
	}
	if !t.set {
		t.set = true
		t.list = []string{defaultType}
	}
	for _, a := range d.Args {
		if a == "*" {
			t.all = true
			t.list = nil
			return nil
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
	return nil
}

// Merge gives child its parent's list when the child's level set none,
// or the default list when neither did.
func (t *Types) Merge(parent *Types) {
	if t.set {
		return
	}
	if parent.set {
		*t = *parent
		return
	}
	t.set = true
	t.list = []string{defaultType}
}

// Match tells whether the response's Content-Type (its media type, any
// case, parameters ignored) is in the list (ngx_http_test_content_type).
func (t *Types) Match(r *http.Request) bool { return t.matchType(r.Out.ContentType) }

func (t *Types) matchType(ct string) bool {
	if t.all {
		return true
	}
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimRight(ct[:i], " ")
	}
	if ct == "" {
		return false
	}
	for _, x := range t.list {
		if strings.EqualFold(x, ct) {
			return true
		}
	}
	return false
}
