// Package ltable builds gopher-lua tables of string keys without the
// allocations the public API makes per key.
package ltable

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// gopher-lua keeps, beside a table's map of string keys, a slice and a map
// of its keys for next(). RawSetString boxes the key again for that map on
// every new key, and both grow from empty, so a table of n string keys
// built through the API costs about 2n+6 allocations. The API builds such
// tables per request (ngx.req.get_headers, cjson.decode), so this file
// builds them directly: the three structures sized once, and keys boxed
// once by the caller (usually interned, see Keys). The table's layout is
// read through a mirror checked against the real type when the package
// initialises, as luavm does for call frames.

// tableMirror mirrors gopher-lua's LTable (v1.1.2).
type tableMirror struct {
	Metatable lua.LValue
	array     []lua.LValue
	dict      map[lua.LValue]lua.LValue
	strdict   map[string]lua.LValue
	keys      []lua.LValue
	k2i       map[lua.LValue]int
}

func init() {
	real, mirror := reflect.TypeOf(lua.LTable{}), reflect.TypeOf(tableMirror{})
	if real.Size() != mirror.Size() || real.NumField() != mirror.NumField() {
		panic(fmt.Sprintf("ltable: gopher-lua LTable layout changed (size %d, %d fields)", real.Size(), real.NumField()))
	}
	for i := 0; i < mirror.NumField(); i++ {
		m, r := mirror.Field(i), real.Field(i)
		if m.Name != r.Name || m.Offset != r.Offset || m.Type != r.Type {
			panic("ltable: gopher-lua LTable field " + r.Name + " does not match the mirror")
		}
	}
}

func mirrorOf(t *lua.LTable) *tableMirror { return (*tableMirror)(unsafe.Pointer(t)) }

// NewTable returns an empty table with room for narr array entries and
// nhash string keys, next()'s bookkeeping included.
func NewTable(narr, nhash int) *lua.LTable {
	var t *lua.LTable
	if narr > 0 {
		var arr []lua.LValue
		t, arr = tableWith(narr)
		mirrorOf(t).array = arr
	} else {
		t = &lua.LTable{Metatable: lua.LNil}
	}
	if nhash > 0 {
		m := mirrorOf(t)
		m.strdict = make(map[string]lua.LValue, nhash)
		m.keys = make([]lua.LValue, 0, nhash)
		m.k2i = make(map[lua.LValue]int, nhash)
	}
	return t
}

// NewArray returns a table whose array part is a copy of vals, none of
// them nil.
func NewArray(vals []lua.LValue) *lua.LTable {
	t, arr := tableWith(len(vals))
	mirrorOf(t).array = append(arr, vals...)
	return t
}

// tableWith returns a new table and an empty slice with room for n
// values; up to eight, the slice is in the table's own allocation.
func tableWith(n int) (*lua.LTable, []lua.LValue) {
	switch {
	case n <= 0:
		return &lua.LTable{Metatable: lua.LNil}, nil
	case n <= 2:
		return withRoom[[2]lua.LValue](2)
	case n <= 4:
		return withRoom[[4]lua.LValue](4)
	case n <= 8:
		return withRoom[[8]lua.LValue](8)
	}
	return &lua.LTable{Metatable: lua.LNil}, make([]lua.LValue, 0, n)
}

// tableRoom is a table and an array A of n values in one allocation.
type tableRoom[A any] struct {
	t lua.LTable
	v A
}

func withRoom[A any](n int) (*lua.LTable, []lua.LValue) {
	p := &tableRoom[A]{t: lua.LTable{Metatable: lua.LNil}}
	return &p.t, unsafe.Slice((*lua.LValue)(unsafe.Pointer(&p.v)), n)[:0]
}

// SetString is t.RawSetString for a key already boxed: key must hold a
// lua.LString. Storing it as is saves the allocation RawSetString makes
// for each new key; a table's first string key also starts smaller
// structures than RawSetString's 32 entries.
func SetString(t *lua.LTable, key, value lua.LValue) {
	if value == lua.LNil {
		t.RawSetString(string(key.(lua.LString)), value)
		return
	}
	setString(t, key, value, true)
}

// SetNewString is SetString for a key t has never held (a table built by
// SetString and SetNewString only, in which GetString found no value):
// the check SetString makes for a key it is replacing is left out.
func SetNewString(t *lua.LTable, key, value lua.LValue) {
	setString(t, key, value, false)
}

