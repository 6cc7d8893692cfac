package proxy

// proxy_redirect, proxy_cookie_domain and proxy_cookie_path: rewriting
// the Location and Refresh headers and the Domain and Path attributes of
// Set-Cookie, as ngx_http_proxy_rewrite_* handlers.

import (
	"strings"

	"gresty/conf"
	"gresty/core"
	"gresty/http"
)

// rewrite kinds
const (
	rwPrefix = iota // a literal (or variable) prefix, replaced
	rwRegex         // a regex over the whole value
	rwDomain        // a domain, compared without case, leading dot ignored
)

// rewriter is one proxy_redirect or proxy_cookie_* rule.
type rewriter struct {
	kind        int
	pattern     *http.Template
	regex       *http.Regex
	replacement *http.Template
}

// apply rewrites value[prefix:] when the rule matches, returning the new
// value and http.OK, or http.Declined.
func (rw *rewriter) apply(r *http.Request, value []byte, prefix int) ([]byte, int) {
	rest := value[prefix:]
	switch rw.kind {
	case rwPrefix:
		pat := rw.pattern.Eval(r, nil)
		if len(pat) > len(rest) || string(rest[:len(pat)]) != string(pat) {
			return value, http.Declined
		}
		return splice(value, prefix, len(pat), rw.replacement.Eval(r, nil)), http.OK
	case rwRegex:
		ok, err := r.RegexExec(rw.regex, rest)
		if err != nil || !ok {
			return value, http.Declined
		}
		return splice(value, prefix, len(rest), rw.replacement.Eval(r, nil)), http.OK
	default:
		if len(rest) > 0 && rest[0] == '.' {
			prefix++
			rest = rest[1:]
		}
		pat := rw.pattern.Eval(r, nil)
		if len(pat) != len(rest) || !strings.EqualFold(string(pat), string(rest)) {
			return value, http.Declined
		}
		return splice(value, prefix, len(rest), rw.replacement.Eval(r, nil)), http.OK
	}
}

// splice replaces n bytes at off with repl (ngx_http_proxy_rewrite).
func splice(value []byte, off, n int, repl []byte) []byte {
	out := make([]byte, 0, len(value)-n+len(repl))
	out = append(out, value[:off]...)
	out = append(out, repl...)
	return append(out, value[off+n:]...)
}

// defaultRedirect is "proxy_redirect default" for c's proxy_pass: the URL
// becomes the location's name, or "/" when the URL has no URI part.
func defaultRedirect(c *LocConf) *rewriter {
	if c.vars.uri != "" {
		return &rewriter{kind: rwPrefix, pattern: literal(c.url), replacement: literal(c.location)}
	}
	return &rewriter{kind: rwPrefix, pattern: literal(c.url + "/"), replacement: literal("/")}
}

// literal is a template without variables.
func literal(s string) *http.Template { return http.LiteralTemplate(s) }

// rewriteRedirect is ngx_http_proxy_rewrite_redirect: the first rule that
// matches rewrites the value.
func rewriteRedirect(r *http.Request, value []byte, prefix int) ([]byte, int) {
	c := r.Loc.LocConfOf(Module).(*LocConf)
	for _, rw := range c.redirects {
		if v, rc := rw.apply(r, value, prefix); rc != http.Declined {
			return v, rc
		}
	}
	return value, http.Declined
}

func compileRegex(p *core.Parser, d *conf.Directive, pattern string, caseless bool) (*http.Regex, error) {
	return p.Ext.(*http.Conf).CompileRegex(d, pattern, caseless)
}

