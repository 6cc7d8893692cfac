// Package setmisc is OpenResty's set-misc module (ngx_http_set_misc_module)
// with the upstream_list directive of the devel kit it depends on: set_*
// directives that compute a variable (escaping, quoting, encodings,
// hashes, HMACs, random strings, formatted times, hashed upstream
// choice). Each is a step of the rewrite module's script, run in order
// with rewrite, set and if, as the devel kit's set_var makes them.
//
// Configuration runs on the goroutine that builds the cycle; the set
// functions run on the request's loop.
package setmisc

import (
	"fmt"
	"strings"
	"time"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/http/modules/rewrite"
)

// Module is ngx_http_set_misc_module.
var Module = &core.Module{
	Name:      "ngx_http_set_misc_module",
	Type:      core.HTTPType,
	Configure: "--add-module=set-misc-nginx-module",
}

// NDKModule is the part of the devel kit (ndk_http_module) set-misc
// uses: upstream_list, the named lists set_hashed_upstream picks from.
// "nginx -V" names the kit once, with ngx_lua, which needs it too.
var NDKModule = &core.Module{
	Name: "ndk_http_module",
	Type: core.HTTPType,
}

// defaultAlphabet is base32hex, the original's default.
const defaultAlphabet = "0123456789abcdefghijklmnopqrstuv"

// LocConf is the module's configuration at one level.
type LocConf struct {
	Base32Padding  core.Value[bool]
	Base32Alphabet core.Value[string]
	// basis32 maps an alphabet byte to its value, other bytes to 0: the
	// original leaves them unset in memory its builds get zeroed, so
	// that decoding never rejects a byte.
	basis32 [256]byte
}

// ndkMainConf holds the upstream lists by name.
type ndkMainConf struct {
	lists []*upstreamList
}

// upstreamList is one upstream_list: its names repeated by weight.
type upstreamList struct {
	name    string
	buckets [][]byte
}

const ctxAll = core.HTTPMainSrvLoc | core.HTTPSif | core.HTTPLif

func init() {
	padding := core.FlagSlot("set_base32_padding", ctxAll, core.LocLevel,
		func(c *LocConf) *core.Value[bool] { return &c.Base32Padding }, true)
	deprecated := core.FlagSlot("set_misc_base32_padding", ctxAll, core.LocLevel,
		func(c *LocConf) *core.Value[bool] { return &c.Base32Padding }, true)
	setFlag := deprecated.Set
	deprecated.Set = func(p *core.Parser, d *conf.Directive, c any) error {
		if err := setFlag(p, d, c); err != nil {
			return err
		}
		p.Warnf(d, "the \"set_misc_base32_padding\" directive is deprecated, use the \"set_base32_padding\" directive instead")
		return nil
	}
	Module.Directives = []core.Directive{
		setVar("set_encode_base64", core.Take12, encodeBase64),
		setVar("set_decode_base64", core.Take12, decodeBase64),
		setVar("set_encode_base64url", core.Take12, encodeBase64URL),
		setVar("set_decode_base64url", core.Take12, decodeBase64URL),
		setVar("set_decode_hex", core.Take12, decodeHex),
		setVar("set_encode_hex", core.Take12, encodeHex),
		setMulti("set_hmac_sha1", hmacSHA1),
		setMulti("set_hmac_sha256", hmacSHA256),
		setVar("set_md5", core.Take12, md5Hex),
		setVar("set_sha1", core.Take12, sha1Hex),
		setVar("set_unescape_uri", core.Take12, unescapeURI),
		setVar("set_escape_uri", core.Take12, escapeURI),
		setVar("set_quote_sql_str", core.Take12, quoteSQL),
		setVar("set_quote_pgsql_str", core.Take12, quotePgSQL),
		setVar("set_quote_json_str", core.Take12, quoteJSON),
		{Name: "set_if_empty", Ctx: ctxAll, Args: core.Take2, Level: core.LocLevel, Set: setSelfMulti(ifEmpty)},
		{Name: "set_hashed_upstream", Ctx: ctxAll, Args: core.Take3, Level: core.LocLevel, Set: setHashedUpstream},
		deprecated,
		padding,
		core.Custom("set_base32_alphabet", ctxAll, core.Take1, core.LocLevel, setAlphabet, nil),
		setVar("set_encode_base32", core.Take12, encodeBase32),
		setVar("set_decode_base32", core.Take12, decodeBase32),
		setVar("set_local_today", core.Take1, localToday),
		setVar("set_formatted_gmt_time", core.Take2, formattedGMTTime),
		setVar("set_formatted_local_time", core.Take2, formattedLocalTime),
		setMulti("set_random", random),
		setVar("set_secure_random_alphanum", core.Take12, secureRandomAlphanum),
		setVar("set_secure_random_lcalpha", core.Take12, secureRandomLcalpha),
		{Name: "set_rotate", Ctx: ctxAll, Args: core.Take3, Level: core.LocLevel, Set: setSelfMulti(rotate)},
	}
	Module.HTTP = &http.Hooks{
		CreateLocConf: func(*http.Conf) any { return &LocConf{} },
		MergeLocConf:  mergeLocConf,
		InitLoop: func(*http.Config, *http.LoopServer) (any, error) {
			return &loopState{rotate: map[*LocConf]int{}}, nil
		},
	}
	NDKModule.Directives = []core.Directive{
		{Name: "upstream_list", Ctx: core.HTTPMain | core.HTTPSrv, Args: core.TwoMore, Level: core.MainLevel, Set: setUpstreamList},
	}
	NDKModule.HTTP = &http.Hooks{
		CreateMainConf: func(*http.Conf) any { return &ndkMainConf{} },
	}
}

