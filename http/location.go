package http

import (
	"sort"
	"strings"

	"gresty/conf"
	"gresty/core"
)

func confOf(p *core.Parser) *Conf { return p.Ext.(*Conf) }

// newLocConfs creates every module's location configuration for a new
// location-level context.
func (cf *Conf) newLocConfs() []any {
	confs := make([]any, len(cf.mods))
	for _, m := range cf.mods {
		if h := hooks(m); h.CreateLocConf != nil {
			confs[m.TypeIndex] = h.CreateLocConf(cf)
		}
	}
	clcf := confs[CoreModule.TypeIndex].(*LocConf)
	clcf.Confs = confs
	cf.locs = append(cf.locs, clcf)
	return confs
}

// LocConfOf returns module m's configuration in a location.
func (l *LocConf) LocConfOf(m *core.Module) any { return l.Confs[m.TypeIndex] }

func serverBlock(p *core.Parser, d *conf.Directive, c any) error {
	cf := confOf(p)
	pctx := p.Ctx().(*ConfCtx)
	ctx := &ConfCtx{Main: pctx.Main, Srv: make([]any, len(cf.mods))}
	for _, m := range cf.mods {
		if h := hooks(m); h.CreateSrvConf != nil {
			ctx.Srv[m.TypeIndex] = h.CreateSrvConf(cf)
		}
	}
	ctx.Loc = cf.newLocConfs()
	s := ctx.Srv[CoreModule.TypeIndex].(*SrvConf)
	s.Ctx, s.File, s.Line = ctx, d.File, d.Line
	clcf := ctx.Loc[CoreModule.TypeIndex].(*LocConf)
	clcf.File, clcf.Line = d.File, d.Line
	cf.Main.Servers = append(cf.Main.Servers, s)
	if err := p.Block(d, core.HTTPType, core.HTTPSrv, ctx); err != nil {
		return err
	}
	if !s.listen {
		// nginx's default: *:80 as root, *:8000 otherwise.
		port := "80"
		if !isRoot() {
			port = "8000"
		}
		lo, err := parseListen(p, d, []string{port})
		if err != nil {
			return err
		}
		if err := cf.Main.addListen(p, d, s, lo); err != nil {
			return err
		}
	}
	return nil
}

func locationBlock(p *core.Parser, d *conf.Directive, _ any) error {
	cf := confOf(p)
	pctx := p.Ctx().(*ConfCtx)
	ctx := &ConfCtx{Main: pctx.Main, Srv: pctx.Srv, Loc: cf.newLocConfs()}
	clcf := ctx.Loc[CoreModule.TypeIndex].(*LocConf)
	clcf.File, clcf.Line = d.File, d.Line

	var name string
	if len(d.Args) == 2 {
		mod := d.Args[0]
		name = d.Args[1]
		switch mod {
		case "=":
			clcf.Name, clcf.Exact = name, true
		case "^~":
			clcf.Name, clcf.NoRegex = name, true
		case "~", "~*":
			if err := regexLocation(p, d, clcf, name, mod == "~*"); err != nil {
				return err
			}
		default:
			return p.Errorf(d, "invalid location modifier \"%s\"", mod)
		}
	} else {
		name = d.Args[0]
		switch {
		case strings.HasPrefix(name, "="):
			clcf.Name, clcf.Exact = name[1:], true
		case strings.HasPrefix(name, "^~"):
			clcf.Name, clcf.NoRegex = name[2:], true
		case strings.HasPrefix(name, "~*"):
			if err := regexLocation(p, d, clcf, name[2:], true); err != nil {
				return err
			}
		case strings.HasPrefix(name, "~"):
			if err := regexLocation(p, d, clcf, name[1:], false); err != nil {
				return err
			}
		default:
			clcf.Name = name
			if strings.HasPrefix(name, "@") {
				clcf.Named = true
			}
		}
	}

	pclcf := pctx.Loc[CoreModule.TypeIndex].(*LocConf)
	if p.CtxBits() == core.HTTPLoc {
		if pclcf.Exact {
			return p.Errorf(d, "location \"%s\" cannot be inside the exact location \"%s\"", clcf.Name, pclcf.Name)
		}
		if pclcf.Named {
			return p.Errorf(d, "location \"%s\" cannot be inside the named location \"%s\"", clcf.Name, pclcf.Name)
		}
		if clcf.Named {
			return p.Errorf(d, "named location \"%s\" can be on the server level only", clcf.Name)
		}
		if clcf.Regex == nil && !strings.HasPrefix(clcf.Name, pclcf.Name) {
			return p.Errorf(d, "location \"%s\" is outside location \"%s\"", clcf.Name, pclcf.Name)
		}
	}
	clcf.parent = pclcf
	pclcf.locations = append(pclcf.locations, clcf)
	return p.Block(d, core.HTTPType, core.HTTPLoc, ctx)
}

