// Package zstd adds Zstandard content encoding, which nginx does not have:
// responses are compressed on the fly with
// github.com/klauspost/compress/zstd (the zstd filter) and precompressed
// "file.zst" files are served in place of "file" (zstd_static), with the
// directives of the widely used third-party zstd-nginx-module.
//
// It follows gzip's rules: the same statuses, types and minimum length
// logic, and the core's gzip_http_version, gzip_proxied, gzip_disable and
// gzip_vary settings. When a client accepts both encodings and both are
// enabled, zstd wins: its filter runs before gzip's and gzip leaves an
// encoded response alone; likewise zstd_static is tried before
// gzip_static.
//
// Configuration runs on the goroutine that builds the cycle; filters and
// handlers run on the request's loop.
package zstd

import (
	"gresty/conf"
	"gresty/core"
	"gresty/http"
	"gresty/http/modules/gzip"
	"gresty/httpparse"
)

// FilterModule is the zstd filter (ngx_http_zstd_filter_module).
var FilterModule = &core.Module{Name: "ngx_http_zstd_filter_module", Type: core.HTTPType}

// StaticModule is zstd_static (ngx_http_zstd_static_module).
var StaticModule = &core.Module{Name: "ngx_http_zstd_static_module", Type: core.HTTPType}

// The tables refer back to the module values, so they are filled in
// init.
func init() {
	FilterModule.Directives = []core.Directive{
		core.FlagSlot("zstd", core.HTTPMainSrvLoc|core.HTTPLif, core.LocLevel, func(c *LocConf) *core.Value[bool] { return &c.Enable }, false),
		core.Custom("zstd_comp_level", core.HTTPMainSrvLoc, core.Take1, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *LocConf) error {
			return gzip.SetBoundedNum(p, d, &c.Level, 1, 22)
		}, nil),
		core.SizeSlot("zstd_min_length", core.HTTPMainSrvLoc, core.LocLevel, func(c *LocConf) *core.Value[int64] { return &c.MinLength }, 20),
		core.Custom("zstd_types", core.HTTPMainSrvLoc, core.OneMore, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *LocConf) error {
			return c.Types.Set(p, d)
		}, nil),
		core.BufsSlot("zstd_buffers", core.HTTPMainSrvLoc, core.LocLevel, func(c *LocConf) *core.Value[core.Bufs] { return &c.Bufs }, core.Bufs{Num: 32, Size: 4096}),
	}
	FilterModule.HTTP = &http.Hooks{
		Preconfiguration: func(cf *http.Conf) error {
			_, err := cf.AddVariable(&http.Variable{Name: "zstd_ratio", Get: ratioVariable, Flags: http.VarNoCacheable})
			return err
		},
		CreateLocConf: func(*http.Conf) any { return &LocConf{} },
		MergeLocConf: func(_ *http.Conf, parent, child any) error {
			p, c := parent.(*LocConf), child.(*LocConf)
			core.MergeValue(&p.Level, &c.Level, 1)
			c.Types.Merge(&p.Types)
			return nil
		},
		Postconfiguration: func(cf *http.Conf) error {
			// the pools live as long as this configuration.
			f := &gzip.Filter{Module: FilterModule, Encoding: encodingZstd, Pools: gzip.NewPools(newZstdEncoder),
				Settings: settings, Accept: accept}
			f.Install(cf)
			return nil
		},
	}
	StaticModule.Directives = []core.Directive{
		core.EnumSlot("zstd_static", core.HTTPMainSrvLoc, core.LocLevel, func(c *StaticConf) *core.Value[int] { return &c.Mode }, gzip.StaticOff,
			[]core.Enum[int]{{Name: "off", V: gzip.StaticOff}, {Name: "on", V: gzip.StaticOn}, {Name: "always", V: gzip.StaticAlways}}),
	}
	StaticModule.HTTP = &http.Hooks{
		CreateLocConf: func(*http.Conf) any { return &StaticConf{} },
		Postconfiguration: func(cf *http.Conf) error {
			cf.AddPhaseHandler(http.ContentPhase, staticHandler)
			return nil
		},
	}
}

func staticHandler(r *http.Request) int {
	c := r.Loc.Confs[StaticModule.TypeIndex].(*StaticConf)
	return gzip.ServeStatic(r, c.Mode.V, accept, ".zst", encodingZstd)
}

// LocConf is the zstd filter's configuration at one level.
type LocConf struct {
	Enable    core.Value[bool]
	Level     core.Value[int]
	MinLength core.Value[int64]
	// Bufs bounds how much compressed output is collected before it is
	// passed on (Num*Size bytes).
	Bufs  core.Value[core.Bufs]
	Types gzip.Types
}

// StaticConf is zstd_static's configuration at one level.
type StaticConf struct {
	Mode core.Value[int]
}

var encodingZstd = []byte("zstd")

func settings(lc *http.LocConf) gzip.Settings {
	c := lc.Confs[FilterModule.TypeIndex].(*LocConf)
	return gzip.Settings{Enable: c.Enable.V, MinLength: c.MinLength.V, Types: &c.Types, Level: c.Level.V,
		Chunk: int(c.Bufs.V.Size) * c.Bufs.V.Num}
}

// accept tells whether the client takes zstd and the core's gzip_*
// rules allow an encoding at all.
func accept(r *http.Request) bool {
	ae, ok := r.KnownIn(httpparse.HdrAcceptEncoding)
	return ok && AcceptsToken(ae, "zstd") && r.EncodingAllowed()
}

// ratioVariable is $zstd_ratio, formatted as $gzip_ratio.
func ratioVariable(r *http.Request, _ any) ([]byte, bool) {
	st, _ := r.Ctx(FilterModule.TypeIndex).(*gzip.Stream)
	if st == nil || st.Out == 0 {
		return nil, false
	}
	return gzip.FormatRatio(r.Alloc(24)[:0], st.In, st.Out), true
}
