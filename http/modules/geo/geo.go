// Package geo is nginx's ngx_http_geo_module: the geo block, which
// defines a variable whose value depends on the client address (or on
// the address another variable holds). Networks in CIDR form, IPv4 and
// IPv6, are matched longest prefix first; with "ranges", IPv4 address
// ranges are matched instead. "proxy" lists trusted proxies, behind
// which the address is taken from X-Forwarded-For (the last one, or with
// proxy_recursive the last untrusted one).
//
// The trees and range tables are built once per configuration, with
// nginx's warnings and errors, and only read afterwards: the variable is
// evaluated on the request's loop without locks.
package geo

import (
	"net/netip"

	"gresty/conf"
	"gresty/core"
	"gresty/http"
	"gresty/httpparse"
)

// Module is ngx_http_geo_module.
var Module = &core.Module{
	Name: "ngx_http_geo_module",
	Type: core.HTTPType,
	Directives: []core.Directive{
		{Name: "geo", Ctx: core.HTTPMain, Args: core.Block | core.Take12, Level: core.MainLevel, Set: geoBlock},
	},
	HTTP: &http.Hooks{},
}

// geoValue is one value of a geo block. Values are literal.
type geoValue struct{ b []byte }

var nullValue = &geoValue{b: []byte{}}

// Geo is one geo block.
type Geo struct {
	// index is the variable holding the address, -1 for the client's.
	index          int
	proxies        []http.CIDR
	proxyRecursive bool

	ranges bool
	// tree and tree6 are the networks (CIDR mode).
	tree, tree6 *radix
	// low are the ranges of each /16 of IPv4 (ranges mode); def is
	// their default.
	low [][]geoRange
	def *geoValue
}

type geoRange struct {
	start, end uint16
	val        *geoValue
}

// block is the state of a geo block being read.
type block struct {
	g      *Geo
	values map[string]*geoValue
	// net is the network of the line being added, for messages.
	net string
}

func geoBlock(p *core.Parser, d *conf.Directive, _ any) error {
	cf := p.Ext.(*http.Conf)
	args := d.HeadArgs()
	g := &Geo{index: -1}
	name := args[0]
	if name == "" || name[0] != '$' {
		return p.Errorf(d, "invalid variable name \"%s\"", name)
	}
	if len(args) == 2 {
		idx, err := cf.VariableIndex(name[1:])
		if err != nil {
			return err
		}
		g.index = idx
		name = args[1]
		if name == "" || name[0] != '$' {
			return p.Errorf(d, "invalid variable name \"%s\"", name)
		}
	}
	if len(name) == 1 {
		return p.Errorf(d, "invalid variable name \"$\"")
	}
	v, err := cf.AddVariable(&http.Variable{Name: name[1:], Flags: http.VarChangeable})
	if err != nil {
		return err
	}
	b := &block{g: g, values: map[string]*geoValue{}}
	if err := p.Lines(d, func(l *conf.Directive) error { return b.line(p, l) }); err != nil {
		return err
	}
	if g.ranges {
		if g.def == nil {
			g.def = nullValue
		}
		for i, a := range g.low {
			if len(a) == 0 {
				g.low[i] = nil
			}
		}
		v.Get = g.rangeVariable
	} else {
		if g.tree == nil {
			g.tree, g.tree6 = newRadix(), newRadix()
		}
		// a default the block did not give is the empty value; an
		// explicit one stays.
		g.tree.insert([16]byte{}, 0, nullValue)
		g.tree6.insert([16]byte{}, 0, nullValue)
		v.Get = g.cidrVariable
	}
	v.Data = nil
	return nil
}

// line is ngx_http_geo: one line of the block.
func (b *block) line(p *core.Parser, l *conf.Directive) error {
	g := b.g
	words := append([]string{l.Name}, l.Args...)
	if len(words) == 1 {
		switch words[0] {
		case "ranges":
			if g.tree != nil {
				return p.Errorf(l, "the \"ranges\" directive must be the first directive inside \"geo\" block")
			}
			g.ranges = true
			return nil
		case "proxy_recursive":
			g.proxyRecursive = true
			return nil
		}
	}
	if len(words) != 2 {
		return p.Errorf(l, "invalid number of the geo parameters")
	}
	if words[0] == "proxy" {
		c, ok := cidrValue(p, l, words[1])
		if !ok {
			return p.Errorf(l, "invalid network \"%s\"", words[1])
		}
		g.proxies = append(g.proxies, c)
		return nil
	}
	if g.ranges {
		return b.rangeLine(p, l, words)
	}
	return b.cidrLine(p, l, words)
}

