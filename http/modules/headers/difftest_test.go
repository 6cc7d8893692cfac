package headers_test

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
	"gresty/modules"
)

// startPair is difftest.Start, except that while gresty does not know the
// temp-path and access_log directives nginxtest writes into every http
// block, gresty gets them inside a string of a server no request reaches.
func startPair(t *testing.T, conf string) *difftest.Pair {
	t.Helper()
	reg := modules.Registry()
	known := true
	for _, d := range []string{"client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path", "access_log"} {
		known = known && reg.Known(d)
	}
	if known {
		return difftest.Start(t, conf)
	}
	end := strings.LastIndex(conf, "}")
	grConf := conf[:end] + "    server {\n        listen 127.0.0.1:%%PORT%%;\n        server_name globals.invalid;\n" +
		"        location / { add_header X-Unused \"%%HTTP_GLOBALS%%\"; }\n    }\n" + conf[end:]
	return &difftest.Pair{Nginx: nginxtest.Start(t, conf), Gresty: nginxtest.StartGresty(t, grConf)}
}

// headLines returns a response's header lines in order, without Date
// (which differs between any two responses).
func headLines(raw []byte) []string {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		return nil
	}
	var out []string
	for _, l := range strings.Split(string(raw[:end]), "\r\n")[1:] {
		if strings.HasPrefix(strings.ToLower(l), "date:") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// trailerBlock returns the trailer section of a chunked response (the
// lines after the last chunk), "" for other responses.
func trailerBlock(raw []byte) string {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 || !bytes.Contains(bytes.ToLower(raw[:end]), []byte("transfer-encoding: chunked")) {
		return ""
	}
	b := raw[end+4:]
	for {
		nl := bytes.Index(b, []byte("\r\n"))
		if nl < 0 {
			return "(truncated)"
		}
		size, err := strconv.ParseInt(string(b[:nl]), 16, 64)
		if err != nil {
			return "(bad chunk)"
		}
		b = b[nl+2:]
		if size == 0 {
			return string(b)
		}
		if int64(len(b)) < size+2 {
			return "(truncated)"
		}
		b = b[size+2:]
	}
}

func diffResponses(ng, gr *difftest.Response) []string {
	var out []string
	if ng.Status != gr.Status {
		out = append(out, fmt.Sprintf("status: nginx %d, gresty %d", ng.Status, gr.Status))
	}
	if a, b := strings.Join(headLines(ng.Raw), "\n"), strings.Join(headLines(gr.Raw), "\n"); a != b {
		out = append(out, fmt.Sprintf("headers:\nnginx:\n%s\ngresty:\n%s", a, b))
	}
	if !bytes.Equal(ng.Body, gr.Body) {
		out = append(out, fmt.Sprintf("body: nginx %q, gresty %q", ng.Body, gr.Body))
	}
	if a, b := trailerBlock(ng.Raw), trailerBlock(gr.Raw); a != b {
		out = append(out, fmt.Sprintf("trailers: nginx %q, gresty %q", a, b))
	}
	return out
}

// check compares every header line (but Date) in order, the body and the
// trailers. Expires and max-age follow the clock, so a difference is
// retried once in case the two requests straddled a second.
func check(t *testing.T, p *difftest.Pair, name, raw string) {
	t.Helper()
	var diffs []string
	for attempt := 0; attempt < 2; attempt++ {
		ng, gr := p.Do(t, raw)
		if diffs = diffResponses(ng, gr); len(diffs) == 0 {
			return
		}
	}
	t.Errorf("%s: gresty differs from nginx:\n%s", name, strings.Join(diffs, "\n"))
}

func get(uri string, hdrs ...string) string {
	return "GET " + uri + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + strings.Join(hdrs, "") + "\r\n"
}

const headersConf = `
http {
    default_type text/plain;
    absolute_redirect off;
    add_header X-Http http;

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;

        location / {
            return 200 "root\n";
        }

        location /srv {
            location /srv/inner {
                add_header X-Inner inner;
                return 200 "inner\n";
            }
            return 200 "srv\n";
        }

        location /status/ {
            add_header X-Safe safe;
            add_header X-Always always always;
            location = /status/200 { return 200 "ok\n"; }
            location = /status/201 { return 201 "created\n"; }
            location = /status/204 { return 204; }
            location = /status/301 { return 301 /elsewhere; }
            location = /status/302 { return 302 /elsewhere; }
            location = /status/303 { return 303 /elsewhere; }
            location = /status/307 { return 307 /elsewhere; }
            location = /status/308 { return 308 /elsewhere; }
            location = /status/400 { return 400; }
            location = /status/403 { return 403; }
            location = /status/404 { return 404; }
            location = /status/404t { return 404 "gone\n"; }
            location = /status/410 { return 410; }
            location = /status/500 { return 500; }
            location = /status/503 { return 503; }
            location = /status/299 { return 299 "odd\n"; }
        }

        location /vars {
            add_header X-Uri "uri=$uri";
            add_header X-Arg $arg_a;
            add_header X-Empty "";
            add_header X-Two "$arg_a-$arg_b";
            return 200 "vars\n";
        }

        location /special {
            add_header Cache-Control "private";
            add_header Cache-Control "no-transform";
            add_header Link "</a.css>; rel=preload";
            add_header Link "</b.js>; rel=preload";
            add_header ETag "\"custom\"";
            add_header Last-Modified "Sun, 06 Nov 1994 08:49:37 GMT";
            add_header X-Last last;
            return 200 "special\n";
        }

        location /special-empty {
            add_header ETag "";
            add_header Last-Modified "";
            add_header cache-control "";
            return 200 "special-empty\n";
        }

        location /lower {
            add_header etag "\"lower\"";
            add_header last-modified "Sun, 06 Nov 1994 08:49:37 GMT";
            add_header X-Bad-LM "x";
            return 200 "lower\n";
        }

        location /lm-bad {
            add_header Last-Modified "not a date" always;
            return 404;
        }

        location /if {
            add_header X-Loc loc;
            if ($arg_a) {
                add_header X-If if;
            }
            if ($arg_b) {
                expires 1h;
            }
            return 200 "if\n";
        }

        location /exp/ {
            add_header X-Exp exp;
            location = /exp/1h { expires 1h; return 200 "1h\n"; }
            location = /exp/plus { expires +30m; return 200 "plus\n"; }
            location = /exp/neg { expires -1h; return 200 "neg\n"; }
            location = /exp/zero { expires 0; return 200 "zero\n"; }
            location = /exp/epoch { expires epoch; return 200 "epoch\n"; }
            location = /exp/max { expires max; return 200 "max\n"; }
            location = /exp/off { expires off; return 200 "off\n"; }
            location = /exp/modified { expires modified 1d; return 200 "modified\n"; }
            location = /exp/modneg { expires modified -1d; return 200 "modneg\n"; }
            location = /exp/404 { expires 1h; return 404; }
            location = /exp/302 { expires 1h; return 302 /x; }
            location = /exp/var { expires $arg_e; return 200 "var\n"; }
            location = /exp/modvar { expires modified $arg_e; return 200 "modvar\n"; }
            location = /exp/cc {
                add_header Cache-Control "public";
                expires 2h;
                return 200 "cc\n";
            }
            location = /exp/1y { expires 1y; return 200 "1y\n"; }
            location = /exp/mix { expires 1d2h3m4s; return 200 "mix\n"; }
        }

        location /inherit-exp {
            expires 10m;
            location /inherit-exp/child { return 200 "child\n"; }
            location /inherit-exp/off { expires off; return 200 "off\n"; }
            return 200 "parent\n";
        }

        location /trailer {
            add_trailer X-Trailer "t-$uri";
            add_trailer X-Empty-Trailer "";
            add_trailer X-Trailer-Arg $arg_t;
            return 200 "trailer body\n";
        }

        location /trailer-status {
            add_trailer X-Safe-Trailer safe;
            add_trailer X-Always-Trailer always always;
            location = /trailer-status/404 { return 404; }
            location = /trailer-status/200 { return 200 "ok\n"; }
        }

        location /trailer-and-header {
            add_trailer X-T t;
            location /trailer-and-header/child {
                add_header X-Child child;
                return 200 "child\n";
            }
            return 200 "parent\n";
        }

        location /nochunk {
            chunked_transfer_encoding off;
            add_trailer X-T t;
            return 200 "nochunk\n";
        }

        location /unsafe-trailers {
            add_trailer X-T t;
            return 500;
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name srv2;
        add_header X-Srv srv;

        location / {
            return 200 "srv2\n";
        }
        location /own {
            add_header X-Own own;
            return 200 "own\n";
        }
    }
}
`

func TestHeadersAgainstNginx(t *testing.T) {
	p := startPair(t, headersConf)
	tests := []struct {
		name, raw string
	}{
		{"http level inherited", get("/")},
		{"nested location inherits", get("/srv")},
		{"inner location drops parent", get("/srv/inner")},
		{"head", "HEAD / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
		{"http/1.0", "GET / HTTP/1.0\r\n\r\n"},
		{"server level", "GET / HTTP/1.1\r\nHost: srv2\r\nConnection: close\r\n\r\n"},
		{"server level replaced", "GET /own HTTP/1.1\r\nHost: srv2\r\nConnection: close\r\n\r\n"},
	}
	for _, st := range []string{"200", "201", "204", "301", "302", "303", "307", "308", "400", "403", "404", "404t", "410", "500", "503", "299"} {
		tests = append(tests, struct{ name, raw string }{"status " + st, get("/status/" + st)})
	}
	tests = append(tests, []struct{ name, raw string }{
		{"variables", get("/vars?a=1&b=2")},
		{"empty variable omitted", get("/vars")},
		{"special headers", get("/special")},
		{"special empty values", get("/special-empty")},
		{"special lowercase names", get("/lower")},
		{"bad last-modified on 404", get("/lm-bad")},
		{"if block replaces headers", get("/if?a=1")},
		{"if block not taken", get("/if")},
		{"expires in if keeps headers", get("/if?b=1")},
		{"expires 1h", get("/exp/1h")},
		{"expires +30m", get("/exp/plus")},
		{"expires negative", get("/exp/neg")},
		{"expires 0", get("/exp/zero")},
		{"expires epoch", get("/exp/epoch")},
		{"expires max", get("/exp/max")},
		{"expires off", get("/exp/off")},
		{"expires modified without last-modified", get("/exp/modified")},
		{"expires modified negative", get("/exp/modneg")},
		{"expires on 404", get("/exp/404")},
		{"expires on 302", get("/exp/302")},
		{"expires variable time", get("/exp/var?e=2h")},
		{"expires variable epoch", get("/exp/var?e=epoch")},
		{"expires variable max", get("/exp/var?e=max")},
		{"expires variable off", get("/exp/var?e=off")},
		{"expires variable negative", get("/exp/var?e=-5m")},
		{"expires variable invalid", get("/exp/var?e=bogus")},
		{"expires variable empty", get("/exp/var")},
		{"expires variable daily", get("/exp/var?e=@23h59m")},
		{"expires variable daily too long", get("/exp/var?e=@25h")},
		{"expires modified variable", get("/exp/modvar?e=1h")},
		{"expires modified variable epoch", get("/exp/modvar?e=epoch")},
		{"expires modified variable daily", get("/exp/modvar?e=@1h")},
		{"expires reuses cache-control", get("/exp/cc")},
		{"expires 1y", get("/exp/1y")},
		{"expires compound", get("/exp/mix")},
		{"expires inherited", get("/inherit-exp/child")},
		{"expires parent", get("/inherit-exp")},
		{"expires off in child", get("/inherit-exp/off")},
		{"trailers", get("/trailer?t=v")},
		{"trailers empty variable", get("/trailer")},
		{"trailers http/1.0", "GET /trailer HTTP/1.0\r\n\r\n"},
		{"trailers head", "HEAD /trailer HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
		{"trailers on 404 always only", get("/trailer-status/404")},
		{"trailers on 200", get("/trailer-status/200")},
		{"trailers inherited beside add_header", get("/trailer-and-header/child")},
		{"trailers parent", get("/trailer-and-header")},
		{"trailers without chunked encoding", get("/nochunk")},
		{"trailers unsafe status", get("/unsafe-trailers")},
	}...)
	for _, tt := range tests {
		check(t, p, tt.name, tt.raw)
	}
}
