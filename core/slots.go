package core

import (
	"os"
	"strings"
	"time"

	"gresty/conf"
)

// Value is a configuration value that remembers whether a directive set
// it, as nginx's NGX_CONF_UNSET sentinels do: an unset value is inherited
// from the enclosing level when configurations are merged.
type Value[T any] struct {
	V   T
	Set bool
}

// Of returns a set Value holding v.
func Of[T any](v T) Value[T] { return Value[T]{V: v, Set: true} }

// MergeValue gives child its parent's value, or def, when the child's
// level did not set it (ngx_conf_merge_*_value).
func MergeValue[T any](parent, child *Value[T], def T) {
	if child.Set {
		return
	}
	if parent.Set {
		*child = *parent
		return
	}
	child.V = def
	child.Set = true
}

// MergeSlice gives child its parent's slice when the child's level set
// none, nginx's rule for arrays (a level with any add_header drops the
// parent's). A nil slice is unset.
func MergeSlice[T any](parent, child *[]T) {
	if *child == nil {
		*child = *parent
	}
}

// slot builds a typed directive: parse turns the arguments into a value;
// field finds the Value in the module's configuration structure C.
func slot[C, T any](name string, ctx Ctx, args Args, level Level, field func(*C) *Value[T], def T,
	parse func(p *Parser, d *conf.Directive) (T, error)) Directive {
	return Directive{
		Name: name, Ctx: ctx, Args: args, Level: level,
		Set: func(p *Parser, d *conf.Directive, c any) error {
			v := field(c.(*C))
			if v.Set {
				return p.Invalid(d, "is duplicate")
			}
			x, err := parse(p, d)
			if err != nil {
				return err
			}
			v.V, v.Set = x, true
			return nil
		},
		merge: func(parent, child any) {
			MergeValue(field(parent.(*C)), field(child.(*C)), def)
		},
	}
}

// FlagSlot is nginx's ngx_conf_set_flag_slot: "on" or "off", any case.
func FlagSlot[C any](name string, ctx Ctx, level Level, field func(*C) *Value[bool], def bool) Directive {
	return slot(name, ctx, Flag, level, field, def, func(p *Parser, d *conf.Directive) (bool, error) {
		switch {
		case strings.EqualFold(d.Args[0], "on"):
			return true, nil
		case strings.EqualFold(d.Args[0], "off"):
			return false, nil
		}
		return false, p.Errorf(d, "invalid value \"%s\" in \"%s\" directive, it must be \"on\" or \"off\"", d.Args[0], d.Name)
	})
}

// NumSlot is ngx_conf_set_num_slot: a non-negative decimal integer.
func NumSlot[C any](name string, ctx Ctx, level Level, field func(*C) *Value[int], def int) Directive {
	return slot(name, ctx, Take1, level, field, def, func(p *Parser, d *conf.Directive) (int, error) {
		n, ok := Atoi(d.Args[0])
		if !ok {
			return 0, p.Invalid(d, "invalid number")
		}
		return n, nil
	})
}

// SizeSlot is ngx_conf_set_size_slot: a size with an optional k or m.
func SizeSlot[C any](name string, ctx Ctx, level Level, field func(*C) *Value[int64], def int64) Directive {
	return slot(name, ctx, Take1, level, field, def, func(p *Parser, d *conf.Directive) (int64, error) {
		n, ok := ParseSize(d.Args[0])
		if !ok {
			return 0, p.Invalid(d, "invalid value")
		}
		return n, nil
	})
}

// LowatSlot is a size slot with nginx's low-water-mark check for a system
// without SO_SNDLOWAT for sends (Linux): the value is checked, then
// ignored with a warning naming what.
func LowatSlot[C any](name string, ctx Ctx, level Level, field func(*C) *Value[int64], what string) Directive {
	return slot(name, ctx, Take1, level, field, 0, func(p *Parser, d *conf.Directive) (int64, error) {
		if _, ok := ParseSize(d.Args[0]); !ok {
			return 0, p.Invalid(d, "invalid value")
		}
		p.Warnf(d, "\"%s\" is not supported, ignored", what)
		return 0, nil
	})
}

// OffSlot is ngx_conf_set_off_slot: a size with an optional k, m or g.
func OffSlot[C any](name string, ctx Ctx, level Level, field func(*C) *Value[int64], def int64) Directive {
	return slot(name, ctx, Take1, level, field, def, func(p *Parser, d *conf.Directive) (int64, error) {
		n, ok := ParseOffset(d.Args[0])
		if !ok {
			return 0, p.Invalid(d, "invalid value")
		}
		return n, nil
	})
}

// MsecSlot is ngx_conf_set_msec_slot: a time, milliseconds by default.
func MsecSlot[C any](name string, ctx Ctx, level Level, field func(*C) *Value[time.Duration], def time.Duration) Directive {
	return slot(name, ctx, Take1, level, field, def, func(p *Parser, d *conf.Directive) (time.Duration, error) {
		ms, ok := ParseTime(d.Args[0], false)
		if !ok {
			return 0, p.Invalid(d, "invalid value")
		}
		return time.Duration(ms) * time.Millisecond, nil
	})
}

