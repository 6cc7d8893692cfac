// Package http is gresty's HTTP server: the http, server and location
// configuration, server and location selection, the phase engine, variables
// and scripts, the request lifecycle on a connection, and the header and
// body filter chains. Feature modules (static, rewrite, gzip, proxy, lua,
// ...) live in http/modules/<name> and plug in through Hooks, as nginx's
// HTTP modules do through ngx_http_module_t.
//
// Configuration types are built on the goroutine that builds a core.Cycle
// and are immutable afterwards. Requests and connections belong to the
// event loop that accepted them: their methods may be called only on that
// loop's goroutine.
package http

import (
	"sync"
	"time"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/resolver"
)

// Hooks are an HTTP module's configuration hooks (ngx_http_module_t).
// Every field is optional.
type Hooks struct {
	// Preconfiguration runs before the http block is parsed: the place
	// to add variables.
	Preconfiguration func(cf *Conf) error

	CreateMainConf func(cf *Conf) any
	InitMainConf   func(cf *Conf, c any) error
	CreateSrvConf  func(cf *Conf) any
	// MergeSrvConf and MergeLocConf run after Module.Merge has merged the
	// directives declared with typed setters.
	MergeSrvConf  func(cf *Conf, parent, child any) error
	CreateLocConf func(cf *Conf) any
	MergeLocConf  func(cf *Conf, parent, child any) error

	// Postconfiguration runs after every configuration is merged: the
	// place to install phase handlers and filters.
	Postconfiguration func(cf *Conf) error

	// InitLoop runs on a loop's goroutine when the loop starts serving a
	// configuration (nginx's init_process: a worker starting, or new
	// workers after a reload) and returns the module's state for that
	// loop and configuration, found later with Request.LoopState. An
	// error is logged and the module's state stays nil.
	InitLoop func(cfg *Config, ls *LoopServer) (any, error)
	// ExitLoop runs on the loop's goroutine when it stops serving the
	// configuration: a reload replaced it, or the server shuts down
	// (nginx's exit_process).
	ExitLoop func(cfg *Config, ls *LoopServer, state any)
}

// ConfCtx is an http, server or location context: one configuration
// structure per HTTP module at each level (ngx_http_conf_ctx_t).
type ConfCtx struct {
	Main []any
	Srv  []any
	Loc  []any
}

// ConfFor implements core.Context.
func (c *ConfCtx) ConfFor(m *core.Module, level core.Level) any {
	switch level {
	case core.MainLevel:
		return c.Main[m.TypeIndex]
	case core.SrvLevel:
		return c.Srv[m.TypeIndex]
	}
	return c.Loc[m.TypeIndex]
}

// Conf is what HTTP configuration hooks get: the parser, the cycle and the
// http block being built.
type Conf struct {
	*core.Parser
	Cycle *core.Cycle
	Main  *MainConf
	ctx   *ConfCtx
	// Dir is the http directive, for errors reported after the block.
	Dir  *conf.Directive
	mods []*core.Module
	// afterParse runs once the whole http block is built (AfterParse).
	afterParse []func() error
	// locs are all location configurations, for their filter chains.
	locs []*LocConf
}

// Modules returns the HTTP modules in order.
func (cf *Conf) Modules() []*core.Module { return cf.mods }

// hooks returns m's hooks, never nil.
func hooks(m *core.Module) *Hooks {
	if h, ok := m.HTTP.(*Hooks); ok && h != nil {
		return h
	}
	return &Hooks{}
}

// HTTPModule is ngx_http_module: the core-level module owning the http
// block.
var HTTPModule = &core.Module{
	Name: "ngx_http_module",
	Type: core.CoreType,
	Directives: []core.Directive{{
		Name: "http", Ctx: core.MainCtx, Args: core.Block | core.NoArgs, Level: core.MainLevel,
		Set: httpBlock,
	}},
	CreateConf: func(*core.Cycle) any { return &Config{} },
}

// ConfigOf returns the HTTP configuration of a cycle, or nil when it has
// no http block.
func ConfigOf(c *core.Cycle) *Config {
	cfg := c.MainConf(HTTPModule).(*Config)
	if cfg.Main == nil {
		return nil
	}
	return cfg
}

