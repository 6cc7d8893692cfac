// Package shmzone keeps the shared memory zones of the limit_req and
// limit_conn modules as nginx's cycle keeps its shared memory list: a
// zone is declared by name, size and owning module (ngx_shared_memory_add
// with its checks and messages), a zone only referenced and never sized
// fails the configuration ("zero size shared memory zone"), and a zone
// the previous configuration had with the same name, size and owner keeps
// its contents across a reload.
//
// A zone's contents are ordinary Go memory shared by every loop, guarded
// by the owning module's lock. Slab models how many entries nginx's slab
// allocator would fit in a zone of the declared size, so that a zone
// fills up and evicts when nginx's would.
//
// Declarations run on the goroutine that builds the configuration; the
// zones' states are used from every loop.
package shmzone

import (
	"gresty/conf"
	"gresty/core"
	"gresty/http"
)

// Module is a core module with no directives: its configuration is the
// cycle's list of zones, and its init hook checks and prepares them once
// the whole configuration is read, where nginx's ngx_init_cycle does.
var Module = &core.Module{
	Name: "gresty_shm_zones",
	Type: core.CoreType,
}

func init() {
	Module.CreateConf = func(*core.Cycle) any { return &Zones{} }
	Module.InitConf = initZones
}

// Zone is one shared memory zone (ngx_shm_zone_t).
type Zone struct {
	Name string
	// Size is the declared size in bytes; 0 while only referenced.
	Size int64
	// Tag is the module that owns the zone.
	Tag *core.Module
	// Data is the owner's description of the zone (the key and rate of
	// limit_req_zone), nil while only referenced.
	Data any
	// Init makes State when the configuration is complete: from old, the
	// zone of the same name, size and owner in the configuration being
	// replaced, or afresh when old is nil (nginx's shm_zone->init). Its
	// error fails the configuration.
	Init func(z, old *Zone) error
	// State is the zone's contents, shared by every loop.
	State any
}

// Zones are the zones of one configuration, in declaration order.
type Zones struct {
	List []*Zone
}

// Of returns the zones of the configuration being built.
func Of(p *core.Parser) *Zones { return p.Cycle.MainConf(Module).(*Zones) }

// OfCycle returns the zones of a configuration, nil for none.
func OfCycle(c *core.Cycle) *Zones {
	if c == nil {
		return nil
	}
	z, _ := c.MainConf(Module).(*Zones)
	return z
}

// Add declares or references zone name for module tag, as
// ngx_shared_memory_add: a reference has size 0; a zone already known
// must belong to the same module, and a second size must equal the
// first. Errors are located at d.
func (zs *Zones) Add(p *core.Parser, d *conf.Directive, name string, size int64, tag *core.Module) (*Zone, error) {
	for _, z := range zs.List {
		if z.Name != name {
			continue
		}
		if z.Tag != tag {
			return nil, p.Errorf(d, "the shared memory zone \"%s\" is already declared for a different use", z.Name)
		}
		if z.Size == 0 {
			z.Size = size
		}
		if size != 0 && size != z.Size {
			return nil, p.Errorf(d, "the size %d of shared memory zone \"%s\" conflicts with already declared size %d", size, z.Name, z.Size)
		}
		return z, nil
	}
	z := &Zone{Name: name, Size: size, Tag: tag}
	zs.List = append(zs.List, z)
	return z, nil
}

// Find returns the zone called name, or nil.
func (zs *Zones) Find(name string) *Zone {
	for _, z := range zs.List {
		if z.Name == name {
			return z
		}
	}
	return nil
}

// initZones is the part of ngx_init_cycle that sets up shared memory: a
// zone nobody sized is an error; the others get their state, taken over
// from the running configuration when it has the same zone.
func initZones(c *core.Cycle, v any) error {
	zs := v.(*Zones)
	var old *Zones
	if c.Old != nil && http.ConfigOf(c.Old) != nil {
		old = OfCycle(c.Old)
	}
	for _, z := range zs.List {
		if z.Size == 0 {
			return &core.Error{Msg: "zero size shared memory zone \"" + z.Name + "\""}
		}
		if z.Init == nil {
			continue
		}
		var prev *Zone
		if old != nil {
			if o := old.Find(z.Name); o != nil && o.Tag == z.Tag && o.Size == z.Size && o.State != nil {
				prev = o
			}
		}
		if err := z.Init(z, prev); err != nil {
			return err
		}
	}
	return nil
}

// Counted is implemented by zone states that count what they decided,
// for the metrics exposition.
type Counted interface {
	// Counts calls f with each outcome and how many requests had it.
	Counts(f func(outcome string, n uint64))
	// Entries returns how many keys the zone holds.
	Entries() int
}
