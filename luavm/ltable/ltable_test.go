package ltable

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// The tables built here must behave as gopher-lua's own: lookups, next()
// over every key once, deletion, and later writes through the public API.
func TestTableMatchesGopherLua(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	var k Keys
	tb := NewTable(0, 3)
	SetNewString(tb, k.String("host"), lua.LString("v-host"))
	for _, name := range []string{"accept", "x-a", "host"} {
		SetString(tb, k.String(name), lua.LString("v-"+name))
	}
	tb.RawSetString("later", lua.LTrue)
	SetString(tb, k.String("gone"), lua.LTrue)
	SetString(tb, k.String("gone"), lua.LNil)
	L.SetGlobal("t", tb)
	if err := L.DoString(`
		local seen, n = {}, 0
		for k, v in pairs(t) do
			assert(not seen[k], "key twice: " .. k)
			seen[k] = v
			n = n + 1
		end
		assert(n == 4, "keys: " .. n)
		assert(seen.host == "v-host" and seen.accept == "v-accept" and seen["x-a"] == "v-x-a" and seen.later == true)
		assert(t.gone == nil)
		t.extra = 1
		assert(t.extra == 1)
	`); err != nil {
		t.Fatal(err)
	}
	if GetString(tb, "accept") != lua.LString("v-accept") || GetString(tb, "none") != lua.LNil {
		t.Fatal("GetString")
	}
	// A table gopher-lua made, without string keys yet.
	plain := L.NewTable()
	SetString(plain, k.String("a"), lua.LNumber(1))
	if plain.RawGetString("a") != lua.LNumber(1) {
		t.Fatal("SetString on a plain table")
	}
	if key, v := plain.Next(lua.LNil); key != lua.LString("a") || v != lua.LNumber(1) {
		t.Fatalf("next: %v %v", key, v)
	}
}

func TestKeys(t *testing.T) {
	var k Keys
	if k.Lower([]byte("X-Api-Key")) != lua.LString("x-api-key") || k.Lower([]byte("\xc3\x84b")) != lua.LString("\xc3\x84b") {
		t.Fatal("Lower")
	}
	doc := "{\"member\":1}"
	a := k.String(doc[2:8])
	if a != lua.LString("member") || k.Bytes([]byte("member")) != a {
		t.Fatal("String/Bytes")
	}
	if n := testing.AllocsPerRun(100, func() { k.Lower([]byte("X-Api-Key")); k.String("member") }); n != 0 {
		t.Fatalf("interned lookups allocate %v times", n)
	}
	for i := 0; i < 2*keysMax; i++ {
		k.String(string(rune('a'+i%26)) + string(rune(i)))
	}
	if len(k.m) > keysMax {
		t.Fatalf("%d keys kept", len(k.m))
	}
}

func TestNumber(t *testing.T) {
	for _, f := range []float64{0, 1, 200, 1023, 1024, -1, 0.5, 1e300, math.Inf(1)} {
		if v := Number(f); v != lua.LNumber(f) {
			t.Fatalf("Number(%v) = %v", f, v)
		}
	}
	if v := Number(math.Copysign(0, -1)); !math.Signbit(float64(v.(lua.LNumber))) {
		t.Fatal("-0 lost its sign")
	}
	if v := Number(math.NaN()); v.(lua.LNumber) == v.(lua.LNumber) {
		t.Fatal("NaN")
	}
	if n := testing.AllocsPerRun(100, func() { Number(404) }); n != 0 {
		t.Fatalf("Number(404) allocates %v times", n)
	}
}

func TestArrayKeys(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	for src, want := range map[string]struct {
		max float64
		n   int
		ok  bool
	}{
		`return {}`:                                {0, 0, true},
		`return {1, 2, 3}`:                         {3, 3, true},
		`return {1, nil, 3}`:                       {3, 2, true},
		`return {[1] = 1, [10] = 10}`:              {10, 2, true},
		`return {[1e300] = 1}`:                     {1e300, 1, true},
		`return {[2.5] = 1}`:                       {0, 0, false},
		`return {[-1] = 1}`:                        {0, 0, false},
		`return {[0] = "a"}`:                       {0, 0, false},
		`return {[true] = "a"}`:                    {0, 0, false},
		`local t = {"a", "b"} t[2] = nil return t`: {1, 1, true},
		`return {1, x = 2}`:                        {0, 0, false},
		`local t = {1, x = 2} t.x = nil return t`:  {1, 1, true},
	} {
		if err := L.DoString(src); err != nil {
			t.Fatal(err)
		}
		tb := L.Get(-1).(*lua.LTable)
		L.Pop(1)
		max, n, ok := ArrayKeys(tb)
		if max != want.max || n != want.n || ok != want.ok {
			t.Errorf("%s: %v %d %v, want %v %d %v", src, max, n, ok, want.max, want.n, want.ok)
		}
	}
}

