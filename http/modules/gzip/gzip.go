// Package gzip is nginx's ngx_http_gzip_filter_module and
// ngx_http_gzip_static_module: responses are compressed on the fly with
// github.com/klauspost/compress/flate in a gzip envelope equal to zlib's,
// and precompressed "file.gz" files are served in place of "file".
//
// It also exports what the zstd package shares with it: the MIME type
// lists (Types), the streaming filter skeleton (Filter, Encoder) and the
// precompressed-file handler (ServeStatic).
//
// Configuration runs on the goroutine that builds the cycle; filters and
// handlers run on the request's loop.
package gzip

import (
	"strconv"

	"gresty/conf"
	"gresty/core"
	"gresty/http"
)

// Module is ngx_http_gzip_filter_module.
var Module = &core.Module{
	Name: "ngx_http_gzip_filter_module",
	Type: core.HTTPType,
}

// The tables refer back to the module value, so they are filled in
// init.
func init() {
	Module.Directives = []core.Directive{
		core.FlagSlot("gzip", core.HTTPMainSrvLoc|core.HTTPLif, core.LocLevel, func(c *LocConf) *core.Value[bool] { return &c.Enable }, false),
		core.BufsSlot("gzip_buffers", core.HTTPMainSrvLoc, core.LocLevel, func(c *LocConf) *core.Value[core.Bufs] { return &c.Bufs }, core.Bufs{Num: 32, Size: 4096}),
		core.Custom("gzip_types", core.HTTPMainSrvLoc, core.OneMore, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *LocConf) error {
			return c.Types.Set(p, d)
		}, nil),
		core.Custom("gzip_comp_level", core.HTTPMainSrvLoc, core.Take1, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *LocConf) error {
			return SetBoundedNum(p, d, &c.Level, 1, 9)
		}, nil),
		core.Custom("gzip_window", core.HTTPMainSrvLoc, core.Take1, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *LocConf) error {
			return setPowerOfTwo(p, d, &c.WindowBits, 15, 32*1024, "must be 512, 1k, 2k, 4k, 8k, 16k, or 32k")
		}, nil),
		core.Custom("gzip_hash", core.HTTPMainSrvLoc, core.Take1, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *LocConf) error {
			return setPowerOfTwo(p, d, &c.MemLevel, 9, 128*1024, "must be 512, 1k, 2k, 4k, 8k, 16k, 32k, 64k, or 128k")
		}, nil),
		core.SizeSlot("postpone_gzipping", core.HTTPMainSrvLoc, core.LocLevel, func(c *LocConf) *core.Value[int64] { return &c.PostponeGzipping }, 0),
		core.FlagSlot("gzip_no_buffer", core.HTTPMainSrvLoc, core.LocLevel, func(c *LocConf) *core.Value[bool] { return &c.NoBuffer }, false),
		core.SizeSlot("gzip_min_length", core.HTTPMainSrvLoc, core.LocLevel, func(c *LocConf) *core.Value[int64] { return &c.MinLength }, 20),
	}
	Module.HTTP = &http.Hooks{
		Preconfiguration: func(cf *http.Conf) error {
			_, err := cf.AddVariable(&http.Variable{Name: "gzip_ratio", Get: ratioVariable, Flags: http.VarNoCacheable})
			return err
		},
		CreateLocConf: func(*http.Conf) any { return &LocConf{} },
		MergeLocConf: func(_ *http.Conf, parent, child any) error {
			p, c := parent.(*LocConf), child.(*LocConf)
			core.MergeValue(&p.Level, &c.Level, 1)
			core.MergeValue(&p.WindowBits, &c.WindowBits, 15)
			core.MergeValue(&p.MemLevel, &c.MemLevel, 8)
			c.Types.Merge(&p.Types)
			return nil
		},
		Postconfiguration: func(cf *http.Conf) error {
			// the pools live as long as this configuration.
			f := &Filter{Module: Module, Encoding: encodingGzip, Pools: NewPools(newDeflater), Settings: settings, Accept: acceptGzip}
			f.Install(cf)
			return nil
		},
	}
}

// LocConf is the gzip filter's configuration at one level.
type LocConf struct {
	Enable   core.Value[bool]
	NoBuffer core.Value[bool]
	// Bufs bounds how much compressed output is collected before it is
	// passed on (Num*Size bytes).
	Bufs             core.Value[core.Bufs]
	PostponeGzipping core.Value[int64]
	Level            core.Value[int]
	// WindowBits and MemLevel are gzip_window and gzip_hash as zlib's
	// parameters; they are checked and kept, and the compressor uses its
	// own fixed window.
	WindowBits core.Value[int]
	MemLevel   core.Value[int]
	MinLength  core.Value[int64]
	Types      Types
}

var encodingGzip = []byte("gzip")

func settings(lc *http.LocConf) (s Settings) {
	c := lc.Confs[Module.TypeIndex].(*LocConf)
	return Settings{Enable: c.Enable.V, MinLength: c.MinLength.V, Types: &c.Types, Level: c.Level.V,
		Chunk: int(c.Bufs.V.Size) * c.Bufs.V.Num}
}

// acceptGzip is the gzip decision, cached per request by the core.
func acceptGzip(r *http.Request) bool {
	if r.GzipTested {
		return r.GzipOK
	}
	return r.GzipCheck()
}

// SetBoundedNum is ngx_conf_set_num_slot with ngx_conf_check_num_bounds.
func SetBoundedNum(p *core.Parser, d *conf.Directive, v *core.Value[int], lo, hi int) error {
	if v.Set {
		return p.Invalid(d, "is duplicate")
	}
	n, ok := core.Atoi(d.Args[0])
	if !ok {
		return p.Invalid(d, "invalid number")
	}
	*v = core.Of(n)
	if n < lo || n > hi {
		return p.Errorf(d, "value must be between %d and %d", lo, hi)
	}
	return nil
}

// setPowerOfTwo is a size slot whose value must be a power of two from
// 512 to max, stored as its exponent counted down from top (the gzip_window
// and gzip_hash post handlers).
func setPowerOfTwo(p *core.Parser, d *conf.Directive, v *core.Value[int], top int, max int64, msg string) error {
	if v.Set {
		return p.Invalid(d, "is duplicate")
	}
	n, ok := core.ParseSize(d.Args[0])
	if !ok {
		return p.Invalid(d, "invalid value")
	}
	bits := top
	for size := max; size > 256; size >>= 1 {
		if size == n {
			*v = core.Of(bits)
			return nil
		}
		bits--
	}
	return p.Invalid(d, msg)
}

// ratioVariable is $gzip_ratio: input over output bytes with two
// decimals, rounded as nginx rounds it; not found until the response was
// compressed.
func ratioVariable(r *http.Request, _ any) ([]byte, bool) {
	st, _ := r.Ctx(Module.TypeIndex).(*Stream)
	if st == nil || st.Out == 0 {
		return nil, false
	}
	return FormatRatio(r.Alloc(24)[:0], st.In, st.Out), true
}

// FormatRatio appends in/out as nginx's "%ui.%02ui" with its rounding of
// the third decimal.
func FormatRatio(b []byte, in, out int64) []byte {
	zint := in / out
	zfrac := (in * 100 / out) % 100
	if (in*1000/out)%10 > 4 {
		zfrac++
		if zfrac > 99 {
			zint++
			zfrac = 0
		}
	}
	b = strconv.AppendInt(b, zint, 10)
	b = append(b, '.')
	if zfrac < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, zfrac, 10)
}
