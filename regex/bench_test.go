package regex

import (
	"strings"
	"testing"
)

// benchCases are the research notes' three patterns plus a location-style
// prefix regex and a miss over a long subject.
var benchCases = []struct {
	name, pattern, subject string
	flags                  Flags
}{
	{"APIPath", `^/api/v1/users/(\d+)/posts/([a-z0-9-]+)$`, "/api/v1/users/12345/posts/hello-world-2024", 0},
	{"UserAgent", `(bot|crawler|spider|slurp|bingpreview|facebookexternalhit|mediapartners)`,
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Googlebot/2.1", Caseless},
	{"HeaderSplit", `^([^:]+):\s*(.*)$`, "Content-Type:   application/json; charset=utf-8", 0},
	{"LocationPrefix", `^/(images|static|assets)/.+\.(png|jpe?g|gif|css|js)$`, "/static/css/site.min.css", Caseless},
	{"Miss1K", `\.php$`, strings.Repeat("a/b/c/d/e/f/", 85) + "index.html", 0},
}

func BenchmarkMatchString(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			re, err := Compile(bc.pattern, bc.flags)
			if err != nil {
				b.Fatal(err)
			}
			m := NewMatcher()
			ov := make([]int, re.OvectorLen())
			// Each iteration uses a new string header over the same
			// bytes, so the subject cache never hits, as for distinct
			// requests.
			subjects := [2]string{bc.subject, strings.Clone(bc.subject)}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := re.MatchString(m, subjects[i&1], 0, ov); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMatchBytes(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			re, err := Compile(bc.pattern, bc.flags)
			if err != nil {
				b.Fatal(err)
			}
			m := NewMatcher()
			ov := make([]int, re.OvectorLen())
			subject := []byte(bc.subject)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := re.Match(m, subject, 0, ov); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGlobal walks every match of one subject as ngx.re.gmatch does,
// where the subject is converted once.
func BenchmarkGlobal(b *testing.B) {
	re := mustCompile(b, `\w+`, 0)
	subject := strings.Repeat("word, ", 200)
	m := NewMatcher()
	ov := make([]int, re.OvectorLen())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for pos := 0; ; {
			n, err := re.MatchString(m, subject, pos, ov)
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				break
			}
			pos = ov[1]
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Compile(bc.pattern, bc.flags); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCacheHit(b *testing.B) {
	c := NewCache(0, Options{})
	p := benchCases[0].pattern
	if _, err := c.Get(p, 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Get(p, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func mustCompile(tb testing.TB, pattern string, f Flags) *Regexp {
	tb.Helper()
	re, err := Compile(pattern, f)
	if err != nil {
		tb.Fatal(err)
	}
	return re
}
