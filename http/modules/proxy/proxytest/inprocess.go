package proxytest

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"gresty/core"
	"gresty/errlog"
	"gresty/eventloop"
	"gresty/http"
	"gresty/http/modules/proxy"
	"gresty/http/modules/upstream"
)

var (
	regOnce sync.Once
	reg     *core.Registry
)

// registry is the modules a proxy needs, in the order of the full list:
// the in-process server does not depend on every module of the build.
// A process builds one registry (module indexes are global), so tests
// that use Serve do not use modules.Registry.
func registry() *core.Registry {
	regOnce.Do(func() {
		reg = core.NewRegistry(
			core.CoreModule, core.ErrlogModule, core.EventsModule, core.EventCoreModule,
			http.HTTPModule, http.CoreModule, upstream.Module,
			proxy.Module, upstream.HashModule, upstream.IPHashModule, upstream.LeastConnModule,
			upstream.RandomModule, upstream.KeepaliveModule, upstream.ZoneModule,
			http.WriteFilterModule, http.HeaderFilterModule, http.ChunkedFilterModule,
			http.PostponeFilterModule, http.CopyFilterModule,
		)
	})
	return reg
}

// Serve runs gresty's HTTP server in this process on loops event loops
// with httpBlock (an events block is added) and returns the address of
// its first listener and the prefix directory; it stops when the test
// ends. Tests that measure the server's memory or count its upstream
// connections use it. Only the core, upstream and proxy modules and the
// stock filters are built in.
func Serve(t testing.TB, httpBlock string, loops int) (addr, prefix string) {
	t.Helper()
	prefix = t.TempDir()
	if err := os.Mkdir(filepath.Join(prefix, "logs"), 0o755); err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	c, err := core.Build(core.BuildOptions{
		Registry:        registry(),
		Prefix:          prefix,
		ConfFile:        "nginx.conf",
		Text:            []byte("events { worker_connections 1024; }\n" + httpBlock),
		DefaultErrorLog: filepath.Join(prefix, "logs", "error.log"),
		StartLog:        errlog.New(nil),
	})
	if err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	g, err := eventloop.NewGroup(eventloop.GroupConfig{Loops: loops, Loop: eventloop.Config{WorkerConnections: 1024}})
	if err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	if err := g.Start(); err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	t.Cleanup(func() { g.Stop() })
	rt := http.NewRuntime(g)
	hc := http.ConfigOf(c)
	if err := rt.Apply(hc, c.Log); err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	return rt.Addr(hc.Addrs[0].Key()), prefix
}
