package autoindex_test

import (
	"strings"
	"testing"

	"gresty/http/modules/static/statictest"
)

const autoindexConf = `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        root ROOT;
        port_in_redirect off;
        autoindex on;

        location /inexact/ {
            alias ROOT/list/;
            autoindex_exact_size off;
        }
        location /local/ {
            alias ROOT/list/;
            autoindex_localtime on;
        }
        location /json/ {
            alias ROOT/list/;
            autoindex_format json;
        }
        location /jsonp/ {
            alias ROOT/list/;
            autoindex_format jsonp;
        }
        location /xml/ {
            alias ROOT/list/;
            autoindex_format xml;
        }
        location /off/ {
            alias ROOT/list/;
            autoindex off;
        }
        location /aliasnoslash/ {
            alias ROOT/list;
        }
        location /sp/ {
            alias ROOT/;
        }
    }
}
`

func TestAutoindexDifferential(t *testing.T) {
	root := statictest.Fixture(t)
	p := statictest.StartPair(t, strings.ReplaceAll(autoindexConf, "ROOT", root))
	get, method := statictest.Get, statictest.Method
	reqs := []statictest.Request{
		{Name: "html", Raw: get("/list/")},
		{Name: "html root", Raw: get("/")},
		{Name: "html head", Raw: method("HEAD", "/list/")},
		{Name: "html http10", Raw: "GET /list/ HTTP/1.0\r\n\r\n"},
		{Name: "html escaped uri", Raw: get("/sp%20dir/")},
		{Name: "html uri with markup", Raw: get("/list/%3Cb%3E/")},
		{Name: "post", Raw: method("POST", "/list/", "Content-Length: 0")},
		{Name: "index wins", Raw: get("/dir/")},
		{Name: "empty dir", Raw: get("/emptydir/")},
		{Name: "missing dir", Raw: get("/nodir/")},
		{Name: "inexact sizes", Raw: get("/inexact/")},
		{Name: "localtime", Raw: get("/local/")},
		{Name: "json", Raw: get("/json/")},
		{Name: "json head", Raw: method("HEAD", "/json/")},
		{Name: "jsonp without callback", Raw: get("/jsonp/")},
		{Name: "jsonp callback", Raw: get("/jsonp/?callback=cb_1.x")},
		{Name: "jsonp callback among args", Raw: get("/jsonp/?a=1&callback=go&b=2")},
		{Name: "jsonp empty callback", Raw: get("/jsonp/?callback=")},
		{Name: "jsonp invalid callback", Raw: get("/jsonp/?callback=a(b)")},
		{Name: "jsonp long callback", Raw: get("/jsonp/?callback=" + strings.Repeat("c", 129))},
		{Name: "jsonp 128 callback", Raw: get("/jsonp/?callback=" + strings.Repeat("c", 128))},
		{Name: "xml", Raw: get("/xml/")},
		{Name: "off", Raw: get("/off/")},
		{Name: "alias without slash", Raw: get("/aliasnoslash/")},
		{Name: "symlinked dir", Raw: get("/list/todir/")},
	}
	statictest.Run(t, p, reqs)
}
