package shdict

// This file models nginx's slab allocator (ngx_slab_pool_t) over a shared
// memory zone of a given size. No memory is handed out: the model only
// decides, exactly as nginx would, whether an allocation of n bytes fits
// and which pages it occupies, so that "no memory", forced evictions and
// free_space() happen at the same moments as in ngx_lua. Values live in
// ordinary Go memory beside it.
//
// The facts the model follows (nginx 1.22, 4 KiB pages, 64-bit build):
//
//   - The pool header, the slot list heads, the per-slot statistics and
//     one 24-byte descriptor per page sit at the start of the zone; the
//     pages follow, aligned to a page boundary.
//   - Requests up to half a page are rounded up to a power of two (8 bytes
//     at least) and served from pages split into chunks of that size. A
//     slot keeps the list of its pages that still have a free chunk; it
//     allocates from the first one, and a new page is taken only when the
//     list is empty. Pages of 8, 16 and 32-byte chunks lose the first
//     chunks to their own bitmap.
//   - Larger requests take whole pages: the first run of free pages long
//     enough, in free-list order, cut from its front.
//   - A freed run is merged with free neighbours on both sides and put at
//     the head of the free list; a slot page that was full goes back to the
//     head of its slot's list, and an empty slot page is freed.

const (
	pageShift = 12
	pageSize  = 1 << pageShift
	minShift  = 3
	// exactShift is the chunk size whose bitmap fits the page descriptor.
	exactShift = 6
	maxSize    = pageSize / 2
	nslots     = pageShift - minShift

	// poolHeader is sizeof(ngx_slab_pool_t); slotHead and slotStat the
	// sizes of a slot's list head and statistics; pageDesc the size of a
	// page descriptor.
	poolHeader = 200
	slotHead   = 24
	slotStat   = 32
	pageDesc   = 24
)

type pageKind uint8

const (
	pageFree pageKind = iota
	pageBusy
	pageSlot
)

// page is one page's descriptor.
type page struct {
	kind  pageKind
	shift uint8
	// used counts the chunks handed out from a slot page.
	used uint16
	// run is, on the first page of a free run, the run's length.
	run int32
	// head is, on the last page of a free run, the run's first page.
	head int32
	// next and prev link a free run's first page into the free list, or
	// a slot page into its slot's list (-1 ends a list).
	next, prev int32
}

// slabPool is the allocator's state. It is guarded by its zone's lock.
type slabPool struct {
	pages    []page
	pfree    int
	freeHead int32
	slots    [nslots]int32
}

// allocation is what an allocation occupies: npages whole pages from
// page, or (npages 0) one chunk of the slot page page.
type allocation struct {
	page   int32
	npages int32
}

// poolPages returns how many pages nginx's slab pool gets in a zone of
// size bytes (ngx_slab_init).
func poolPages(size int64) int {
	avail := size - poolHeader - nslots*(slotHead+slotStat)
	if avail <= 0 {
		return 0
	}
	n := avail / (pageSize + pageDesc)
	descEnd := poolHeader + nslots*(slotHead+slotStat) + n*pageDesc
	start := (descEnd + pageSize - 1) &^ (pageSize - 1)
	if fit := (size - start) / pageSize; fit < n {
		n = fit
	}
	if n < 0 {
		n = 0
	}
	return int(n)
}

func (p *slabPool) init(npages int) {
	p.pages = make([]page, npages)
	p.pfree = npages
	p.freeHead = -1
	for i := range p.slots {
		p.slots[i] = -1
	}
	if npages > 0 {
		p.markFree(0, int32(npages))
		p.pushFree(0)
	}
}

// markFree makes [first, first+n) one free run, not yet linked.
func (p *slabPool) markFree(first, n int32) {
	for i := first; i < first+n; i++ {
		p.pages[i] = page{kind: pageFree}
	}
	p.pages[first].run = n
	p.pages[first+n-1].head = first
}

func (p *slabPool) pushFree(first int32) {
	pg := &p.pages[first]
	pg.prev = -1
	pg.next = p.freeHead
	if p.freeHead >= 0 {
		p.pages[p.freeHead].prev = first
	}
	p.freeHead = first
}

func (p *slabPool) unlinkFree(first int32) {
	pg := &p.pages[first]
	if pg.prev >= 0 {
		p.pages[pg.prev].next = pg.next
	} else {
		p.freeHead = pg.next
	}
	if pg.next >= 0 {
		p.pages[pg.next].prev = pg.prev
	}
}

