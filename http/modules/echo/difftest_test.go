package echo_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gresty/internal/difftest"
)

// headLines returns a response's header lines in order, with the Date
// value blanked.
func headLines(raw []byte) []string {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		return nil
	}
	var out []string
	for _, l := range strings.Split(string(raw[:end]), "\r\n")[1:] {
		if strings.HasPrefix(strings.ToLower(l), "date:") {
			l = "Date: *"
		}
		out = append(out, l)
	}
	return out
}

// elapsed masks the digits of timer values, which differ run to run.
var elapsed = regexp.MustCompile(`elapsed=\d+\.\d+`)

// check compares the status, the header lines in order, and the raw body
// bytes (chunk framing included).
func check(t *testing.T, p *difftest.Pair, name, raw string) {
	t.Helper()
	ng, gr := p.Do(t, raw)
	var diffs []string
	if ng.Status != gr.Status {
		diffs = append(diffs, fmt.Sprintf("status: nginx %d, gresty %d", ng.Status, gr.Status))
	}
	if a, b := strings.Join(headLines(ng.Raw), "\n"), strings.Join(headLines(gr.Raw), "\n"); a != b {
		diffs = append(diffs, fmt.Sprintf("headers:\nnginx:\n%s\ngresty:\n%s", a, b))
	}
	nb, gb := rawBody(ng.Raw), rawBody(gr.Raw)
	nb = elapsed.ReplaceAll(nb, []byte("elapsed=*"))
	gb = elapsed.ReplaceAll(gb, []byte("elapsed=*"))
	if !bytes.Equal(nb, gb) {
		diffs = append(diffs, fmt.Sprintf("body: nginx %q, gresty %q", nb, gb))
	}
	if len(diffs) > 0 {
		t.Errorf("%s: gresty differs from nginx:\n%s", name, strings.Join(diffs, "\n"))
	}
}

// rawBody is what follows the response head, as sent.
func rawBody(raw []byte) []byte {
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		return raw[i+4:]
	}
	return raw
}

func get(uri string, hdrs ...string) string {
	return "GET " + uri + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + strings.Join(hdrs, "") + "\r\n"
}

func post(uri, body string) string {
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", uri, len(body), body)
}

