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

// $cookie_NAME compared with nginx 1.22: the name without case, spaces
// around "=", a value that runs to ";" past a ",", a name that only
// starts another, several Cookie headers.
func TestCookieVariablesMatchNginx(t *testing.T) {
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { return 200 "[$cookie_uid] [$cookie_a]\n"; }
    }
}
`)
	for _, c := range []string{
		"uid=1", "UID=2", "uid = 3", "uid=4, a=5", "a=6,uid=7", "uidx=8; uid=9", "uid;x=1;uid=10",
		"x=uid=11", "a=1; uid=12; a=2", "uid=", "uid", "  uid=13", "a=14;uid=15\r\nCookie: uid=16",
		"b=1\r\nCookie: uid=17; a=18",
	} {
		p.Check(t, c, "GET / HTTP/1.0\r\nHost: localhost\r\nCookie: "+c+"\r\n\r\n")
	}
}
