package ltable

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// walk lists t's keys as next() does after Own, failing on a key seen
// twice or a value that differs from the table's.
func walk(t *testing.T, tb *lua.LTable) []string {
	t.Helper()
	var out []string
	for k, v := Next(tb, lua.LNil); k != lua.LNil; k, v = tb.Next(k) {
		s := fmt.Sprint(k)
		if slices.Contains(out, s) {
			t.Fatalf("key %s walked twice: %v", s, out)
		}
		if tb.RawGet(k) != v {
			t.Fatalf("key %s: walk gave %v, table holds %v", s, v, tb.RawGet(k))
		}
		out = append(out, s)
	}
	return out
}

// Tables on the shared stand-in keep their keys in order, and the ones
// gopher-lua adds later (including a key another table added first, a
// key set again, a deleted one) are each walked once.
func TestIndexTablesWalkAsOwn(t *testing.T) {
	var x Index
	var k Keys
	a := x.NewTable(0, 3)
	for _, name := range []string{"id", "user", "id", "tags"} {
		SetLazy(a, k.String(name), lua.LString("v-"+name))
	}
	if got := walk(t, a); fmt.Sprint(got) != "[id user tags]" {
		t.Fatalf("walk %v", got)
	}
	if _, lazy := mirrorOf(a).k2i[indexMark]; lazy {
		t.Fatal("a walked table still has the stand-in")
	}

	b := x.NewTable(0, 1)
	c := x.NewTable(0, 1)
	SetLazy(b, k.String("one"), lua.LTrue)
	SetLazy(c, k.String("one"), lua.LTrue)
	b.RawSetString("ts", lua.LNumber(1)) // gopher-lua lists it, stand-in learns it
	c.RawSetString("ts", lua.LNumber(2)) // the stand-in knows it: not listed
	c.RawSetString("one", lua.LFalse)    // listed again
	c.RawSetString("host", lua.LString("h"))
	c.RawSetString("gone", lua.LTrue)
	c.RawSetString("gone", lua.LNil)
	c.RawSetInt(5, lua.LTrue) // a hash part key
	if got := walk(t, b); fmt.Sprint(got) != "[one ts]" {
		t.Fatalf("b: %v", got)
	}
	got := walk(t, c)
	slices.Sort(got)
	if fmt.Sprint(got) != "[5 host one ts]" {
		t.Fatalf("c: %v", got)
	}
	if c.RawGetString("ts") != lua.LNumber(2) || c.RawGetString("one") != lua.LFalse {
		t.Fatal("values")
	}

	// Clear of a table on the stand-in leaves the others walkable.
	d, e := x.NewTable(0, 1), x.NewTable(0, 1)
	SetLazy(d, k.String("p"), lua.LTrue)
	SetLazy(e, k.String("q"), lua.LTrue)
	Clear(d)
	d.RawSetString("r", lua.LTrue)
	if fmt.Sprint(walk(t, d)) != "[r]" || fmt.Sprint(walk(t, e)) != "[q]" {
		t.Fatal("after Clear")
	}
}

// Random writes through every path on tables sharing one stand-in: a
// walk must give exactly the keys holding values, each once.
func TestIndexTablesRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var x Index
	var k Keys
	for round := range 200 {
		tables := make([]*lua.LTable, 1+r.IntN(4))
		model := make([]map[string]bool, len(tables))
		for i := range tables {
			tables[i] = x.NewTable(0, r.IntN(4))
			model[i] = map[string]bool{}
		}
		for range 60 {
			i := r.IntN(len(tables))
			tb := tables[i]
			name := fmt.Sprint("k", r.IntN(12))
			switch r.IntN(5) {
			case 0:
				// SetLazy is for a table not walked yet.
				if _, lazy := mirrorOf(tb).k2i[indexMark]; lazy && tb.RawGetString(name) == lua.LNil {
					SetLazy(tb, k.String(name), lua.LTrue)
				} else {
					tb.RawSetString(name, lua.LTrue)
				}
				model[i][name] = true
			case 1:
				tb.RawSetString(name, lua.LNumber(1))
				model[i][name] = true
			case 2:
				tb.RawSetString(name, lua.LNil)
				delete(model[i], name)
			case 3:
				n := 2 + r.IntN(3)
				tb.RawSetInt(n, lua.LTrue)
				model[i][fmt.Sprint(n)] = true
			case 4:
				if r.IntN(8) == 0 {
					Own(tb)
				}
			}
		}
		for i, tb := range tables {
			got := walk(t, tb)
			var want []string
			for name := range model[i] {
				want = append(want, name)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("round %d table %d: walked %v, holds %v", round, i, got, want)
			}
		}
	}
	if len(x.shared) > indexMax+64 {
		t.Fatalf("the stand-in grew to %d entries", len(x.shared))
	}
}

// A table from Index.NewTable costs no index of its own.
func TestIndexTableAllocs(t *testing.T) {
	var x Index
	var k Keys
	id, name := k.String("id"), k.String("name")
	if n := testing.AllocsPerRun(100, func() {
		tb := x.NewTable(0, 2)
		SetLazy(tb, id, lua.LTrue)
		SetLazy(tb, name, lua.LTrue)
	}); n > 4 {
		t.Fatalf("%v allocations for a two-key table", n)
	}
}

// NewArray and the tables with room inside their own allocation behave
// as gopher-lua's: growing past the room, walking, lengths.
func TestNewArray(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	var x Index
	for n := range 11 {
		vals := make([]lua.LValue, n)
		for i := range vals {
			vals[i] = lua.LNumber(i + 1)
		}
		a := NewArray(vals)
		o := x.NewTable(0, n)
		for i := range n {
			SetLazy(o, lua.LString(fmt.Sprint("k", i)), lua.LNumber(i))
		}
		L.SetGlobal("a", a)
		L.SetGlobal("o", o)
		L.SetGlobal("n", lua.LNumber(n))
		if err := L.DoString(`
			assert(#a == n, "length")
			for i = 1, n do assert(a[i] == i) end
			for i = n + 1, n + 20 do a[i] = i end
			assert(#a == n + 20)
			for i = 0, 19 do o["x" .. i] = i end
		`); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if got := len(walk(t, o)); got != n+20 {
			t.Fatalf("n=%d: walked %d keys", n, got)
		}
		if got := len(walk(t, a)); got != n+20 {
			t.Fatalf("n=%d: walked %d array entries", n, got)
		}
	}
	if n := testing.AllocsPerRun(100, func() { NewArray([]lua.LValue{lua.LTrue, lua.LFalse, lua.LTrue}) }); n != 1 {
		t.Fatalf("NewArray of three: %v allocations", n)
	}
}