// setRedirect is ngx_http_proxy_redirect.
func setRedirect(p *core.Parser, d *conf.Directive, c *lc) error {
	if c.redirect == 0 {
		return p.Invalid(d, "is duplicate")
	}
	c.redirect = 1
	a := d.Args
	if len(a) == 1 {
		if a[0] == "off" {
			if c.redirects != nil {
				return p.Invalid(d, "is duplicate")
			}
			c.redirect = 0
			return nil
		}
		if a[0] != "default" {
			return p.Errorf(d, "invalid parameter \"%s\"", a[0])
		}
		if c.urlTpl != nil {
			return p.Errorf(d, "\"proxy_redirect default\" cannot be used with \"proxy_pass\" directive with variables")
		}
		if c.url == "" {
			return p.Errorf(d, "\"proxy_redirect default\" should be placed after the \"proxy_pass\" directive")
		}
		c.redirects = append(c.redirects, defaultRedirect(c))
		return nil
	}
	rw := &rewriter{}
	if pat := a[0]; strings.HasPrefix(pat, "~") {
		pat = pat[1:]
		caseless := strings.HasPrefix(pat, "*")
		if caseless {
			pat = pat[1:]
		}
		re, err := compileRegex(p, d, pat, caseless)
		if err != nil {
			return err
		}
		rw.kind, rw.regex = rwRegex, re
	} else {
		t, err := http.CompileTemplateP(p, pat)
		if err != nil {
			return err
		}
		rw.kind, rw.pattern = rwPrefix, t
	}
	t, err := http.CompileTemplateP(p, a[1])
	if err != nil {
		return err
	}
	rw.replacement = t
	c.redirects = append(c.redirects, rw)
	return nil
}

// setCookieRule is ngx_http_proxy_cookie_domain and _path: "off", or a
// pattern (a regex after "~") and its replacement.
func setCookieRule(p *core.Parser, d *conf.Directive, rules *[]*rewriter, set *bool, domain bool) error {
	if *set && *rules == nil {
		return p.Invalid(d, "is duplicate")
	}
	a := d.Args
	if len(a) == 1 {
		if a[0] != "off" {
			return p.Errorf(d, "invalid parameter \"%s\"", a[0])
		}
		if *set {
			return p.Invalid(d, "is duplicate")
		}
		*set, *rules = true, nil
		return nil
	}
	rw := &rewriter{}
	pat, repl := a[0], a[1]
	if strings.HasPrefix(pat, "~") {
		pat = pat[1:]
		caseless := domain
		if !domain && strings.HasPrefix(pat, "*") {
			pat, caseless = pat[1:], true
		}
		re, err := compileRegex(p, d, pat, caseless)
		if err != nil {
			return err
		}
		rw.kind, rw.regex = rwRegex, re
	} else {
		rw.kind = rwPrefix
		if domain {
			rw.kind = rwDomain
			pat = strings.TrimPrefix(pat, ".")
			repl = strings.TrimPrefix(repl, ".")
		}
		t, err := http.CompileTemplateP(p, pat)
		if err != nil {
			return err
		}
		rw.pattern = t
	}
	t, err := http.CompileTemplateP(p, repl)
	if err != nil {
		return err
	}
	rw.replacement = t
	*set = true
	*rules = append(*rules, rw)
	return nil
}

func setCookieDomain(p *core.Parser, d *conf.Directive, c *lc) error {
	return setCookieRule(p, d, &c.cookieDomains, &c.domainsSet, true)
}

func setCookiePath(p *core.Parser, d *conf.Directive, c *lc) error {
	return setCookieRule(p, d, &c.cookiePaths, &c.pathsSet, false)
}

// cookieAttr is one "name=value" or bare "name" of a Set-Cookie value;
// hasValue tells "name=" from "name"; a deleted attribute has a nil key.
type cookieAttr struct {
	key, value []byte
	hasValue   bool
}

// cookieFlags is one proxy_cookie_flags: the cookie (a name, or a regex
// after "~") and the flags to apply.
type cookieFlags struct {
	name  *http.Template
	regex *http.Regex
	flags []*http.Template
}

