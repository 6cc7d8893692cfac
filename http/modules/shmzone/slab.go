package shmzone

import "math/bits"

// Slab models how nginx's slab allocator (ngx_slab_pool_t, 4 KiB pages,
// 64-bit build) fills a zone of a given size, to say when an allocation
// of n bytes would fail. No memory is handed out; the caller keeps its
// entries in Go memory and asks the model first.
//
// The model follows nginx where it matters for capacity: the pool header,
// the slot heads and statistics and one descriptor per page come off the
// zone's size; requests up to half a page take a chunk of the next power
// of two (8 bytes at least) from pages of such chunks (pages of 8, 16 and
// 32-byte chunks give their first chunks to their bitmap); larger ones
// take whole pages. Where nginx frees a page only once every chunk in it
// is free, the model frees one as soon as the chunks in use would fit in
// one page fewer, which is what nginx reaches once the freed entries are
// the old ones (LRU eviction frees them in that order). Zones therefore
// hold the same number of equally sized entries as nginx's; with mixed
// key lengths the count can differ by a few pages' worth.
//
// A Slab is not safe for concurrent use: its owner's lock guards it.
type Slab struct {
	free    int
	classes [nslots]slabClass
	big     int
}

type slabClass struct{ used, pages int }

const (
	pageShift = 12
	pageSize  = 1 << pageShift
	minShift  = 3
	nslots    = pageShift - minShift
	// poolHeader is sizeof(ngx_slab_pool_t); slotHead and slotStat the
	// sizes of a slot's list head and statistics; pageDesc a page
	// descriptor's.
	poolHeader = 200
	slotHead   = 24
	slotStat   = 32
	pageDesc   = 24
)

// NewSlab models a fresh zone of size bytes.
func NewSlab(size int64) *Slab { return &Slab{free: Pages(size)} }

// Pages returns how many pages nginx's slab pool gets in a zone of size
// bytes (ngx_slab_init): what is left after the headers, split between
// page descriptors and pages, the pages starting on a page boundary.
func Pages(size int64) int {
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
	return int(max(n, 0))
}

// ChunksPerPage returns how many allocations of n bytes one page holds
// (0 for allocations of whole pages).
func ChunksPerPage(n int) int {
	if n > pageSize/2 {
		return 0
	}
	return perPage(shiftOf(n))
}

func shiftOf(n int) int {
	if n <= 1<<minShift {
		return minShift
	}
	return bits.Len(uint(n - 1))
}

func perPage(shift int) int {
	chunks := pageSize >> shift
	if shift < 6 {
		// the page's bitmap, one bit per chunk, takes its first chunks.
		bitmap := chunks / 8
		chunks -= (bitmap + 1<<shift - 1) >> shift
	}
	return chunks
}

// Alloc takes room for n bytes, reporting false when the zone is full.
func (s *Slab) Alloc(n int) bool {
	if n > pageSize/2 {
		p := (n + pageSize - 1) >> pageShift
		if s.free < p {
			return false
		}
		s.free -= p
		s.big += p
		return true
	}
	shift := shiftOf(n)
	c := &s.classes[shift-minShift]
	if c.used == c.pages*perPage(shift) {
		if s.free == 0 {
			return false
		}
		s.free--
		c.pages++
	}
	c.used++
	return true
}

// Free gives back what Alloc(n) took.
func (s *Slab) Free(n int) {
	if n > pageSize/2 {
		p := (n + pageSize - 1) >> pageShift
		s.free += p
		s.big -= p
		return
	}
	shift := shiftOf(n)
	c := &s.classes[shift-minShift]
	if c.used == 0 {
		return
	}
	c.used--
	if c.pages > 0 && c.used <= (c.pages-1)*perPage(shift) {
		c.pages--
		s.free++
	}
}

// FreePages returns the pages no allocation uses.
func (s *Slab) FreePages() int { return s.free }
