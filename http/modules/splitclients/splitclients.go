// Package splitclients is nginx's ngx_http_split_clients_module: the
// split_clients block, which defines a variable for A/B testing. The key
// (a string with variables) is hashed with MurmurHash2 as nginx hashes it,
// and the hash falls into one of the percentage buckets in the order
// written, so the same key lands in the same bucket as on nginx.
//
// The buckets are fixed per configuration; the variable is evaluated on
// the request's loop.
package splitclients

import (
	"gresty/conf"
	"gresty/core"
	"gresty/http"
)

// Module is ngx_http_split_clients_module.
var Module = &core.Module{
	Name: "ngx_http_split_clients_module",
	Type: core.HTTPType,
	Directives: []core.Directive{
		{Name: "split_clients", Ctx: core.HTTPMain, Args: core.Block | core.Take2, Level: core.MainLevel, Set: splitBlock},
	},
	HTTP: &http.Hooks{},
}

// part is one bucket: hashes below percent (scaled to 2^32) get value;
// percent 0 is "*", the rest.
type part struct {
	percent uint32
	value   []byte
}

// Split is one split_clients block.
type Split struct {
	key   *http.Template
	parts []part
}

func splitBlock(p *core.Parser, d *conf.Directive, _ any) error {
	cf := p.Ext.(*http.Conf)
	args := d.HeadArgs()
	key, err := http.CompileTemplateP(p, args[0])
	if err != nil {
		return err
	}
	name := args[1]
	if name == "" || name[0] != '$' {
		return p.Errorf(d, "invalid variable name \"%s\"", name)
	}
	if len(name) == 1 {
		return p.Errorf(d, "invalid variable name \"$\"")
	}
	v, err := cf.AddVariable(&http.Variable{Name: name[1:], Flags: http.VarChangeable})
	if err != nil {
		return err
	}
	s := &Split{key: key}
	err = p.Lines(d, func(l *conf.Directive) error {
		pt, err := parsePart(p, l)
		if err != nil {
			return err
		}
		s.parts = append(s.parts, pt)
		return nil
	})
	if err != nil {
		return err
	}
	// percentages become cumulative thresholds over the 32-bit hash
	// range, in nginx's integer arithmetic.
	var sum, last uint32
	for i := range s.parts {
		pt := &s.parts[i]
		if pt.percent != 0 {
			sum += pt.percent
		} else {
			sum = 10000
		}
		if sum > 10000 {
			// nginx finds this once the block is read, at its "}".
			return &core.Error{Msg: "percent total is greater than 100%", File: d.File, Line: d.CloseLine}
		}
		if pt.percent != 0 {
			last += uint32(uint64(pt.percent) * 0xffffffff / 10000)
			pt.percent = last
		}
	}
	v.Get, v.Data = s.get, nil
	return nil
}

// parsePart is ngx_http_split_clients: "N%" or "*" and the value; the
// percentage has at most two decimals and is not zero.
func parsePart(p *core.Parser, l *conf.Directive) (part, error) {
	pc := l.Name
	val := ""
	if len(l.Args) > 0 {
		val = l.Args[0]
	}
	if pc == "*" {
		return part{value: []byte(val)}, nil
	}
	if pc == "" || pc[len(pc)-1] != '%' {
		return part{}, p.Errorf(l, "invalid percent value \"%s\"", pc)
	}
	n, ok := atofp(pc[:len(pc)-1], 2)
	if !ok || n == 0 {
		return part{}, p.Errorf(l, "invalid percent value \"%s\"", pc)
	}
	return part{percent: uint32(n), value: []byte(val)}, nil
}

// atofp is ngx_atofp: a decimal with at most point digits after the
// dot, returned multiplied by 10^point.
func atofp(s string, point int) (int64, bool) {
	if s == "" {
		return 0, false
	}
	const cutoff = (1<<63 - 1) / 10
	const cutlim = (1<<63 - 1) % 10
	var v int64
	dot := false
	for i := 0; i < len(s); i++ {
		if point == 0 {
			return 0, false
		}
		c := s[i]
		if c == '.' {
			if dot {
				return 0, false
			}
			dot = true
			continue
		}
		if c < '0' || c > '9' {
			return 0, false
		}
		if v >= cutoff && (v > cutoff || int64(c-'0') > cutlim) {
			return 0, false
		}
		v = v*10 + int64(c-'0')
		if dot {
			point--
		}
	}
	for ; point > 0; point-- {
		if v > cutoff {
			return 0, false
		}
		v *= 10
	}
	return v, true
}

// MurmurHash2 is nginx's ngx_murmur_hash2 (seed 0, the length mixed in
// first).
func MurmurHash2(data []byte) uint32 {
	const m = 0x5bd1e995
	h := uint32(len(data))
	for len(data) >= 4 {
		k := uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16 | uint32(data[3])<<24
		k *= m
		k ^= k >> 24
		k *= m
		h *= m
		h ^= k
		data = data[4:]
	}
	switch len(data) {
	case 3:
		h ^= uint32(data[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}

// get is ngx_http_split_clients_variable: the first bucket whose
// threshold is above the key's hash; empty when none is.
func (s *Split) get(r *http.Request, _ any) ([]byte, bool) {
	h := MurmurHash2(s.key.EvalBytes(r))
	for i := range s.parts {
		if h < s.parts[i].percent || s.parts[i].percent == 0 {
			return s.parts[i].value, true
		}
	}
	return nil, true
}
