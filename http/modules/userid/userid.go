// Package userid is nginx's ngx_http_userid_filter_module: a cookie that
// identifies clients. A request without a valid cookie gets a new
// identifier in a Set-Cookie header, and $uid_got and $uid_set show the
// identifier received and the one set, for the access log.
//
// An identifier is 16 bytes: the service number (by default the server's
// IPv4 address), the time it was made, a value fixed when the process
// starts and a sequence number. The cookie holds them in base64;
// "userid v1" lays the numbers out in the machine's byte order, "userid
// on" in network order, as nginx does, so identifiers made by either
// read the same way in both.
//
// Directives are handled on the goroutine that builds the cycle; the
// filter and the variables run on the request's loop.
package userid

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// The modes of the userid directive.
const (
	modeOff = iota
	modeLog
	modeV1
	modeOn
)

// The userid_flags bits.
const (
	flagOff            uint32 = 0x0002
	flagSecure         uint32 = 0x0004
	flagHTTPOnly       uint32 = 0x0008
	flagSameSite       uint32 = 0x0010
	flagSameSiteStrict uint32 = 0x0020
	flagSameSiteLax    uint32 = 0x0040
	flagSameSiteNone   uint32 = 0x0080
)

// maxExpires is "userid_expires max": 31 Dec 2037 23:55:55 GMT.
const maxExpires = 2145916555

// Module is ngx_http_userid_filter_module.
var Module = &core.Module{
	Name: "ngx_http_userid_filter_module",
	Type: core.HTTPType,
}

// LocConf is the module's configuration of one level.
type LocConf struct {
	Enable  core.Value[int]
	Flags   core.Value[uint32]
	Service core.Value[int]
	Name    core.Value[string]
	// Domain, Path and P3P are kept as they go into the headers:
	// "; domain=NAME", "; path=PATH", and "" for none.
	Domain  core.Value[string]
	Path    core.Value[string]
	P3P     core.Value[string]
	Expires core.Value[int64]
	// Mark is userid_mark's character, 0 for none.
	Mark core.Value[byte]
}

var (
	// startValue is fixed when the process starts (nginx's per worker):
	// the high microseconds of the time and the pid.
	startValue = uint32(time.Now().Nanosecond()/1000/20)<<16 | uint32(os.Getpid())&0xffff
	sequenceV1 atomic.Uint32
	sequenceV2 atomic.Uint32
)

func init() {
	sequenceV1.Store(1)
	sequenceV2.Store(0x03030302)
	ctx := core.HTTPMainSrvLoc
	type lc = LocConf
	flags := core.BitmaskSlot("userid_flags", ctx, core.LocLevel, func(c *lc) *core.Value[uint32] { return &c.Flags }, flagOff,
		[]core.Enum[uint32]{
			{Name: "off", V: flagOff},
			{Name: "secure", V: flagSecure},
			{Name: "httponly", V: flagHTTPOnly},
			{Name: "samesite=strict", V: flagSameSite | flagSameSiteStrict},
			{Name: "samesite=lax", V: flagSameSite | flagSameSiteLax},
			{Name: "samesite=none", V: flagSameSite | flagSameSiteNone},
		})
	flags.Args = core.Take123
	str := func(name string, field func(*lc) *core.Value[string], def string, post func(string) string) core.Directive {
		return core.Custom(name, ctx, core.Take1, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *lc) error {
			v := field(c)
			if v.Set {
				return p.Invalid(d, "is duplicate")
			}
			*v = core.Of(post(d.Args[0]))
			return nil
		}, func(parent, child *lc) { core.MergeValue(field(parent), field(child), def) })
	}
	Module.Directives = []core.Directive{
		core.EnumSlot("userid", ctx, core.LocLevel, func(c *lc) *core.Value[int] { return &c.Enable }, modeOff,
			[]core.Enum[int]{{Name: "off", V: modeOff}, {Name: "log", V: modeLog}, {Name: "v1", V: modeV1}, {Name: "on", V: modeOn}}),
		core.NumSlot("userid_service", ctx, core.LocLevel, func(c *lc) *core.Value[int] { return &c.Service }, -1),
		str("userid_name", func(c *lc) *core.Value[string] { return &c.Name }, "uid", func(s string) string { return s }),
		str("userid_domain", func(c *lc) *core.Value[string] { return &c.Domain }, "", func(s string) string {
			if s == "none" {
				return ""
			}
			return "; domain=" + s
		}),
		str("userid_path", func(c *lc) *core.Value[string] { return &c.Path }, "; path=/", func(s string) string { return "; path=" + s }),
		core.Custom("userid_expires", ctx, core.Take1, core.LocLevel, setExpires,
			func(parent, child *lc) { core.MergeValue(&parent.Expires, &child.Expires, 0) }),
		flags,
		str("userid_p3p", func(c *lc) *core.Value[string] { return &c.P3P }, "", func(s string) string {
			if s == "none" {
				return ""
			}
			return s
		}),
		core.Custom("userid_mark", ctx, core.Take1, core.LocLevel, setMark,
			func(parent, child *lc) { core.MergeValue(&parent.Mark, &child.Mark, 0) }),
	}
	Module.HTTP = &http.Hooks{
		Preconfiguration:  addVariables,
		Postconfiguration: postconfiguration,
		CreateLocConf:     func(*http.Conf) any { return &LocConf{} },
	}
}

