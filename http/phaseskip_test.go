package http

import "testing"

// A handler registered with an active test is skipped in the locations
// where the test fails and runs elsewhere; handlers without one and every
// content-phase handler always run.
func TestPhaseSkips(t *testing.T) {
	cf := &Conf{Main: &MainConf{}}
	busy, idle := &LocConf{Name: "/busy"}, &LocConf{Name: "/idle"}
	cf.locs = []*LocConf{busy, idle}
	only := func(want *LocConf) func(*LocConf) bool {
		return func(l *LocConf) bool { return l == want }
	}
	calls := map[string]int{}
	h := func(name string) Handler {
		return func(*Request) int { calls[name]++; return Declined }
	}
	cf.AddPhaseHandlerIf(PreAccessPhase, only(busy), h("preaccess"))
	cf.AddPhaseHandler(AccessPhase, h("always"))
	cf.AddPhaseHandlerIf(AccessPhase, only(busy), h("access"))
	cf.AddPhaseHandlerIf(ContentPhase, only(busy), h("content"))
	cf.Main.buildPhases()
	cf.buildPhaseSkips()

	e := &cf.Main.engine
	index := func(name string) int {
		calls = map[string]int{}
		for i := range e.handlers {
			if hd := e.handlers[i].handler; hd != nil {
				hd(nil)
				if calls[name] == 1 {
					return i
				}
			}
		}
		t.Fatalf("no entry for %s", name)
		return -1
	}
	for _, tc := range []struct {
		name       string
		busy, idle bool // skipped in each location
	}{
		{"preaccess", false, true},
		{"always", false, false},
		{"access", false, true},
		// the last content handler answers 404 when all decline: never skipped.
		{"content", false, false},
	} {
		i := index(tc.name)
		if got := busy.phaseSkip.has(i); got != tc.busy {
			t.Errorf("%s in %s: skipped %v, want %v", tc.name, busy.Name, got, tc.busy)
		}
		if got := idle.phaseSkip.has(i); got != tc.idle {
			t.Errorf("%s in %s: skipped %v, want %v", tc.name, idle.Name, got, tc.idle)
		}
	}
	if busy.phaseSkip != nil {
		t.Errorf("a location every handler works in needs no skip set, got %v", busy.phaseSkip)
	}
	// beyond the set: nothing skipped.
	if idle.phaseSkip.has(1000) || phaseSkip(nil).has(0) {
		t.Error("an index past the set must not be skipped")
	}
}