const conf = `
http {
    default_type text/plain;
    port_in_redirect off;

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
        root %%DOCROOT%%;

        location = /echo {
            echo hello world;
            echo -n "no newline";
            echo;
            echo "" a "" b;
            echo -n;
            echo -- -n dashed;
            echo -n -x options;
            echo "$uri?$args";
        }
        location = /empty { echo -n ""; }
        location = /status { echo_status 404; echo "not found body"; }
        location = /html.html { echo "<p>type</p>"; }
        location = /dup {
            echo_duplicate 3 "ab";
            echo_duplicate 1_0 "-";
            echo_duplicate 0 "x";
            echo;
        }
        location = /dup-bad { echo_duplicate abc x; }
        location = /flush { echo a; echo_flush; echo b; }
        location /sub {
            echo "sub uri=$uri args=$args method=$echo_request_method client=$echo_client_request_method";
        }
        location = /sync {
            echo before;
            echo_location /sub "a=1";
            echo middle;
            echo_location /sub?a=2;
            echo_location /sub a=3;
            echo after;
        }
        location = /sync-first {
            echo_location /sub;
            echo_location /sub;
        }
        location = /async {
            echo_location_async /sub 1;
            echo_location_async /sub 2;
            echo between;
            echo_location_async /sub?3;
            echo end;
        }
        location = /mixed {
            echo_location_async /sleepy;
            echo_location /sub s;
            echo done;
        }
        location = /sleepy { echo_sleep 0.05; echo slept; }
        location = /nested { echo n1; echo_location /sync; echo n2; }
        location = /subreq {
            echo_subrequest POST /body -b 'hello body';
            echo_subrequest_async PUT /body -q a=q -b 'async body';
            echo_subrequest GET /sub -q x=y;
            echo_subrequest HEAD /sub;
            echo_subrequest get /sub;
            echo_subrequest DELETE /sub?from=uri;
        }
        location = /subreq-file { echo_subrequest POST /body -f %%DOCROOT%%/data.txt; }
        location = /subreq-missing { echo_subrequest POST /body -f %%DOCROOT%%/none.txt; }
        location = /subreq-bad { echo_subrequest GET /sub -x y; }
        location = /body {
            echo_read_request_body;
            echo "body=[$echo_request_body] cl=$http_content_length m=$echo_request_method args=$args";
        }
        location = /body-echo { echo_read_request_body; echo_request_body; echo; }
        location = /body-later { echo start; echo_read_request_body; echo_request_body; }
        location = /body-none { echo "[$echo_request_body]"; }
        location = /sleep {
            echo start;
            echo_sleep 0.1;
            echo "end elapsed=$echo_timer_elapsed";
            echo_reset_timer;
            echo_blocking_sleep 0.05;
            echo "reset elapsed=$echo_timer_elapsed";
        }
        location = /sleep-bad { echo_sleep abc; }
        location = /foreach {
            echo_foreach_split ',' $arg_l;
            echo "it=$echo_it";
            echo_end;
            echo "done it=[$echo_it]";
        }
        location = /foreach-multi {
            echo_foreach_split '--' $arg_l;
            echo_location /sub $echo_it;
            echo_end;
        }
        location = /end-alone { echo a; echo_end; }
        location = /filters {
            echo_before_body "BEFORE $uri";
            echo_before_body -n "B2";
            echo_after_body AFTER;
            echo content;
        }
        location = /filters-static {
            alias %%DOCROOT%%/data.txt;
            echo_before_body before;
            echo_after_body after;
        }
        location = /filters-sub {
            echo_after_body "after main";
            echo_location /filtered-sub;
            echo main;
        }
        location = /filtered-sub {
            echo_before_body "sub before";
            echo_after_body "sub after";
            echo sub;
        }
        location = /filters-error {
            echo_before_body before;
            return 404;
        }
        location = /exec { echo_exec /sub a=exec; }
        location = /exec-query { echo_exec /sub?from=query; }
        location = /exec-named { echo_exec @named; }
        location = /exec-named-args { echo_exec @named a=b; }
        location @named { echo "named $uri $args"; }
        location = /exec-unsafe { echo_exec /../etc; }
        location = /exec-empty { echo_exec ""; }
        location = /vars {
            echo "uri=$echo_request_uri cuc=$echo_cacheable_request_uri";
            echo "status=[$echo_response_status] incr=$echo_incr incr=$echo_incr";
        }
        location = /incr { echo_location /incr-sub; echo_location /incr-sub; echo "main $echo_incr"; }
        location = /incr-sub { echo "sub $echo_incr"; }
        location = /headers { echo -n $echo_client_request_headers; }
        location = /abort { echo_abort_parent; }
        location = /if {
            if ($arg_a) {
                echo "in if";
            }
            echo "out of if";
        }
        location /inherit {
            echo_status 201;
            location /inherit/in { echo inner; }
        }
        location = /redirect-then-echo {
            rewrite ^ /sub?rewritten last;
        }
        location = /unsafe { echo_location /sub/../x; }
        location = /proxied-body {
            echo_subrequest POST /proxy -b 'hello, world';
            echo_subrequest POST /proxy-no-read -b 'again';
            echo_location /proxy;
        }
        # the test client half-closes its side at once, which nginx's
        # proxy takes for an abort unless told otherwise.
        location = /proxy {
            proxy_ignore_client_abort on;
            proxy_pass http://127.0.0.1:$server_port/proxied-sub;
        }
        location = /proxy-no-read {
            proxy_ignore_client_abort on;
            proxy_pass http://127.0.0.1:$server_port/proxied-sub-no-read;
        }
        location = /proxied-sub {
            echo_read_request_body;
            echo "method=$echo_request_method body=[$echo_request_body] cl=$http_content_length";
        }
        location = /proxied-sub-no-read { echo "body=[$echo_request_body]"; }
    }
}
`

