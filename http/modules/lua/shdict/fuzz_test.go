package shdict

import (
	"strconv"
	"strings"
	"testing"
)

// checkPool verifies the slab model's bookkeeping against the zone's
// entries: every page is in exactly one state, free runs are maximal and
// listed once, slot lists hold exactly the slot pages with room, and each
// slot page's use count is the number of live allocations in it.
func checkPool(t testing.TB, z *Zone) {
	t.Helper()
	p := &z.pool
	uses := map[int32]int{}
	busy := map[int32]int32{}
	note := func(a allocation) {
		if a.npages > 0 {
			busy[a.page] = a.npages
		} else {
			uses[a.page]++
		}
	}
	// the zone's own two allocations made by New.
	for e := z.lru.next; e != &z.lru; e = e.next {
		note(e.mem)
		for i := 0; i < e.items.len(); i++ {
			note(e.items.at(i).mem)
		}
		if z.keys[e.key] != e {
			t.Fatalf("entry %q not in the map", e.key)
		}
	}
	free := 0
	seen := map[int32]bool{}
	for h := p.freeHead; h >= 0; h = p.pages[h].next {
		if seen[h] {
			t.Fatalf("free list loops at %d", h)
		}
		seen[h] = true
		n := p.pages[h].run
		for i := h; i < h+n; i++ {
			if p.pages[i].kind != pageFree {
				t.Fatalf("page %d of free run %d is not free", i, h)
			}
		}
		if p.pages[h+n-1].head != h {
			t.Fatalf("run %d: last page points at %d", h, p.pages[h+n-1].head)
		}
		if int(h+n) < len(p.pages) && p.pages[h+n].kind == pageFree {
			t.Fatalf("run %d+%d is followed by a free page", h, n)
		}
		free += int(n)
	}
	if free != p.pfree {
		t.Fatalf("free runs hold %d pages, pfree says %d", free, p.pfree)
	}
	for slot := range p.slots {
		for i := p.slots[slot]; i >= 0; i = p.pages[i].next {
			pg := p.pages[i]
			if pg.kind != pageSlot || int(pg.shift)-minShift != slot || int(pg.used) >= chunks(pg.shift) {
				t.Fatalf("slot %d lists page %d: %+v", slot, i, pg)
			}
		}
	}
	for i := range p.pages {
		pg := p.pages[i]
		if pg.kind != pageSlot {
			continue
		}
		// New's two allocations are not entries: allow one extra use on
		// the pages that hold them.
		if d := int(pg.used) - uses[int32(i)]; d < 0 || d > 2 {
			t.Fatalf("page %d: used %d, entries %d", i, pg.used, uses[int32(i)])
		}
	}
	for first, n := range busy {
		for i := first; i < first+n; i++ {
			if p.pages[i].kind != pageBusy {
				t.Fatalf("page %d of an allocation is %v", i, p.pages[i].kind)
			}
		}
	}
}

// FuzzZone runs operations read from the input on a small zone and checks
// the model's bookkeeping after each.
func FuzzZone(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b"))
	f.Add([]byte(strings.Repeat("\x00\xff\x10\x03\x80\x7f", 40)))
	f.Fuzz(func(t *testing.T, in []byte) {
		z := New("f", 48<<10)
		at := now
		for len(in) >= 3 {
			op, k, sz := in[0], "k"+strconv.Itoa(int(in[1]%24)), int(in[2])*int(in[2])/4
			in = in[3:]
			switch op % 12 {
			case 0, 1:
				z.Store(OpSet, k, str(strings.Repeat("v", sz)), int64(op%3), 0, at)
			case 2:
				z.Store(OpSafe|OpAdd, k, num(1), 0, 0, at)
			case 3:
				z.Store(OpReplace, k, Value{Type: Boolean, Num: 1}, 0, 0, at)
			case 4:
				z.Store(OpSet, k, Value{}, 0, 0, at)
			case 5:
				z.Incr(k, 1, op&0x10 != 0, 0, int64(op%5), at)
			case 6:
				z.Push(k, str(strings.Repeat("l", sz%300)), op&0x10 != 0, at)
			case 7:
				z.Pop(k, op&0x10 != 0, at)
			case 8:
				z.FlushExpired(int(op>>4), at)
			case 9:
				if op&0xf0 == 0xf0 {
					z.FlushAll(at)
				}
			case 10:
				z.SetExpire(k, int64(sz%4), at)
			case 11:
				at += uint64(sz % 3)
			}
			checkPool(t, z)
		}
	})
}
