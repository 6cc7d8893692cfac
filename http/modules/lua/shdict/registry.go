package shdict

import "sync"

// zones is the process-wide registry of the zones the running
// configuration uses, by name. It lives as long as the process: a zone
// enters it when a loop starts serving a configuration that declares it
// (Publish), and leaves it when a configuration without it is published.
// A reload (SIGHUP) asks it for its zones (Acquire) and gets the running
// ones back when name and size are unchanged, so their contents survive,
// as nginx maps the same shared memory into its new cycle.
var zones = struct {
	sync.Mutex
	byName map[string]*Zone
}{byName: map[string]*Zone{}}

// Acquire returns the zone a configuration being built declares as name
// with size bytes: the running configuration's zone of that name when its
// size is the same, else a new empty zone (nginx recreates a zone whose
// size changed). Any goroutine.
func Acquire(name string, size int64) *Zone {
	zones.Lock()
	defer zones.Unlock()
	if z := zones.byName[name]; z != nil && z.size == size {
		return z
	}
	return New(name, size)
}

// Publish records the zones of a configuration that started serving: the
// next Acquire of these names finds them, and zones of names it does not
// declare are forgotten. Calling it again with the same zones changes
// nothing. Any goroutine.
func Publish(list []*Zone) {
	zones.Lock()
	defer zones.Unlock()
	same := len(list) == len(zones.byName)
	for _, z := range list {
		if zones.byName[z.name] != z {
			same = false
			break
		}
	}
	if same {
		return
	}
	byName := make(map[string]*Zone, len(list))
	for _, z := range list {
		byName[z.name] = z
	}
	zones.byName = byName
}
