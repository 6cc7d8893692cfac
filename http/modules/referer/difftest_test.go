package referer_test

import (
	"strings"
	"testing"

	"gresty/internal/difftest"
)

const refererConf = `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost *.wild.test .dot.test www.tail.* ~^re[0-9]+\.test$ ~(?<cap>Upper)\.test;

        valid_referers none server_names;
        location / { return 200 "[$invalid_referer]"; }

        location /exact { valid_referers example.org www.example.org/uri; return 200 "[$invalid_referer]"; }
        location /blocked { valid_referers blocked example.org; return 200 "[$invalid_referer]"; }
        location /none { valid_referers none example.org; return 200 "[$invalid_referer]"; }
        location /wild {
            valid_referers *.example.com .example.net www.example.* *.deep.example.com/x mail.example.*/y;
            return 200 "[$invalid_referer]";
        }
        location /regex { valid_referers ~^www\.[a-z]+\.org/ok ~(?-i)CaSe; return 200 "[$invalid_referer]"; }
        location /mixed {
            valid_referers example.org ~regexonly;
            location /mixed/nested {
                # lists no regex: keeps the enclosing one, as nginx does
                valid_referers other.org;
                return 200 "[$invalid_referer]";
            }
            location /mixed/inherit { return 200 "[$invalid_referer]"; }
            return 200 "[$invalid_referer]";
        }
        location /sn {
            valid_referers server_names;
            return 200 "[$invalid_referer]";
        }
        location /if {
            valid_referers example.org;
            if ($invalid_referer) { return 403; }
            return 200 "ok";
        }
        location /set {
            valid_referers example.org;
            set $invalid_referer "changed";
            return 200 "[$invalid_referer]";
        }
        location /long { valid_referers ~.*; return 200 "[$invalid_referer]"; }
        location /empty {
            valid_referers /only;
            return 200 "[$invalid_referer]";
        }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name other;
        location / { return 200 "[$invalid_referer]"; }
        location /sn { valid_referers server_names; return 200 "[$invalid_referer]"; }
    }
}
`

func TestValidReferersMatchesNginx(t *testing.T) {
	p := difftest.Start(t, refererConf)
	long := strings.Repeat("a", 256)
	cases := []struct{ uri, host, ref string }{
		{"/", "localhost", ""},
		{"/", "localhost", "http://localhost/"},
		{"/", "localhost", "http://LocalHost:8080/x"},
		{"/", "localhost", "http://www.wild.test/"},
		{"/", "localhost", "http://wild.test/"},
		{"/", "localhost", "http://dot.test"},
		{"/", "localhost", "http://a.b.dot.test"},
		{"/", "localhost", "http://www.tail.org/"},
		{"/", "localhost", "http://www.tail/"},
		{"/", "localhost", "http://re42.test/"},
		{"/", "localhost", "http://rex.test/"},
		{"/", "localhost", "http://upper.test/"},
		{"/", "localhost", "localhost"},
		{"/", "other", "http://other/"},
		{"/sn", "other", "http://other/"},
		{"/sn", "other", "http://localhost/"},
		{"/sn", "other", "http:///abcd"},
		{"/sn", "localhost", "http:///abcd"},
		{"/exact", "localhost", "http://example.org"},
		{"/exact", "localhost", "HTTP://EXAMPLE.ORG/anything"},
		{"/exact", "localhost", "hTtPs://example.org:443/"},
		{"/exact", "localhost", "http://www.example.org/uri"},
		{"/exact", "localhost", "http://www.example.org:1/urix"},
		{"/exact", "localhost", "http://www.example.org/URI"},
		{"/exact", "localhost", "http://www.example.org/ur"},
		{"/exact", "localhost", "http://www.example.org"},
		{"/exact", "localhost", "http://www.example.org:80"},
		{"/exact", "localhost", "http://sub.example.org/"},
		{"/exact", "localhost", "ftp://example.org/"},
		{"/exact", "localhost", "http://i.ru"},
		{"/exact", "localhost", ""},
		{"/blocked", "localhost", "whatever"},
		{"/blocked", "localhost", "http://x"},
		{"/blocked", "localhost", "http://other.org/"},
		{"/blocked", "localhost", ""},
		{"/none", "localhost", ""},
		{"/none", "localhost", "-"},
		{"/wild", "localhost", "http://a.example.com/"},
		{"/wild", "localhost", "http://a.b.example.com/"},
		{"/wild", "localhost", "http://example.com/"},
		{"/wild", "localhost", "http://example.net/"},
		{"/wild", "localhost", "http://x.example.net/"},
		{"/wild", "localhost", "http://www.example.co.uk/"},
		{"/wild", "localhost", "http://www.example/"},
		{"/wild", "localhost", "http://a.deep.example.com/x/y"},
		{"/wild", "localhost", "http://a.deep.example.com/y"},
		{"/wild", "localhost", "http://deep.example.com/y"},
		{"/wild", "localhost", "http://mail.example.org/y"},
		{"/wild", "localhost", "http://mail.example.org/z"},
		{"/regex", "localhost", "http://www.example.org/ok"},
		{"/regex", "localhost", "https://WWW.EXAMPLE.ORG/OK"},
		{"/regex", "localhost", "http://www.example.org/no"},
		{"/regex", "localhost", "http://x/CaSe"},
		{"/regex", "localhost", "http://x/case"},
		{"/mixed", "localhost", "http://example.org/"},
		{"/mixed", "localhost", "http://regexonly.org/"},
		{"/mixed/nested", "localhost", "http://other.org/"},
		{"/mixed/nested", "localhost", "http://example.org/"},
		{"/mixed/nested", "localhost", "http://regexonly.org/"},
		{"/mixed/inherit", "localhost", "http://example.org/"},
		{"/mixed/inherit", "localhost", "http://regexonly.org/"},
		{"/if", "localhost", "http://example.org/"},
		{"/if", "localhost", "http://example.com/"},
		{"/set", "localhost", "http://example.com/"},
		{"/long", "localhost", "http://" + long},
		{"/long", "localhost", "http://" + long + "a"},
		{"/long", "localhost", "http://" + long[:255] + "/"},
		{"/empty", "localhost", "http:///only/this"},
		{"/empty", "localhost", "http:///other"},
		{"/empty", "localhost", "http://x/only"},
	}
	for _, c := range cases {
		raw := "GET " + c.uri + " HTTP/1.0\r\nHost: " + c.host + "\r\n"
		if c.ref != "" {
			raw += "Referer: " + c.ref + "\r\n"
		}
		p.Check(t, c.uri+" "+c.ref, raw+"\r\n")
	}
	// the first of two Referer headers counts, as in nginx 1.22
	p.Check(t, "two referers", "GET /exact HTTP/1.0\r\nHost: localhost\r\nReferer: http://bad/\r\nReferer: http://example.org/\r\n\r\n")
	p.Check(t, "two referers reversed", "GET /exact HTTP/1.0\r\nHost: localhost\r\nReferer: http://example.org/\r\nReferer: http://bad/\r\n\r\n")
}
