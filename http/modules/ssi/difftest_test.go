package ssi_test

import (
	"bufio"
	"bytes"
	stdgzip "compress/gzip"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gresty/http/modules/traffictest"
	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// docs are the files both servers serve, by path under the document root.
var docs = map[string]string{
	"a.html":     "AAA",
	"b.txt":      "B<!--#echo var=\"uri\" -->B",
	"empty.html": "",
	"test.html":  "T",
	"sub/a.html": "SUBA",
	"sub/rel.html": `r[<!--#include virtual="a.html" -->]` +
		`[<!--#include file="../a.html" -->][<!--#include virtual="/a.html" -->]`,
	"nested1.html": `n1(<!--#include virtual="/nested2.html" -->)`,
	"nested2.html": `n2(<!--#include virtual="/a.html" --><!--#set var="deep" value="d$arg_q" -->)`,
	"args.html":    `<!--#echo var="args" default="noargs" -->`,
	"setter.html":  `<!--#set var="fromsub" value="set by $uri" -->`,

	"echo.html": `A<!--#echo var="arg_a" -->|<!--#echo var="ARG_A" default="dflt" -->|` +
		`<!--#echo var="nothere" -->|<!--#echo var="nothere" default="" -->|` +
		`<!--#echo var="nothere" default="d<&>" -->|<!--#echo var="arg_e" encoding="none" -->|` +
		`<!--#echo var="arg_e" encoding="url" -->|<!--#echo var="arg_e" -->|` +
		`<!--#echo var="arg_e" encoding="entity" -->|<!--#echo var="arg_e" encoding="bogus" -->|` +
		`<!--#echo var="uri" -->|<!--#echo var="arg_empty" default="x" -->Z`,

	"set.html": `<!--#set var="v" value="plain" --><!--#echo var="v" -->|` +
		`<!--#set var="V2" value="a$arg_a-${arg_a}b\$c\\d\e\"f" --><!--#echo var="v2" encoding="none" -->|` +
		`<!--#set var="v3" value="$nothere" --><!--#echo var="v3" default="empty" -->|` +
		`<!--#set var="v" value="again" --><!--#echo var="v" -->|` +
		`<!--#set var="bad" value="x$" -->|<!--#set var="bad" value="${arg_a" -->|` +
		`<!--#set var="bad" value="${}" -->|<!--#set var="bad" value="$-" -->|` +
		`<!--#set var="bad" value="${arg_a b}" -->|` +
		`<!--#set var="u" value="$uri$args" --><!--#echo var="u" -->|` +
		`<!--#set var="plain" value="no\vars\\here" --><!--#echo var="plain" encoding="none" -->|` +
		`<!--#config timefmt="%%|%Q|%n|%t|%" --><!--#echo var="date_gmt" encoding="none" -->|` +
		`<!--#config timefmt="" --><!--#echo var="date_local" -->|` +
		`<!--#config errmsg="[oops]" --><!--#bogus -->|` +
		`<!--#config timefmt="%Y" errmsg="E" --><!--#set var="y" value="$date_gmt" --><!--#echo var="y" -->|` +
		`<!--#set var="arg_a" value="shadow" --><!--#echo var="arg_a" -->|<!--#echo var="date_local" -->`,

	"errors.html": "1<!--#bogus -->" +
		"2<!--#echo -->" +
		"3<!--#echo var=\"a\" var=\"b\" -->" +
		"4<!--#echo foo=\"x\" -->" +
		"5<!--#echo var=\"a\"x -->" +
		"6<!--#echo var x=\"y\" -->" +
		"7<!--#echo var=x -->" +
		"8<!--#echo var- -->" +
		"9<!--#echooooooooooooooooooooooooooooooooooooooooo -->" +
		"10<!--#echo vaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaar=\"x\" -->" +
		"11<!--#echo var=\"a\" -x--> -->" +
		"12<!--#else -->" +
		"13<!--#endif -->" +
		"14<!--#echo a=\"1\" b=\"2\" c=\"3\" d=\"4\" e=\"5\" f=\"6\" g=\"7\" h=\"8\" i=\"9\" j=\"10\" k=\"11\" l=\"12\" m=\"13\" n=\"14\" o=\"15\" p=\"16\" q=\"17\" -->" +
		"15<!--#-->" +
		"16<!--#   echo   var = 'uri'   -->" +
		"17<!--#echo var=\"uri\"-->" +
		"18<!--#echo var=\"uri\" - ->" +
		"19<!--#echo var=\"uri\" --x -->" +
		"20<!--#echo var=\"uri\" ---->" +
		"21<!--#echo var=\"uri\" --->x-->" +
		"22<!--#echo var='a\\'b' default='\\'q\\'' -->" +
		"23<!--#config errmsg='' --><!--#bogus -->" +
		"24<!---#echo var=\"uri\" --><!- -><!--x--><<!--#echo var=\"uri\" -->" +
		"25<!--#echo var=\"uri\" --",

	"inc-errors.html": "1<!--#include -->" +
		"2<!--#include virtual=\"/a.html\" file=\"/a.html\" -->" +
		"3<!--#include virtual=\"/a.html\" set=\"x\" stub=\"y\" -->" +
		"4<!--#include file=\"/a.html\" wait=\"yes\" -->" +
		"5<!--#include virtual=\"/a.html\" wait=\"maybe\" -->" +
		"6<!--#include virtual=\"/../etc/passwd\" -->" +
		"7<!--#include virtual=\"/a.html\" stub=\"nope\" -->" +
		"8<!--#include virtual=\"/x/%2e%2e/a.html\" -->" +
		"9<!--#include virtual=\"?x\" -->" +
		"10<!--#include virtual=\"/a.html\" wait=\"YES\" -->" +
		"11<!--#include virtual=\"/a.html\" wait=\"No\" -->" +
		"12<!--#include virtual=\"/a.html\" bogus=\"x\" -->end",

	"if-errors.html": "1<!--#if expr=\"x\" --><!--#if expr=\"y\" -->nested<!--#endif -->" +
		"2<!--#if expr=\"$uri ~ x\" -->bad<!--#endif -->" +
		"3<!--#if expr=\"$uri = /abc\" -->bad<!--#endif -->" +
		"4<!--#if expr=\"$uri = /(/\" -->bad<!--#endif -->" +
		"5<!--#if -->x<!--#endif -->" +
		"6<!--#if expr=\"a\" --><!--#else --><!--#elif expr=\"b\" --><!--#endif -->" +
		"7<!--#if expr=\"a\" --><!--#else --><!--#else -->E<!--#endif -->" +
		"8<!--#else x=\"y\" -->" +
		"9<!--#if expr=\"$uri !\" -->x<!--#endif -->" +
		"10<!--#if expr=\"${uri\" -->x<!--#endif -->end",

	"inc.html": `1[<!--#include virtual="a.html" -->]` +
		`2[<!--#include virtual="/a.html?x=1" -->]` +
		`3[<!--#include file="a.html" -->]` +
		`4[<!--#include virtual="/nested1.html?q=Q" -->]` +
		`5[<!--#include virtual="/missing.html" -->]` +
		`6[<!--#include virtual="/proxy/a.html" -->]` +
		`7[<!--#include virtual="/args.html?q=$arg_q&r=\$x" -->]` +
		`8[<!--#include virtual="/args.html" -->]` +
		`9[<!--#include virtual="/a.html" wait="yes" -->]` +
		`10[<!--#include virtual="/a.html" wait="no" -->]` +
		`11[<!--#include virtual="/a.html" set="s" --><!--#echo var="s" -->]` +
		`12[<!--#include virtual="/missing.html" set="s2" --><!--#echo var="s2" default="nothing" -->]` +
		`13[<!--#include virtual="/tes%74.html" -->]` +
		`14[<!--#include virtual="/sub/rel.html" -->]` +
		`15[<!--#include virtual="/setter.html" wait="yes" --><!--#echo var="fromsub" -->]` +
		`16[<!--#include virtual="/proxy/a.html" set="p" --><!--#echo var="p" -->]` +
		`17[<!--#echo var="deep" default="none yet" -->]` +
		`18[<!--#include virtual="/b.txt" -->]` +
		`19[<!--#include virtual="/empty.html" -->]` +
		`20[<!--#include virtual="/local/inc.html" -->]` +
		`21[<!--#include virtual="/a.html" wait="yes" --><!--#include virtual="/a.html" wait="yes" -->]` +
		`22[<!--#include virtual="/ret204" -->]` +
		`23[<!--#include virtual="/a.html" set="S" --><!--#include virtual="/test.html" set="s" --><!--#echo var="s" -->]end`,

	"blocks.html": `<!--#block name="one" -->STUB1 <!--#echo var="arg_a" default="-" -->` +
		`<!--#if expr="$arg_a" -->has a<!--#else -->no a<!--#endif --><!--#endblock -->` +
		`<!--#block name="two" --><!--#endblock -->` +
		`<!--#block name="three" -->x<!--#bogus -->y<!--#endblock -->` +
		`1[<!--#include virtual="/missing.html" stub="one" -->]` +
		`2[<!--#include virtual="/a.html" stub="one" -->]` +
		`3[<!--#include virtual="/missing.html" stub="two" -->]` +
		`4[<!--#include virtual="/empty.html" stub="one" -->]` +
		`5[<!--#include virtual="/missing.html?a=sub" stub="one" -->]` +
		`6[<!--#include virtual="/ret204" stub="one" -->]` +
		`7[<!--#include virtual="/missing.html" stub="three" -->]` +
		`8[<!--#include virtual="/proxy/missing.html" stub="one" -->]` +
		`9[<!--#include virtual="/missing.html" stub="one" wait="yes" -->]end`,

	"if.html": `1<!--#if expr="$arg_a" -->A<!--#elif expr="$arg_b = yes" -->B` +
		`<!--#elif expr="$arg_c != no" -->C<!--#else -->E<!--#endif -->` +
		`2<!--#if expr="$arg_r = /^(ab+)(c)?$/" -->[<!--#echo var="1" -->|<!--#echo var="2" -->` +
		`|<!--#echo var="0" -->|<!--#echo var="3" default="n" -->]<!--#endif -->` +
		`3<!--#if expr="$arg_n = /(?<word>\w+)-(?<Num>\d+)/" --><!--#echo var="word" -->:<!--#echo var="num" --><!--#endif -->` +
		`4<!--#if expr="ABC = abc" -->lowered<!--#endif -->` +
		`5<!--#if expr="$arg_a = \/x" -->slash<!--#endif -->` +
		`6<!--#if expr="$arg_a != /x/" -->notx<!--#endif -->` +
		`7<!--#if expr='"q" = "q"' -->quotes<!--#endif -->` +
		`8<!--#if expr="$arg_a=$arg_b" -->same<!--#else -->differ<!--#endif -->` +
		`9<!--#if expr="$arg_a = /$arg_b/" -->re-var<!--#endif -->` +
		`10<!--#if expr="$arg_none" -->x<!--#else --><!--#include virtual="/a.html" --><!--#endif -->` +
		`11<!--#if expr="$arg_a" --><!--#block name="c" -->IF<!--#endblock --><!--#else -->` +
		`<!--#block name="c" -->ELSE<!--#endblock --><!--#endif -->[<!--#include virtual="/missing.html" stub="c" -->]` +
		`12<!--#if expr="" -->x<!--#endif -->` +
		`13<!--#if expr="$arg_a = /x/" --><!--#set var="m" value="$0" --><!--#endif --><!--#echo var="m" default="-" -->` +
		`14<!--#if expr="$arg_a" --><!--#if expr="$arg_b" -->AB<!--#else -->A<!--#endif -->tail<!--#endif -->` +
		`15<!--#if expr="$arg_r = /(b)(x)?/" --><!--#set var="1" value="one" --><!--#echo var="1" -->|<!--#echo var="2" default="unset" --><!--#endif -->end`,

	"lm.html":   "LM<!--#echo var=\"uri\" -->",
	"plain.txt": "P<!--#echo var=\"uri\" -->P",
	"long.html": `<!--#set var="v" value="0123456789" --><!--#echo var="v" -->` +
		`|<!--#set var="w" value="0123456789A" --><!--#echo var="w" default="none" -->` +
		`|<!--#set var="q" value="01234567\\9" --><!--#echo var="q" -->`,
	"silent.html": "s<!--#bogus -->s<!--#echo -->s<!--#echo var=\"uri\" -->s",
	"big.html":    strings.Repeat("x", 40000) + `<!--#echo var="uri" -->` + strings.Repeat("y", 30000) + "<!--#include virtual=\"/a.html\" -->z",
	"slow.html": `A<!--#include virtual="/slow/1" -->B<!--#include virtual="/slow/2" wait="yes" -->C` +
		`<!--#include virtual="/slow/3" set="v" -->D<!--#echo var="v" -->E<!--#include virtual="/slow/4" -->F`,
}

// log messages of interest: the level and the text between the
// connection number and nginx's request context. The " while ..." part
// nginx adds from the connection's current action is left out: gresty's
// core does not keep that action for SSI's messages.
var logMsg = regexp.MustCompile(`\[(emerg|alert|crit|error)\] \d+#\d+: (?:\*\d+ )?(.*?)(?: while [a-z ]+)?(?:, client: .*)?$`)

// pointers masks the addresses nginx prints in alerts.
var pointers = regexp.MustCompile(`[0-9A-F]{16}`)

func logMessages(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if m := logMsg.FindStringSubmatch(l); m != nil {
			out = append(out, m[1]+": "+pointers.ReplaceAllString(m[2], "P"))
		}
	}
	return out
}

