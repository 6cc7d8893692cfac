// Package securelink is nginx's ngx_http_secure_link_module: the
// $secure_link and $secure_link_expires variables, which check that a
// link was signed with a secret and has not expired.
//
// Two forms exist. With secure_link and secure_link_md5, the link carries
// the base64url MD5 of a string the server rebuilds (typically secret, URI
// and expiry time), and optionally the expiry: $secure_link is "1" for a
// good link, "0" for an expired one, and not found otherwise. With
// secure_link_secret, the URI itself is /prefix/<hex md5>/<link> where the
// MD5 is of the link and the secret: $secure_link is the link when the
// MD5 matches.
//
// Directives are handled on the goroutine that builds the cycle; the
// variables are evaluated on the request's loop.
package securelink

import (
	"crypto/md5"

	"gresty/conf"
	"gresty/core"
	"gresty/http"
)

// Module is ngx_http_secure_link_module.
var Module = &core.Module{
	Name:      "ngx_http_secure_link_module",
	Type:      core.HTTPType,
	Configure: "--with-http_secure_link_module",
}

func init() {
	ctx := core.HTTPMainSrvLoc
	Module.Directives = []core.Directive{
		core.Custom("secure_link", ctx, core.Take1, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *LocConf) error {
			return setTemplate(p, d, &c.Variable)
		}, nil),
		core.Custom("secure_link_md5", ctx, core.Take1, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *LocConf) error {
			return setTemplate(p, d, &c.MD5)
		}, nil),
		core.Custom("secure_link_secret", ctx, core.Take1, core.LocLevel, setSecret, nil),
	}
	Module.HTTP = &http.Hooks{
		Preconfiguration: addVariables,
		CreateLocConf:    func(*http.Conf) any { return &LocConf{} },
		MergeLocConf:     mergeLocConf,
	}
}

// LocConf is the module's configuration of one level.
type LocConf struct {
	// Variable is secure_link's value ("hash" or "hash,expires"); MD5 is
	// secure_link_md5's, the string whose MD5 the hash must be.
	Variable core.Value[*http.Template]
	MD5      core.Value[*http.Template]
	// Secret is secure_link_secret's, for the older form.
	Secret core.Value[string]
}

// reqCtx remembers the expiry time found in the link for
// $secure_link_expires.
type reqCtx struct {
	expires []byte
}

func setTemplate(p *core.Parser, d *conf.Directive, v *core.Value[*http.Template]) error {
	if v.Set {
		return p.Invalid(d, "is duplicate")
	}
	t, err := http.CompileTemplateP(p, d.Args[0])
	if err != nil {
		return err
	}
	v.V, v.Set = t, true
	return nil
}

func setSecret(p *core.Parser, d *conf.Directive, c *LocConf) error {
	if c.Secret.Set {
		return p.Invalid(d, "is duplicate")
	}
	c.Secret = core.Of(d.Args[0])
	return nil
}

// mergeLocConf is ngx_http_secure_link_merge_conf: a level with a secret
// inherits neither form's templates (and may not have them); a level
// with either template inherits no secret.
func mergeLocConf(cf *http.Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	if c.Secret.Set {
		if c.Variable.Set || c.MD5.Set {
			d := cf.Dir
			line := d.CloseLine
			if line == 0 {
				line = d.Line
			}
			return &core.Error{Msg: "\"secure_link_secret\" cannot be mixed with \"secure_link\" and \"secure_link_md5\"",
				File: d.File, Line: line, CmdLine: d.File == ""}
		}
		return nil
	}
	if !c.Variable.Set {
		c.Variable = p.Variable
	}
	if !c.MD5.Set {
		c.MD5 = p.MD5
	}
	if !c.Variable.Set && !c.MD5.Set {
		c.Secret = p.Secret
	}
	return nil
}

func addVariables(cf *http.Conf) error {
	if _, err := cf.AddVariable(&http.Variable{Name: "secure_link", Get: secureLink}); err != nil {
		return err
	}
	_, err := cf.AddVariable(&http.Variable{Name: "secure_link_expires", Get: secureLinkExpires})
	return err
}

