// Package memc is OpenResty's memc module (ngx_http_memc_module): a
// content handler that speaks memcached's text protocol to an upstream,
// for most of its commands (get, set, add, replace, append, prepend,
// delete, incr, decr, flush_all, stats, version), with the command, key,
// value, flags and expiration time taken from the $memc_* variables.
// Connecting, retries, timeouts and keepalive pools are the upstream
// machinery of package http; this package builds the memcached queries
// and reads the replies (http.UpstreamRawProtocol).
//
// Configuration runs on the goroutine that builds the configuration;
// handlers and variables on the request's loop.
package memc

import (
	"strings"
	"time"

	"gresty/conf"
	"gresty/core"
	"gresty/http"
	"gresty/http/modules/upstream"
	"gresty/httpparse"
)

// Module is ngx_http_memc_module.
var Module = &core.Module{
	Name:      "ngx_http_memc_module",
	Type:      core.HTTPType,
	Configure: "--add-module=memc-nginx-module",
}

// LocConf is the module's configuration at one level.
type LocConf struct {
	FlagsToLastModified core.Value[bool]
	IgnoreClientAbort   core.Value[bool]
	ConnectTimeout      core.Value[time.Duration]
	SendTimeout         core.Value[time.Duration]
	ReadTimeout         core.Value[time.Duration]
	BufferSize          core.Value[int64]
	NextUpstream        core.Value[uint32]

	// cmdsAllowed is memc_cmds_allowed; nil allows every command.
	cmdsAllowed []command
	// upstream is a literal memc_pass; target one with variables, whose
	// value names an upstream block.
	upstream *http.UpstreamSrvConf
	target   *http.Template
	upsMain  *upstream.MainConf

	main *mainConf
	u    *http.UpstreamConf
}

// mainConf holds the indexes of the $memc_* variables, defined when a
// memc_pass is configured.
type mainConf struct {
	used                                       bool
	keyIdx, cmdIdx, valueIdx, flagsIdx, expIdx int
}

type lc = LocConf

func init() {
	Module.Directives = directives()
	Module.HTTP = &http.Hooks{
		CreateMainConf:    func(cf *http.Conf) any { return &mainConf{} },
		CreateLocConf:     func(cf *http.Conf) any { return &LocConf{} },
		MergeLocConf:      mergeLocConf,
		Postconfiguration: postconfiguration,
	}
}

// nextUpstreamMasks are memc_next_upstream's words.
var nextUpstreamMasks = []core.Enum[uint32]{
	{Name: "error", V: http.UpstreamFTError}, {Name: "timeout", V: http.UpstreamFTTimeout},
	{Name: "invalid_response", V: http.UpstreamFTInvalidHeader}, {Name: "not_found", V: http.UpstreamFTHTTP404},
	{Name: "off", V: http.UpstreamFTOff},
}

func directives() []core.Directive {
	const msl = core.HTTPMainSrvLoc
	msec := func(name string, f func(*lc) *core.Value[time.Duration]) core.Directive {
		return core.MsecSlot(name, msl, core.LocLevel, f, 60*time.Second)
	}
	unsupported := func(name, param string) core.Directive {
		return core.Custom(name, msl, core.Take1, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *lc) error {
			return p.Errorf(d, "\"%s\" is not supported, use the \"%s\" parameter of the \"server\" directive inside the \"upstream\" block", name, param)
		}, nil)
	}
	return []core.Directive{
		core.Custom("memc_cmds_allowed", msl|core.HTTPLif, core.OneMore, core.LocLevel, setCmdsAllowed, nil),
		core.Custom("memc_pass", core.HTTPLoc|core.HTTPLif, core.Take1, core.LocLevel, setPass, nil),
		msec("memc_connect_timeout", func(c *lc) *core.Value[time.Duration] { return &c.ConnectTimeout }),
		msec("memc_send_timeout", func(c *lc) *core.Value[time.Duration] { return &c.SendTimeout }),
		msec("memc_read_timeout", func(c *lc) *core.Value[time.Duration] { return &c.ReadTimeout }),
		// the default is the page size, as nginx's ngx_pagesize
		core.SizeSlot("memc_buffer_size", msl, core.LocLevel, func(c *lc) *core.Value[int64] { return &c.BufferSize }, 4096),
		core.BitmaskSlot("memc_next_upstream", msl, core.LocLevel, func(c *lc) *core.Value[uint32] { return &c.NextUpstream },
			http.UpstreamFTError|http.UpstreamFTTimeout, nextUpstreamMasks),
		unsupported("memc_upstream_max_fails", "max_fails"),
		unsupported("memc_upstream_fail_timeout", "fail_timeout"),
		core.FlagSlot("memc_flags_to_last_modified", core.HTTPLoc|core.HTTPLif, core.LocLevel,
			func(c *lc) *core.Value[bool] { return &c.FlagsToLastModified }, false),
		core.FlagSlot("memc_ignore_client_abort", core.HTTPLoc|core.HTTPLif, core.LocLevel,
			func(c *lc) *core.Value[bool] { return &c.IgnoreClientAbort }, false),
	}
}

