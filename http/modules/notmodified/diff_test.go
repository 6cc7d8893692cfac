package notmodified_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gresty/http/modules/static/statictest"
	"gresty/internal/nginxtest"
)

const condConf = `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        root ROOT;
        port_in_redirect off;

        location /before/ {
            alias ROOT/;
            if_modified_since before;
        }
        location /off/ {
            alias ROOT/;
            if_modified_since off;
        }
        location /noetag/ {
            alias ROOT/;
            etag off;
        }
        location /errpage/ {
            alias ROOT/;
            error_page 412 /page.html;
        }
        location /errcode/ {
            alias ROOT/;
            error_page 412 =200 /page.html;
        }
    }
}
`

// The fixture's mtime and the ETag of a.txt (12 bytes).
const (
	lm      = "Thu, 04 Mar 2021 05:06:07 GMT"
	etag    = `"60406b9f-c"`
	earlier = "Thu, 04 Mar 2021 05:06:06 GMT"
	later   = "Thu, 04 Mar 2021 05:06:08 GMT"
)

func TestNotModifiedDifferential(t *testing.T) {
	root := statictest.Fixture(t)
	p := statictest.StartPair(t, strings.ReplaceAll(condConf, "ROOT", root))
	get, method := statictest.Get, statictest.Method
	ims := func(v string) string { return "If-Modified-Since: " + v }
	ius := func(v string) string { return "If-Unmodified-Since: " + v }
	inm := func(v string) string { return "If-None-Match: " + v }
	im := func(v string) string { return "If-Match: " + v }
	reqs := []statictest.Request{
		{Name: "ims exact", Raw: get("/a.txt", ims(lm))},
		{Name: "ims exact head", Raw: method("HEAD", "/a.txt", ims(lm))},
		{Name: "ims later", Raw: get("/a.txt", ims(later))},
		{Name: "ims earlier", Raw: get("/a.txt", ims(earlier))},
		{Name: "ims rfc850", Raw: get("/a.txt", ims("Thursday, 04-Mar-21 05:06:07 GMT"))},
		{Name: "ims asctime", Raw: get("/a.txt", ims("Thu Mar  4 05:06:07 2021"))},
		{Name: "ims length suffix", Raw: get("/a.txt", ims(lm+"; length=12"))},
		{Name: "ims garbage", Raw: get("/a.txt", ims("yesterday"))},
		{Name: "ims bad day", Raw: get("/a.txt", ims("Thu, 31 Feb 2021 05:06:07 GMT"))},
		{Name: "ims before later", Raw: get("/before/a.txt", ims(later))},
		{Name: "ims before earlier", Raw: get("/before/a.txt", ims(earlier))},
		{Name: "ims before exact", Raw: get("/before/a.txt", ims(lm))},
		{Name: "ims off", Raw: get("/off/a.txt", ims(lm))},
		{Name: "ims on dir index", Raw: get("/dir/", ims(lm))},
		{Name: "ims on missing", Raw: get("/missing", ims(lm))},
		{Name: "ims on autoindex-less dir", Raw: get("/noindex/", ims(lm))},
		{Name: "inm match", Raw: get("/a.txt", inm(etag))},
		{Name: "inm weak", Raw: get("/a.txt", inm("W/"+etag))},
		{Name: "inm list", Raw: get("/a.txt", inm(`"x", `+etag+` , "y"`))},
		{Name: "inm list weak", Raw: get("/a.txt", inm(`W/"x",W/`+etag))},
		{Name: "inm star", Raw: get("/a.txt", inm("*"))},
		{Name: "inm mismatch", Raw: get("/a.txt", inm(`"nope"`))},
		{Name: "inm prefix only", Raw: get("/a.txt", inm(etag[:len(etag)-1]))},
		{Name: "inm trailing garbage", Raw: get("/a.txt", inm(etag+"x"))},
		{Name: "inm and ims both", Raw: get("/a.txt", inm(etag), ims(lm))},
		{Name: "inm match ims modified", Raw: get("/a.txt", inm(etag), ims(earlier))},
		{Name: "inm mismatch ims same", Raw: get("/a.txt", inm(`"z"`), ims(lm))},
		{Name: "inm etag off", Raw: get("/noetag/a.txt", inm(etag))},
		{Name: "inm star etag off", Raw: get("/noetag/a.txt", inm("*"))},
		{Name: "ius later", Raw: get("/a.txt", ius(later))},
		{Name: "ius exact", Raw: get("/a.txt", ius(lm))},
		{Name: "ius earlier", Raw: get("/a.txt", ius(earlier))},
		{Name: "ius garbage", Raw: get("/a.txt", ius("soon"))},
		{Name: "ius head", Raw: method("HEAD", "/a.txt", ius(earlier))},
		{Name: "im match", Raw: get("/a.txt", im(etag))},
		{Name: "im star", Raw: get("/a.txt", im("*"))},
		{Name: "im list", Raw: get("/a.txt", im(`"a",`+etag))},
		{Name: "im weak", Raw: get("/a.txt", im("W/"+etag))},
		{Name: "im mismatch", Raw: get("/a.txt", im(`"other"`))},
		{Name: "im etag off", Raw: get("/noetag/a.txt", im(etag))},
		{Name: "im with ims", Raw: get("/a.txt", im(`"other"`), ims(lm))},
		{Name: "412 error_page", Raw: get("/errpage/a.txt", ius(earlier))},
		{Name: "412 error_page =200", Raw: get("/errcode/a.txt", ius(earlier))},
		{Name: "304 big file", Raw: get("/big.bin", ims(lm))},
		{Name: "http10 ims", Raw: "GET /a.txt HTTP/1.0\r\nIf-Modified-Since: " + lm + "\r\n\r\n"},
	}
	statictest.Run(t, p, reqs)

	// A 412 from the filter closes the connection, as nginx's
	// filter-finalized requests do; a 304 keeps it.
	for _, tc := range []struct{ name, first string }{
		{"412 closes", "GET /a.txt HTTP/1.1\r\nHost: x\r\n" + ius(earlier) + "\r\n\r\n"},
		{"304 keeps", "GET /a.txt HTTP/1.1\r\nHost: x\r\n" + ims(lm) + "\r\n\r\n"},
	} {
		raw := tc.first + "GET /page.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
		var got [2]string
		for i, addr := range []string{p.Nginx.Addr, p.Gresty.Addr} {
			b, err := nginxtest.Exchange(addr, []byte(raw), 5*time.Second)
			if err != nil && len(b) == 0 {
				t.Fatalf("%s: %s: %v", tc.name, addr, err)
			}
			got[i] = fmt.Sprint(nginxtest.Statuses(b))
		}
		if got[0] != got[1] {
			t.Errorf("%s: nginx answered %v, gresty %v", tc.name, got[0], got[1])
		}
	}
}