// Config is the finished http block of a cycle: what the loops serve.
type Config struct {
	Main *MainConf
	Ctx  *ConfCtx
	// Ports are the listening addresses with their virtual servers.
	Addrs []*ListenAddr
	mods  []*core.Module
	cycle *core.Cycle

	// loopStates[loop][module TypeIndex] is what InitLoop returned.
	loopStates [][]any
	loopMu     sync.Mutex
	// resCache is the resolver cache of this configuration.
	resCache *resolver.Cache
	// gen orders the configurations a runtime served: a reload's is
	// newer. Set by Runtime.Apply.
	gen uint64
}

// Cycle returns the cycle the configuration belongs to.
func (c *Config) Cycle() *core.Cycle { return c.cycle }

// Modules returns the HTTP modules in order.
func (c *Config) Modules() []*core.Module { return c.mods }

// initLoop runs the modules' InitLoop hooks for loop ls. Loop goroutine.
func (c *Config) initLoop(ls *LoopServer) {
	if c.Main.buildChains != nil {
		c.Main.chainsOnce.Do(c.Main.buildChains)
	}
	states := make([]any, len(c.mods))
	for _, m := range c.mods {
		if h := hooks(m); h.InitLoop != nil {
			st, err := h.InitLoop(c, ls)
			if err != nil {
				c.cycle.Log.Printf(errlog.Error, errlog.Entry{Loop: ls.loop.ID()}, "%s", err)
				continue
			}
			states[m.TypeIndex] = st
		}
	}
	c.loopMu.Lock()
	for len(c.loopStates) <= ls.loop.ID() {
		c.loopStates = append(c.loopStates, nil)
	}
	c.loopStates[ls.loop.ID()] = states
	c.loopMu.Unlock()
}

// exitLoop runs the modules' ExitLoop hooks for loop ls. Loop goroutine.
func (c *Config) exitLoop(ls *LoopServer) {
	// take the states: the hooks run once per loop, whichever of
	// reload, graceful or fast shutdown comes first.
	c.loopMu.Lock()
	var states []any
	if id := ls.loop.ID(); id < len(c.loopStates) {
		states = c.loopStates[id]
		c.loopStates[id] = nil
	}
	c.loopMu.Unlock()
	ls.closeResolvers(c)
	if states == nil {
		return
	}
	for i := len(c.mods) - 1; i >= 0; i-- {
		m := c.mods[i]
		if h := hooks(m); h.ExitLoop != nil {
			h.ExitLoop(c, ls, states[m.TypeIndex])
		}
	}
}

func (c *Config) states(loop int) []any {
	c.loopMu.Lock()
	defer c.loopMu.Unlock()
	if loop < len(c.loopStates) {
		return c.loopStates[loop]
	}
	return nil
}

// LoopState returns module m's state for the loop ls and this
// configuration, or nil.
func (c *Config) LoopState(ls *LoopServer, m *core.Module) any {
	states := c.states(ls.loop.ID())
	if states == nil {
		return nil
	}
	return states[m.TypeIndex]
}

// Now returns the loop's cached time.
func (r *Request) Now() time.Time { return r.Conn.srv.loop.Now() }

// LocConfOf returns module m's configuration of the request's location.
func (r *Request) LocConfOf(m *core.Module) any { return r.Loc.LocConfOf(m) }

// LoopState returns module m's state for the request's loop and
// configuration (what its InitLoop hook returned).
func (r *Request) LoopState(m *core.Module) any {
	return r.Conn.cfg.LoopState(r.Conn.srv, m)
}