// setString stores a non-nil value under a boxed string key, adding the
// key to next()'s list unless it may be there already and is.
func setString(t *lua.LTable, key, value lua.LValue, mayExist bool) {
	m := mirrorOf(t)
	if m.strdict == nil {
		m.strdict = make(map[string]lua.LValue)
	}
	if m.keys == nil {
		m.keys = make([]lua.LValue, 0, 4)
		m.k2i = make(map[lua.LValue]int)
	}
	// Every key of strdict and dict is in keys; keys also keeps those
	// whose value was set to nil. A key strdict already held is listed; a
	// new one is not, unless keys holds more than the two maps: then only
	// k2i knows.
	n := len(m.strdict)
	stale := len(m.keys) != n+len(m.dict)
	m.strdict[string(key.(lua.LString))] = value
	if len(m.strdict) == n {
		return
	}
	if mayExist && stale {
		if _, ok := m.k2i[key]; ok {
			return
		}
	}
	m.k2i[key] = len(m.keys)
	m.keys = append(m.keys, key)
}

// Most tables built from data (a decoded document, a header list) are
// read by name and never walked, yet gopher-lua's next() needs each to
// carry k2i, a map from key to position in keys: two allocations, the
// dearest part of a small table. An Index lets such tables share one
// stand-in for k2i instead, and a table gets its own on its first walk
// (Own, which next and pairs call).
//
// The stand-in has to be a real map, since gopher-lua writes a new key's
// position into k2i when Lua code adds the key. What it holds means
// nothing for any one table: the table's keys list may repeat a key (one
// the stand-in did not know was appended again) or miss one (one it knew
// was not appended), so Own builds the table's index from keys and the
// maps themselves. The stand-in carries a mark no table can hold as a
// key, which is how Own tells it from a table's own index.

// Index hands out one VM's stand-in. It belongs to one goroutine.
type Index struct {
	shared map[lua.LValue]int
}

// indexMark is the key only stand-ins hold.
var indexMark lua.LValue = &lua.LUserData{Metatable: lua.LNil}

// indexMax bounds a stand-in: past it, new tables get a fresh one.
const indexMax = 256

// NewTable is NewTable(narr, nhash) with the stand-in index; SetLazy
// fills it.
func (x *Index) NewTable(narr, nhash int) *lua.LTable {
	var t *lua.LTable
	var keys []lua.LValue
	if narr > 0 {
		t = NewTable(narr, 0)
		keys = make([]lua.LValue, 0, nhash)
	} else {
		t, keys = tableWith(nhash)
	}
	x.lazy(t, keys, nhash)
	return t
}

// lazy gives t the keys list keys, the stand-in index and a map for
// nhash string keys.
func (x *Index) lazy(t *lua.LTable, keys []lua.LValue, nhash int) {
	m := mirrorOf(t)
	// gopher-lua appends a key it does not find here, so a stand-in
	// emptied now keeps the order of the keys added to this table from
	// now on until the next table comes (see Own for the rest).
	switch {
	case x.shared == nil || len(x.shared) > indexMax:
		x.shared = map[lua.LValue]int{indexMark: -1}
	case len(x.shared) > 1:
		clear(x.shared)
		x.shared[indexMark] = -1
	}
	m.keys = keys
	m.k2i = x.shared
	if nhash > 0 {
		m.strdict = make(map[string]lua.LValue, nhash)
	}
}

// NewStringTable is NewTable(0, n) for n string values holding text
// bytes in all, with the Strings that boxes them (Reserve(n) and
// ReserveText(text) done): up to 16 values and 1 KiB of text, the table,
// its keys list, the boxes and the text are one allocation instead of
// four. As with any Strings, a value kept keeps the rest alive.
func (x *Index) NewStringTable(n, text int) (*lua.LTable, Strings) {
	var t *lua.LTable
	var keys []lua.LValue
	var s Strings
	switch {
	case n <= 4:
		t, keys, s = withStringsText[[4]lua.LValue, [4]lua.LString](4, text)
	case n <= 8:
		t, keys, s = withStringsText[[8]lua.LValue, [8]lua.LString](8, text)
	case n <= 16:
		t, keys, s = withStringsText[[16]lua.LValue, [16]lua.LString](16, text)
	default:
		t, keys = tableWith(n)
		s.Reserve(n, 0)
		s.ReserveText(text)
	}
	x.lazy(t, keys, n)
	return t, s
}