func setExpires(p *core.Parser, d *conf.Directive, c *LocConf) error {
	if c.Expires.Set {
		return p.Invalid(d, "is duplicate")
	}
	switch d.Args[0] {
	case "max":
		c.Expires = core.Of(int64(maxExpires))
	case "off":
		c.Expires = core.Of(int64(0))
	default:
		s, ok := core.ParseTime(d.Args[0], true)
		if !ok {
			return p.Invalid(d, "invalid value")
		}
		c.Expires = core.Of(s)
	}
	return nil
}

func setMark(p *core.Parser, d *conf.Directive, c *LocConf) error {
	if c.Mark.Set {
		return p.Invalid(d, "is duplicate")
	}
	a := d.Args[0]
	if a == "off" {
		c.Mark = core.Of(byte(0))
		return nil
	}
	if len(a) != 1 || !(a[0] >= '0' && a[0] <= '9' || a[0] >= 'A' && a[0] <= 'Z' || a[0] >= 'a' && a[0] <= 'z' || a[0] == '=') {
		return p.Invalid(d, "value must be \"off\" or a single letter, digit or \"=\"")
	}
	c.Mark = core.Of(a[0])
	return nil
}

func locConf(r *http.Request) *LocConf { return r.Loc.LocConfOf(Module).(*LocConf) }

// reqCtx is a main request's identifiers (ngx_http_userid_ctx_t): got
// from its cookie, set in its answer, as the 16 bytes of the cookie.
type reqCtx struct {
	got, set [16]byte
	// cookie is the cookie's value as sent.
	cookie []byte
	reset  bool
}

// word is uid[i] as nginx reads it: the 4 bytes in the machine's order
// (little-endian on every platform gresty runs on).
func word(uid *[16]byte, i int) uint32 { return binary.LittleEndian.Uint32(uid[4*i:]) }

func present(uid *[16]byte) bool { return word(uid, 3) != 0 }

// addVariables adds $uid_got, $uid_set and $uid_reset; $uid_set and the
// filter know $uid_reset by its index in their configuration.
func addVariables(cf *http.Conf) error {
	if _, err := cf.AddVariable(&http.Variable{Name: "uid_reset", Flags: http.VarChangeable,
		Get: func(*http.Request, any) ([]byte, bool) { return []byte{}, true }}); err != nil {
		return err
	}
	reset, err := cf.VariableIndex("uid_reset")
	if err != nil {
		return err
	}
	if _, err := cf.AddVariable(&http.Variable{Name: "uid_got", Get: uidGot}); err != nil {
		return err
	}
	_, err = cf.AddVariable(&http.Variable{Name: "uid_set", Get: uidSet, Data: reset})
	return err
}

func postconfiguration(cf *http.Conf) error {
	reset, err := cf.VariableIndex("uid_reset")
	if err != nil {
		return err
	}
	cf.AddHeaderFilterIf(func(lc *http.LocConf) bool {
		return lc.Confs[Module.TypeIndex].(*LocConf).Enable.V >= modeV1
	}, func(next http.HeaderFilterFunc) http.HeaderFilterFunc {
		return func(r *http.Request) int { return filter(r, next, reset) }
	})
	return nil
}

