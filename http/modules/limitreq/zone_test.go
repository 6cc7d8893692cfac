package limitreq

import (
	"testing"

	"gresty/http/modules/shmzone"
)

func TestDrain(t *testing.T) {
	tests := []struct {
		excess, rate uint64
		ms           int64
		want         uint64
	}{
		{0, 1000, 0, 1000},
		{1000, 1000, 500, 1500},
		{1000, 1000, 1000, 1000},
		// the new request's 1000 is added before the floor at zero.
		{1000, 1000, 5000, 0},
		{2500, 2000, 250, 3000},
		// 30r/m is 500 thousandths a second: 3ms drain 1.
		{1000, 500, 3, 1999},
	}
	for _, tt := range tests {
		if got := drain(tt.excess, tt.rate, tt.ms); got != tt.want {
			t.Errorf("drain(%d, %d, %d) = %d, want %d", tt.excess, tt.rate, tt.ms, got, tt.want)
		}
	}
	for _, tt := range []struct{ now, last, want int64 }{
		{100, 40, 60}, {40, 100, 0}, {0, 60001, 1}, {0, 60000, 0},
	} {
		if got := elapsed(tt.now, tt.last); got != tt.want {
			t.Errorf("elapsed(%d, %d) = %d, want %d", tt.now, tt.last, got, tt.want)
		}
	}
}

func TestLookup(t *testing.T) {
	type req struct {
		at      int64
		key     string
		account bool
		rc      int
		excess  uint64
	}
	lim := &limit{burst: 2000}
	tests := []struct {
		name string
		reqs []req
	}{
		{"first request", []req{{0, "a", true, rcOK, 0}}},
		{"bucket fills and drains", []req{
			{0, "a", true, rcOK, 0},
			{100, "a", true, rcOK, 900},
			{200, "a", true, rcOK, 1800},
			{300, "a", true, rcBusy, 2700},
			// the rejection left 1.8 at 200ms.
			{1300, "a", true, rcOK, 1700},
		}},
		{"rejection does not charge", []req{
			{0, "a", true, rcOK, 0},
			{0, "a", true, rcOK, 1000},
			{0, "a", true, rcOK, 2000},
			{0, "a", true, rcBusy, 3000},
			{0, "a", true, rcBusy, 3000},
		}},
		{"keys apart", []req{
			{0, "a", true, rcOK, 0},
			{0, "b", true, rcOK, 0},
			{0, "a", true, rcOK, 1000},
		}},
		{"not the last limit", []req{
			{0, "a", false, rcAgain, 0},
			{0, "a", false, rcAgain, 1000},
		}},
	}
	for _, tt := range tests {
		st := &state{nodes: map[string]*node{}, slab: shmzone.NewSlab(1 << 20)}
		for i, r := range tt.reqs {
			rc, excess, n := st.lookup(lim, 1000, []byte(r.key), r.at, r.account)
			if rc != r.rc || excess != r.excess {
				t.Errorf("%s: request %d: got %d %d, want %d %d", tt.name, i, rc, excess, r.rc, r.excess)
			}
			if (rc == rcAgain) != (n != nil) {
				t.Errorf("%s: request %d: node %v with rc %d", tt.name, i, n, rc)
			}
		}
	}
}

func TestExpire(t *testing.T) {
	st := &state{nodes: map[string]*node{}, slab: shmzone.NewSlab(1 << 20)}
	lim := &limit{burst: 5000}
	for _, k := range []string{"old1", "old2", "old3", "new"} {
		at := int64(0)
		if k == "new" {
			at = 70000
		}
		st.lookup(lim, 1000, []byte(k), at, true)
	}
	// the new key at 70s dropped the two oldest nodes, idle for a
	// minute with nothing left to drain; the next one drops the third.
	if len(st.nodes) != 2 || st.nodes["old3"] == nil || st.nodes["old1"] != nil {
		t.Errorf("after expiry: %d nodes, old1 %v old3 %v", len(st.nodes), st.nodes["old1"] != nil, st.nodes["old3"] != nil)
	}
	st.lookup(lim, 1000, []byte("newer"), 70000, true)
	if len(st.nodes) != 2 || st.nodes["old3"] != nil {
		t.Errorf("old3 was not expired: %d nodes", len(st.nodes))
	}
	// a node held by a request stops expiry.
	st.nodes["new"].count = 1
	st.lookup(lim, 1000, []byte("newest"), 140000, true)
	if st.nodes["new"] == nil || st.nodes["newer"] == nil {
		t.Errorf("a held node stopped nothing: %d nodes", len(st.nodes))
	}
}

// BenchmarkLookup is the work a request does under a zone's lock: one
// known key, accounted.
func BenchmarkLookup(b *testing.B) {
	st := &state{nodes: map[string]*node{}, slab: shmzone.NewSlab(10 << 20)}
	lim := &limit{burst: 1 << 40}
	key := []byte{127, 0, 0, 1}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		st.lookup(lim, 1000, key, int64(i), true)
	}
}
