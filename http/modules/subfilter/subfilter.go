// Package subfilter is nginx's ngx_http_sub_filter_module: sub_filter
// replaces strings in response bodies (any case, several at once, the
// replacement with variables) while the body streams through, whatever
// the buffer boundaries, with nginx's choice among overlapping matches.
//
// Configuration runs on the goroutine that builds the cycle; the filters
// run on the request's loop.
package subfilter

import (
	"gresty/conf"
	"gresty/core"
	"gresty/http"
)

// Module is ngx_http_sub_filter_module.
var Module = &core.Module{
	Name:      "ngx_http_sub_filter_module",
	Type:      core.HTTPType,
	Configure: "--with-http_sub_module",
}

// maxPairs is nginx's limit on sub_filter directives at one level.
const maxPairs = 255

// defaultTypes is ngx_http_html_default_types.
var defaultTypes = []string{"text/html"}

// The tables refer back to the module value, so they are filled in init.
func init() {
	Module.Directives = []core.Directive{
		core.Custom("sub_filter", core.HTTPMainSrvLoc, core.Take2, core.LocLevel, setPair, nil),
		core.Custom("sub_filter_types", core.HTTPMainSrvLoc, core.OneMore, core.LocLevel,
			func(p *core.Parser, d *conf.Directive, c *LocConf) error {
				c.Types.Set(p, d, defaultTypes[0])
				return nil
			}, nil),
		core.FlagSlot("sub_filter_once", core.HTTPMainSrvLoc, core.LocLevel,
			func(c *LocConf) *core.Value[bool] { return &c.Once }, true),
		core.FlagSlot("sub_filter_last_modified", core.HTTPMainSrvLoc, core.LocLevel,
			func(c *LocConf) *core.Value[bool] { return &c.LastModified }, false),
	}
	Module.HTTP = &http.Hooks{
		CreateLocConf: func(*http.Conf) any { return &LocConf{} },
		MergeLocConf:  mergeLocConf,
		Postconfiguration: func(cf *http.Conf) error {
			on := func(lc *http.LocConf) bool { return lc.LocConfOf(Module).(*LocConf).pairs != nil }
			cf.AddHeaderFilterIf(on, func(next http.HeaderFilterFunc) http.HeaderFilterFunc {
				return func(r *http.Request) int { return headerFilter(r, next) }
			})
			cf.AddBodyFilterIf(on, func(next http.BodyFilterFunc) http.BodyFilterFunc {
				return func(r *http.Request, in []http.Buf) int { return bodyFilter(r, in, next) }
			})
			return nil
		},
	}
}

// LocConf is the module's configuration at one level.
type LocConf struct {
	// pairs are the level's sub_filter directives, or the ones it
	// inherited when it has none (a level never adds to its parent's).
	pairs []*pair
	// dynamic is set when a search string has variables: the tables are
	// then built per response.
	dynamic bool
	// tables serve every response when no search string has variables.
	tables *tables

	Once         core.Value[bool]
	LastModified core.Value[bool]
	Types        http.MIMETypes
}

// pair is one sub_filter directive.
type pair struct {
	// search is the lower-case search string when it has no variables,
	// else nil and searchTpl evaluates it.
	search    []byte
	searchTpl *http.Template
	// value is the replacement when it has no variables, else nil and
	// valueTpl evaluates it.
	value    []byte
	valueTpl *http.Template
}

// setPair is the sub_filter directive. The search string is lower-cased
// before its variables are compiled, as nginx does.
func setPair(p *core.Parser, d *conf.Directive, c *LocConf) error {
	search, value := d.Args[0], d.Args[1]
	if search == "" {
		return p.Errorf(d, "empty search pattern")
	}
	if len(c.pairs) == maxPairs {
		return p.Errorf(d, "number of search patterns exceeds 255")
	}
	pr := &pair{}
	st, err := http.CompileTemplateP(p, string(lowerBytes([]byte(search))))
	if err != nil {
		return err
	}
	if st.Static() {
		pr.search = []byte(st.EvalString(nil))
	} else {
		pr.searchTpl = st
		c.dynamic = true
	}
	vt, err := http.CompileTemplateP(p, value)
	if err != nil {
		return err
	}
	if vt.Static() {
		pr.value = []byte(vt.EvalString(nil))
	} else {
		pr.valueTpl = vt
	}
	c.pairs = append(c.pairs, pr)
	return nil
}

func mergeLocConf(_ *http.Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	c.Types.Merge(&p.Types, defaultTypes)
	if c.pairs == nil {
		c.pairs, c.dynamic, c.tables = p.pairs, p.dynamic, p.tables
	}
	if c.pairs != nil && !c.dynamic && c.tables == nil {
		pats := make([][]byte, len(c.pairs))
		for i, pr := range c.pairs {
			pats[i] = pr.search
		}
		c.tables = newTables(pats, c.pairs)
	}
	return nil
}

// lowerBytes lower-cases ASCII letters in place, as ngx_strlow.
func lowerBytes(b []byte) []byte {
	for i, c := range b {
		b[i] = lower(c)
	}
	return b
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c | 0x20
	}
	return c
}
