package http

import (
	"net/netip"
	"time"

	"gresty/errlog"
	"gresty/resolver"
)

// The resolver of the http block: one cache per configuration (a reload
// starts with an empty cache, as nginx's does) and one set of name-server
// sockets per loop and configuration.

func (c *Config) resolverCache() *resolver.Cache {
	c.loopMu.Lock()
	defer c.loopMu.Unlock()
	if c.resCache == nil {
		c.resCache = resolver.NewCache(time.Now)
	}
	return c.resCache
}

// resolverSet returns the loop's resolver set for the configuration the
// connection serves. Loop goroutine.
func (c *Conn) resolverSet() *resolver.Set { return c.srv.resolverSet(c.cfg) }

// resolverSet returns the loop's resolver set for cfg. Loop goroutine.
func (s *LoopServer) resolverSet(cfg *Config) *resolver.Set {
	if s.resSets == nil {
		s.resSets = map[*Config]*resolver.Set{}
	}
	set := s.resSets[cfg]
	if set == nil {
		set = resolver.NewSet(s.loop, resolver.Options{
			Cache: cfg.resolverCache(),
			Logf: func(level int, format string, args ...any) {
				cfg.cycle.Log.Logf(errlog.Level(level), format, args...)
			},
			Debug: func() bool { return cfg.cycle.Log.Enabled(errlog.Debug) },
		})
		s.resSets[cfg] = set
	}
	return set
}

// closeResolvers closes the loop's name-server sockets of a configuration
// the loop no longer serves. Loop goroutine.
func (s *LoopServer) closeResolvers(cfg *Config) {
	if set := s.resSets[cfg]; set != nil {
		set.Close()
		delete(s.resSets, cfg)
	}
}

// LocResolver returns the resolver loc, a location-level configuration of
// cfg, names, for code that runs on the loop without a request (ngx_lua's
// timers, whose fake request keeps the location that created them); nil
// when loc has none. Loop goroutine.
func (s *LoopServer) LocResolver(cfg *Config, loc *LocConf) *resolver.Resolver {
	if cfg == nil || loc == nil || loc.Resolver.V == nil {
		return nil
	}
	return s.resolverSet(cfg).Resolver(loc.Resolver.V)
}

// HTTPLocConf returns the location-level core configuration of the http
// block itself, what a location inherits from it (init_worker_by_lua's
// fake request uses it).
func (c *Config) HTTPLocConf() *LocConf {
	l, _ := c.Ctx.Loc[CoreModule.TypeIndex].(*LocConf)
	return l
}

// Resolver returns the resolver of the request's location, nil when the
// location has none (callers then log nginx's "no resolver defined to
// resolve ..."). Loop goroutine.
func (r *Request) Resolver() *resolver.Resolver {
	rc := r.Loc.Resolver.V
	if rc == nil {
		return nil
	}
	return r.Conn.resolverSet().Resolver(rc)
}

// Resolve resolves host with the location's resolver; cb runs on the loop,
// possibly before Resolve returns (a literal address or a cached answer).
// It returns nil without calling cb when the location has no resolver.
// The returned request can be cancelled when the caller goes away.
func (r *Request) Resolve(host string, cb func(addrs []netip.Addr, err error)) (*resolver.Request, bool) {
	res := r.Resolver()
	if res == nil {
		return nil, false
	}
	return res.Resolve(host, cb), true
}
