// Package ssi is nginx's ngx_http_ssi_filter_module: server side includes.
// Responses of the listed types (text/html by default) from locations
// with "ssi on" are parsed as they stream through the body filter; the
// <!--# ... --> commands in them are carried out: include (a subrequest,
// waited for or captured in a variable, or a stub block standing in for
// a failed one), echo, set, config, block/endblock and the
// if/elif/else/endif conditionals. The module also defines $date_local
// and $date_gmt, formatted with the document's "config timefmt".
//
// The parser is nginx's state machine: a command may be split across any
// number of body buffers, and text is passed on as soon as it cannot be
// the start of a command. Errors are logged with nginx's messages and
// replaced in the output by the errmsg text unless ssi_silent_errors is
// on.
//
// Configuration runs on the goroutine that builds the cycle; the filters
// and command handlers run on the request's loop.
package ssi

import (
	"gresty/conf"
	"gresty/core"
	"gresty/http"
	"gresty/http/modules/gzip"
	"gresty/regex"
)

// Module is ngx_http_ssi_filter_module.
var Module = &core.Module{
	Name: "ngx_http_ssi_filter_module",
	Type: core.HTTPType,
}

// The tables refer back to the module value, so they are filled in
// init.
func init() {
	Module.Directives = []core.Directive{
		core.FlagSlot("ssi", core.HTTPMainSrvLoc|core.HTTPLif, core.LocLevel,
			func(c *LocConf) *core.Value[bool] { return &c.Enable }, false),
		core.FlagSlot("ssi_silent_errors", core.HTTPMainSrvLoc, core.LocLevel,
			func(c *LocConf) *core.Value[bool] { return &c.SilentErrors }, false),
		core.FlagSlot("ssi_ignore_recycled_buffers", core.HTTPMainSrvLoc, core.LocLevel,
			func(c *LocConf) *core.Value[bool] { return &c.IgnoreRecycledBuffers }, false),
		core.SizeSlot("ssi_min_file_chunk", core.HTTPMainSrvLoc, core.LocLevel,
			func(c *LocConf) *core.Value[int64] { return &c.MinFileChunk }, 1024),
		core.SizeSlot("ssi_value_length", core.HTTPMainSrvLoc, core.LocLevel,
			func(c *LocConf) *core.Value[int64] { return &c.ValueLength }, 255),
		core.Custom("ssi_types", core.HTTPMainSrvLoc, core.OneMore, core.LocLevel,
			func(p *core.Parser, d *conf.Directive, c *LocConf) error { return c.Types.Set(p, d) }, nil),
		core.FlagSlot("ssi_last_modified", core.HTTPMainSrvLoc, core.LocLevel,
			func(c *LocConf) *core.Value[bool] { return &c.LastModified }, false),
	}
	Module.HTTP = &http.Hooks{
		Preconfiguration: preconfiguration,
		CreateLocConf:    func(*http.Conf) any { return &LocConf{} },
		MergeLocConf: func(_ *http.Conf, parent, child any) error {
			child.(*LocConf).Types.Merge(&parent.(*LocConf).Types)
			return nil
		},
		Postconfiguration: postconfiguration,
		InitLoop: func(*http.Config, *http.LoopServer) (any, error) {
			return &loopState{regexes: regex.NewCache(regexCacheSize, regex.Options{}), matcher: regex.NewMatcher()}, nil
		},
	}
}

// LocConf is the module's configuration at one level.
type LocConf struct {
	Enable       core.Value[bool]
	SilentErrors core.Value[bool]
	// IgnoreRecycledBuffers is accepted for nginx's sake: gresty's filters
	// copy what they keep, so no buffer is ever recycled under them.
	IgnoreRecycledBuffers core.Value[bool]
	LastModified          core.Value[bool]
	// MinFileChunk is accepted and kept: nginx uses it to decide when a
	// piece of a file is sent from the file rather than from memory, which
	// changes nothing in what the client receives.
	MinFileChunk core.Value[int64]
	ValueLength  core.Value[int64]
	Types        gzip.Types
}

// loopState is what one loop keeps for the module: the regexes of "if"
// expressions, compiled on first use (nginx compiles one per evaluation),
// and the matcher that runs them.
type loopState struct {
	regexes *regex.Cache
	matcher *regex.Matcher
}

// regexCacheSize bounds the compiled expressions a loop keeps.
const regexCacheSize = 128

func locConf(r *http.Request) *LocConf { return r.Loc.Confs[Module.TypeIndex].(*LocConf) }

func preconfiguration(cf *http.Conf) error {
	for _, v := range []*http.Variable{
		{Name: "date_local", Get: dateVariable, Data: false, Flags: http.VarNoCacheable},
		{Name: "date_gmt", Get: dateVariable, Data: true, Flags: http.VarNoCacheable},
	} {
		if _, err := cf.AddVariable(v); err != nil {
			return err
		}
	}
	return nil
}

func postconfiguration(cf *http.Conf) error {
	on := func(lc *http.LocConf) bool { return lc.Confs[Module.TypeIndex].(*LocConf).Enable.V }
	cf.AddHeaderFilterIf(on, func(next http.HeaderFilterFunc) http.HeaderFilterFunc {
		return func(r *http.Request) int { return headerFilter(r, next) }
	})
	// the body filter also notes the output of a document's subrequests,
	// whatever their location.
	cf.AddBodyFilterIf(cf.Anywhere(on), func(next http.BodyFilterFunc) http.BodyFilterFunc {
		return func(r *http.Request, in []http.Buf) int { return bodyFilter(r, in, next) }
	})
	return nil
}

// defaultErrmsg is what replaces a failed command unless "config errmsg"
// says otherwise.
var defaultErrmsg = []byte("[an error occurred while processing the directive]")

// defaultTimefmt is the format of $date_local and $date_gmt until "config
// timefmt" changes it.
var defaultTimefmt = []byte("%A, %d-%b-%Y %H:%M:%S %Z")

// headerFilter decides whether the response is parsed: SSI must be on,
// the body must not be known to be empty and the type must be listed. A
// main response that is parsed loses its length and ranges, and its
// Last-Modified and ETag unless ssi_last_modified keeps them (the ETag
// then weak).
func headerFilter(r *http.Request, next http.HeaderFilterFunc) int {
	lc := locConf(r)
	if !lc.Enable.V || r.Out.ContentLength == 0 || !lc.Types.Match(r) {
		return next(r)
	}
	c := &ctx{
		enabled:   true,
		valueLen:  int(lc.ValueLength.V),
		encoding:  encEntity,
		output:    true,
		timefmt:   defaultTimefmt,
		errmsg:    defaultErrmsg,
		copyStart: -1,
		copyEnd:   -1,
	}
	// state a subrequest created before the main response's head went
	// out (the document's variables and blocks) stays the document's.
	if old, _ := r.Ctx(Module.TypeIndex).(*ctx); old != nil {
		c.shared = old.shared
	}
	r.SetCtx(Module.TypeIndex, c)
	// the parser reads the bytes: file ranges come to it in memory.
	r.NeedInMemory()
	if r == r.Main {
		r.Out.ClearContentLength()
		r.Out.ClearAcceptRanges()
		if !lc.LastModified.V {
			r.Out.ClearLastModified()
			r.Out.ClearETag()
		} else {
			r.WeakETag()
		}
	}
	return next(r)
}