// SecSlot is ngx_conf_set_sec_slot: a time, seconds by default.
func SecSlot[C any](name string, ctx Ctx, level Level, field func(*C) *Value[time.Duration], def time.Duration) Directive {
	return slot(name, ctx, Take1, level, field, def, func(p *Parser, d *conf.Directive) (time.Duration, error) {
		s, ok := ParseTime(d.Args[0], true)
		if !ok {
			return 0, p.Invalid(d, "invalid value")
		}
		return time.Duration(s) * time.Second, nil
	})
}

// StrSlot is ngx_conf_set_str_slot: the argument as is.
func StrSlot[C any](name string, ctx Ctx, level Level, field func(*C) *Value[string], def string) Directive {
	return slot(name, ctx, Take1, level, field, def, func(p *Parser, d *conf.Directive) (string, error) {
		return d.Args[0], nil
	})
}

// Enum is one accepted word of an enum directive and its value.
type Enum[T any] struct {
	Name string
	V    T
}

// EnumSlot is ngx_conf_set_enum_slot: one word from a table, any case.
func EnumSlot[C, T any](name string, ctx Ctx, level Level, field func(*C) *Value[T], def T, table []Enum[T]) Directive {
	return slot(name, ctx, Take1, level, field, def, func(p *Parser, d *conf.Directive) (T, error) {
		for _, e := range table {
			if strings.EqualFold(e.Name, d.Args[0]) {
				return e.V, nil
			}
		}
		var zero T
		return zero, p.Errorf(d, "invalid value \"%s\"", d.Args[0])
	})
}

// BitmaskSlot is ngx_conf_set_bitmask_slot: one or more words from a table,
// OR-ed together; a repeated word is a warning. Unlike the other slots it
// may appear several times at one level, adding bits, as in nginx.
func BitmaskSlot[C any](name string, ctx Ctx, level Level, field func(*C) *Value[uint32], def uint32, table []Enum[uint32]) Directive {
	return Directive{
		Name: name, Ctx: ctx, Args: OneMore, Level: level,
		Set: func(p *Parser, d *conf.Directive, c any) error {
			v := field(c.(*C))
			for _, a := range d.Args {
				found := false
				for _, e := range table {
					if strings.EqualFold(e.Name, a) {
						found = true
						if v.V&e.V != 0 {
							p.Warnf(d, "duplicate value \"%s\"", a)
						} else {
							v.V |= e.V
						}
						break
					}
				}
				if !found {
					return p.Errorf(d, "invalid value \"%s\"", a)
				}
			}
			v.Set = true
			return nil
		},
		merge: func(parent, child any) {
			MergeValue(field(parent.(*C)), field(child.(*C)), def)
		},
	}
}

// AccessSlot is ngx_conf_set_access_slot: "user:rw", "group:r",
// "all:rw" and the like, the user's read and write being given unless a
// "user:" word says otherwise. The module merges it (0600 by default).
func AccessSlot[C any](name string, ctx Ctx, level Level, field func(*C) *Value[os.FileMode]) Directive {
	return Directive{
		Name: name, Ctx: ctx, Args: Take123, Level: level,
		Set: func(p *Parser, d *conf.Directive, c any) error {
			v := field(c.(*C))
			if v.Set {
				return p.Invalid(d, "is duplicate")
			}
			var access os.FileMode
			user := os.FileMode(0o600)
			for _, a := range d.Args {
				var shift uint
				var rights string
				switch {
				case strings.HasPrefix(a, "user:"):
					shift, rights, user = 6, a[len("user:"):], 0
				case strings.HasPrefix(a, "group:"):
					shift, rights = 3, a[len("group:"):]
				case strings.HasPrefix(a, "all:"):
					shift, rights = 0, a[len("all:"):]
				default:
					return p.Errorf(d, "invalid value \"%s\"", a)
				}
				switch rights {
				case "rw":
					access |= 6 << shift
				case "r":
					access |= 4 << shift
				default:
					return p.Errorf(d, "invalid value \"%s\"", a)
				}
			}
			*v = Of(access | user)
			return nil
		},
	}
}

// Bufs is a number and a size of buffers (gzip_buffers 32 4k).
type Bufs struct {
	Num  int
	Size int64
}

// BufsSlot is ngx_conf_set_bufs_slot.
func BufsSlot[C any](name string, ctx Ctx, level Level, field func(*C) *Value[Bufs], def Bufs) Directive {
	return slot(name, ctx, Take2, level, field, def, func(p *Parser, d *conf.Directive) (Bufs, error) {
		n, ok := Atoi(d.Args[0])
		if !ok || n == 0 {
			return Bufs{}, p.Invalid(d, "invalid value")
		}
		s, ok := ParseSize(d.Args[1])
		if !ok || s == 0 {
			return Bufs{}, p.Invalid(d, "invalid value")
		}
		return Bufs{Num: n, Size: s}, nil
	})
}

// Custom declares a directive whose value needs more than a slot: set
// parses it, and merge (optional) is run by Module.Merge at level.
func Custom[C any](name string, ctx Ctx, args Args, level Level,
	set func(p *Parser, d *conf.Directive, c *C) error, merge func(parent, child *C)) Directive {
	dir := Directive{
		Name: name, Ctx: ctx, Args: args, Level: level,
		Set: func(p *Parser, d *conf.Directive, c any) error { return set(p, d, c.(*C)) },
	}
	if merge != nil {
		dir.merge = func(parent, child any) { merge(parent.(*C), child.(*C)) }
	}
	return dir
}
