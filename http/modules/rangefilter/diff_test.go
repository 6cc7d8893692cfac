package rangefilter_test

import (
	"strings"
	"testing"

	"gresty/http/modules/static/statictest"
)

const rangeConf = `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        root ROOT;
        port_in_redirect off;
        sendfile on;

        location /max1/ {
            alias ROOT/;
            max_ranges 1;
        }
        location /max0/ {
            alias ROOT/;
            max_ranges 0;
        }
        location /max2/ {
            alias ROOT/;
            max_ranges 2;
        }
        location /nosf/ {
            alias ROOT/;
            sendfile off;
        }
        location /noetag/ {
            alias ROOT/;
            etag off;
        }
        location /list/ {
            autoindex on;
        }
        location /err/ {
            alias ROOT/;
            error_page 404 /page.html;
        }
    }
}
`

// The fixture's mtime and the ETag of a.txt (12 bytes).
const (
	lm   = "Thu, 04 Mar 2021 05:06:07 GMT"
	etag = `"60406b9f-c"`
)

func TestRangeDifferential(t *testing.T) {
	root := statictest.Fixture(t)
	p := statictest.StartPair(t, strings.ReplaceAll(rangeConf, "ROOT", root))
	get, method := statictest.Get, statictest.Method
	rg := func(v string) string { return "Range: " + v }
	reqs := []statictest.Request{
		{Name: "single", Raw: get("/a.txt", rg("bytes=0-3"))},
		{Name: "single head", Raw: method("HEAD", "/a.txt", rg("bytes=0-3"))},
		{Name: "first byte", Raw: get("/a.txt", rg("bytes=0-0"))},
		{Name: "last byte", Raw: get("/a.txt", rg("bytes=11-11"))},
		{Name: "open", Raw: get("/a.txt", rg("bytes=5-"))},
		{Name: "open from zero", Raw: get("/a.txt", rg("bytes=0-"))},
		{Name: "suffix", Raw: get("/a.txt", rg("bytes=-5"))},
		{Name: "suffix longer than body", Raw: get("/a.txt", rg("bytes=-50"))},
		{Name: "suffix zero", Raw: get("/a.txt", rg("bytes=-0"))},
		{Name: "end past body", Raw: get("/a.txt", rg("bytes=4-100"))},
		{Name: "start past body", Raw: get("/a.txt", rg("bytes=12-20"))},
		{Name: "start past body head", Raw: method("HEAD", "/a.txt", rg("bytes=50-60"))},
		{Name: "reversed", Raw: get("/a.txt", rg("bytes=5-2"))},
		{Name: "reversed from zero", Raw: get("/a.txt", rg("bytes=0-x"))},
		{Name: "garbage", Raw: get("/a.txt", rg("bytes=abc"))},
		{Name: "trailing garbage", Raw: get("/a.txt", rg("bytes=1-2x"))},
		{Name: "spaces", Raw: get("/a.txt", rg("bytes= 1 - 2 , 4 - 5"))},
		{Name: "uppercase unit", Raw: get("/a.txt", rg("BYTES=1-2"))},
		{Name: "other unit", Raw: get("/a.txt", rg("items=1-2"))},
		{Name: "unit only", Raw: get("/a.txt", rg("bytes="))},
		{Name: "overflow", Raw: get("/a.txt", rg("bytes=0-99999999999999999999"))},
		{Name: "overflow start", Raw: get("/a.txt", rg("bytes=99999999999999999999-"))},
		{Name: "multipart", Raw: get("/a.txt", rg("bytes=0-3,5-6"))},
		{Name: "multipart head", Raw: method("HEAD", "/a.txt", rg("bytes=0-1,3-4"))},
		{Name: "multipart suffix and open", Raw: get("/a.txt", rg("bytes=-2,0-1,8-"))},
		{Name: "multipart overlapping", Raw: get("/a.txt", rg("bytes=0-5,3-8"))},
		{Name: "multipart too much", Raw: get("/a.txt", rg("bytes=0-6,3-8"))},
		{Name: "multipart one unsatisfiable", Raw: get("/a.txt", rg("bytes=0-1,40-50"))},
		{Name: "multipart all unsatisfiable", Raw: get("/a.txt", rg("bytes=30-31,40-50"))},
		{Name: "multipart empty part", Raw: get("/a.txt", rg("bytes=0-1,,3-4"))},
		{Name: "multipart trailing comma", Raw: get("/a.txt", rg("bytes=0-1,"))},
		{Name: "multipart html type", Raw: get("/page.html", rg("bytes=0-1,2-3"))},
		{Name: "multipart no type", Raw: get("/noext", rg("bytes=0-1,2-3"))},
		{Name: "empty file", Raw: get("/empty.txt", rg("bytes=0-0"))},
		{Name: "empty file suffix", Raw: get("/empty.txt", rg("bytes=-1"))},
		{Name: "big single sendfile", Raw: get("/big.bin", rg("bytes=1000-200000"))},
		{Name: "big multipart sendfile", Raw: get("/big.bin", rg("bytes=0-9,100000-100099,-10"))},
		{Name: "big single read", Raw: get("/nosf/big.bin", rg("bytes=1000-200000"))},
		{Name: "big multipart read", Raw: get("/nosf/big.bin", rg("bytes=0-9,100000-100099,-10"))},
		{Name: "mid multipart", Raw: get("/mid.bin", rg("bytes=1-2,30000-30010"))},
		{Name: "max_ranges 1 one", Raw: get("/max1/a.txt", rg("bytes=1-2"))},
		{Name: "max_ranges 1 two", Raw: get("/max1/a.txt", rg("bytes=1-2,4-5"))},
		{Name: "max_ranges 2 three", Raw: get("/max2/a.txt", rg("bytes=1-2,4-5,7-8"))},
		{Name: "max_ranges 2 two", Raw: get("/max2/a.txt", rg("bytes=1-2,4-5"))},
		{Name: "max_ranges 0", Raw: get("/max0/a.txt", rg("bytes=1-2"))},
		{Name: "max_ranges 0 plain", Raw: get("/max0/a.txt")},
		{Name: "if-range etag", Raw: get("/a.txt", rg("bytes=1-2"), "If-Range: "+etag)},
		{Name: "if-range other etag", Raw: get("/a.txt", rg("bytes=1-2"), `If-Range: "nope"`)},
		{Name: "if-range weak etag", Raw: get("/a.txt", rg("bytes=1-2"), "If-Range: W/"+etag)},
		{Name: "if-range etag off", Raw: get("/noetag/a.txt", rg("bytes=1-2"), "If-Range: "+etag)},
		{Name: "if-range date", Raw: get("/a.txt", rg("bytes=1-2"), "If-Range: "+lm)},
		{Name: "if-range other date", Raw: get("/a.txt", rg("bytes=1-2"), "If-Range: Thu, 04 Mar 2021 05:06:08 GMT")},
		{Name: "if-range garbage", Raw: get("/a.txt", rg("bytes=1-2"), "If-Range: whenever")},
		{Name: "if-range without range", Raw: get("/a.txt", "If-Range: "+etag)},
		{Name: "range and ims", Raw: get("/a.txt", rg("bytes=1-2"), "If-Modified-Since: "+lm)},
		{Name: "range and inm mismatch", Raw: get("/a.txt", rg("bytes=1-2"), `If-None-Match: "x"`)},
		{Name: "range http10", Raw: "GET /a.txt HTTP/1.0\r\nRange: bytes=1-2\r\n\r\n"},
		{Name: "range on listing", Raw: get("/list/", rg("bytes=0-10"))},
		{Name: "range on error page", Raw: get("/err/missing", rg("bytes=0-1"))},
		{Name: "range on 404", Raw: get("/missing", rg("bytes=0-1"))},
		{Name: "range on dir redirect", Raw: get("/dir", rg("bytes=0-1"))},
		{Name: "range on index", Raw: get("/dir/", rg("bytes=1-3"))},
	}
	statictest.Run(t, p, reqs)
}