func TestClear(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("clear", L.NewFunction(func(L *lua.LState) int { Clear(L.CheckTable(1)); return 0 }))
	if err := L.DoString(`
		local t = {1, 2, 3, x = 1, y = 2, [10] = 10, [true] = 1}
		clear(t)
		assert(next(t) == nil and #t == 0 and t.x == nil and t[10] == nil and t[true] == nil)
		t[1] = "a"; t.z = "z"; t[3] = "c"
		local n = 0
		for k, v in pairs(t) do n = n + 1 end
		assert(n == 3 and t[1] == "a" and t[2] == nil and t[3] == "c" and t.z == "z")
	`); err != nil {
		t.Fatal(err)
	}
}

// Boxed strings are ordinary values: comparable, usable as table keys,
// type-switchable, and alive for as long as they are referenced, across
// collections.
func TestStrings(t *testing.T) {
	var b Strings
	var vals []lua.LValue
	for i := 0; i < 100; i++ {
		vals = append(vals, b.Box(strings.Repeat("x", i)))
	}
	if n := testing.AllocsPerRun(100, func() { b.Box("y") }); n > 1.0/slabSize+0.01 {
		t.Fatalf("%v allocations per string", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		var r Strings
		r.Reserve(3, 0)
		r.Box("a")
		r.Box("b")
		r.Box("c")
	}); n != 1 {
		t.Fatalf("3 reserved strings: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		var r Strings
		for range 4 {
			r.Reserve(1, 4)
			r.Box("d")
		}
	}); n != 1 {
		t.Fatalf("4 strings in a slab of 4: %v allocations", n)
	}
	runtime.GC()
	tb := lua.NewState().NewTable()
	for i, v := range vals {
		s, ok := v.(lua.LString)
		if !ok || string(s) != strings.Repeat("x", i) || v != lua.LString(strings.Repeat("x", i)) || v.Type() != lua.LTString {
			t.Fatalf("value %d is %#v", i, v)
		}
		tb.RawSet(v, lua.LNumber(i))
	}
	runtime.GC()
	if tb.RawGetString("xxx") != lua.LNumber(3) || tb.RawGet(lua.LString("")) != lua.LNumber(0) {
		t.Fatal("boxed strings as keys")
	}
}

// A key set to nil stays in next()'s list; setting it again must not list
// it twice, whether the table also holds non-string keys or not.
func TestSetStringAfterDelete(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	var k Keys
	for _, other := range []bool{false, true} {
		tb := NewTable(0, 2)
		if other {
			tb.RawSet(lua.LTrue, lua.LNumber(7))
		}
		SetString(tb, k.String("a"), lua.LNumber(1))
		SetString(tb, k.String("b"), lua.LNumber(2))
		SetString(tb, k.String("a"), lua.LNil)
		SetString(tb, k.String("a"), lua.LNumber(3)) // listed, not in strdict
		SetString(tb, k.String("b"), lua.LNumber(4)) // in strdict
		SetString(tb, k.String("c"), lua.LNumber(5)) // new while keys holds a stale entry
		L.SetGlobal("t", tb)
		want := 3
		if other {
			want = 4
		}
		if err := L.DoString(`
			local seen, n = {}, 0
			for k, v in pairs(t) do
				assert(not seen[k], "key twice: " .. tostring(k))
				seen[k], n = v, n + 1
			end
			assert(seen.a == 3 and seen.b == 4 and seen.c == 5, "values")
			return n`); err != nil {
			t.Fatal(err)
		}
		if n := L.Get(-1); n != lua.LNumber(want) {
			t.Fatalf("other keys %v: pairs saw %v keys, want %d", other, n, want)
		}
		L.Pop(1)
	}
}

func TestBoxBytes(t *testing.T) {
	src := []byte("abcdef")
	if n := testing.AllocsPerRun(100, func() {
		var r Strings
		r.Reserve(3, 0)
		r.ReserveText(6)
		r.BoxBytes(src[:2])
		r.BoxBytes(src[2:])
		r.BoxBytes(nil)
	}); n != 2 {
		t.Fatalf("3 strings in reserved space: %v allocations", n)
	}
	var r Strings
	r.ReserveText(2)
	a, b, c := r.BoxBytes(src[:2]), r.BoxBytes(src[2:4]), r.BoxBytes(nil) // b overflows the reservation
	src[0], src[2] = 'X', 'Y'                                             // the values are copies
	if a != lua.LString("ab") || b != lua.LString("cd") || c != lua.LString("") {
		t.Fatalf("BoxBytes: %q %q %q", a, b, c)
	}
}

