//go:build linux

package resolver

import (
	"net/netip"
	"testing"
)

// BenchmarkCachedResolve measures a resolution answered from the shared
// cache, the common case of a proxy_pass with a variable.
func BenchmarkCachedResolve(b *testing.B) {
	srv := startServer(b)
	srv.add("bench.test. 3600 IN A 192.0.2.1", "bench.test. 3600 IN A 192.0.2.2")
	e := newEnv(b, NewCache(nil))
	cfg := config(srv)
	if r := e.resolve(cfg, "bench.test"); r.Err != nil {
		b.Fatal(r.Err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	e.do(func() {
		r := e.set.Resolver(cfg)
		var n int
		for range b.N {
			r.Resolve("bench.test", func(a []netip.Addr, err error) { n += len(a) })
		}
	})
}
