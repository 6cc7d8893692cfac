package lua_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
)

// TestLuaNDKSetVarDiff calls set-misc's directives through ndk.set_var,
// against OpenResty with Debian's set-misc module: values, numbers turned
// to strings, an unknown name and a directive that is not a set_var
// one (a 500 with the error logged), and set_var refusing assignment.
func TestLuaNDKSetVarDiff(t *testing.T) {
	cases := []luaCase{
		{name: "sanity", conf: `content_by_lua_block {
                ngx.say(ndk.set_var.set_escape_uri(" :"))
                ngx.say(ndk.set_var.set_unescape_uri("a%20b"))
                ngx.say(ndk.set_var.set_quote_sql_str("it's"))
                ngx.say(ndk.set_var.set_encode_base32(123))
                ngx.say(ndk.set_var.set_md5("x"), " ", ndk.set_var.set_encode_hex("\1\255"))
                ngx.say(package.loaded.ndk == ndk)
            }`},
		{name: "unknown", log: true, conf: `content_by_lua_block {
                local ok, err = pcall(function() return ndk.set_var.set_escape_uri_blah(" ") end)
                ngx.say(ok, " ", err)
                ok, err = pcall(function() return ndk.set_var.content_by_lua(" ") end)
                ngx.say(ok, " ", err)
                ok, err = pcall(function() ndk.set_var.x = 1 end)
                ngx.say(ok, " ", err)
            }`},
		{name: "fails", conf: `content_by_lua_block {
                ngx.say(ndk.set_var.no_such_directive("x"))
            }`},
		{name: "header", conf: `header_filter_by_lua_block {
                ngx.header.Foo = ndk.set_var.set_escape_uri(" %")
            }
            echo hi;`},
	}
	runLuaCasesWith(t, []string{"lua", "echo", "ngx_http_set_misc_module"}, "", "", cases)
}

// TestLuaNDKSetVarInTimerDiff: ngx_lua runs a timer with a fake request,
// so ndk.set_var works there, with the configuration of the location
// that made the timer, and logs with the timer's context.
func TestLuaNDKSetVarInTimerDiff(t *testing.T) {
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location /t {
            set_base32_alphabet "0123456789abcdefghijklmnopqrstuv";
            content_by_lua_block {
                ngx.timer.at(0, function()
                    ngx.log(ngx.WARN, "unescaped: ", ndk.set_var.set_unescape_uri("a%20b"))
                    ngx.log(ngx.WARN, "base32: ", ndk.set_var.set_encode_base32("abc"))
                    ngx.log(ngx.WARN, "bad base64: [", ndk.set_var.set_decode_base64("!!"), "]")
                end)
                ngx.say("ok")
            }
        }
    }
    %%HTTP_GLOBALS%%
}
`, "lua", "ngx_http_set_misc_module")
	p.Do(t, "GET /t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	// the timers' last line, from both servers.
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(p.Nginx.ErrorLog(), "set_decode_base64") && strings.Contains(p.Gresty.ErrorLog(), "set_decode_base64") {
			break
		}
	}
	re := regexp.MustCompile(`\[(warn|error|alert)\] \d+#\d+: (?:\*\d+ )?(.*context: ngx\.timer.*)`)
	port := regexp.MustCompile(`127\.0\.0\.1:\d+`)
	lines := func(s string) string {
		var out []string
		for _, m := range re.FindAllStringSubmatch(s, -1) {
			out = append(out, m[1]+" "+port.ReplaceAllString(m[2], "ADDR"))
		}
		return strings.Join(out, "\n")
	}
	if a, b := lines(p.Nginx.ErrorLog()), lines(p.Gresty.ErrorLog()); a != b || !strings.Contains(a, "unescaped: a b") {
		t.Errorf("timer lines differ\nnginx:\n%s\ngresty:\n%s", a, b)
	}
}
