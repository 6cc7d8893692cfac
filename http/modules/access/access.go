// Package access is nginx's ngx_http_access_module: the allow and deny
// directives, checked in the access phase against the client address.
// Rules are tried in order and the first one that matches decides; a
// denied request gets 403 (with "access forbidden by rule" in the error
// log, here under satisfy all, or from the post-access phase under satisfy
// any when no other access module let the request through).
//
// Configuration runs on the goroutine that builds the cycle; the handler
// runs on the request's loop and does not allocate.
package access

import (
	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
)

// Module is ngx_http_access_module.
var Module = &core.Module{
	Name: "ngx_http_access_module",
	Type: core.HTTPType,
}

func init() {
	ctx := core.HTTPMainSrvLoc | core.HTTPLmt
	Module.Directives = []core.Directive{
		core.Custom("allow", ctx, core.Take1, core.LocLevel, setRule, nil),
		core.Custom("deny", ctx, core.Take1, core.LocLevel, setRule, nil),
	}
	Module.HTTP = &http.Hooks{
		CreateLocConf:     func(*http.Conf) any { return &LocConf{} },
		MergeLocConf:      mergeLocConf,
		Postconfiguration: postconfiguration,
	}
}

// LocConf holds the rules of one level, split by address family as nginx
// keeps them: a rule for "all" is in every list. A level with no rule at
// all inherits its parent's lists.
type LocConf struct {
	Rules  []Rule4
	Rules6 []Rule6
	// RulesUnix are the rules that apply to unix-socket clients ("unix:"
	// and "all"); only whether each allows or denies matters.
	RulesUnix []bool
}

// Rule4 is an IPv4 rule: addresses with addr == ip & mask match. Both are
// in network byte order, packed big-endian into the integers.
type Rule4 struct {
	Addr, Mask uint32
	Deny       bool
}

// Rule6 is an IPv6 rule, bytewise as Rule4.
type Rule6 struct {
	Addr, Mask [16]byte
	Deny       bool
}

func (c *LocConf) empty() bool {
	return c.Rules == nil && c.Rules6 == nil && c.RulesUnix == nil
}

func mergeLocConf(_ *http.Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	if c.empty() {
		c.Rules, c.Rules6, c.RulesUnix = p.Rules, p.Rules6, p.RulesUnix
	}
	return nil
}

func setRule(p *core.Parser, d *conf.Directive, c *LocConf) error {
	arg := d.Args[0]
	deny := d.Name == "deny"
	all := arg == "all"
	family := 0
	var cd cidr
	switch {
	case all:
	case arg == "unix:":
		family = -1
	default:
		var res cidrResult
		cd, res = parseCIDR(arg)
		switch res {
		case cidrInvalid:
			return p.Errorf(d, "invalid parameter \"%s\"", arg)
		case cidrMasked:
			p.Warnf(d, "low address bits of %s are meaningless", arg)
		}
		family = cd.family
	}
	if family == 4 || all {
		r := Rule4{Deny: deny}
		if !all {
			r.Addr = be32(cd.addr[:4])
			r.Mask = be32(cd.mask[:4])
		}
		c.Rules = append(c.Rules, r)
	}
	if family == 6 || all {
		r := Rule6{Deny: deny}
		if !all {
			r.Addr, r.Mask = cd.addr, cd.mask
		}
		c.Rules6 = append(c.Rules6, r)
	}
	if family == -1 || all {
		c.RulesUnix = append(c.RulesUnix, deny)
	}
	return nil
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func postconfiguration(cf *http.Conf) error {
	cf.AddPhaseHandlerIf(http.AccessPhase, func(l *http.LocConf) bool {
		c := l.Confs[Module.TypeIndex].(*LocConf)
		return c.Rules != nil || c.Rules6 != nil || c.RulesUnix != nil
	}, handler)
	return nil
}

// handler is ngx_http_access_handler: the client's family picks the rule
// list; an IPv4-mapped IPv6 client is checked against the IPv4 rules when
// there are any.
func handler(r *http.Request) int {
	c := r.Loc.Confs[Module.TypeIndex].(*LocConf)
	ap := r.Conn.RemoteAddrPort()
	if !ap.IsValid() {
		if c.RulesUnix != nil {
			return found(r, c.RulesUnix[0])
		}
		return http.Declined
	}
	a := ap.Addr()
	if a.Is4() || (a.Is4In6() && c.Rules != nil) {
		if c.Rules == nil {
			return http.Declined
		}
		b := a.Unmap().As4()
		ip := be32(b[:])
		for i := range c.Rules {
			if ip&c.Rules[i].Mask == c.Rules[i].Addr {
				return found(r, c.Rules[i].Deny)
			}
		}
		return http.Declined
	}
	ip := a.As16()
next:
	for i := range c.Rules6 {
		rl := &c.Rules6[i]
		for n := 0; n < 16; n++ {
			if ip[n]&rl.Mask[n] != rl.Addr[n] {
				continue next
			}
		}
		return found(r, rl.Deny)
	}
	return http.Declined
}

func found(r *http.Request, deny bool) int {
	if !deny {
		return http.OK
	}
	if r.Loc.Satisfy.V == http.SatisfyAll {
		r.Logf(errlog.Error, "access forbidden by rule")
	}
	return 403
}