// proxy_cookie_flags bits
const (
	cfSecure = 1 << iota
	cfSecureOn
	cfSecureOff
	cfHTTPOnly
	cfHTTPOnlyOn
	cfHTTPOnlyOff
	cfSameSite
	cfSameSiteStrict
	cfSameSiteLax
	cfSameSiteNone
	cfSameSiteOff
)

var cookieFlagWords = []struct {
	name string
	bits int
}{
	{"secure", cfSecure | cfSecureOn}, {"nosecure", cfSecure | cfSecureOff},
	{"httponly", cfHTTPOnly | cfHTTPOnlyOn}, {"nohttponly", cfHTTPOnly | cfHTTPOnlyOff},
	{"samesite=strict", cfSameSite | cfSameSiteStrict}, {"samesite=lax", cfSameSite | cfSameSiteLax},
	{"samesite=none", cfSameSite | cfSameSiteNone}, {"nosamesite", cfSameSite | cfSameSiteOff},
}

// setCookieFlags is ngx_http_proxy_cookie_flags.
func setCookieFlags(p *core.Parser, d *conf.Directive, c *lc) error {
	if c.flagsSet && c.cookieFlags == nil {
		return p.Invalid(d, "is duplicate")
	}
	a := d.Args
	if len(a) == 1 {
		if a[0] != "off" {
			return p.Errorf(d, "invalid parameter \"%s\"", a[0])
		}
		if c.flagsSet {
			return p.Invalid(d, "is duplicate")
		}
		c.flagsSet, c.cookieFlags = true, nil
		return nil
	}
	cf := &cookieFlags{}
	if strings.HasPrefix(a[0], "~") {
		re, err := compileRegex(p, d, a[0][1:], true)
		if err != nil {
			return err
		}
		cf.regex = re
	} else {
		t, err := http.CompileTemplateP(p, a[0])
		if err != nil {
			return err
		}
		cf.name = t
	}
	for _, f := range a[1:] {
		t, err := http.CompileTemplateP(p, f)
		if err != nil {
			return err
		}
		cf.flags = append(cf.flags, t)
	}
	c.flagsSet = true
	c.cookieFlags = append(c.cookieFlags, cf)
	return nil
}

// applyCookieFlags is ngx_http_proxy_rewrite_cookie_flags and
// ngx_http_proxy_edit_cookie_flags: the first rule naming the cookie sets
// or drops Secure, HttpOnly and SameSite.
func applyCookieFlags(r *http.Request, rules []*cookieFlags, attrs []cookieAttr) ([]cookieAttr, int) {
	var rule *cookieFlags
	for _, cf := range rules {
		if cf.regex != nil {
			if ok, err := r.RegexExec(cf.regex, attrs[0].key); err == nil && ok {
				rule = cf
				break
			}
			continue
		}
		if strings.EqualFold(cf.name.EvalString(r), string(attrs[0].key)) {
			rule = cf
			break
		}
	}
	if rule == nil {
		return attrs, http.Declined
	}
	f := 0
	for _, t := range rule.flags {
		v := t.EvalString(r)
		for _, w := range cookieFlagWords {
			if strings.EqualFold(w.name, v) {
				f |= w.bits
				break
			}
		}
	}
	if f == 0 {
		return attrs, http.Declined
	}
	for i := 1; i < len(attrs); i++ {
		a := &attrs[i]
		switch {
		case strings.EqualFold(string(a.key), "secure"):
			if f&cfSecureOn != 0 {
				f &^= cfSecureOn
			} else if f&cfSecureOff != 0 {
				a.key = nil
			}
		case strings.EqualFold(string(a.key), "httponly"):
			if f&cfHTTPOnlyOn != 0 {
				f &^= cfHTTPOnlyOn
			} else if f&cfHTTPOnlyOff != 0 {
				a.key = nil
			}
		case strings.EqualFold(string(a.key), "samesite"):
			for _, ss := range []struct {
				bit  int
				want string
			}{{cfSameSiteStrict, "Strict"}, {cfSameSiteLax, "Lax"}, {cfSameSiteNone, "None"}} {
				if f&ss.bit != 0 {
					f &^= ss.bit
					if !strings.EqualFold(string(a.value), ss.want) {
						a.key, a.value, a.hasValue = []byte("SameSite"), []byte(ss.want), true
					}
					goto next
				}
			}
			if f&cfSameSiteOff != 0 {
				a.key = nil
			}
		next:
		}
	}
	if f&cfSecureOn != 0 {
		attrs = append(attrs, cookieAttr{key: []byte("Secure")})
	}
	if f&cfHTTPOnlyOn != 0 {
		attrs = append(attrs, cookieAttr{key: []byte("HttpOnly")})
	}
	switch {
	case f&cfSameSiteStrict != 0:
		attrs = append(attrs, cookieAttr{key: []byte("SameSite"), value: []byte("Strict"), hasValue: true})
	case f&cfSameSiteLax != 0:
		attrs = append(attrs, cookieAttr{key: []byte("SameSite"), value: []byte("Lax"), hasValue: true})
	case f&cfSameSiteNone != 0:
		attrs = append(attrs, cookieAttr{key: []byte("SameSite"), value: []byte("None"), hasValue: true})
	}
	return attrs, http.OK
}