// loopState is the module's state on one loop: set_rotate's last value
// per location, as nginx keeps it per worker in the location's
// configuration.
type loopState struct {
	rotate map[*LocConf]int
}

func mergeLocConf(_ *http.Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	core.MergeValue(&p.Base32Alphabet, &c.Base32Alphabet, defaultAlphabet)
	a := c.Base32Alphabet.V
	for i := 0; i < len(a); i++ {
		c.basis32[a[i]] = byte(i)
	}
	return nil
}

func setAlphabet(p *core.Parser, d *conf.Directive, c *LocConf) error {
	if n := len(d.Args[0]); n != 32 {
		return p.Errorf(d, "\"set_base32_alphabet\" directive takes an alphabet of %d bytes but 32 expected", n)
	}
	if c.Base32Alphabet.Set {
		return p.Invalid(d, "is duplicate")
	}
	c.Base32Alphabet = core.Of(d.Args[0])
	return nil
}

func locConf(r Env) *LocConf { return r.LocConfOf(Module).(*LocConf) }

func setUpstreamList(p *core.Parser, d *conf.Directive, _ any) error {
	mc := p.Ext.(*http.Conf).MainConfOf(NDKModule).(*ndkMainConf)
	name := d.Args[0]
	if findList(mc, name) != nil {
		return p.Errorf(d, "duplicate upstream list name \"%s\"", name)
	}
	ul := &upstreamList{name: name}
	for _, s := range d.Args[1:] {
		weight, rest, err := parseWeight(p, d, s)
		if err != nil {
			return err
		}
		b := []byte(rest)
		for j := 0; j < weight; j++ {
			ul.buckets = append(ul.buckets, b)
		}
	}
	mc.lists = append(mc.lists, ul)
	return nil
}

// parseWeight reads an upstream_list entry, "name" or "weight:name".
func parseWeight(p *core.Parser, d *conf.Directive, s string) (int, string, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 1, s, nil
	}
	if i == len(s) {
		return 0, "", p.Errorf(d, "upstream list just consists of number \"%s\"", s)
	}
	if s[i] != ':' {
		return 0, "", p.Errorf(d, "upstream list not correct format \"%s\"", s)
	}
	w, _ := core.Atoi(s[:i])
	return w, s[i+1:], nil
}

// findList looks a list up by name, without case.
func findList(mc *ndkMainConf, name string) *upstreamList {
	for _, ul := range mc.lists {
		if len(ul.name) == len(name) && equalFoldString(ul.name, name) {
			return ul
		}
	}
	return nil
}

