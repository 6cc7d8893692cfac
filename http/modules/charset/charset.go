// Package charset is nginx's ngx_http_charset_filter_module: it adds the
// "; charset=" of a response's Content-Type (charset, charset_types) and
// recodes bodies from one charset to another with the tables charset_map
// defines: between single-byte charsets, and from or to utf-8, where a
// character the target lacks becomes an "&#NNNN;" entity.
//
// Configuration runs on the goroutine that builds the cycle; the filters
// run on the request's loop.
package charset

import (
	"strings"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
)

// Module is ngx_http_charset_filter_module.
var Module = &core.Module{
	Name: "ngx_http_charset_filter_module",
	Type: core.HTTPType,
}

// Values of the charset and source_charset settings besides a charset
// index, as nginx encodes them.
const (
	// charsetOff is "off", and the default.
	charsetOff = -2
	// noCharset is a name no charset_map, charset or source_charset
	// mentions.
	noCharset = -3
	// varBase plus a variable's index is a setting taken from a variable.
	varBase = 0x10000
)

// defaultTypes is ngx_http_charset_default_types: the list when no
// level sets charset_types; a level that does starts from the first.
var defaultTypes = []string{"text/html", "text/xml", "text/plain", "text/vnd.wap.wml",
	"application/javascript", "application/rss+xml"}

// The tables refer back to the module value, so they are filled in init.
func init() {
	Module.Directives = []core.Directive{
		core.Custom("charset", core.HTTPMainSrvLoc|core.HTTPLif, core.Take1, core.LocLevel,
			func(p *core.Parser, d *conf.Directive, c *LocConf) error { return setName(p, d, &c.Charset, true) },
			func(p, c *LocConf) { core.MergeValue(&p.Charset, &c.Charset, charsetOff) }),
		core.Custom("source_charset", core.HTTPMainSrvLoc|core.HTTPLif, core.Take1, core.LocLevel,
			func(p *core.Parser, d *conf.Directive, c *LocConf) error { return setName(p, d, &c.Source, false) },
			func(p, c *LocConf) { core.MergeValue(&p.Source, &c.Source, charsetOff) }),
		core.FlagSlot("override_charset", core.HTTPMainSrvLoc|core.HTTPLif, core.LocLevel,
			func(c *LocConf) *core.Value[bool] { return &c.Override }, false),
		core.Custom("charset_types", core.HTTPMainSrvLoc, core.OneMore, core.LocLevel,
			func(p *core.Parser, d *conf.Directive, c *LocConf) error {
				c.Types.Set(p, d, defaultTypes[0])
				return nil
			}, nil),
		{Name: "charset_map", Ctx: core.HTTPMain, Args: core.Block | core.Take2, Level: core.MainLevel, Set: mapBlock},
	}
	Module.HTTP = &http.Hooks{
		CreateMainConf:    func(*http.Conf) any { return &MainConf{} },
		CreateLocConf:     func(*http.Conf) any { return &LocConf{} },
		MergeLocConf:      mergeLocConf,
		Postconfiguration: postconfiguration,
	}
}

// MainConf is the http level's charsets and maps.
type MainConf struct {
	charsets []*charsetDef
	maps     []*charsetMap
	// recodes are the pairs of charsets locations recode between, each
	// of which needs a map.
	recodes [][2]int
}

// charsetDef is one charset name.
type charsetDef struct {
	name string
	utf8 bool
	// tables[dst] recodes to charset dst; nil without a map.
	tables []*table
}

// LocConf is the module's configuration at one level. Charset and
// Source hold a charset index, charsetOff or varBase plus a variable
// index.
type LocConf struct {
	Charset  core.Value[int]
	Source   core.Value[int]
	Override core.Value[bool]
	Types    http.MIMETypes
}

func mainConf(p *core.Parser) *MainConf {
	return p.Ext.(*http.Conf).MainConfOf(Module).(*MainConf)
}

// add returns the index of charset name (any case), adding it if new
// (ngx_http_add_charset).
func (m *MainConf) add(name string) int {
	if i := m.find(name); i != noCharset {
		return i
	}
	m.charsets = append(m.charsets, &charsetDef{name: name, utf8: strings.EqualFold(name, "utf-8")})
	return len(m.charsets) - 1
}

// find returns the index of charset name (any case), or noCharset.
func (m *MainConf) find(name string) int {
	for i, c := range m.charsets {
		if len(c.name) == len(name) && strings.EqualFold(c.name, name) {
			return i
		}
	}
	return noCharset
}

// setName is the charset and source_charset directives: "off" (charset
// only), a "$variable", or a charset name.
func setName(p *core.Parser, d *conf.Directive, v *core.Value[int], offOK bool) error {
	if v.Set {
		return p.Invalid(d, "is duplicate")
	}
	a := d.Args[0]
	switch {
	case offOK && a == "off":
		*v = core.Of(charsetOff)
	case a == "$":
		return p.Errorf(d, "invalid variable name \"$\"")
	case strings.HasPrefix(a, "$"):
		i, err := p.Ext.(*http.Conf).VariableIndex(a[1:])
		if err != nil {
			return err
		}
		*v = core.Of(varBase + i)
	default:
		*v = core.Of(mainConf(p).add(a))
	}
	return nil
}

// mergeLocConf completes the merge and notes the pair of charsets a
// level recodes between, when both are fixed and differ: a map must join
// them.
func mergeLocConf(cf *http.Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	c.Types.Merge(&p.Types, defaultTypes)
	dst, src := c.Charset.V, c.Source.V
	if dst == charsetOff || src == charsetOff || dst == src || dst >= varBase || src >= varBase {
		return nil
	}
	m := cf.MainConfOf(Module).(*MainConf)
	for _, rc := range m.recodes {
		if rc == [2]int{src, dst} {
			return nil
		}
	}
	m.recodes = append(m.recodes, [2]int{src, dst})
	return nil
}

// postconfiguration checks that every recoding has a map, links the maps
// to their charsets and installs the filters.
func postconfiguration(cf *http.Conf) error {
	m := cf.MainConfOf(Module).(*MainConf)
	for _, rc := range m.recodes {
		found := false
		for _, t := range m.maps {
			if (t.src == rc[0] && t.dst == rc[1]) || (t.src == rc[1] && t.dst == rc[0]) {
				found = true
				break
			}
		}
		if !found {
			return &core.Error{Msg: "no \"charset_map\" between the charsets \"" + m.charsets[rc[0]].name +
				"\" and \"" + m.charsets[rc[1]].name + "\""}
		}
	}
	for _, t := range m.maps {
		src, dst := m.charsets[t.src], m.charsets[t.dst]
		if src.tables == nil {
			src.tables = make([]*table, len(m.charsets))
		}
		if dst.tables == nil {
			dst.tables = make([]*table, len(m.charsets))
		}
		src.tables[t.dst], dst.tables[t.src] = t.forward(), t.backward()
	}
	cf.AddHeaderFilter(func(next http.HeaderFilterFunc) http.HeaderFilterFunc {
		return func(r *http.Request) int { return headerFilter(r, m, next) }
	})
	cf.AddBodyFilter(func(next http.BodyFilterFunc) http.BodyFilterFunc {
		return func(r *http.Request, in []http.Buf) int { return bodyFilter(r, in, next) }
	})
	return nil
}

// logNoMap is the error of a recoding no charset_map provides for.
func logNoMap(r *http.Request, src, dst string) {
	r.Logf(errlog.Error, "no \"charset_map\" between the charsets \"%s\" and \"%s\"", src, dst)
}