// parseCookie is ngx_http_proxy_parse_cookie: attributes split at ";",
// spaces around names and values dropped.
func parseCookie(v []byte) []cookieAttr {
	var attrs []cookieAttr
	start := 0
	for {
		last := start
		for last < len(v) && v[last] != ';' {
			last++
		}
		s := start
		for s < last && v[s] == ' ' {
			s++
		}
		p := s
		for p < last && v[p] != '=' {
			p++
		}
		name := v[s:p]
		for len(name) > 0 && name[len(name)-1] == ' ' {
			name = name[:len(name)-1]
		}
		a := cookieAttr{key: name}
		if p < last {
			p++
			for p < last && v[p] == ' ' {
				p++
			}
			val := v[p:last]
			for len(val) > 0 && val[len(val)-1] == ' ' {
				val = val[:len(val)-1]
			}
			a.value, a.hasValue = val, true
		}
		attrs = append(attrs, a)
		if last == len(v) {
			break
		}
		start = last + 1
	}
	return attrs
}

// rewriteCookie is ngx_http_proxy_rewrite_cookie: Domain and Path are
// rewritten by the first matching rule; a changed cookie is written back
// with its attributes joined by "; ".
func rewriteCookie(r *http.Request, value []byte) ([]byte, int) {
	c := r.Loc.LocConfOf(Module).(*LocConf)
	attrs := parseCookie(value)
	if !attrs[0].hasValue {
		return value, http.Declined
	}
	rv := http.Declined
	for i := 1; i < len(attrs); i++ {
		a := &attrs[i]
		if !a.hasValue {
			continue
		}
		var rules []*rewriter
		switch {
		case c.cookieDomains != nil && len(a.key) == 6 && strings.EqualFold(string(a.key), "domain"):
			rules = c.cookieDomains
		case c.cookiePaths != nil && len(a.key) == 4 && strings.EqualFold(string(a.key), "path"):
			rules = c.cookiePaths
		}
		for _, rw := range rules {
			if v, rc := rw.apply(r, a.value, 0); rc != http.Declined {
				a.value = v
				rv = rc
				break
			}
		}
	}
	if c.cookieFlags != nil {
		var rc int
		attrs, rc = applyCookieFlags(r, c.cookieFlags, attrs)
		if rc != http.Declined {
			rv = rc
		}
	}
	if rv != http.OK {
		return value, rv
	}
	out := make([]byte, 0, len(value)+16)
	for i, a := range attrs {
		if a.key == nil {
			continue
		}
		if i > 0 {
			out = append(out, ';', ' ')
		}
		out = append(out, a.key...)
		if a.hasValue {
			out = append(out, '=')
			out = append(out, a.value...)
		}
	}
	return out, http.OK
}
