package index_test

import (
	"strings"
	"testing"

	"gresty/http/modules/static/statictest"
)

const indexConf = `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        root ROOT;
        port_in_redirect off;

        location /idx/ {
            index first.html second.html;
        }
        location /second/ {
            alias ROOT/idx/;
            index nope.html second.html;
        }
        location /twodirectives/ {
            alias ROOT/idx/;
            index nope.html;
            index second.html;
        }
        location /absolute/ {
            alias ROOT/idx/;
            index nope.html /a.txt;
        }
        location /absmissing/ {
            alias ROOT/idx/;
            index /missing.txt;
        }
        location /var/ {
            alias ROOT/idx/;
            index $arg_i second.html;
        }
        location /varabs/ {
            alias ROOT/idx/;
            index $arg_i;
        }
        location /aliasnoslash/ {
            alias ROOT/idx;
            index second.html;
        }
        location /nolog/ {
            alias ROOT/;
            log_not_found off;
        }
        location /regex {
            location ~ ^/regex(/.*)$ {
                alias ROOT$1;
            }
        }
    }
}
`

func TestIndexDifferential(t *testing.T) {
	root := statictest.Fixture(t)
	p := statictest.StartPair(t, strings.ReplaceAll(indexConf, "ROOT", root))
	get, method := statictest.Get, statictest.Method
	reqs := []statictest.Request{
		{Name: "default index", Raw: get("/dir/")},
		{Name: "default index args", Raw: get("/dir/?a=1")},
		{Name: "default index head", Raw: method("HEAD", "/dir/")},
		{Name: "default index post", Raw: method("POST", "/dir/", "Content-Length: 2") + "ab"},
		{Name: "default index put", Raw: method("PUT", "/dir/", "Content-Length: 0")},
		{Name: "no index file", Raw: get("/noindex/")},
		{Name: "missing dir", Raw: get("/nodir/")},
		{Name: "missing dir nolog", Raw: get("/nolog/nodir/")},
		{Name: "file as dir", Raw: get("/a.txt/")},
		{Name: "first of two", Raw: get("/idx/")},
		{Name: "second of two", Raw: get("/second/")},
		{Name: "directives add up", Raw: get("/twodirectives/")},
		{Name: "absolute fallback", Raw: get("/absolute/")},
		{Name: "absolute fallback args", Raw: get("/absolute/?q=z")},
		{Name: "absolute missing", Raw: get("/absmissing/")},
		{Name: "variable", Raw: get("/var/?i=first.html")},
		{Name: "variable missing", Raw: get("/var/?i=none.html")},
		{Name: "variable empty", Raw: get("/var/")},
		{Name: "variable absolute", Raw: get("/varabs/?i=/a.txt")},
		{Name: "variable loops", Raw: get("/varabs/")},
		{Name: "alias without slash", Raw: get("/aliasnoslash/")},
		{Name: "nested regex alias", Raw: get("/regex/dir/")},
		{Name: "symlinked dir", Raw: get("/linkdir/")},
		{Name: "empty dir", Raw: get("/emptydir/")},
	}
	statictest.Run(t, p, reqs)
}
