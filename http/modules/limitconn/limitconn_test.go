package limitconn

import (
	"testing"

	"gresty/http/modules/shmzone"
)

// TestRelease checks that counts go back to zero and give their room
// back to the zone.
func TestRelease(t *testing.T) {
	z := &shmzone.Zone{Name: "z", Size: 32 << 10, Data: &Zone{KeyRaw: "$k"}}
	if err := initZone(z, nil); err != nil {
		t.Fatal(err)
	}
	st := z.State.(*state)
	free := st.slab.FreePages()
	ctx := &reqCtx{}
	for _, k := range []string{"a", "a", "b"} {
		if st.conns[k] == 0 && !st.slab.Alloc(nodeSize(len(k))) {
			t.Fatal("zone full")
		}
		st.conns[k]++
		ctx.held = append(ctx.held, held{st: st, key: k})
	}
	if st.conns["a"] != 2 || st.Entries() != 2 {
		t.Fatalf("counts %v", st.conns)
	}
	ctx.releaseAll()
	if len(st.conns) != 0 || st.slab.FreePages() != free {
		t.Errorf("after release: %v, %d free pages, want %d", st.conns, st.slab.FreePages(), free)
	}
	if err := initZone(&shmzone.Zone{Name: "z", Data: &Zone{KeyRaw: "$other"}}, z); err == nil ||
		err.Error() != `limit_conn_zone "z" uses the "$other" key while previously it used the "$k" key` {
		t.Errorf("key change on reload: %v", err)
	}
}