func TestEchoMatchesNginx(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "data.txt"), []byte("file data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := strings.ReplaceAll(conf, "%%DOCROOT%%", root)
	p := difftest.Start(t, c, "echo")
	tests := []struct{ name, raw string }{
		{"echo", get("/echo?x=1")},
		{"echo HEAD", "HEAD /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
		{"echo HTTP/1.0", "GET /echo HTTP/1.0\r\n\r\n"},
		{"empty", get("/empty")},
		{"echo_status", get("/status")},
		{"type from extension", get("/html.html")},
		{"duplicate", get("/dup")},
		{"duplicate bad count", get("/dup-bad")},
		{"flush", get("/flush")},
		{"location", get("/sync")},
		{"location first", get("/sync-first")},
		{"location HEAD", "HEAD /sync HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
		{"location async", get("/async")},
		{"async sleeping then sync", get("/mixed")},
		{"nested locations", get("/nested")},
		{"subrequest methods and bodies", get("/subreq")},
		{"subrequest with client body", post("/subreq", "client body")},
		{"subrequest body file", get("/subreq-file")},
		{"read body", post("/body?q=1", "posted data")},
		{"read empty body", get("/body")},
		{"echo body", post("/body-echo", "echoed")},
		{"read body after output", post("/body-later", "late")},
		{"body variable unread", post("/body-none", "unread")},
		{"sleep and timers", get("/sleep")},
		{"sleep bad duration", get("/sleep-bad")},
		{"foreach", get("/foreach?l=a,,b,c,")},
		{"foreach empty", get("/foreach?l=,,")},
		{"foreach none", get("/foreach")},
		{"foreach locations", get("/foreach-multi?l=x--y----z")},
		{"before and after body", get("/filters")},
		{"filters HEAD", "HEAD /filters HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
		{"filters on a static file", get("/filters-static")},
		{"filters in subrequest", get("/filters-sub")},
		{"filters on error page", get("/filters-error")},
		{"exec", get("/exec")},
		{"exec query", get("/exec-query")},
		{"exec named", get("/exec-named?q=1")},
		{"exec named with args", get("/exec-named-args")},
		{"exec unsafe", get("/exec-unsafe")},
		{"exec empty", get("/exec-empty")},
		{"variables", get("/vars")},
		{"incr across subrequests", get("/incr")},
		{"client request headers", get("/headers", "X-Foo:  bar\r\nX-Bar:baz\r\n")},
		{"abort parent", get("/abort")},
		{"in if", get("/if?a=1")},
		{"not in if", get("/if")},
		{"inherited status", get("/inherit/in")},
		{"rewrite to echo", get("/redirect-then-echo")},
		{"subrequest bodies through proxy", get("/proxied-body")},
		{"client body through proxied subrequest", post("/proxied-body", "client")},
	}
	for _, tc := range tests {
		check(t, p, tc.name, tc.raw)
	}
}

var dateLine = regexp.MustCompile(`Date: [^\r]*\r\n`)

// TestPipelinedSubrequestsMatchNginx sends requests with subrequests,
// sleeps and bodies back to back on one connection: each response must
// come whole and in order.
func TestPipelinedSubrequestsMatchNginx(t *testing.T) {
	const conf = `
http {
    default_type text/plain;
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
        location /sub { echo "sub $arg_n"; }
        location = /main {
            echo_location_async /sub n=1;
            echo_sleep 0.02;
            echo_location /sub n=2;
            echo main;
        }
        location = /body { echo_read_request_body; echo "[$echo_request_body]"; }
    }
}
`
	p := difftest.Start(t, conf, "echo")
	keep := func(uri string) string {
		return "GET " + uri + " HTTP/1.1\r\nHost: localhost\r\n\r\n"
	}
	raw := keep("/main") + "POST /body HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc" + keep("/main") +
		"GET /main HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
	ng, gr := p.Do(t, raw)
	a := dateLine.ReplaceAll(ng.Raw, []byte("Date: *\r\n"))
	b := dateLine.ReplaceAll(gr.Raw, []byte("Date: *\r\n"))
	if !bytes.Equal(a, b) {
		t.Errorf("pipelined responses differ:\nnginx:\n%s\ngresty:\n%s", a, b)
	}
}
