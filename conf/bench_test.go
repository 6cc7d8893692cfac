package conf

import (
	"strings"
	"testing"
)

// benchInputs are a large ordinary configuration and inputs built to push
// the lexers toward their worst cases.
var benchInputs = map[string]string{
	"ordinary":        strings.Repeat("server {\n    listen 80;\n    location / { proxy_pass http://b; proxy_set_header Host $host; }\n}\n", 10000),
	"lua-strings":     "content_by_lua_block {" + strings.Repeat("\"{\\\"", 250000) + "}",
	"lua-open-quotes": "content_by_lua_block {" + strings.Repeat("'a", 500000) + "}",
	"lua-blocks":      strings.Repeat("content_by_lua_block { local t = {\"}\", [[{]]} -- }\n ngx.say(t[1]) }\n", 10000),
}

func BenchmarkParse(b *testing.B) {
	for name, in := range benchInputs {
		b.Run(name, func(b *testing.B) {
			data := []byte(in)
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				_, _ = ParseBytes("bench.conf", data, Options{FS: memFS{}})
			}
		})
	}
}