// AddNonameLocation creates an unnamed location context for an if block
// (or limit_except) inside the current context and returns its core
// configuration, whose Confs hold every module's configuration for it.
func (cf *Conf) AddNonameLocation(p *core.Parser, d *conf.Directive) (*ConfCtx, *LocConf) {
	pctx := p.Ctx().(*ConfCtx)
	ctx := &ConfCtx{Main: pctx.Main, Srv: pctx.Srv, Loc: cf.newLocConfs()}
	clcf := ctx.Loc[CoreModule.TypeIndex].(*LocConf)
	clcf.Noname, clcf.File, clcf.Line = true, d.File, d.Line
	pclcf := pctx.Loc[CoreModule.TypeIndex].(*LocConf)
	clcf.Name = pclcf.Name
	clcf.parent = pclcf
	pclcf.locations = append(pclcf.locations, clcf)
	return ctx, clcf
}

func regexLocation(p *core.Parser, d *conf.Directive, clcf *LocConf, pattern string, caseless bool) error {
	re, err := compileRegex(p, d, pattern, caseless)
	if err != nil {
		return err
	}
	clcf.Regex = re
	clcf.Name = pattern
	return nil
}

func limitExceptBlock(p *core.Parser, d *conf.Directive, c any) error {
	pclcf := c.(*LocConf)
	if pclcf.LimitExcept != nil {
		return p.Invalid(d, "is duplicate")
	}
	var mask uint32
	for _, a := range d.Args {
		m, ok := methodNames[a]
		if !ok {
			return p.Errorf(d, "invalid method \"%s\"", a)
		}
		mask |= 1 << uint(m)
		if a == "GET" {
			mask |= 1 << uint(methodNames["HEAD"])
		}
	}
	cf := confOf(p)
	ctx, clcf := cf.AddNonameLocation(p, d)
	pclcf.LimitExcept = clcf
	pclcf.LimitExceptMask = mask
	return p.Block(d, core.HTTPType, core.HTTPLmt, ctx)
}

// staticTree finds exact and prefix locations of one level.
type staticTree struct {
	exact map[string]*LocConf
	// prefix locations, longest name first.
	prefix []*LocConf
	// redirect maps "name without its trailing slash" to a prefix or exact
	// location with auto_redirect.
	redirect map[string]*LocConf
}

// initLocations sorts a level's locations as nginx does, splits off named
// and regex locations, checks duplicates, and recurses into nested ones.
func initLocations(cf *Conf, s *SrvConf, l *LocConf) error {
	var static, regex, named []*LocConf
	for _, c := range l.locations {
		if err := initLocations(cf, nil, c); err != nil {
			return err
		}
		switch {
		case c.Noname:
		case c.Named:
			named = append(named, c)
		case c.Regex != nil:
			regex = append(regex, c)
		default:
			static = append(static, c)
		}
	}
	if s != nil {
		sort.SliceStable(named, func(i, j int) bool { return named[i].Name < named[j].Name })
		for i, n := range named {
			if i > 0 && named[i-1].Name == n.Name {
				return &core.Error{Msg: "duplicate location \"" + n.Name + "\"", File: n.File, Line: n.Line}
			}
			if s.named == nil {
				s.named = map[string]*LocConf{}
			}
			s.named[n.Name] = n
		}
	}
	l.regexLocs = regex
	if len(static) == 0 {
		return nil
	}
	t := &staticTree{exact: map[string]*LocConf{}}
	seenPrefix := map[string]bool{}
	for _, c := range static {
		if c.Exact {
			if t.exact[c.Name] != nil {
				return &core.Error{Msg: "duplicate location \"" + c.Name + "\"", File: c.File, Line: c.Line}
			}
			t.exact[c.Name] = c
		} else {
			if seenPrefix[c.Name] {
				return &core.Error{Msg: "duplicate location \"" + c.Name + "\"", File: c.File, Line: c.Line}
			}
			seenPrefix[c.Name] = true
			t.prefix = append(t.prefix, c)
		}
	}
	sort.SliceStable(t.prefix, func(i, j int) bool { return len(t.prefix[i].Name) > len(t.prefix[j].Name) })
	l.static = t
	// every location is final here: directives that ask for the
	// trailing-slash redirect (proxy_pass) set AutoRedirect while parsed.
	t.finishRedirects()
	return nil
}