// Boxed numbers are lua.LNumbers that compare by value, whatever slab
// holds them, and a slab serves many of them.
func TestNumbers(t *testing.T) {
	var b Numbers
	for _, f := range []float64{0, 1, 1023, 1024, -1, 0.5, 1e300, math.Inf(-1)} {
		v := b.Box(f)
		if n, ok := v.(lua.LNumber); !ok || float64(n) != f {
			t.Fatalf("Box(%v) = %#v", f, v)
		}
		if v != lua.LValue(lua.LNumber(f)) {
			t.Fatalf("Box(%v) does not equal a fresh box", f)
		}
	}
	if n := testing.AllocsPerRun(1000, func() { b.Box(123456789) }); n > 0.1 {
		t.Fatalf("%v allocations per number", n)
	}
	if v := b.Box(math.Copysign(0, -1)); math.Signbit(float64(v.(lua.LNumber))) == false {
		t.Fatal("-0 lost its sign")
	}
}

// A table from NewStringTable holds its values whatever its size and
// text, through a collection, in one allocation up to 16 values and
// 1 KiB of text; next() walks the keys in the order they were set.
func TestNewStringTable(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	var x Index
	var k Keys
	for _, n := range []int{1, 4, 5, 16, 17, 40} {
		for _, each := range []int{0, 3, 60, 200} {
			tb, vals := x.NewStringTable(n, n*each)
			var names []string
			for i := range n {
				name := fmt.Sprintf("h%d", i)
				names = append(names, name)
				SetLazy(tb, k.String(name), vals.BoxBytes([]byte(strings.Repeat(string(rune('a'+i%26)), each))))
			}
			runtime.GC()
			for i, name := range names {
				if got, want := tb.RawGetString(name), lua.LString(strings.Repeat(string(rune('a'+i%26)), each)); got != want {
					t.Fatalf("n=%d each=%d: %s is %q, want %q", n, each, name, got, want)
				}
			}
			if got := walk(t, tb); fmt.Sprint(got) != fmt.Sprint(names) {
				t.Fatalf("n=%d each=%d: walk %v", n, each, got)
			}
		}
	}
	val := []byte("value-of-twenty-bytes")
	if a := testing.AllocsPerRun(100, func() {
		tb, vals := x.NewStringTable(4, 4*len(val))
		for _, name := range []string{"a", "b", "c", "d"} {
			SetLazy(tb, k.String(name), vals.BoxBytes(val))
		}
	}); a > 3 { // the table's allocation and its string map's two
		t.Fatalf("%v allocations for a table of four strings", a)
	}
}

// BoxBytes copies, boxes and compares as lua.LString does, in one
// allocation up to 112 bytes.
func TestBoxBytesOne(t *testing.T) {
	for _, n := range []int{0, 1, 16, 17, 48, 49, 112, 113, 1000} {
		src := []byte(strings.Repeat("z", n))
		v := BoxBytes(src)
		if n > 0 {
			src[0] = 'A'
		}
		runtime.GC()
		if s, ok := v.(lua.LString); !ok || string(s) != strings.Repeat("z", n) || v != lua.LString(strings.Repeat("z", n)) {
			t.Fatalf("%d bytes: %#v", n, v)
		}
		want := 1.0
		if n == 0 {
			want = 0
		} else if n > 112 {
			want = 2
		}
		if a := testing.AllocsPerRun(100, func() { BoxBytes(src) }); a != want {
			t.Fatalf("%d bytes: %v allocations, want %v", n, a, want)
		}
	}
}

// Compact keeps a table's contents and walk order, and a compacted empty
// table takes new keys.
func TestCompact(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	tb := L.NewTable()
	for _, k := range []string{"b", "a", "c"} {
		tb.RawSetString(k, lua.LString("v"+k))
	}
	tb.RawSetInt(1, lua.LTrue)
	Compact(tb)
	if got := walk(t, tb); fmt.Sprint(got) != "[1 b a c]" {
		t.Fatalf("walk %v", got)
	}
	if tb.RawGetString("a") != lua.LString("va") || len(mirrorOf(tb).strdict) != 3 {
		t.Fatal("contents")
	}
	empty := L.NewTable()
	Compact(empty)
	if mirrorOf(empty).strdict != nil {
		t.Fatal("an empty table kept its map")
	}
	empty.RawSetString("x", lua.LNumber(1))
	SetString(empty, lua.LString("y"), lua.LNumber(2))
	if empty.RawGetString("x") != lua.LNumber(1) || GetString(empty, "y") != lua.LNumber(2) {
		t.Fatal("keys after compaction")
	}
}
