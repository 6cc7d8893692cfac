// Package browser is nginx's ngx_http_browser_module: $modern_browser and
// $ancient_browser classify the client by its User-Agent against the
// modern_browser and ancient_browser lists, and $msie tells MSIE.
//
// Directives are handled on the goroutine that builds the cycle; the
// variables are evaluated on the request's loop.
package browser

import (
	"bytes"
	"sort"
	"strings"

	"gresty/conf"
	"gresty/core"
	"gresty/http"
	"gresty/httpparse"
)

// Module is ngx_http_browser_module.
var Module = &core.Module{
	Name: "ngx_http_browser_module",
	Type: core.HTTPType,
}

// mask is how a browser's version is found in a User-Agent: the text
// before which it cannot start (skip bytes), the name to look for, and
// how far after the name's start the version begins.
type mask struct {
	browser string
	skip    int
	add     int
	name    string
}

// masks are nginx's, in its order (opera first: its User-Agent may name
// MSIE too).
var masks = []mask{
	{"opera", 0, len("Opera "), "Opera"},
	{"msie", len("Mozilla/4.0 (compatible; "), len("MSIE "), "MSIE "},
	{"gecko", len("Mozilla/5.0 ("), len("rv:"), "rv:"},
	{"safari", len("Mozilla/5.0 ("), len("Safari/"), "Safari/"},
	{"konqueror", len("Mozilla/5.0 (compatible; "), len("Konqueror/"), "Konqueror/"},
}

// modern is one modern_browser entry: the mask's index and the version,
// as nginx encodes "a.b.c.d": a*10^6 + b*10^4 + c*10^2 + d.
type modern struct {
	mask    int
	version uint64
}

// LocConf is the module's configuration of one level.
type LocConf struct {
	modern         []modern
	normalized     bool // modern has Opera and is in the masks' order
	modernUnlisted bool
	ancient        []string
	netscape4      bool
	modernValue    *[]byte
	ancientValue   *[]byte
}

const (
	isModern = iota + 1
	isAncient
)

func init() {
	ctx := core.HTTPMainSrvLoc
	Module.Directives = []core.Directive{
		core.Custom("modern_browser", ctx, core.Take12, core.LocLevel, setModern, nil),
		core.Custom("ancient_browser", ctx, core.OneMore, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *LocConf) error {
			for _, a := range d.Args {
				if a == "netscape4" {
					c.netscape4 = true
					continue
				}
				c.ancient = append(c.ancient, a)
			}
			return nil
		}, nil),
		core.Custom("modern_browser_value", ctx, core.Take1, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *LocConf) error {
			v := []byte(d.Args[0])
			c.modernValue = &v
			return nil
		}, nil),
		core.Custom("ancient_browser_value", ctx, core.Take1, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *LocConf) error {
			v := []byte(d.Args[0])
			c.ancientValue = &v
			return nil
		}, nil),
	}
	Module.HTTP = &http.Hooks{
		Preconfiguration: addVariables,
		CreateLocConf:    func(*http.Conf) any { return &LocConf{} },
		MergeLocConf:     mergeLocConf,
	}
}

// setModern is ngx_http_modern_browser: "unlisted", or a browser name
// and a version.
func setModern(p *core.Parser, d *conf.Directive, c *LocConf) error {
	if len(d.Args) == 1 {
		if d.Args[0] == "unlisted" {
			c.modernUnlisted = true
			return nil
		}
		// nginx fails without a message of its own
		return p.Errorf(d, "invalid parameter \"%s\"", d.Args[0])
	}
	n := -1
	for i, m := range masks {
		if strings.EqualFold(m.browser, d.Args[0]) {
			n = i
			break
		}
	}
	if n < 0 {
		return p.Errorf(d, "unknown browser name \"%s\"", d.Args[0])
	}
	version, ok := parseVersion([]byte(d.Args[1]))
	if !ok {
		return p.Errorf(d, "invalid browser version \"%s\"", d.Args[1])
	}
	c.modern = append(c.modern, modern{mask: n, version: version})
	return nil
}

// parseVersion reads a configured "a.b.c.d" into nginx's number; any
// byte but digits and dots is refused.
func parseVersion(b []byte) (uint64, bool) {
	version, n := scanVersion(b, ^uint64(0))
	return version, n == len(b)
}