// stringRoom is a table with room for its keys, their string values
// (boxes) and their text, in one allocation.
type stringRoom[K, V, T any] struct {
	t    lua.LTable
	keys K
	vals V
	text T
}

func withStringsText[K, V any](n, text int) (*lua.LTable, []lua.LValue, Strings) {
	switch {
	case text <= 64:
		return withStrings[K, V, [64]byte](n, 64)
	case text <= 256:
		return withStrings[K, V, [256]byte](n, 256)
	case text <= 1024:
		return withStrings[K, V, [1024]byte](n, 1024)
	}
	t, keys, s := withStrings[K, V, [1]byte](n, 0)
	s.ReserveText(text)
	return t, keys, s
}

// withStrings allocates a stringRoom of n keys and values and tn bytes of
// text (the sizes of K, V and T).
func withStrings[K, V, T any](n, tn int) (*lua.LTable, []lua.LValue, Strings) {
	p := &stringRoom[K, V, T]{t: lua.LTable{Metatable: lua.LNil}}
	keys := unsafe.Slice((*lua.LValue)(unsafe.Pointer(&p.keys)), n)[:0]
	s := Strings{slab: unsafe.Slice((*lua.LString)(unsafe.Pointer(&p.vals)), n)[:0]}
	if tn > 0 {
		s.text = unsafe.Slice((*byte)(unsafe.Pointer(&p.text)), tn)[:0]
	}
	return &p.t, keys, s
}

// SetLazy stores a non-nil value under a boxed string key (a lua.LString)
// in a table made by Index.NewTable and not walked yet.
func SetLazy(t *lua.LTable, key, value lua.LValue) {
	m := mirrorOf(t)
	if m.strdict == nil {
		m.strdict = make(map[string]lua.LValue)
	}
	n := len(m.strdict)
	m.strdict[string(key.(lua.LString))] = value
	if len(m.strdict) != n {
		m.keys = append(m.keys, key)
	}
}

// Own gives t an index of its own if it has a stand-in: its keys listed
// once each, in the order first listed, then the keys of its maps the
// list missed. Anything about to walk t with Next calls it first.
func Own(t *lua.LTable) {
	m := mirrorOf(t)
	if _, lazy := m.k2i[indexMark]; !lazy {
		return
	}
	k2i := make(map[lua.LValue]int, len(m.strdict)+len(m.dict))
	keys := m.keys[:0]
	for _, k := range m.keys {
		if _, dup := k2i[k]; !dup {
			k2i[k] = len(keys)
			keys = append(keys, k)
		}
	}
	clear(m.keys[len(keys):])
	// keys the list missed go last, the strings sorted, so that a walk's
	// order does not change from one run to the next.
	var missed []string
	for k := range m.strdict {
		if _, ok := k2i[lua.LString(k)]; !ok {
			missed = append(missed, k)
		}
	}
	slices.Sort(missed)
	for _, k := range missed {
		k2i[lua.LString(k)] = len(keys)
		keys = append(keys, lua.LString(k))
	}
	for k := range m.dict {
		if _, ok := k2i[k]; !ok {
			k2i[k] = len(keys)
			keys = append(keys, k)
		}
	}
	m.keys, m.k2i = keys, k2i
}

// Next is t.Next(key) for any table: Own, then Next.
func Next(t *lua.LTable, key lua.LValue) (lua.LValue, lua.LValue) {
	Own(t)
	return t.Next(key)
}

// GetString is t.RawGetString (no metamethods).
func GetString(t *lua.LTable, s string) lua.LValue {
	if v, ok := mirrorOf(t).strdict[s]; ok {
		return v
	}
	return lua.LNil
}

// Keys interns the strings used again and again as table keys (header
// names, a JSON API's member names), each boxed once as a lua.LValue. It
// belongs to one loop. It stops growing at a bound, so a stream of unique
// keys costs what it cost without it.
type Keys struct {
	m     map[string]lua.LValue
	lower map[string]lua.LValue
}

