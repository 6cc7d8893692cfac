package http_test

import (
	"testing"

	"gresty/internal/difftest"
)

// $arg_NAME compared with nginx: the first "name=" (any case) counts, a
// name without "=" is not the argument, and a name inside another
// argument's value is not either.
func TestArgVariablesMatchNginx(t *testing.T) {
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { return 200 "[$arg_foo] [$arg_a_b] [${arg_foo}x]\n"; }
    }
}
`)
	for _, q := range []string{
		"", "?foo=1", "?foo", "?foo&foo=2", "?FOO=3", "?x=foo=4", "?xfoo=5&foo=6", "?foo=", "?foo=7&foo=8",
		"?a_b=9", "?a=1&&foo=10", "?foo=11&", "?&foo=12",
	} {
		p.Check(t, q, "GET /"+q+" HTTP/1.0\r\nHost: localhost\r\n\r\n")
	}
}