// slowBackend answers every request with "SLOW" and the request's path
// after a pause, so that includes of it finish after the text around
// them has been parsed.
func slowBackend(t *testing.T) string {
	t.Helper()
	return nginxtest.Serve(t, func(c net.Conn) {
		defer c.Close()
		path, ok := readHead(c)
		if !ok {
			return
		}
		time.Sleep(30 * time.Millisecond)
		body := "SLOW" + path
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	})
}

// readHead reads a request head and returns its path.
func readHead(c net.Conn) (string, bool) {
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil {
		return "", false
	}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return "", false
		}
		if l == "\r\n" || l == "\n" {
			break
		}
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		return "", false
	}
	return f[1], true
}

const conf = `
http {
    types { text/html html; text/plain txt; }
    default_type application/octet-stream;
    etag on;

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
        root DIR;

        location / {
            ssi on;
        }
        location /local/ {
            alias DIR/;
        }
        location /proxy/ {
            proxy_pass http://127.0.0.1:%%PORT%%/local/;
        }
        location /slow/ {
            proxy_pass http://SLOW;
        }
        location = /ret204 {
            return 204;
        }
        location = /ret.html {
            ssi on;
            default_type text/html;
            return 200 'R<!--#echo var="uri" -->R<!--#include virtual="/a.html" -->';
        }
        location = /lm.html {
            ssi on;
            ssi_last_modified on;
        }
        location = /types.txt {
            ssi on;
            ssi_types text/plain;
            alias DIR/plain.txt;
        }
        location = /star.txt {
            ssi on;
            ssi_types *;
            alias DIR/plain.txt;
        }
        location = /long.html {
            ssi on;
            ssi_value_length 10;
        }
        location = /silent.html {
            ssi on;
            ssi_silent_errors on;
        }
        location = /sendfile/big.html {
            ssi on;
            sendfile on;
            alias DIR/big.html;
        }
        location = /nosendfile/big.html {
            ssi on;
            sendfile off;
            output_buffers 1 1k;
            alias DIR/big.html;
        }
        location = /off.html {
            ssi off;
            alias DIR/echo.html;
        }
        location = /proxied.html {
            ssi on;
            proxy_pass http://127.0.0.1:%%PORT%%/local/inc.html;
        }
        location /gz/ {
            ssi on;
            gzip on;
            gzip_min_length 1;
            sub_filter SUBA suba;
            add_header X-Gz on;
            alias DIR/;
        }
    }
}
`

