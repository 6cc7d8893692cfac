package shdict

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The scenarios below replay testdata/*.lua, operation for operation, on
// a Zone. Their .golden files are what Debian's nginx with ngx_lua
// printed for the Lua scripts; the differential tests of package lua run
// the same scripts on both servers.

// lcg is the scripts' random generator; every intermediate value is an
// integer below 2^53, so Lua's doubles compute it exactly as this does.
type lcg struct{ seed uint64 }

func (r *lcg) next(n uint64) uint64 {
	r.seed = (r.seed*69069 + 1) % (1 << 32)
	return (r.seed / 65536) % n
}

// out collects lines formatted as the scripts' tostring() calls.
type out struct{ lines []string }

func (o *out) add(parts ...any) {
	s := make([]string, len(parts))
	for i, p := range parts {
		switch v := p.(type) {
		case nil:
			s[i] = "nil"
		case error:
			s[i] = v.Error()
		case *string:
			if v == nil {
				s[i] = "nil"
			} else {
				s[i] = *v
			}
		default:
			s[i] = fmt.Sprint(v)
		}
	}
	o.lines = append(o.lines, strings.Join(s, " "))
}

func (o *out) check(t *testing.T, golden string) {
	t.Helper()
	want, err := os.ReadFile("testdata/" + golden)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(o.lines, "\n")
	w := strings.Split(strings.TrimRight(string(want), "\n"), "\n")
	g := strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			t.Fatalf("%s: line %d:\nnginx:  %q\ngresty: %q", golden, i+1, a, b)
		}
	}
}

func str(s string) Value  { return Value{Type: String, Str: s} }
func num(f float64) Value { return Value{Type: Number, Num: f} }

func errOrNil(err error) any {
	if err == nil {
		return nil
	}
	return err
}

func getStr(z *Zone, key string) *string {
	v, _, _, _ := z.Get(key, false, 1)
	if v.Type != String {
		return nil
	}
	return &v.Str
}

const now = uint64(1700000000000)

func TestFill100k(t *testing.T) {
	z := New("s100k", 100<<10)
	var o out
	for round := 1; round <= 2; round++ {
		for i := 1; i <= 2000; i++ {
			forcible, err := z.Store(OpSet, "key_"+strconv.Itoa(i), str(strings.Repeat(" hello", 10)+strconv.Itoa(i)), 0, 0, now)
			if err != nil || forcible {
				o.add("r"+strconv.Itoa(round), "stop", i, err == nil, errOrNil(err), forcible)
				break
			}
		}
		o.add("free", z.FreeSpace(), "keys", len(z.Keys(0, now)), "k1", getStr(z, "key_1"), "k2", getStr(z, "key_2"))
	}
	o.check(t, "fill-100k.golden")
}

func TestMixed64k(t *testing.T) {
	z := New("s64k", 64<<10)
	r := &lcg{seed: 12345}
	var o out
	for step := 1; step <= 3000; step++ {
		op := r.next(10)
		k := "k" + strconv.FormatUint(r.next(300), 10)
		switch {
		case op < 6:
			var sz uint64
			if r.next(6) == 0 {
				sz = r.next(9000)
			} else {
				sz = r.next(200)
			}
			forcible, err := z.Store(OpSet, k, str(strings.Repeat("x", int(sz))), 0, 0, now)
			if err != nil || forcible {
				o.add(step, "set", k, sz, err == nil, errOrNil(err), forcible)
			}
		case op < 8:
			z.Store(OpSet, k, Value{}, 0, 0, now)
		case op < 9:
			_, err := z.Store(OpSafe|OpAdd, k, num(float64(r.next(1000))), 0, 0, now)
			if err != nil && err != ErrExists {
				o.add(step, "safe_add", k, err)
			}
		default:
			v, forcible, err := z.Incr(k, 1, true, 0, 0, now)
			switch {
			case err != nil:
				o.add(step, "incr", k, nil, err, nil)
			case forcible:
				o.add(step, "incr", k, v, nil, forcible)
			}
		}
		if step%100 == 0 {
			o.add(step, "free", z.FreeSpace(), "n", len(z.Keys(0, now)))
		}
	}
	o.add("keys " + strings.Join(z.Keys(0, now), ","))
	o.check(t, "mixed-64k.golden")
}

func TestPages200k(t *testing.T) {
	z := New("s200k", 200<<10)
	r := &lcg{seed: 777}
	var o out
	for step := 1; step <= 2000; step++ {
		k := "big" + strconv.FormatUint(r.next(60), 10)
		n := r.next(4)
		if n == 0 {
			z.Store(OpSet, k, Value{}, 0, 0, now)
		} else {
			var sz uint64
			if n == 1 {
				sz = 2000 + r.next(20000)
			} else {
				sz = r.next(3000)
			}
			forcible, err := z.Store(OpSet, k, str(strings.Repeat("b", int(sz))), 0, uint32(step), now)
			if err != nil || forcible {
				o.add(step, k, sz, err == nil, errOrNil(err), forcible)
			}
		}
		if step%50 == 0 {
			o.add(step, "free", z.FreeSpace())
		}
	}
	o.add("keys " + strings.Join(z.Keys(0, now), ","))
	o.check(t, "pages-200k.golden")
}

func TestLists32k(t *testing.T) {
	z := New("s32k", 32<<10)
	var o out
	for i := 1; ; i++ {
		v := num(float64(i))
		if i%2 == 0 {
			v = str(strings.Repeat("v", i%50))
		}
		_, headless, err := z.Push("list"+strconv.Itoa(i%3), v, false, now)
		if err != nil {
			first := any(nil)
			if headless {
				first = false
			}
			o.add("stop", i, first, err)
			break
		}
	}
	llen := func(k string) int { n, _ := z.Len(k, now); return n }
	o.add("free", z.FreeSpace(), "llen", llen("list0"), llen("list1"), llen("list2"))
	for j := 0; j < 40; j++ {
		z.Pop("list1", true, now)
	}
	o.add("free", z.FreeSpace(), "llen1", llen("list1"))
	n, headless, err := z.Push("newlist"+strings.Repeat("z", 100), str("abc"), true, now)
	switch {
	case err != nil && headless:
		o.add("newlist", false, err)
	case err != nil:
		o.add("newlist", nil, err)
	default:
		o.add("newlist", n, nil)
	}
	forcible, err := z.Store(OpSet, "plain", str(strings.Repeat("p", 3000)), 0, 0, now)
	o.add("set", err == nil, errOrNil(err), forcible, "free", z.FreeSpace())
	o.add("keys " + strings.Join(z.Keys(0, now), ","))
	o.check(t, "lists-32k.golden")
}

// TestFreshZones pins free_space() of empty zones and the zones nginx
// cannot set up, as Debian's nginx reports them.
func TestFreshZones(t *testing.T) {
	for _, c := range []struct {
		name string
		size int64
		free int64
		fail bool
	}{
		{"a", 8 << 10, 0, true},
		{"b", 12 << 10, 0, false},
		{"cc", 16 << 10, 4096, false},
		{"odd", 12345, 0, false},
		{"dogs", 100 << 10, 90112, false},
		{"abcdefghij", 100 << 10, 90112, false},
		{"m1", 1 << 20, 1032192, false},
		{"m10", 10 << 20, 10412032, false},
	} {
		z := New(c.name, c.size)
		if (z.InitErr() != nil) != c.fail {
			t.Errorf("%s %d: init error %v, want failure %v", c.name, c.size, z.InitErr(), c.fail)
		}
		if c.fail {
			continue
		}
		if got := z.FreeSpace(); got != c.free {
			t.Errorf("%s %d: free_space %d, want %d", c.name, c.size, got, c.free)
		}
		if z.Capacity() != c.size {
			t.Errorf("%s: capacity %d", c.name, z.Capacity())
		}
	}
}

// TestExpiry walks ngx_lua's expiry rules: an expired entry reads as nil
// but stays (get_stale, ttl, expire see it) until an operation's cleanup
// of the LRU tail, flush_expired or a store removes it.
func TestExpiry(t *testing.T) {
	type step struct {
		at   uint64 // milliseconds after now
		do   func(z *Zone, at uint64) string
		want string
	}
	get := func(k string) func(z *Zone, at uint64) string {
		return func(z *Zone, at uint64) string {
			v, f, stale, err := z.Get(k, false, at)
			return fmt.Sprint(v, f, stale, err)
		}
	}
	stale := func(k string) func(z *Zone, at uint64) string {
		return func(z *Zone, at uint64) string {
			v, f, stale, err := z.Get(k, true, at)
			return fmt.Sprint(v, f, stale, err)
		}
	}
	set := func(op int, k string, v Value, ttl int64, flags uint32) func(z *Zone, at uint64) string {
		return func(z *Zone, at uint64) string {
			f, err := z.Store(op, k, v, ttl, flags, at)
			return fmt.Sprint(f, err)
		}
	}
	ttl := func(k string) func(z *Zone, at uint64) string {
		return func(z *Zone, at uint64) string {
			ms, ok := z.TTL(k, at)
			return fmt.Sprint(ms, ok)
		}
	}
	keys := func(z *Zone, at uint64) string { return strings.Join(z.Keys(0, at), ",") }
	incr := func(k string, d float64, init bool, i float64, ttl int64) func(z *Zone, at uint64) string {
		return func(z *Zone, at uint64) string {
			n, f, err := z.Incr(k, d, init, i, ttl, at)
			return fmt.Sprint(n, f, err)
		}
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"get hides, get_stale shows", []step{
			// the tail cleanup takes an entry whose expiry is now; a
			// lookup only one whose expiry has passed.
			{0, set(OpSet, "a", num(1), 10, 7), "false <nil>"},
			{9, get("a"), "{3  1} 7 false <nil>"},
			{11, stale("a"), "{3  1} 7 true <nil>"},
			{11, ttl("a"), "-1 true"},
			{11, get("a"), "{0  0} 0 false <nil>"},
			{11, stale("a"), "{0  0} 0 false <nil>"},
		}},
		{"the lru tail is cleaned by the next operation", []step{
			{0, set(OpSet, "old", str("x"), 5, 0), "false <nil>"},
			{0, set(OpSet, "new", str("y"), 0, 0), "false <nil>"},
			{6, keys, "new"},
			{6, stale("old"), "{4 x 0} 0 true <nil>"},
			// get_stale moved "old" to the front: "new" is the tail now,
			// it has not expired, so the cleanup stops there.
			{6, get("new"), "{4 y 0} 0 false <nil>"},
			{6, stale("old"), "{4 x 0} 0 true <nil>"},
			{6, get("old"), "{0  0} 0 false <nil>"},
			{7, func(z *Zone, at uint64) string { return fmt.Sprint(z.FlushExpired(0, at)) }, "1"},
			{7, stale("old"), "{0  0} 0 false <nil>"},
		}},
		{"add and replace on expired entries", []step{
			{0, set(OpSet, "k", num(1), 1, 0), "false <nil>"},
			{2, set(OpReplace, "k", num(2), 0, 0), "false not found"},
			{2, set(OpAdd, "k", str("longer"), 0, 0), "false <nil>"},
			{2, set(OpAdd, "k", str("again"), 0, 0), "false exists"},
			{2, set(OpReplace, "k", Value{}, 0, 0), "false attempt to add or replace nil values"},
			{2, get("k"), "{4 longer 0} 0 false <nil>"},
		}},
		{"incr with init and init_ttl", []step{
			{0, incr("c", 1, false, 0, 0), "0 false not found"},
			{0, incr("c", 2, true, 10, 100), "12 false <nil>"},
			{50, incr("c", 1, true, 10, 1000), "13 false <nil>"},
			{50, ttl("c"), "50 true"},
			{101, incr("c", 1, true, 0, 0), "1 false <nil>"},
			{101, ttl("c"), "0 true"},
			{101, set(OpSet, "s", str("abc"), 0, 0), "false <nil>"},
			{101, incr("s", 1, true, 0, 0), "0 false not a number"},
		}},
		{"an expired 8-byte string becomes the number in place", []step{
			{0, set(OpSet, "k", str("12345678"), 1, 9), "false <nil>"},
			{5, incr("k", 1, true, 1, 0), "2 false <nil>"},
			{5, get("k"), "{3  2} 0 false <nil>"},
		}},
		{"flush_all expires everything and frees the oldest three", []step{
			{0, set(OpSet, "a", num(1), 0, 0), "false <nil>"},
			{0, set(OpSet, "b", num(1), 0, 0), "false <nil>"},
			{0, set(OpSet, "c", num(1), 0, 0), "false <nil>"},
			{0, set(OpSet, "d", num(1), 0, 0), "false <nil>"},
			{0, set(OpSet, "e", num(1), 0, 0), "false <nil>"},
			{0, func(z *Zone, at uint64) string { z.FlushAll(at); return keys(z, at) }, ""},
			{0, stale("a"), "{0  0} 0 false <nil>"},
			{0, stale("d"), "{3  1} 0 true <nil>"},
			{0, func(z *Zone, at uint64) string { return fmt.Sprint(z.FlushExpired(1, at)) }, "1"},
			// get_stale moved "d" to the front, so "e" went first.
			{0, ttl("e"), "0 false"},
			{0, ttl("d"), "-1699999999999 true"},
		}},
		{"expire keeps expired entries alive", []step{
			{0, set(OpSet, "k", num(1), 10, 0), "false <nil>"},
			{20, func(z *Zone, at uint64) string { return fmt.Sprint(z.SetExpire("k", 0, at)) }, "true"},
			{20, get("k"), "{3  1} 0 false <nil>"},
			{20, func(z *Zone, at uint64) string { return fmt.Sprint(z.SetExpire("nope", 5, at)) }, "false"},
		}},
		{"lists", []step{
			{0, func(z *Zone, at uint64) string {
				n, h, err := z.Push("l", num(1), true, at)
				return fmt.Sprint(n, h, err)
			}, "1 false <nil>"},
			{0, get("l"), "{0  0} 0 false value is a list"},
			{0, incr("l", 1, false, 0, 0), "0 false not a number"},
			{0, func(z *Zone, at uint64) string {
				_, _, err := z.Push("k", str("x"), true, at)
				z.Store(OpSet, "k", num(1), 0, 0, at)
				_, _, err2 := z.Push("k", str("x"), true, at)
				return fmt.Sprint(err, err2)
			}, "<nil> value not a list"},
			{0, func(z *Zone, at uint64) string {
				z.SetExpire("l", 1, at)
				return ""
			}, ""},
			{5, func(z *Zone, at uint64) string {
				n, _ := z.Len("l", at)
				v, ok, _ := z.Pop("l", false, at)
				n2, h, err := z.Push("l", str("fresh"), false, at)
				ms, _ := z.TTL("l", at)
				return fmt.Sprint(n, v, ok, n2, h, err, ms)
			}, "0 {0  0} false 1 false <nil> 0"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			z := New("t", 1<<20)
			for i, s := range c.steps {
				if got := s.do(z, now+s.at); got != s.want {
					t.Fatalf("step %d: got %q, want %q", i+1, got, s.want)
				}
			}
		})
	}
}

// TestConcurrent has several goroutines share one zone, as the event
// loops do; run with -race.
func TestConcurrent(t *testing.T) {
	z := New("c", 1<<20)
	const workers, rounds = 8, 2000
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			own := "own" + strconv.Itoa(w)
			for i := 0; i < rounds; i++ {
				if _, _, err := z.Incr("shared", 1, true, 0, 0, now); err != nil {
					t.Error(err)
					return
				}
				z.Store(OpSet, own, num(float64(i)), 0, 0, now)
				z.Push("q", num(float64(i)), w%2 == 0, now)
				z.Pop("q", w%2 == 1, now)
				z.Get("shared", false, now)
				z.Keys(4, now)
				z.FreeSpace()
			}
			if v, _, _, _ := z.Get(own, false, now); v.Num != rounds-1 {
				t.Errorf("%s = %v", own, v)
			}
		}(w)
	}
	wg.Wait()
	if v, _, _, _ := z.Get("shared", false, now); v.Num != workers*rounds {
		t.Fatalf("shared = %v, want %d", v.Num, workers*rounds)
	}
	if n, _ := z.Len("q", now); n != 0 {
		t.Fatalf("q has %d items left", n)
	}
}

// TestRegistry checks what a reload keeps: a zone whose name and size are
// unchanged, not one whose size changed or that a published configuration
// dropped.
func TestRegistry(t *testing.T) {
	a := Acquire("reg_a", 1<<20)
	b := Acquire("reg_b", 1<<20)
	if Acquire("reg_a", 1<<20) == a {
		t.Fatal("an unpublished zone was reused")
	}
	Publish([]*Zone{a, b})
	if Acquire("reg_a", 1<<20) != a {
		t.Fatal("same name and size: the zone must be reused")
	}
	if Acquire("reg_b", 2<<20) == b {
		t.Fatal("a zone whose size changed must be new")
	}
	Publish([]*Zone{a})
	if Acquire("reg_b", 1<<20) == b {
		t.Fatal("a zone the running configuration dropped must be new")
	}
	Publish(nil)
}

func TestConversions(t *testing.T) {
	for _, c := range []struct {
		f    float64
		l    int64
		i32  int32
		name string
	}{
		{1.7, 1, 1, "truncation"},
		{-1.7, -1, -1, "towards zero"},
		{4294967299, 4294967299, -2147483648, "int overflow"},
		{1e30, -9223372036854775808, -2147483648, "long overflow"},
	} {
		if got := ToLong(c.f); got != c.l {
			t.Errorf("%s: ToLong(%v) = %d, want %d", c.name, c.f, got, c.l)
		}
		if got := ToInt32(c.f); got != c.i32 {
			t.Errorf("%s: ToInt32(%v) = %d, want %d", c.name, c.f, got, c.i32)
		}
	}
}