// finishRedirects records locations whose handler asked for the
// trailing-slash redirect; modules set AutoRedirect during their merge, so
// this runs when every location is final.
func (t *staticTree) finishRedirects() {
	for _, c := range t.prefix {
		if c.AutoRedirect && strings.HasSuffix(c.Name, "/") && len(c.Name) > 1 {
			if t.redirect == nil {
				t.redirect = map[string]*LocConf{}
			}
			t.redirect[c.Name[:len(c.Name)-1]] = c
		}
	}
	for _, c := range t.exact {
		if c.AutoRedirect && strings.HasSuffix(c.Name, "/") && len(c.Name) > 1 {
			if t.redirect == nil {
				t.redirect = map[string]*LocConf{}
			}
			if t.redirect[c.Name[:len(c.Name)-1]] == nil {
				t.redirect[c.Name[:len(c.Name)-1]] = c
			}
		}
	}
}

// Results of a static location lookup, as ngx_http_core_find_static_location.
const (
	locDeclined = iota
	locExact    // NGX_OK: an exact location matched
	locPrefix   // NGX_AGAIN: a prefix location matched; look at nested ones
	locRedirect // NGX_DONE: the URI lacks the trailing slash of a proxied location
)

// find looks uri up among the exact and prefix locations of one level.
func (t *staticTree) find(uri []byte) (*LocConf, int) {
	if t == nil {
		return nil, locDeclined
	}
	if c := t.exact[string(uri)]; c != nil {
		return c, locExact
	}
	for _, c := range t.prefix {
		if len(c.Name) == len(uri) && c.Name == string(uri) {
			return c, locPrefix
		}
	}
	if t.redirect != nil {
		if c := t.redirect[string(uri)]; c != nil {
			return c, locRedirect
		}
	}
	for _, c := range t.prefix {
		if len(c.Name) < len(uri) && string(uri[:len(c.Name)]) == c.Name {
			return c, locPrefix
		}
	}
	return nil, locDeclined
}

// findLocation selects the location for r's URI below level pl, as
// ngx_http_core_find_location: an exact match, else the longest prefix and
// its nested locations, then this level's regexes in order unless that
// prefix was "^~". It returns the selected location (pl itself when nothing
// matched) and the lookup result.
func (r *Request) findLocation(pl *LocConf) (*LocConf, int, error) {
	cur := pl
	noregex := false
	found, rc := pl.static.find(r.URI)
	if found != nil {
		cur = found
	}
	if rc == locPrefix {
		noregex = found.NoRegex
		var err error
		cur, rc, err = r.findLocation(found)
		if err != nil {
			return nil, 0, err
		}
	}
	if rc == locExact || rc == locRedirect {
		return cur, rc, nil
	}
	if !noregex {
		for _, c := range pl.regexLocs {
			ok, err := r.regexMatch(c.Regex, r.URI, true)
			if err != nil {
				return nil, 0, err
			}
			if !ok {
				continue
			}
			nested, _, err := r.findLocation(c)
			if err != nil {
				return nil, 0, err
			}
			return nested, locExact, nil
		}
	}
	return cur, rc, nil
}

// AllLocations returns every location configuration of the http block:
// each server's own, and every location, nested location, named
// location, if and limit_except block below it.
func (cf *Conf) AllLocations() []*LocConf {
	var out []*LocConf
	var walk func(l *LocConf)
	walk = func(l *LocConf) {
		out = append(out, l)
		for _, c := range l.locations {
			walk(c)
		}
	}
	for _, s := range cf.Main.Servers {
		walk(s.Loc())
	}
	return out
}
