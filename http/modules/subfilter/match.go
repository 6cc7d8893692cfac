package subfilter

import "sort"

// tables are the search strings of one response in the order nginx tries
// them, with the tables of its Horspool-like scan: the window is the
// shortest string's length; shift tells how far the window may move when
// its last byte is not the last window byte of any string, and index
// gives, per byte value, the range of strings whose window ends with it.
type tables struct {
	pats  [][]byte
	pairs []*pair
	min   int
	shift [256]uint8
	index [257]uint8
}

// newTables orders the strings by the byte that ends their window (a
// stable sort, so equal ones keep the configuration's order: the first
// written wins at one position) and fills the scan tables. pats are lower
// case and not empty.
func newTables(pats [][]byte, pairs []*pair) *tables {
	t := &tables{}
	n := len(pats)
	t.min = len(pats[0])
	for _, p := range pats[1:] {
		t.min = min(t.min, len(p))
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	last := t.min - 1
	sort.SliceStable(order, func(a, b int) bool { return pats[order[a]][last] < pats[order[b]][last] })
	t.pats = make([][]byte, n)
	t.pairs = make([]*pair, n)
	for i, o := range order {
		t.pats[i], t.pairs[i] = pats[o], pairs[o]
	}
	// shifts are bytes in nginx: a window longer than 255 moves at most
	// 255 at a time.
	w := min(t.min, 255)
	for i := range t.shift {
		t.shift[i] = uint8(w)
	}
	ch := 0
	for i, p := range t.pats {
		for j := 0; j < w; j++ {
			c := p[t.min-1-j]
			t.shift[c] = min(t.shift[c], uint8(j))
		}
		for c := int(p[last]); ch <= c; ch++ {
			t.index[ch] = uint8(i)
		}
	}
	for ; ch < 257; ch++ {
		t.index[ch] = uint8(n)
	}
	return t
}

// text is the undecided bytes of a stream: the kept tail of earlier
// buffers followed by the current one.
type text struct {
	held, data []byte
}

func (x *text) len() int { return len(x.held) + len(x.data) }

func (x *text) at(i int) byte {
	if i < len(x.held) {
		return x.held[i]
	}
	return x.data[i-len(x.held)]
}

// Results of comparing a string at a position.
const (
	mismatch = iota
	partial  // the text ends before the string does, matching so far
	full
)

// compare compares string i with the text at position p, any case.
func (t *tables) compare(x *text, i, p int) int {
	pat := t.pats[i]
	n := x.len()
	if p >= len(x.held) && p+len(pat) <= n {
		// the common case: all in the current buffer.
		d := x.data[p-len(x.held):]
		for k, c := range pat {
			if lower(d[k]) != c {
				return mismatch
			}
		}
		return full
	}
	for k, c := range pat {
		if p+k >= n {
			return partial
		}
		if lower(x.at(p+k)) != c {
			return mismatch
		}
	}
	return full
}

// scan looks for the next match in x from position p: at each position
// in turn, the strings whose window may end there are tried in order,
// skipping the ones already used when skip says so. It returns the match
// position and string, or, when there is none, i = -1 and the first
// position where a string may still start once more bytes come (x.len()
// when none may).
func (t *tables) scan(x *text, p int, skip func(i int) bool) (at, i int) {
	n := x.len()
	for p+t.min <= n {
		c := lower(x.at(p + t.min - 1))
		if s := t.shift[c]; s > 0 {
			p += int(s)
			continue
		}
		for i := int(t.index[c]); i < int(t.index[int(c)+1]); i++ {
			if skip(i) {
				continue
			}
			switch t.compare(x, i, p) {
			case full:
				return p, i
			case partial:
				return p, -1
			}
		}
		p++
	}
	// no window fits from p on: keep the text from the first position a
	// string (used or not, as nginx's flush does) may still start at.
	for ; p < n; p++ {
		for i := range t.pats {
			if t.compare(x, i, p) == partial {
				return p, -1
			}
		}
	}
	return n, -1
}
