package shdict

import (
	"strconv"
	"testing"
)

func BenchmarkIncr(b *testing.B) {
	z := New("b", 10<<20)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		z.Incr("hits", 1, true, 0, 0, now)
	}
}

func BenchmarkIncrParallel(b *testing.B) {
	z := New("b", 10<<20)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			z.Incr("hits", 1, true, 0, 0, now)
		}
	})
}

func BenchmarkSetGet(b *testing.B) {
	z := New("b", 10<<20)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "key" + strconv.Itoa(i)
	}
	v := str("a value of some thirty bytes..")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		k := keys[i&1023]
		z.Store(OpSet, k, v, 0, 0, now)
		z.Get(k, false, now)
	}
}