// setCmdsAllowed replaces the list of allowed commands (a repeated
// directive is no error: the last one holds).
func setCmdsAllowed(p *core.Parser, d *conf.Directive, c *lc) error {
	cmds := make([]command, 0, len(d.Args))
	for _, a := range d.Args {
		cmd := parseCommand([]byte(a))
		if cmd == cmdUnknown {
			return p.Errorf(d, "Unknown memcached command \"%s\" used in \"memc_cmds_allowed\"", a)
		}
		cmds = append(cmds, cmd)
	}
	c.cmdsAllowed = cmds
	return nil
}

// clcfOf returns the core location configuration of the context being
// parsed.
func clcfOf(p *core.Parser) *http.LocConf {
	return p.Ctx().(*http.ConfCtx).Loc[http.CoreModule.TypeIndex].(*http.LocConf)
}

// setPass is memc_pass: an address or upstream name, or a value with
// variables naming an upstream block at run time. Only a literal one
// counts for "is duplicate", as in the original.
func setPass(p *core.Parser, d *conf.Directive, c *lc) error {
	if c.upstream != nil {
		return p.Invalid(d, "is duplicate")
	}
	clcf := clcfOf(p)
	clcf.Handler = handler
	if strings.HasSuffix(clcf.Name, "/") {
		clcf.AutoRedirect = true
	}
	p.Ext.(*http.Conf).MainConfOf(Module).(*mainConf).used = true
	c.upsMain = upstream.MainConfOf(p)
	arg := d.Args[0]
	if strings.Contains(arg, "$") {
		t, err := http.CompileTemplateP(p, arg)
		if err != nil {
			return err
		}
		c.target = t
		return nil
	}
	u, err := http.ParseURL(arg, 0, false, false)
	if err != nil {
		return p.Errorf(d, "%s in upstream \"%s\"", err, arg)
	}
	us, err := c.upsMain.Add(p, d, u, 0)
	if err != nil {
		return err
	}
	c.upstream = us
	return nil
}

func mergeLocConf(cf *http.Conf, parent, child any) error {
	prev, c := parent.(*LocConf), child.(*LocConf)
	next := http.NextUpstreamMask(c.NextUpstream.V)
	if c.upstream == nil {
		c.upstream = prev.upstream
	}
	if c.cmdsAllowed == nil {
		c.cmdsAllowed = prev.cmdsAllowed
	}
	if c.upsMain == nil {
		c.upsMain = prev.upsMain
	}
	c.u = &http.UpstreamConf{
		Upstream:          c.upstream,
		ConnectTimeout:    c.ConnectTimeout.V,
		SendTimeout:       c.SendTimeout.V,
		ReadTimeout:       c.ReadTimeout.V,
		NextUpstream:      next,
		BufferSize:        c.BufferSize.V,
		IgnoreClientAbort: c.IgnoreClientAbort.V,
		// the error pages of the location answer for memcached's
		// errors, as the module hard-codes intercept_errors.
		InterceptErrors: true,
	}
	return nil
}

// postconfiguration defines the $memc_* variables once a memc_pass is
// configured: changeable, and not found until set (a "set" of them
// loses its "uninitialized" getter), as the original does.
func postconfiguration(cf *http.Conf) error {
	m := cf.MainConfOf(Module).(*mainConf)
	if !m.used {
		return nil
	}
	for _, v := range []struct {
		name string
		idx  *int
	}{
		{"memc_key", &m.keyIdx}, {"memc_cmd", &m.cmdIdx}, {"memc_flags", &m.flagsIdx},
		{"memc_exptime", &m.expIdx}, {"memc_value", &m.valueIdx},
	} {
		def, err := cf.AddVariable(&http.Variable{Name: v.name, Flags: http.VarChangeable, Get: notFound})
		if err != nil {
			return err
		}
		def.Get = notFound
		if *v.idx, err = cf.VariableIndex(v.name); err != nil {
			return err
		}
	}
	if _, err := cf.AddVariable(&http.Variable{Name: "memc_flags_as_http_time", Get: flagsAsHTTPTime}); err != nil {
		return err
	}
	cf.WalkLocations(func(l, parent *http.LocConf) {
		l.LocConfOf(Module).(*LocConf).main = m
	})
	return nil
}

func notFound(r *http.Request, _ any) ([]byte, bool) { return nil, false }

// flagsAsHTTPTime is $memc_flags_as_http_time: the flags of the
// request's memcached exchange read as a Unix time.
func flagsAsHTTPTime(r *http.Request, _ any) ([]byte, bool) {
	q, _ := r.Ctx(Module.TypeIndex).(*query)
	if q == nil || !q.hasFlags {
		return nil, false
	}
	flags, ok := r.IndexedVar(q.m.flagsIdx)
	if !ok || len(flags) == 0 {
		return nil, false
	}
	t, ok := httpparse.Atoof(flags)
	if !ok {
		return nil, false
	}
	return http.AppendHTTPDate(nil, t), true
}