// cidrValue is ngx_http_geo_cidr_value: 255.255.255.255 is a host
// (ngx_ptocidr cannot read it), low bits below the mask are a warning.
func cidrValue(p *core.Parser, l *conf.Directive, net string) (http.CIDR, bool) {
	if net == "255.255.255.255" {
		return http.HostCIDR(netip.AddrFrom4([4]byte{255, 255, 255, 255})), true
	}
	c, res := http.ParseCIDR(net)
	switch res {
	case http.CIDRInvalid:
		return c, false
	case http.CIDRMasked:
		p.Warnf(l, "low address bits of %s are meaningless", net)
	}
	return c, true
}

// value is ngx_http_geo_value: equal values are shared.
func (b *block) value(s string) *geoValue {
	if v := b.values[s]; v != nil {
		return v
	}
	v := &geoValue{b: []byte(s)}
	b.values[s] = v
	return v
}

func (b *block) cidrLine(p *core.Parser, l *conf.Directive, words []string) error {
	g := b.g
	if g.tree == nil {
		g.tree, g.tree6 = newRadix(), newRadix()
	}
	if words[0] == "default" {
		val := b.value(words[1])
		b.add(p, l, g.tree, [16]byte{}, 0, val, words[0])
		b.add(p, l, g.tree6, [16]byte{}, 0, val, words[0])
		return nil
	}
	net, del := words[0], false
	if words[0] == "delete" {
		net, del = words[1], true
	}
	c, ok := cidrValue(p, l, net)
	if !ok {
		return p.Errorf(l, "invalid network \"%s\"", net)
	}
	key, bits, tree := treeKey(g, c.Prefix)
	if del {
		if !tree.remove(key, bits) {
			p.Warnf(l, "no network \"%s\" to delete", net)
		}
		return nil
	}
	b.add(p, l, tree, key, bits, b.value(words[1]), net)
	return nil
}

// treeKey returns the radix key of a network and the tree it goes in.
func treeKey(g *Geo, pf netip.Prefix) ([16]byte, int, *radix) {
	var key [16]byte
	a := pf.Addr()
	if a.Is4() {
		b := a.As4()
		copy(key[:], b[:])
		return key, pf.Bits(), g.tree
	}
	return a.As16(), pf.Bits(), g.tree6
}

// add is ngx_http_geo_cidr_add: a network given twice keeps the later
// value with a warning naming the value the address found before.
func (b *block) add(p *core.Parser, l *conf.Directive, tree *radix, key [16]byte, bits int, val *geoValue, net string) {
	if tree.insert(key, bits, val) {
		return
	}
	width := 128
	if tree == b.g.tree {
		width = 32
	}
	old := tree.find(&key, width)
	p.Warnf(l, "duplicate network \"%s\", value: \"%s\", old value: \"%s\"", net, val.b, valueText(old))
	tree.remove(key, bits)
	tree.insert(key, bits, val)
}

func valueText(v *geoValue) []byte {
	if v == nil {
		return nil
	}
	return v.b
}

// rangeLine is ngx_http_geo_range.
func (b *block) rangeLine(p *core.Parser, l *conf.Directive, words []string) error {
	g := b.g
	if words[0] == "default" {
		if g.def != nil {
			p.Warnf(l, "duplicate default geo range value: \"%s\", old value: \"%s\"", words[1], g.def.b)
		}
		g.def = b.value(words[1])
		return nil
	}
	if g.low == nil {
		g.low = make([][]geoRange, 0x10000)
	}
	net, del := words[0], false
	if words[0] == "delete" {
		net, del = words[1], true
	}
	start, end, ok := parseRange(net)
	if !ok {
		return p.Errorf(l, "invalid range \"%s\"", net)
	}
	if del {
		if g.deleteRange(start, end) {
			p.Warnf(l, "no address range \"%s\" to delete", net)
		}
		return nil
	}
	b.net = net
	return b.addRange(p, l, start, end, b.value(words[1]))
}

// parseRange reads "a.b.c.d-e.f.g.h" (nginx cannot read
// 255.255.255.255 on either side).
func parseRange(s string) (start, end uint32, ok bool) {
	dash := -1
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			dash = i
			break
		}
	}
	if dash < 0 {
		return 0, 0, false
	}
	a, ok1 := http.ParseInet4(s[:dash])
	z, ok2 := http.ParseInet4(s[dash+1:])
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	start, end = be32(a), be32(z)
	return start, end, start <= end
}