func httpBlock(p *core.Parser, d *conf.Directive, c any) error {
	cfg := c.(*Config)
	if cfg.Main != nil {
		return p.Invalid(d, "is duplicate")
	}
	var mods []*core.Module
	for _, m := range p.Cycle.Registry.Modules {
		if m.Type == core.HTTPType {
			mods = append(mods, m)
		}
	}
	n := len(mods)
	ctx := &ConfCtx{Main: make([]any, n), Srv: make([]any, n), Loc: make([]any, n)}
	cf := &Conf{Parser: p, Cycle: p.Cycle, ctx: ctx, Dir: d, mods: mods}
	saveExt := p.Ext
	p.Ext = cf
	defer func() { p.Ext = saveExt }()
	for _, m := range mods {
		h := hooks(m)
		i := m.TypeIndex
		if h.CreateMainConf != nil {
			ctx.Main[i] = h.CreateMainConf(cf)
		}
		if h.CreateSrvConf != nil {
			ctx.Srv[i] = h.CreateSrvConf(cf)
		}
		if h.CreateLocConf != nil {
			ctx.Loc[i] = h.CreateLocConf(cf)
		}
	}
	cf.Main = ctx.Main[CoreModule.TypeIndex].(*MainConf)
	cf.Main.conf = cf
	cfg.Main, cfg.Ctx, cfg.mods, cfg.cycle = cf.Main, ctx, mods, p.Cycle

	for _, m := range mods {
		if h := hooks(m); h.Preconfiguration != nil {
			if err := h.Preconfiguration(cf); err != nil {
				return err
			}
		}
	}
	if err := p.Block(d, core.HTTPType, core.HTTPMain, ctx); err != nil {
		return err
	}

	mcf := cf.Main
	for _, m := range mods {
		h := hooks(m)
		i := m.TypeIndex
		if h.InitMainConf != nil {
			if err := h.InitMainConf(cf, ctx.Main[i]); err != nil {
				return err
			}
		}
		if err := mergeServers(cf, m, ctx); err != nil {
			return err
		}
	}
	for _, s := range mcf.Servers {
		if err := initLocations(cf, s, s.Ctx.Loc[CoreModule.TypeIndex].(*LocConf)); err != nil {
			return err
		}
	}
	for _, m := range mods {
		if h := hooks(m); h.Postconfiguration != nil {
			if err := h.Postconfiguration(cf); err != nil {
				return err
			}
		}
	}
	// the chains are built when the first loop starts: a filter may test
	// the error log, which the cycle opens after the whole file is read.
	mcf.buildChains = cf.buildFilterChains
	if err := mcf.vars.init(cf); err != nil {
		return err
	}
	mcf.buildPhases()
	cf.buildPhaseSkips()
	addrs, err := optimizeServers(cf)
	if err != nil {
		return err
	}
	cfg.Addrs = addrs
	for _, f := range cf.afterParse {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// mergeServers merges module m's srv and loc configurations from the http
// level into every server and down its locations (ngx_http_merge_servers).
func mergeServers(cf *Conf, m *core.Module, ctx *ConfCtx) error {
	h := hooks(m)
	i := m.TypeIndex
	for _, s := range cf.Main.Servers {
		if ctx.Srv[i] != nil {
			m.Merge(core.SrvLevel, ctx.Srv[i], s.Ctx.Srv[i])
			if h.MergeSrvConf != nil {
				if err := h.MergeSrvConf(cf, ctx.Srv[i], s.Ctx.Srv[i]); err != nil {
					return err
				}
			}
		}
		if ctx.Loc[i] != nil {
			m.Merge(core.LocLevel, ctx.Loc[i], s.Ctx.Loc[i])
			if h.MergeLocConf != nil {
				if err := h.MergeLocConf(cf, ctx.Loc[i], s.Ctx.Loc[i]); err != nil {
					return err
				}
			}
			clcf := s.Ctx.Loc[CoreModule.TypeIndex].(*LocConf)
			if err := mergeLocations(cf, clcf.locations, s.Ctx.Loc, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// mergeLocations merges a module's loc configuration into nested
// locations, if blocks and limit_except blocks, recursively.
func mergeLocations(cf *Conf, locs []*LocConf, parent []any, m *core.Module) error {
	h := hooks(m)
	i := m.TypeIndex
	for _, l := range locs {
		m.Merge(core.LocLevel, parent[i], l.Confs[i])
		if h.MergeLocConf != nil {
			if err := h.MergeLocConf(cf, parent[i], l.Confs[i]); err != nil {
				return err
			}
		}
		if err := mergeLocations(cf, l.locations, l.Confs, m); err != nil {
			return err
		}
	}
	return nil
}

// MainConfOf returns module m's http-level configuration.
func (c *Config) MainConfOf(m *core.Module) any { return c.Ctx.Main[m.TypeIndex] }