func equalFoldString(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// valueFunc computes a variable from its evaluated operands. It returns
// the value and 0, or a status (500) that ends the script.
type valueFunc func(r Env, args [][]byte) ([]byte, int)

// Env is what a value function uses of the request it computes for: its
// memory, its error log, its location's configuration and the module's
// state on the loop. *http.Request is one; ngx_lua's timers run
// ndk.set_var with a stand-in for the request they do not have.
type Env interface {
	Alloc(n int) []byte
	Logf(level errlog.Level, format string, args ...any)
	LocConfOf(m *core.Module) any
	LoopState(m *core.Module) any
	Now() time.Time
}

// setVar declares a one-operand directive ("$var [value]"): without the
// value the variable's own value is the operand (ndk_set_var_value).
func setVar(name string, args core.Args, fn valueFunc) core.Directive {
	ndkValueFuncs[name] = fn
	return core.Directive{Name: name, Ctx: ctxAll, Args: args, Level: core.LocLevel,
		Set: func(p *core.Parser, d *conf.Directive, _ any) error {
			operand := d.Args[0]
			if len(d.Args) > 1 {
				operand = d.Args[1]
			}
			return addSet(p, d, []string{operand}, fn)
		}}
}

// ndkValueFuncs are the directives declared with ndk_set_var_value, by
// name: filled while the directive table is built at init.
var ndkValueFuncs = map[string]valueFunc{}

// NDKSetVar returns the function of a directive of this module that
// nginx declares with ndk_set_var_value (one operand), for ngx_lua's
// ndk.set_var.DIRECTIVE: it maps the operand to the value, with 0 for
// success or nginx's error code.
func NDKSetVar(name string) (func(r Env, v []byte) ([]byte, int), bool) {
	fn, ok := ndkValueFuncs[name]
	if !ok {
		return nil, false
	}
	return func(r Env, v []byte) ([]byte, int) { return fn(r, [][]byte{v}) }, true
}

// setMulti declares "$var operand1 operand2" (ndk_set_var_multi_value).
func setMulti(name string, fn valueFunc) core.Directive {
	return core.Directive{Name: name, Ctx: ctxAll, Args: core.Take3, Level: core.LocLevel,
		Set: func(p *core.Parser, d *conf.Directive, _ any) error {
			return addSet(p, d, d.Args[1:], fn)
		}}
}

// setSelfMulti is for directives whose operands start with the variable
// itself (set_if_empty, set_rotate).
func setSelfMulti(fn valueFunc) func(p *core.Parser, d *conf.Directive, _ any) error {
	return func(p *core.Parser, d *conf.Directive, _ any) error {
		return addSet(p, d, d.Args, fn)
	}
}

// addSet checks the variable name, compiles the operands and appends the
// step to the rewrite script.
func addSet(p *core.Parser, d *conf.Directive, operands []string, fn valueFunc) error {
	name := d.Args[0]
	if name == "" || name[0] != '$' {
		return p.Errorf(d, "invalid variable name \"%s\"", name)
	}
	vals, err := compileOperands(p, operands)
	if err != nil {
		return err
	}
	return rewrite.AddSet(p, d, name[1:], func(r *http.Request) ([]byte, int) {
		args := make([][]byte, len(vals))
		for i, t := range vals {
			args[i] = t.EvalBytes(r)
		}
		return fn(r, args)
	})
}

func compileOperands(p *core.Parser, operands []string) ([]*http.Template, error) {
	vals := make([]*http.Template, len(operands))
	for i, s := range operands {
		t, err := http.CompileTemplateP(p, s)
		if err != nil {
			return nil, err
		}
		vals[i] = t
	}
	return vals, nil
}

// setHashedUpstream picks a name of an upstream list by the hash of a
// key. A list named without variables must exist when the directive is
// read; one named with variables is looked up per request.
func setHashedUpstream(p *core.Parser, d *conf.Directive, _ any) error {
	listName := d.Args[1]
	mc := p.Ext.(*http.Conf).MainConfOf(NDKModule).(*ndkMainConf)
	if strings.Contains(listName, "$") {
		return addSet(p, d, d.Args[1:], func(r Env, args [][]byte) ([]byte, int) {
			ul := findList(mc, string(args[0]))
			if ul == nil {
				r.Logf(errlog.Error, "set_hashed_upstream: upstream list \"%s\" not defined yet", args[0])
				return nil, 500
			}
			return pickUpstream(ul, args[1]), 0
		})
	}
	ul := findList(mc, listName)
	if ul == nil {
		return confError("set_hashed_upstream: upstream list \"%s\" not defined yet", listName)
	}
	return addSet(p, d, d.Args[2:], func(r Env, args [][]byte) ([]byte, int) {
		return pickUpstream(ul, args[0]), 0
	})
}

// pickUpstream is the modulo of nginx's lower-case key hash. The result
// is configuration memory, never written to.
func pickUpstream(ul *upstreamList, key []byte) []byte {
	switch len(ul.buckets) {
	case 0:
		return nil
	case 1:
		return ul.buckets[0]
	}
	var h uint64
	for _, c := range key {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		h = h*31 + uint64(c)
	}
	return ul.buckets[uint32(h)%uint32(len(ul.buckets))]
}

// confError is a configuration error the original logs with the cycle's
// log at level error, without a place in the file.
func confError(format string, args ...any) error {
	return &core.Error{Msg: fmt.Sprintf(format, args...), Level: errlog.Error}
}