const (
	keysMax   = 4096 // entries per map
	keysMaxID = 64   // longest string interned
)

// Bytes returns b as a boxed lua.LString.
func (k *Keys) Bytes(b []byte) lua.LValue {
	if v, ok := k.m[string(b)]; ok {
		return v
	}
	return k.add(string(b))
}

// String returns s as a boxed lua.LString.
func (k *Keys) String(s string) lua.LValue {
	if v, ok := k.m[s]; ok {
		return v
	}
	return k.add(s)
}

func (k *Keys) add(s string) lua.LValue {
	if len(s) > keysMaxID || len(k.m) >= keysMax {
		return lua.LString(s)
	}
	// s may be part of a larger string (a JSON document) that the cache
	// must not keep alive.
	s = strings.Clone(s)
	v := lua.LValue(lua.LString(s))
	if k.m == nil {
		k.m = make(map[string]lua.LValue)
	}
	k.m[s] = v
	return v
}

// Lower returns b in lower case (ASCII) as a boxed lua.LString, as
// ngx.req.get_headers names headers.
func (k *Keys) Lower(b []byte) lua.LValue {
	if v, ok := k.lower[string(b)]; ok {
		return v
	}
	l := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		l[i] = c
	}
	v := lua.LValue(lua.LString(l))
	if len(b) <= keysMaxID && len(k.lower) < keysMax {
		if k.lower == nil {
			k.lower = make(map[string]lua.LValue)
		}
		k.lower[string(b)] = v
	}
	return v
}

// smallInts holds the integers 0 to 1023 boxed once: boxing a float64
// allocates, and small integers are most of the numbers a request sees
// (JSON members, counters, status codes).
var smallInts = func() (a [1024]lua.LValue) {
	for i := range a {
		a[i] = lua.LNumber(i)
	}
	return
}()

// Number returns n boxed, without allocating for small integers.
func Number(n float64) lua.LValue {
	if i := int(n); float64(i) == n && i >= 0 && i < len(smallInts) && (i != 0 || !math.Signbit(n)) {
		return smallInts[i]
	}
	return lua.LNumber(n)
}

// ArrayKeys walks t's keys as lua-cjson's array check does, without
// boxing every index as a walk through the public API does: it returns
// the largest key, the number of keys, and whether every key is a
// positive number without a fraction.
func ArrayKeys(t *lua.LTable) (max float64, n int, ok bool) {
	m := mirrorOf(t)
	if len(m.strdict) > 0 {
		return 0, 0, false
	}
	for i, v := range m.array {
		if v != lua.LNil {
			n++
			max = float64(i + 1)
		}
	}
	for k, v := range m.dict {
		if v == lua.LNil {
			continue
		}
		kn, isNum := k.(lua.LNumber)
		f := float64(kn)
		if !isNum || f < 1 || f != math.Floor(f) {
			return 0, 0, false
		}
		n++
		if f > max {
			max = f
		}
	}
	return max, n, true
}

// Compact gives t's string keys a map of their own size. gopher-lua starts
// every such map at 32 entries, and a Go map of more than eight entries
// hashes the key of every lookup, where one of up to eight compares it
// directly: a metatable's two metamethods or a small library table are
// read faster once compacted. The keys' order for next() does not change.
func Compact(t *lua.LTable) {
	m := mirrorOf(t)
	if len(m.strdict) == 0 {
		m.strdict = nil
		return
	}
	d := make(map[string]lua.LValue, len(m.strdict))
	for k, v := range m.strdict {
		d[k] = v
	}
	m.strdict = d
}

// Clear empties t and keeps its storage for the keys to come.
func Clear(t *lua.LTable) {
	m := mirrorOf(t)
	clear(m.array)
	m.array = m.array[:0]
	clear(m.dict)
	clear(m.strdict)
	clear(m.keys)
	m.keys = m.keys[:0]
	if _, lazy := m.k2i[indexMark]; !lazy {
		clear(m.k2i)
	}
}

// Numbers boxes numbers as lua.LValues with one allocation per numSlab
// of them, where boxing each one allocates (small integers come from
// Number's table). A boxed number keeps its slab alive. A Numbers is
// used by one goroutine; the zero value is ready.
type Numbers struct {
	slab []lua.LNumber
}

const numSlab = 32

