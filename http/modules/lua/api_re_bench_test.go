package lua

import (
	"testing"

	glua "github.com/yuin/gopher-lua"

	"gresty/core"
	"gresty/errlog"
)

// benchLua runs the Lua function body src b.N times in a test VM.
func benchLua(b *testing.B, src string) {
	m := &MainConf{}
	m.RegexCacheMaxEntries.V = 1024
	st, err := newLoopState(&core.Cycle{Log: errlog.New(nil)}, m, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.vm.Close()
	f, err := st.vm.Load("local n = ... for i = 1, n do "+src+" end", "=bench")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	st.withCtx(&reqCtx{st: st, phase: PhaseInit}, func() {
		if _, e := st.vm.Call(f, glua.LNumber(b.N)); e != nil {
			b.Fatal(e)
		}
	})
}

func BenchmarkReMatch(b *testing.B) {
	benchLua(b, `local m = ngx.re.match("hello, 1234", "([0-9]+)", "jo")`)
}

func BenchmarkReMatchNoCache(b *testing.B) {
	benchLua(b, `local m = ngx.re.match("hello, 1234", "([0-9]+)")`)
}

func BenchmarkReFind(b *testing.B) {
	benchLua(b, `local f, t = ngx.re.find("hello, 1234", "[0-9]+", "jo")`)
}

func BenchmarkReGsubTemplate(b *testing.B) {
	benchLua(b, `local s = ngx.re.gsub("hello, world, again", "([a-z]+)", "<$1>", "jo")`)
}

func BenchmarkReGsubFunction(b *testing.B) {
	benchLua(b, `local s = ngx.re.gsub("hello, world, again", "[a-z]+", function(m) return m[0] end, "jo")`)
}

func BenchmarkEscapeURI(b *testing.B) {
	benchLua(b, `local s = ngx.escape_uri("hello world/€")`)
}
