package lua

import (
	"runtime"
	"testing"
	"time"

	"gresty/http/modules/lua/shdict"
)

// TestLockReleasedWhenCollected drops a lock object that holds its key:
// the key goes once the garbage collector has found the object, as the
// original's __gc deletes it.
func TestLockReleasedWhenCollected(t *testing.T) {
	z := shdict.New("gc", 1<<20)
	now := uint64(time.Now().UnixMilli())
	if _, err := z.Store(shdict.OpAdd, "held", shdict.Value{Type: shdict.Boolean, Num: 1}, 0, 0, now); err != nil {
		t.Fatal(err)
	}
	func() {
		cell := &lockCell{zone: z}
		cell.set("held", true)
		h := &lockHandle{cell: cell}
		runtime.AddCleanup(h, lockReleaseCollected, cell)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		if v, _, _, _ := z.Get("held", false, uint64(time.Now().UnixMilli())); v.Type == shdict.Nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the collected lock's key is still there")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