// scanVersion reads a version at the start of b as nginx does: parts of
// digits between dots, scaled by 10^6, 10^4, 10^2 and 1. It stops at the
// first other byte, or as soon as a finished part makes the version
// greater than stop, and returns the version so far and the bytes read.
func scanVersion(b []byte, stop uint64) (version uint64, n int) {
	var ver uint64
	scale := uint64(1000000)
	for n < len(b) {
		c := b[n]
		switch {
		case c >= '0' && c <= '9':
			ver = ver*10 + uint64(c-'0')
		case c == '.':
			version += ver * scale
			if version > stop {
				return version, n
			}
			ver = 0
			scale /= 100
		default:
			return version + ver*scale, n
		}
		n++
	}
	return version + ver*scale, n
}

// mergeLocConf is ngx_http_browser_merge_conf: a level with neither list
// inherits the enclosing one's; a modern list gets Opera (at a version no
// browser reaches) unless it names it, and is put in the masks' order.
func mergeLocConf(cf *http.Conf, parent, child any) error {
	prev, c := parent.(*LocConf), child.(*LocConf)
	if c.modern == nil && !c.modernUnlisted {
		c.modern, c.modernUnlisted = prev.modern, prev.modernUnlisted
	}
	if c.modern != nil && !c.normalized {
		// the list of the http level, never merged itself, is put in
		// order where it is inherited, on a copy (nginx leaves it
		// half set up there).
		list := append([]modern(nil), c.modern...)
		hasOpera := false
		for _, m := range list {
			if m.mask == 0 {
				hasOpera = true
			}
		}
		if !hasOpera {
			list = append(list, modern{mask: 0, version: 4001000000})
		}
		sort.SliceStable(list, func(i, j int) bool { return list[i].mask < list[j].mask })
		c.modern, c.normalized = list, true
	}
	if c.ancient == nil && !c.netscape4 {
		c.ancient, c.netscape4 = prev.ancient, prev.netscape4
	}
	if c.modernValue == nil {
		c.modernValue = prev.modernValue
	}
	if c.ancientValue == nil {
		c.ancientValue = prev.ancientValue
	}
	return nil
}

func addVariables(cf *http.Conf) error {
	for _, v := range []*http.Variable{
		{Name: "msie", Flags: http.VarChangeable, Get: msie},
		{Name: "modern_browser", Flags: http.VarChangeable, Get: classify, Data: isModern},
		{Name: "ancient_browser", Flags: http.VarChangeable, Get: classify, Data: isAncient},
	} {
		if _, err := cf.AddVariable(v); err != nil {
			return err
		}
	}
	return nil
}

var one = []byte("1")

// msie is $msie: "1" for MSIE (and not Opera), else empty.
func msie(r *http.Request, _ any) ([]byte, bool) {
	if r.MSIE() {
		return one, true
	}
	return []byte{}, true
}

// classify is $modern_browser and $ancient_browser: the configured value
// ("1" by default) when the client is such a browser, else empty.
func classify(r *http.Request, data any) ([]byte, bool) {
	c := r.Loc.LocConfOf(Module).(*LocConf)
	kind := data.(int)
	if browser(r, c) != kind {
		return []byte{}, true
	}
	v := c.modernValue
	if kind == isAncient {
		v = c.ancientValue
	}
	if v == nil {
		return one, true
	}
	return *v, true
}

// browser is ngx_http_browser: modern or ancient.
func browser(r *http.Request, c *LocConf) int {
	ua, ok := r.KnownIn(httpparse.HdrUserAgent)
	if !ok {
		if c.modernUnlisted {
			return isModern
		}
		return isAncient
	}
	if c.modern != nil {
		for _, m := range c.modern {
			mk := masks[m.mask]
			if mk.skip >= len(ua) {
				continue
			}
			i := bytes.Index(ua[mk.skip:], []byte(mk.name))
			if i < 0 {
				continue
			}
			at := mk.skip + i + mk.add
			if at >= len(ua) {
				continue
			}
			// a part that already passes the wanted version decides
			if version, _ := scanVersion(ua[at:], m.version); version >= m.version {
				return isModern
			}
			return isAncient
		}
		if !c.modernUnlisted {
			return isAncient
		}
	}
	if c.netscape4 && len(ua) > len("Mozilla/4.72 ") && bytes.HasPrefix(ua, []byte("Mozilla/")) && ua[8] > '0' && ua[8] < '5' {
		return isAncient
	}
	for _, a := range c.ancient {
		if len(ua) >= len(a) && bytes.Contains(ua, []byte(a)) {
			return isAncient
		}
	}
	if c.modernUnlisted {
		return isModern
	}
	return isAncient
}