// allocPages takes n pages from the first free run long enough.
func (p *slabPool) allocPages(n int32) (int32, bool) {
	for first := p.freeHead; first >= 0; first = p.pages[first].next {
		pg := &p.pages[first]
		if pg.run < n {
			continue
		}
		if pg.run > n {
			// the rest of the run keeps the run's place in the list.
			rest := first + n
			r := &p.pages[rest]
			*r = page{kind: pageFree, run: pg.run - n, next: pg.next, prev: pg.prev}
			p.pages[first+pg.run-1].head = rest
			if r.prev >= 0 {
				p.pages[r.prev].next = rest
			} else {
				p.freeHead = rest
			}
			if r.next >= 0 {
				p.pages[r.next].prev = rest
			}
		} else {
			p.unlinkFree(first)
		}
		for i := first; i < first+n; i++ {
			p.pages[i] = page{kind: pageBusy}
		}
		p.pfree -= int(n)
		return first, true
	}
	return 0, false
}

// freePages returns n pages from first (already out of any slot list),
// merging them with free neighbours.
func (p *slabPool) freePages(first, n int32) {
	p.pfree += int(n)
	p.markFree(first, n)
	if next := first + n; int(next) < len(p.pages) && p.pages[next].kind == pageFree {
		m := p.pages[next].run
		p.unlinkFree(next)
		n += m
	}
	if first > 0 && p.pages[first-1].kind == pageFree {
		h := p.pages[first-1].head
		p.unlinkFree(h)
		n += first - h
		first = h
	}
	p.pages[first].run = n
	p.pages[first+n-1].head = first
	p.pushFree(first)
}

// chunkShift returns the chunk size (as a shift) of a request of size
// bytes served from a slot.
func chunkShift(size int) uint8 {
	if size <= 1<<minShift {
		return minShift
	}
	s := uint8(1)
	for v := size - 1; v > 1; v >>= 1 {
		s++
	}
	return s
}

// chunks returns how many chunks of 1<<shift bytes a slot page holds.
func chunks(shift uint8) int {
	n := pageSize >> shift
	if shift < exactShift {
		// the page's own bitmap occupies its first chunks.
		bitmap := (pageSize >> shift) / ((1 << shift) * 8)
		if bitmap == 0 {
			bitmap = 1
		}
		n -= bitmap
	}
	return n
}

// alloc is ngx_slab_alloc_locked(size).
func (p *slabPool) alloc(size int) (allocation, bool) {
	if size > maxSize {
		n := int32(size >> pageShift)
		if size%pageSize != 0 {
			n++
		}
		first, ok := p.allocPages(n)
		return allocation{page: first, npages: n}, ok
	}
	shift := chunkShift(size)
	slot := shift - minShift
	if h := p.slots[slot]; h >= 0 {
		pg := &p.pages[h]
		pg.used++
		if int(pg.used) == chunks(shift) {
			p.unlinkSlot(slot, h)
		}
		return allocation{page: h}, true
	}
	first, ok := p.allocPages(1)
	if !ok {
		return allocation{}, false
	}
	p.pages[first] = page{kind: pageSlot, shift: shift, used: 1, next: -1, prev: -1}
	p.slots[slot] = first
	return allocation{page: first}, true
}

// free is ngx_slab_free_locked for what alloc returned.
func (p *slabPool) free(a allocation) {
	if a.npages > 0 {
		p.freePages(a.page, a.npages)
		return
	}
	pg := &p.pages[a.page]
	slot := pg.shift - minShift
	if int(pg.used) == chunks(pg.shift) {
		p.pushSlot(slot, a.page)
	}
	pg.used--
	if pg.used == 0 {
		p.unlinkSlot(slot, a.page)
		p.freePages(a.page, 1)
	}
}

func (p *slabPool) pushSlot(slot uint8, i int32) {
	pg := &p.pages[i]
	pg.prev = -1
	pg.next = p.slots[slot]
	if pg.next >= 0 {
		p.pages[pg.next].prev = i
	}
	p.slots[slot] = i
}

func (p *slabPool) unlinkSlot(slot uint8, i int32) {
	pg := &p.pages[i]
	if pg.prev >= 0 {
		p.pages[pg.prev].next = pg.next
	} else {
		p.slots[slot] = pg.next
	}
	if pg.next >= 0 {
		p.pages[pg.next].prev = pg.prev
	}
	pg.next, pg.prev = -1, -1
}