// filter is ngx_http_userid_filter: a main request's answer gets the
// cookie when it has to be set.
func filter(r *http.Request, next http.HeaderFilterFunc, reset int) int {
	if r != r.Main {
		return next(r)
	}
	c := locConf(r)
	if c.Enable.V < modeV1 {
		return next(r)
	}
	ctx := getUID(r, c)
	if !setUID(r, ctx, c, reset) {
		return http.Error
	}
	return next(r)
}

// getUID reads the identifier of the request's cookie once
// (ngx_http_userid_get_uid).
func getUID(r *http.Request, c *LocConf) *reqCtx {
	if ctx, ok := r.Ctx(Module.TypeIndex).(*reqCtx); ok && ctx != nil {
		return ctx
	}
	ctx := &reqCtx{}
	r.SetCtx(Module.TypeIndex, ctx)
	v, header, ok := cookie(r, c.Name.V)
	if !ok {
		return ctx
	}
	ctx.cookie = v
	if len(v) < 22 {
		r.Logf(errlog.Error, "client sent too short userid cookie \"%s\"", header)
		return ctx
	}
	if !decodeBase64(ctx.got[:], v[:22]) {
		ctx.got = [16]byte{}
		r.Logf(errlog.Error, "client sent invalid userid cookie \"%s\"", header)
	}
	return ctx
}

// cookie finds cookie name in the request's Cookie headers, as
// ngx_http_parse_multi_header_lines, with the header that holds it.
func cookie(r *http.Request, name string) (v, header []byte, ok bool) {
	for i := range r.In {
		h := &r.In[i]
		if h.Known != httpparse.HdrCookie {
			continue
		}
		if v, ok := http.FindCookie(h.Value, name); ok {
			return v, h.Value, true
		}
	}
	return nil, nil, false
}

// decodeBase64 is ngx_decode_base64 of the 22 characters of a cookie:
// standard alphabet, stopping at "=", and no 1-character remainder.
func decodeBase64(dst []byte, src []byte) bool {
	n := 0
	for n < len(src) && src[n] != '=' {
		c := src[n]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return false
		}
		n++
	}
	if n%4 == 1 {
		return false
	}
	_, err := base64.RawStdEncoding.Decode(dst, src[:n])
	return err == nil
}

// createUID makes the identifier to set (ngx_http_userid_create_uid):
// none when the cookie is good (and marked as userid_mark wants), the
// received one again when only the mark is missing, and a new one when
// there is no cookie or $uid_reset says so.
func createUID(r *http.Request, ctx *reqCtx, c *LocConf, reset int) {
	if present(&ctx.set) {
		return
	}
	if present(&ctx.got) {
		v, _ := r.IndexedVar(reset)
		if len(v) == 0 || len(v) == 1 && v[0] == '0' {
			mark := c.Mark.V
			if mark == 0 || len(ctx.cookie) > 23 && ctx.cookie[22] == mark && ctx.cookie[23] == '=' {
				return
			}
			ctx.set = ctx.got
			return
		}
		ctx.reset = true
		if string(v) == "log" {
			r.Logf(errlog.Notice, "userid cookie \"%s=%s\" was reset", c.Name.V, hexUID(&ctx.got))
		}
	}
	var w [4]uint32
	if c.Enable.V == modeV1 {
		if c.Service.V != -1 {
			w[0] = uint32(c.Service.V)
		}
		w[1] = uint32(r.Conn.Loop().Now().Unix())
		w[2] = startValue
		w[3] = sequenceV1.Add(0x100) - 0x100
		for i, x := range w {
			binary.LittleEndian.PutUint32(ctx.set[4*i:], x)
		}
		return
	}
	if c.Service.V != -1 {
		binary.BigEndian.PutUint32(ctx.set[0:], uint32(c.Service.V))
	} else if ip, err := netip.ParseAddr(r.Conn.LocalIP()); err == nil {
		b := ip.As16()
		copy(ctx.set[0:4], b[12:16])
	}
	binary.BigEndian.PutUint32(ctx.set[4:], uint32(r.Conn.Loop().Now().Unix()))
	binary.BigEndian.PutUint32(ctx.set[8:], startValue)
	binary.BigEndian.PutUint32(ctx.set[12:], nextV2())
}

