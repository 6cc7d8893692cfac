package ssi_test

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// splitDocs are documents a backend sends in pieces, so that the
// commands in them are cut at every point. None has "<" right after a
// cut inside "<!--": nginx drops bytes held back at a cut then, which
// only identical cuts on both sides would reproduce. The ones proxied
// without buffering end in text: nginx stalls when such a document ends
// with a command.
var splitDocs = map[string]string{
	"cmd": `a<!--#echo var="arg_v" default='d' -->b<!--x-->c<!-f<!g<h`,
	"cmds": `a<!--#echo var="arg_v" -->b<!--#if expr="$arg_v = /^(x+)$/" -->[<!--#echo var="1" -->]` +
		`<!--#else -->no<!--#endif -->c<!-- plain -->d<!--x-->e<!-f<!g<h`,
	"mixed": `<!--#include virtual="/a.html" -->|<!--#set var="s" value='q\'t' --><!--#echo var="s" -->|` +
		`<!--#bogus x="1" -->|<!--#echo var=- -->|<!--#block name="b" -->B<!--#echo var="uri" --><!--#endblock -->` +
		`!<!--#echo var="arg_v" encoding="url" -->.`,
	// nginx stalls on a stub include in a document proxied without
	// buffering (the included empty response never lets the rest out):
	// this one is cut in buffered mode only.
	"stub": `<!--#block name="b" -->B<!--#echo var="uri" --><!--#endblock -->` +
		`<!--#include virtual="/missing.html" stub="b" -->!<!--#include virtual="/empty.html" stub="b" -->?`,
	"waits": `A<!--#include virtual="/slow/x" wait="yes" -->B<!--#include virtual="/slow/y" set="v" -->` +
		`<!--#echo var="v" -->C<!--#include virtual="/a.html" -->D`,
}

// cutBackend serves GET /cut/NAME/at:N (NAME cut once, at N) and
// /cut/NAME/every:K (cut every K bytes), chunked, each piece written on
// its own after a pause so that a proxy with buffering off gets it as a
// separate read.
func cutBackend(t *testing.T) string {
	t.Helper()
	return nginxtest.Serve(t, serveCut)
}

func serveCut(c net.Conn) {
	defer c.Close()
	path, ok := readHead(c)
	if !ok {
		return
	}
	path, _, _ = strings.Cut(path, "?")
	f := strings.Split(strings.TrimPrefix(path, "/cut/"), "/")
	if len(f) != 2 {
		return
	}
	doc, ok := splitDocs[f[0]]
	if !ok {
		return
	}
	var cuts []int
	kind, arg, _ := strings.Cut(f[1], ":")
	n, _ := strconv.Atoi(arg)
	switch {
	case kind == "at" && n > 0 && n < len(doc):
		cuts = []int{n}
	case kind == "every" && n > 0:
		for i := n; i < len(doc); i += n {
			cuts = append(cuts, i)
		}
	}
	fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
	prev := 0
	for _, cut := range append(cuts, len(doc)) {
		fmt.Fprintf(c, "%x\r\n%s\r\n", cut-prev, doc[prev:cut])
		prev = cut
		time.Sleep(time.Millisecond)
	}
	fmt.Fprintf(c, "0\r\n\r\n")
}

const splitConf = `
http {
    types { text/html html; }
    default_type text/html;

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
        root DIR;

        location / {
            ssi on;
        }
        location /cut/ {
            ssi on;
            proxy_pass http://CUT;
            proxy_buffering off;
        }
        location /buffered/cut/ {
            ssi on;
            proxy_pass http://CUT/cut/;
        }
        location /slow/ {
            proxy_pass http://SLOW;
        }
    }
}
`

// TestSplitCommandsMatchNginx has both servers parse documents an
// upstream sends in pieces cut at every offset: the result must not
// depend on where the pieces end.
func TestSplitCommandsMatchNginx(t *testing.T) {
	dir := writeDocs(t)
	p := difftest.Start(t, strings.NewReplacer("DIR", dir, "CUT", cutBackend(t), "SLOW", slowBackend(t)).Replace(splitConf))
	var uris []string
	for i := 1; i < len(splitDocs["cmd"]); i++ {
		uris = append(uris, fmt.Sprintf("/cut/cmd/at:%d?v=xx", i))
	}
	for _, k := range []int{2, 3, 8} {
		uris = append(uris, fmt.Sprintf("/cut/mixed/every:%d?v=<%%>", k))
	}
	for _, k := range []int{4, 16} {
		uris = append(uris, fmt.Sprintf("/cut/waits/every:%d", k))
	}
	uris = append(uris, "/buffered/cut/mixed/every:3", "/buffered/cut/waits/every:5", "/cut/cmds/every:1?v=xx", "/cut/cmds/every:2?v=y",
		"/buffered/cut/stub/every:1", "/buffered/cut/stub/every:6")
	for _, u := range uris {
		check(t, p, u, get(u))
	}
}

// TestIncludeFirstInWholeBodyMatchesNginx proxies a document that opens
// with an include and arrives whole in one read, so that the upstream is
// done while the include still holds the response back: the rest must
// follow once the include is out, buffered or not, whatever the framing.
func TestIncludeFirstInWholeBodyMatchesNginx(t *testing.T) {
	doc := `<!--#include virtual="/a.html" -->|rest`
	whole := nginxtest.Serve(t, func(c net.Conn) {
		defer c.Close()
		path, ok := readHead(c)
		if !ok {
			return
		}
		if strings.HasSuffix(path, "/chunked") {
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(doc), doc)
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(doc), doc)
	})
	dir := writeDocs(t)
	p := difftest.Start(t, strings.NewReplacer("DIR", dir, "CUT", whole, "SLOW", slowBackend(t)).Replace(splitConf))
	for _, u := range []string{"/cut/length", "/cut/chunked", "/buffered/cut/length", "/buffered/cut/chunked"} {
		check(t, p, u, get(u))
	}
}