// Box returns n as a lua.LValue holding a lua.LNumber.
func (b *Numbers) Box(n float64) lua.LValue {
	if i := int(n); float64(i) == n && i >= 0 && i < len(smallInts) && (i != 0 || !math.Signbit(n)) {
		return smallInts[i]
	}
	if len(b.slab) == cap(b.slab) {
		b.slab = make([]lua.LNumber, 0, numSlab)
	}
	b.slab = append(b.slab, lua.LNumber(n))
	var v lua.LValue
	p := (*[2]unsafe.Pointer)(unsafe.Pointer(&v))
	p[0] = lnumberItab
	p[1] = unsafe.Pointer(&b.slab[len(b.slab)-1])
	return v
}

// lnumberItab is the interface table of lua.LNumber as a lua.LValue.
var lnumberItab = func() unsafe.Pointer {
	var v lua.LValue = lua.LNumber(0.5)
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[0]
}()

// lstringItab is the interface table of lua.LString as a lua.LValue.
var lstringItab = func() unsafe.Pointer {
	var v lua.LValue = lua.LString("")
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[0]
}()

// Strings boxes many strings as lua.LValues with one allocation per
// slabSize of them, where boxing each one allocates a copy of its header:
// the values point into a shared array of headers, which lives as long as
// any of them. Use one per document (a JSON text, a header list) so that
// a value kept for long keeps only its neighbours from the same source
// alive. A Strings is used by one goroutine; the zero value is ready.
type Strings struct {
	slab []lua.LString
	text []byte // BoxBytes's copies
}

const slabSize = 16

// Reserve makes room for n more strings, for a caller that knows how
// many it boxes; a new slab holds at least size of them.
func (b *Strings) Reserve(n, size int) {
	if cap(b.slab)-len(b.slab) < n {
		b.slab = make([]lua.LString, 0, max(n, size))
	}
}

// ReserveText makes room for n more bytes of BoxBytes copies, for a
// caller that knows their total: the copies then share one allocation.
func (b *Strings) ReserveText(n int) {
	if cap(b.text)-len(b.text) < n {
		b.text = make([]byte, 0, n)
	}
}

// BoxBytes is Box of a copy of p, made in the space ReserveText made
// (a copy of its own when that is used up).
func (b *Strings) BoxBytes(p []byte) lua.LValue {
	if len(p) == 0 {
		return b.Box("")
	}
	if cap(b.text)-len(b.text) < len(p) {
		return b.Box(string(p))
	}
	start := len(b.text)
	b.text = append(b.text, p...)
	return b.Box(unsafe.String(&b.text[start], len(p)))
}

// emptyString is "" boxed.
var emptyString lua.LValue = lua.LString("")

// BoxBytes returns a copy of p as a lua.LValue holding a lua.LString. Up
// to 112 bytes, the copy and its box are one allocation where
// lua.LString(p) makes two.
func BoxBytes(p []byte) lua.LValue {
	switch {
	case len(p) == 0:
		return emptyString
	case len(p) <= 16:
		return boxIn[[16]byte](p)
	case len(p) <= 48:
		return boxIn[[48]byte](p)
	case len(p) <= 112:
		return boxIn[[112]byte](p)
	}
	return lua.LString(p)
}

// boxRoom is a string's header and its bytes.
type boxRoom[T any] struct {
	s lua.LString
	b T
}

func boxIn[T any](p []byte) lua.LValue {
	r := &boxRoom[T]{}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&r.b)), len(p))
	copy(b, p)
	r.s = lua.LString(unsafe.String(&b[0], len(p)))
	var v lua.LValue
	q := (*[2]unsafe.Pointer)(unsafe.Pointer(&v))
	q[0] = lstringItab
	q[1] = unsafe.Pointer(&r.s)
	return v
}

// Box returns s as a lua.LValue holding a lua.LString.
func (b *Strings) Box(s string) lua.LValue {
	if len(b.slab) == cap(b.slab) {
		b.slab = make([]lua.LString, 0, slabSize)
	}
	b.slab = append(b.slab, lua.LString(s))
	var v lua.LValue
	p := (*[2]unsafe.Pointer)(unsafe.Pointer(&v))
	p[0] = lstringItab
	p[1] = unsafe.Pointer(&b.slab[len(b.slab)-1])
	return v
}
