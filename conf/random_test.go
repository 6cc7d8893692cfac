package conf

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// syntaxMessages are the messages the lexer and parser produce; any other
// nginx error comes from a directive's semantics, which this package does
// not model, so random cases that meet one first are not compared.
var syntaxMessages = []string{
	`unexpected "`,
	`unexpected end of file, expecting`,
	`too long parameter`,
	`too long lua code block`,
	`Lua code block missing the closing long bracket`,
}

func isSyntaxMessage(msg string) bool {
	// Inside "types { }" nginx's handler refuses a nested block with the
	// lexer's own words; that one is ambiguous and not compared.
	if strings.Contains(msg, `unexpected "{"`) {
		return false
	}
	for _, s := range syntaxMessages {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// randomText builds text from pieces that exercise the lexer's states, with
// long runs now and then so that tokens straddle nginx's 4096-byte buffer.
func randomText(r *rand.Rand, pieces []string, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if r.Intn(40) == 0 {
			filler := []string{"a", " ", "x\n", "=", "-"}[r.Intn(5)]
			b.WriteString(strings.Repeat(filler, 500+r.Intn(4000)))
			continue
		}
		b.WriteString(pieces[r.Intn(len(pieces))])
	}
	return b.String()
}

var (
	confPieces = []string{
		"a", "b/c", " ", " ", "\n", "\t", ";", ";", "{", "}", "\"", "'", "\\", "$", "${", "#", ")",
		"\"x y\"", "'q'", "\\\"", "$v", "\r\n", "w;\n",
	}
	luaPieces = []string{
		"a", " ", "\n", "{", "}", "{", "}", "\"", "'", "\\", "[", "]", "[[", "]]", "[=[", "]=]", "=",
		"--", "-- c\n", "--[[", "--[==[", "]==]", "\"s\"", "'s'", "\"{\"", "'}'", "x = {}", "\\\n",
	}
)

// TestRandomAgainstNginx compares random near-valid configurations with
// nginx: wherever nginx's first complaint is a syntax error, ours must be
// the same text, file and line; where nginx accepts the file, so must we.
// GRESTY_CONF_RANDOM sets the number of cases (default 150),
// GRESTY_CONF_SEED the seed, and GRESTY_CONF_SAVE a directory where failing
// cases are written for replay.
func TestRandomAgainstNginx(t *testing.T) {
	nginx := nginxBinary(t)
	modules := nginxModulesDir(t, nginx)
	requireLuaModule(t, modules)

	n := 150
	if s := os.Getenv("GRESTY_CONF_RANDOM"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	seed := int64(1)
	if s := os.Getenv("GRESTY_CONF_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	r := rand.New(rand.NewSource(seed))
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	compared, accepted := 0, 0
	for i := 0; i < n; i++ {
		var text string
		if i%2 == 0 {
			text = "events {}\nhttp {\n types {\n" + randomText(r, confPieces, 1+r.Intn(60)) + "\n}\n}\n"
		} else {
			text = "load_module " + modules + "/ndk_http_module.so;\n" +
				"load_module " + modules + "/ngx_http_lua_module.so;\n" +
				"events {}\nhttp {\n server {\n  listen 127.0.0.1:1;\n  location / {\n   content_by_lua_block {" +
				randomText(r, luaPieces, 1+r.Intn(80)) + "}\n  }\n }\n}\n"
		}
		if r.Intn(4) == 0 {
			// Cut the text anywhere, to end inside any state.
			text = text[:r.Intn(len(text)+1)]
		}
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		live := nginxTest(t, nginx, dir+"/", conf, "")
		if live != "" && !isSyntaxMessage(live) {
			continue
		}
		compared++
		if live == "" {
			accepted++
		}
		got := ourTest(conf, "", dir+"/")
		if got != live {
			if d := os.Getenv("GRESTY_CONF_SAVE"); d != "" {
				if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("fail-%d-%d.conf", seed, i)), []byte(text), 0o644); err != nil {
					t.Log(err)
				}
			}
			t.Errorf("case %d (seed %d):\nnginx: %s\nours:  %s\ntext:\n%s", i, seed, live, got, quoteForLog(text))
		}
	}
	t.Logf("%d of %d random cases compared with nginx, %d of them valid", compared, n, accepted)
}

func quoteForLog(s string) string {
	if len(s) > 3000 {
		return fmt.Sprintf("%q ... (%d bytes)", s[:3000], len(s))
	}
	return fmt.Sprintf("%q", s)
}