// nextV2 is the "userid on" sequence: it starts at 0x03030302 and steps
// by 0x100, going back to the start when it wraps.
func nextV2() uint32 {
	for {
		cur := sequenceV2.Load()
		next := cur + 0x100
		if next < 0x03030302 {
			next = 0x03030302
		}
		if sequenceV2.CompareAndSwap(cur, next) {
			return cur
		}
	}
}

// setUID adds the Set-Cookie header (and P3P) of the identifier to set
// (ngx_http_userid_set_uid).
func setUID(r *http.Request, ctx *reqCtx, c *LocConf, reset int) bool {
	createUID(r, ctx, c, reset)
	if !present(&ctx.set) {
		return true
	}
	b := make([]byte, 0, 128)
	b = append(b, c.Name.V...)
	b = append(b, '=')
	if !present(&ctx.got) || ctx.reset {
		start := len(b)
		b = base64.StdEncoding.AppendEncode(b, ctx.set[:])
		if c.Mark.V != 0 {
			b[start+22] = c.Mark.V
		}
	} else {
		b = append(b, ctx.cookie[:22]...)
		b = append(b, c.Mark.V, '=')
	}
	switch e := c.Expires.V; {
	case e == maxExpires:
		b = append(b, "; expires=Thu, 31-Dec-37 23:55:55 GMT"...)
	case e != 0:
		b = append(b, "; expires="...)
		b = append(b, cookieTime(r.Conn.Loop().Now().Unix()+e)...)
	}
	b = append(b, c.Domain.V...)
	b = append(b, c.Path.V...)
	f := c.Flags.V
	if f&flagSecure != 0 {
		b = append(b, "; secure"...)
	}
	if f&flagHTTPOnly != 0 {
		b = append(b, "; httponly"...)
	}
	if f&flagSameSiteStrict != 0 {
		b = append(b, "; samesite=strict"...)
	}
	if f&flagSameSiteLax != 0 {
		b = append(b, "; samesite=lax"...)
	}
	if f&flagSameSiteNone != 0 {
		b = append(b, "; samesite=none"...)
	}
	if r.Log().Enabled(errlog.Debug) {
		r.Logf(errlog.Debug, "uid cookie: \"%s\"", b)
	}
	r.Out.AddString("Set-Cookie", string(b))
	if c.P3P.V != "" {
		r.Out.AddString("P3P", c.P3P.V)
	}
	return true
}

// hexUID prints an identifier as nginx's "%08XD" of its four words.
func hexUID(uid *[16]byte) string {
	return fmt.Sprintf("%08X%08X%08X%08X", word(uid, 0), word(uid, 1), word(uid, 2), word(uid, 3))
}

// uidGot is $uid_got: "NAME=HEX" of the cookie's identifier.
func uidGot(r *http.Request, _ any) ([]byte, bool) {
	m := r.Main
	c := locConf(m)
	if c.Enable.V == modeOff {
		return nil, false
	}
	ctx := getUID(m, c)
	if !present(&ctx.got) {
		return nil, false
	}
	return []byte(c.Name.V + "=" + hexUID(&ctx.got)), true
}

// uidSet is $uid_set: "NAME=HEX" of the identifier the answer sets.
func uidSet(r *http.Request, reset any) ([]byte, bool) {
	m := r.Main
	c := locConf(m)
	if c.Enable.V < modeV1 {
		return nil, false
	}
	ctx := getUID(m, c)
	createUID(m, ctx, c, reset.(int))
	if !present(&ctx.set) {
		return nil, false
	}
	return []byte(c.Name.V + "=" + hexUID(&ctx.set)), true
}

// cookieTime is ngx_http_cookie_time: a two-digit year up to 2037.
func cookieTime(t int64) string {
	tm := time.Unix(t, 0).UTC()
	if tm.Year() > 2037 {
		return tm.Format("Mon, 02-Jan-2006 15:04:05 GMT")
	}
	return tm.Format("Mon, 02-Jan-06 15:04:05 GMT")
}