func be32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// addRange is ngx_http_geo_add_range: the range is cut at /16
// boundaries, and each piece is put in its /16's sorted list, splitting
// a range it falls inside of; a piece overlapping a range partly is an
// error.
func (b *block) addRange(p *core.Parser, l *conf.Directive, start, end uint32, val *geoValue) error {
	for n := start; n <= end; n = (n + 0x10000) & 0xffff0000 {
		h := n >> 16
		s := uint16(0)
		if n == start {
			s = uint16(n)
		}
		e := uint16(0xffff)
		if n|0xffff > end {
			e = uint16(end)
		}
		a := b.g.low[h]
		i := len(a)
		placed := false
		for i > 0 && !placed {
			i--
			r := &a[i]
			switch {
			case e < r.start:
				continue
			case s > r.end:
				a = insertRange(a, i+1, geoRange{s, e, val})
			case s == r.start && e == r.end:
				p.Warnf(l, "duplicate range \"%s\", value: \"%s\", old value: \"%s\"", b.net, val.b, r.val.b)
				r.val = val
			case s > r.start && e < r.end:
				tail := geoRange{e + 1, r.end, r.val}
				r.end = s - 1
				a = insertRange(a, i+1, geoRange{s, e, val})
				a = insertRange(a, i+2, tail)
			case s == r.start && e < r.end:
				r.start = e + 1
				a = insertRange(a, i, geoRange{s, e, val})
			case s > r.start && e == r.end:
				r.end = s - 1
				a = insertRange(a, i+1, geoRange{s, e, val})
			default:
				return p.Errorf(l, "range \"%s\" overlaps \"%d.%d.%d.%d-%d.%d.%d.%d\"", b.net,
					h>>8, h&0xff, r.start>>8, r.start&0xff, h>>8, h&0xff, r.end>>8, r.end&0xff)
			}
			placed = true
		}
		if !placed {
			a = insertRange(a, 0, geoRange{s, e, val})
		}
		b.g.low[h] = a
		if h == 0xffff {
			break
		}
	}
	return nil
}

func insertRange(a []geoRange, i int, r geoRange) []geoRange {
	a = append(a, geoRange{})
	copy(a[i+1:], a[i:])
	a[i] = r
	return a
}

// deleteRange is ngx_http_geo_delete_range: only pieces given exactly as
// added are removed; it reports whether some piece was not found.
func (g *Geo) deleteRange(start, end uint32) (warn bool) {
	for n := start; n <= end; n = (n + 0x10000) & 0xffff0000 {
		h := n >> 16
		s := uint16(0)
		if n == start {
			s = uint16(n)
		}
		e := uint16(0xffff)
		if n|0xffff > end {
			e = uint16(end)
		}
		a := g.low[h]
		if len(a) == 0 {
			warn = true
		} else {
			for i := 0; i < len(a); i++ {
				if s == a[i].start && e == a[i].end {
					a = append(a[:i], a[i+1:]...)
					g.low[h] = a
					break
				}
				if i == len(a)-1 {
					warn = true
				}
			}
		}
		if h == 0xffff {
			break
		}
	}
	return warn
}

// addr is ngx_http_geo_addr: the client's address, or the one the
// source variable holds, then the address behind trusted proxies. ok is
// false when the variable holds no address; an invalid result with ok
// set is a unix-domain client.
func (g *Geo) addr(r *http.Request) (ap netip.AddrPort, ok bool) {
	if g.index < 0 {
		ap = r.Conn.RemoteAddrPort()
	} else {
		v, found := r.IndexedVar(g.index)
		if !found {
			return ap, false
		}
		a, ok := http.ParseAddr(v)
		if !ok {
			return ap, false
		}
		ap = netip.AddrPortFrom(a, 0)
	}
	if g.proxies == nil {
		return ap, true
	}
	var buf [4][]byte
	xff := buf[:0]
	for i := range r.In {
		if r.In[i].Known == httpparse.HdrXForwardedFor {
			xff = append(xff, r.In[i].Value)
		}
	}
	if len(xff) > 0 {
		ap, _ = http.ForwardedAddr(ap, xff, g.proxies, g.proxyRecursive)
	}
	return ap, true
}

// none is INADDR_NONE, where nginx looks up what has no IPv4 address.
var none = [16]byte{255, 255, 255, 255}

// cidrVariable is ngx_http_geo_cidr_variable.
func (g *Geo) cidrVariable(r *http.Request, _ any) ([]byte, bool) {
	ap, ok := g.addr(r)
	var v *geoValue
	switch {
	case !ok || !ap.IsValid():
		v = g.tree.find(&none, 32)
	case ap.Addr().Is4() || ap.Addr().Is4In6():
		var key [16]byte
		b := ap.Addr().Unmap().As4()
		copy(key[:], b[:])
		v = g.tree.find(&key, 32)
	default:
		key := ap.Addr().As16()
		v = g.tree6.find(&key, 128)
	}
	return valueText(v), true
}

// rangeVariable is ngx_http_geo_range_variable.
func (g *Geo) rangeVariable(r *http.Request, _ any) ([]byte, bool) {
	v := g.def
	in := uint32(0xffffffff)
	if ap, ok := g.addr(r); ok && ap.IsValid() && (ap.Addr().Is4() || ap.Addr().Is4In6()) {
		in = be32(ap.Addr().Unmap())
	}
	if g.low != nil {
		n := uint16(in)
		for _, rg := range g.low[in>>16] {
			if n >= rg.start && n <= rg.end {
				v = rg.val
				break
			}
		}
	}
	return v.b, true
}