// secureLink is ngx_http_secure_link_variable.
func secureLink(r *http.Request, _ any) ([]byte, bool) {
	c := r.Loc.LocConfOf(Module).(*LocConf)
	if c.Secret.Set {
		return oldStyle(r, c.Secret.V)
	}
	if c.Variable.V == nil || c.MD5.V == nil {
		return nil, false
	}
	val := c.Variable.V.EvalBytes(r)
	var expires int64
	for i, ch := range val {
		if ch != ',' {
			continue
		}
		exp := val[i+1:]
		val = val[:i]
		var ok bool
		if expires, ok = parseTime(exp); !ok || expires <= 0 {
			return nil, false
		}
		r.SetCtx(Module.TypeIndex, &reqCtx{expires: exp})
		break
	}
	if len(val) > 24 {
		return nil, false
	}
	var hash [18]byte
	n, ok := decodeBase64URL(hash[:], val)
	if !ok || n != md5.Size {
		return nil, false
	}
	sum := md5.Sum(c.MD5.V.EvalBytes(r))
	if sum != [md5.Size]byte(hash[:md5.Size]) {
		return nil, false
	}
	if expires != 0 && expires < r.Conn.Loop().Now().Unix() {
		return zero, true
	}
	return one, true
}

var (
	zero = []byte("0")
	one  = []byte("1")
)

// secureLinkExpires is the expiry time of the link $secure_link last
// checked, not found before it was.
func secureLinkExpires(r *http.Request, _ any) ([]byte, bool) {
	if ctx, ok := r.Ctx(Module.TypeIndex).(*reqCtx); ok {
		return ctx.expires, true
	}
	return nil, false
}

// oldStyle is ngx_http_secure_link_old_variable: the request line's URI
// is /prefix/<32 hex digits>/<link>, the digits the MD5 of the link (its
// query string included) followed by the secret. The value is the link.
func oldStyle(r *http.Request, secret string) ([]byte, bool) {
	if r.Main.Head == nil {
		return nil, false
	}
	uri := r.Main.Head.RawURI()
	if len(uri) < 1 {
		return nil, false
	}
	i := 1
	for i < len(uri) && uri[i] != '/' {
		i++
	}
	if i == len(uri) {
		return nil, false
	}
	start := i + 1
	j := start
	for j < len(uri) && uri[j] != '/' {
		j++
	}
	if j == len(uri) {
		return nil, false
	}
	link := uri[j+1:]
	if j-start != 32 || len(link) == 0 {
		return nil, false
	}
	h := md5.New()
	h.Write(link)
	h.Write([]byte(secret))
	var sum [md5.Size]byte
	h.Sum(sum[:0])
	hex := uri[start:j]
	for k := 0; k < md5.Size; k++ {
		hi, ok1 := hexDigit(hex[2*k])
		lo, ok2 := hexDigit(hex[2*k+1])
		if !ok1 || !ok2 || hi<<4|lo != sum[k] {
			return nil, false
		}
	}
	return link, true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseTime is ngx_atotm: decimal digits only, no sign, no overflow.
func parseTime(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	const maxTime = 1<<63 - 1
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if v > (maxTime-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// decodeBase64URL is ngx_decode_base64url: the input ends at the first
// "=" (what follows is ignored), every byte before must be in the
// URL-safe alphabet, and a last group of one character is an error; the
// unused bits of a last partial group are not checked. It returns the
// number of bytes written to dst, which must hold 3/4 of len(src).
func decodeBase64URL(dst, src []byte) (int, bool) {
	n := 0
	for n < len(src) && src[n] != '=' {
		if base64URL(src[n]) < 0 {
			return 0, false
		}
		n++
	}
	if n%4 == 1 {
		return 0, false
	}
	s := src[:n]
	d := 0
	for len(s) > 3 {
		a, b, c, e := base64URL(s[0]), base64URL(s[1]), base64URL(s[2]), base64URL(s[3])
		dst[d] = byte(a<<2 | b>>4)
		dst[d+1] = byte(b<<4 | c>>2)
		dst[d+2] = byte(c<<6 | e)
		d += 3
		s = s[4:]
	}
	if len(s) > 1 {
		dst[d] = byte(base64URL(s[0])<<2 | base64URL(s[1])>>4)
		d++
	}
	if len(s) > 2 {
		dst[d] = byte(base64URL(s[1])<<4 | base64URL(s[2])>>2)
		d++
	}
	return d, true
}

// base64URL is the value of a URL-safe base64 digit, -1 for other bytes.
func base64URL(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		return int(c - 'A')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 26
	case c >= '0' && c <= '9':
		return int(c-'0') + 52
	case c == '-':
		return 62
	case c == '_':
		return 63
	}
	return -1
}