// writeDocs writes docs under a new directory and returns it.
func writeDocs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range docs {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// check sends raw to both servers and compares the status, the headers
// difftest compares, the body and the error log messages the request
// caused.
func check(t *testing.T, p *difftest.Pair, name, raw string) {
	t.Helper()
	nlog0, glog0 := len(p.Nginx.ErrorLog()), len(p.Gresty.ErrorLog())
	fetch := func(server, addr string) *difftest.Response {
		b, _, err := traffictest.SendRaw(addr, raw, 5*time.Second)
		if err != nil && len(b) == 0 {
			t.Fatalf("%s: %s: %v", name, server, err)
		}
		return difftest.Parse(b, strings.HasPrefix(raw, "HEAD "))
	}
	ng, gr := fetch("nginx", p.Nginx.Addr), fetch("gresty", p.Gresty.Addr)
	diffs := difftest.Diff(ng, gr)
	nlog, glog := logMessages(p.Nginx.ErrorLog()[nlog0:]), logMessages(p.Gresty.ErrorLog()[glog0:])
	if a, b := strings.Join(nlog, "\n"), strings.Join(glog, "\n"); a != b {
		diffs = append(diffs, fmt.Sprintf("error log:\nnginx:\n%s\ngresty:\n%s", a, b))
	}
	if len(diffs) > 0 {
		t.Errorf("%s: gresty differs from nginx:\n  %s\nnginx:\n%s\ngresty:\n%s", name, strings.Join(diffs, "\n  "), ng.Raw, gr.Raw)
	}
}

func get(uri string) string { return traffictest.Get(uri) }

func TestDocumentsMatchNginx(t *testing.T) {
	dir := writeDocs(t)
	p := difftest.Start(t, strings.NewReplacer("DIR", dir, "SLOW", slowBackend(t)).Replace(conf))
	tests := []struct{ name, raw string }{
		{"echo", get("/echo.html?a=1&e=<x>'y\"z%20&empty=")},
		{"echo without args", get("/echo.html")},
		{"set and config", get("/set.html?a=AA")},
		{"parse and command errors", get("/errors.html")},
		{"include errors", get("/inc-errors.html")},
		{"if errors", get("/if-errors.html")},
		{"includes", get("/inc.html?q=query")},
		{"includes from a subdirectory", get("/sub/rel.html")},
		{"blocks and stubs", get("/blocks.html?a=main")},
		{"blocks without args", get("/blocks.html")},
		{"if a", get("/if.html?a=x&r=abbc&n=foo-42")},
		{"if b", get("/if.html?b=yes&r=ab&n=Bar-7")},
		{"if c", get("/if.html?c=yes&a=&r=abd")},
		{"if nothing", get("/if.html?c=no")},
		{"if same", get("/if.html?a=v&b=v")},
		{"if regex from a variable", get("/if.html?a=abc&b=b.")},
		{"nested if", get("/if.html?a=1&b=1")},
		{"head", "HEAD /inc.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
		{"return", get("/ret.html")},
		{"last modified kept", get("/lm.html")},
		{"last modified dropped", get("/a.html")},
		{"not a listed type", get("/plain.txt")},
		{"ssi_types", get("/types.txt")},
		{"ssi_types star", get("/star.txt")},
		{"ssi off", get("/off.html")},
		{"value length", get("/long.html")},
		{"silent errors", get("/silent.html")},
		{"big file with sendfile", get("/sendfile/big.html")},
		{"big file read in pieces", get("/nosendfile/big.html")},
		{"proxied document", get("/proxied.html?q=up")},
		{"slow includes", get("/slow.html")},
		{"empty document", get("/empty.html")},
		{"conditional request", "GET /lm.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nIf-None-Match: W/\"x\"\r\n\r\n"},
	}
	for _, tt := range tests {
		check(t, p, tt.name, tt.raw)
	}
	checkGzip(t, p)
}

// checkGzip fetches a compressed document whose includes are served by
// locations without its filters: the included output still passes the
// document's compression (each location has only the filters it needs,
// and what follows the postpone filter is the main request's).
func checkGzip(t *testing.T, p *difftest.Pair) {
	raw := "GET /gz/inc.html?q=z HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"
	var bodies [2]string
	for i, addr := range []string{p.Nginx.Addr, p.Gresty.Addr} {
		b, _, err := traffictest.SendRaw(addr, raw, 5*time.Second)
		if err != nil && len(b) == 0 {
			t.Fatalf("gzip document: %v", err)
		}
		r := difftest.Parse(b, false)
		if r.Status != 200 || r.Header.Get("Content-Encoding") != "gzip" || r.Header.Get("X-Gz") != "on" {
			t.Fatalf("gzip document: status %d, headers %v\n%q", r.Status, r.Header, r.Raw)
		}
		zr, err := stdgzip.NewReader(bytes.NewReader(r.Body))
		if err != nil {
			t.Fatalf("gzip document: %v\n%s", err, r.Raw)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("gzip document: %v\n%s", err, r.Raw)
		}
		bodies[i] = string(plain)
	}
	if bodies[0] != bodies[1] {
		t.Errorf("gzip document: gresty differs from nginx:\nnginx:\n%s\ngresty:\n%s", bodies[0], bodies[1])
	}
	if !strings.Contains(bodies[1], "SUBA") || !strings.Contains(bodies[1], "AAA") {
		t.Errorf("gzip document lost its includes: %s", bodies[1])
	}
}
