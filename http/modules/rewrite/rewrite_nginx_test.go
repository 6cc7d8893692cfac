package rewrite_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
	"gresty/modules"
)

// diffConf exercises every directive of the module and try_files. Pages
// that show what a script did return the URI and arguments; locations
// whose content would be a static file answer POST through error_page
// (nginx's static module refuses POST on a file with 405 and redirects a
// directory with 301), so the URI try_files chose is visible whatever
// serves files.
const diffConf = `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
        root DIR/;
        rewrite_log on;

        if ($http_x_block) {
            return 403;
        }
        if ($arg_srvrw) {
            rewrite ^ /echo/from-server-if;
        }
        rewrite ^/srv-old/(.*)$ /echo/srv/$1;
        rewrite ^/alias-brk/(.*)$ /alias-brk/$1 break;
        set $srvvar "from-server";

        location /echo/ {
            return 200 "uri=$uri args=$args is_args=$is_args\n";
        }
        location /named-show {
            return 200 "first=$first second=$second\n";
        }
        location /showmarker {
            return 200 "marker=[$marker]\n";
        }
        location /srvvar {
            return 200 "srvvar=$srvvar\n";
        }

        location /rw/ {
            rewrite ^/rw/last/(.*)$ /echo/$1 last;
            rewrite ^/rw/break/(.*)$ /echo/$1 break;
            rewrite ^/rw/redir/(.*)$ /echo/$1 redirect;
            rewrite ^/rw/perm/(.*)$ /echo/$1 permanent;
            rewrite ^/rw/none/(.*)$ /echo/none-$1;
            return 200 "fallthrough uri=$uri args=$args\n";
        }
        location /args/ {
            rewrite ^/args/replace$ /echo/r?new=1 last;
            rewrite ^/args/drop$ /echo/d? last;
            rewrite ^/args/both$ /echo/b?new=1? last;
            rewrite ^/args/cap/(\w+)/(\w+)$ /echo/c?$1=$2 last;
            rewrite ^/args/esc/(.*)$ /echo/e?v=$1 last;
            rewrite ^/args/uri/(.*)$ /echo/u/$1 last;
            rewrite ^/args/two/(.*)$ /echo/t?a=$1?b=$1 last;
        }
        location /redir/ {
            rewrite ^/redir/abs/(.*)$ http://example.com/$1;
            rewrite ^/redir/q/(.*)$ http://example.com/?p=$1;
            rewrite ^/redir/drop$ https://example.com/d?;
            rewrite ^/redir/scheme$ $scheme://$host/s;
            rewrite ^/redir/esc/(.*)$ /x/$1 redirect;
            rewrite ^/redir/pct$ /x/%41%2F%20%3F%3f permanent;
            return 200 "no redirect\n";
        }
        location /noabs/ {
            absolute_redirect off;
            rewrite ^ /target redirect;
        }
        location /noport/ {
            port_in_redirect off;
            rewrite ^ /target redirect;
        }
        location /sname/ {
            server_name_in_redirect on;
            port_in_redirect off;
            return 301 /target;
        }
        location /named/ {
            rewrite ^/named/(?<first>\w+)/(?<second>\w+)$ /named-show last;
        }
        location /caps/ {
            rewrite ^/caps/(a)(b)?$ "/echo/[$1][$2][$3]" last;
        }
        location ~ ^/loccap/(\w+) {
            rewrite ^ /echo/$1 last;
        }
        location ~ ^/loccap2/(\w+) {
            return 200 "cap=$1\n";
        }

        location /if/truth {
            if ($arg_v) {
                return 200 "true\n";
            }
            return 200 "false\n";
        }
        location /if/eq {
            if ($arg_a = "yes") {
                return 200 "eq\n";
            }
            if ($arg_a = "") {
                return 200 "empty\n";
            }
            if ($arg_a = $arg_b) {
                return 200 "same\n";
            }
            return 200 "ne\n";
        }
        location /if/ne {
            if ($arg_a != yes) {
                return 200 "not yes\n";
            }
            return 200 "yes\n";
        }
        location /if/re {
            if ($http_user_agent ~ Moz(\w+)) {
                return 200 "match $1\n";
            }
            if ($http_user_agent ~* ^curl/(?<ver>[0-9.]+)) {
                return 200 "curl $ver\n";
            }
            if ($http_user_agent !~ ^W) {
                return 200 "not W\n";
            }
            if ($http_user_agent !~* wget) {
                return 200 "not wget\n";
            }
            return 200 "W but not wget\n";
        }
        location /if/file {
            if (-f $document_root$arg_p) {
                return 200 "file\n";
            }
            if (-d $document_root$arg_p) {
                return 200 "dir\n";
            }
            if (!-e $document_root$arg_p) {
                return 200 "missing\n";
            }
            return 200 "other\n";
        }
        location /if/exec {
            if (-x $document_root$arg_p) {
                return 200 "exec\n";
            }
            if (!-x $document_root$arg_p) {
                return 200 "not exec\n";
            }
        }
        location /if/notfile {
            if (!-f $request_filename) {
                return 200 "not a file: $request_filename\n";
            }
            if (!-d $request_filename) {
                return 200 "a file\n";
            }
            return 200 "never\n";
        }
        location /if/errpage {
            if ($arg_e) {
                error_page 404 = /echo/from-if-error-page;
            }
            return 404;
        }
        location /if/evil {
            try_files /nonexistent =410;
            if ($arg_x) {
            }
        }
        location /if/setin {
            set $v "outer";
            if ($arg_a) {
                set $v "inner";
                rewrite ^ /echo/$v last;
            }
            return 200 "v=$v\n";
        }
        location /if/break {
            set $v "before";
            if ($arg_b) {
                break;
            }
            set $v "after";
            return 200 "v=$v\n";
        }

        location /set/ {
            set $a "x";
            set $b "$a-y";
            set $args "replaced=1";
            return 200 "a=$a b=$b args=$args\n";
        }
        location /set/caps {
            if ($uri ~ ^/set/caps/(.*)) {
                set $c $1;
            }
            return 200 "c=$c\n";
        }
        location /brk {
            set $a 1;
            break;
            return 200 "not reached\n";
        }
        location /uninit {
            return 200 "[$never_set]\n";
        }
        location /nowarn {
            uninitialized_variable_warn off;
            return 200 "[$never_set]\n";
        }
        location /never {
            set $never_set "x";
        }

        location /ret/204 { return 204; }
        location /ret/200 { return 200; }
        location /ret/text { return 200 "text $uri\n"; }
        location /ret/html { default_type text/html; return 200 "<p>$arg_x</p>"; }
        location /ret/404 { return 404; }
        location /ret/404text { return 404 "custom 404\n"; }
        location /ret/404empty { return 404 ""; }
        location /ret/444 { return 444; }
        location /ret/301 { return 301 /target; }
        location /ret/302 { return 302 "http://example.com/$arg_to"; }
        location /ret/303 { return 303 /t; }
        location /ret/307 { return 307 /t; }
        location /ret/308 { return 308 /t; }
        location /ret/url { return https://example.com/u; }
        location /ret/418 { return 418; }
        location /ret/500 { return 500; }
        location /ret/errpage { error_page 403 /echo/forbidden; return 403; }
        location /ret/301bare { return 301; }
        location /ret/200empty { return 200 ""; }
        location /ret/captures { rewrite ^/ret/captures/(.*)$ /ret/captures; return 200 "[$1]\n"; }
        location /varq { rewrite ^ $arg_u last; }

        location /alias-brk/ {
            alias DIR/aliased/;
            return 200 "f=[$request_filename]\n";
        }
        location /toint {
            rewrite ^ /internal-only last;
        }
        location /internal-only {
            internal;
            return 200 "internal ok\n";
        }
        location /method {
            if ($request_method = POST) {
                return 405;
            }
            rewrite ^ /echo$uri;
            if ($uri ~ ^/echo/(.*)$) {
                return 200 "rewritten $1\n";
            }
        }

        location /loop {
            rewrite ^ /loop last;
        }
        location /zero {
            rewrite ^ ? last;
        }

        location /tf/ {
            try_files $uri $uri/ /echo/fallback?from=$uri;
            error_page 301 404 405 = /echo/found$uri;
        }
        location /tf404/ {
            try_files $uri =404;
        }
        location /tf403/ {
            try_files /nonexistent =403;
        }
        location /tfnamed/ {
            try_files $uri @fallback;
        }
        location @fallback {
            return 200 "named uri=$uri args=$args\n";
        }
        location /tfdir/ {
            try_files $uri/ =404;
            error_page 301 404 405 = /echo/found$uri;
        }
        location /al/ {
            alias DIR/aliased/;
            try_files $uri /echo/alias-fallback$uri;
            error_page 301 404 405 = /echo/found$uri;
        }
        location ~ ^/tfc/(\w+)$ {
            try_files /$1.txt /echo/tfc-miss?n=$1;
            error_page 301 404 405 = /echo/found$uri;
        }
        location /tfvar/ {
            set $marker "m1";
            try_files /nonexistent /showmarker;
        }
        location ~ ^/raltf/(.+)$ {
            alias DIR/aliased/;
            try_files /$1 /$1/ /echo/raltf-miss?$1;
            error_page 301 404 405 = /echo/found$uri;
        }
        location ~ ^/ral/(.+)$ {
            alias DIR/aliased/$1;
            if (-f $request_filename) {
                return 200 "regex alias file\n";
            }
            return 200 "regex alias missing\n";
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name srvtf;
        root DIR;
        try_files /a.txt /echo/server-fallback;
        error_page 301 404 405 = /echo/found$uri;

        location /echo/ {
            return 200 "srvtf uri=$uri args=$args\n";
        }
        location /inner/ {
            error_page 404 = /echo/inner-no-try-files;
        }
    }
}
`

// setupFiles creates the tree both servers serve.
func setupFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]os.FileMode{
		"a.txt":          0o644,
		"exec.sh":        0o755,
		"tf/a.txt":       0o644,
		"tf/sub/x.txt":   0o644,
		"tfdir/d/x.txt":  0o644,
		"aliased/b.txt":  0o644,
		"aliased/sub/c":  0o644,
		"if/notfile/f":   0o644,
		"if/notfile/d/x": 0o644,
	}
	for name, mode := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(name+"\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func get(uri string, headers ...string) string {
	return "GET " + uri + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + hdrs(headers) + "\r\n"
}

func post(uri string, headers ...string) string {
	return "POST " + uri + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 0\r\n" + hdrs(headers) + "\r\n"
}

func hdrs(h []string) string {
	var b strings.Builder
	for _, x := range h {
		b.WriteString(x + "\r\n")
	}
	return b.String()
}

// noLocation compares the default headers but Location, for answers
// whose error page inherits the Location of the static module's
// directory redirect in nginx.
var noLocation = func() []string {
	var h []string
	for _, x := range difftest.CompareHeaders {
		if x != "Location" {
			h = append(h, x)
		}
	}
	return h
}()

// headersFor overrides the compared headers of some requests.
var headersFor = map[string][]string{
	"try_files directory":             noLocation,
	"try_files dir only":              noLocation,
	"try_files regex alias directory": noLocation,
}

var diffRequests = []struct{ name, raw string }{
	// server level
	{"server if return", get("/anything", "X-Block: 1")},
	{"server if rewrite", get("/whatever?srvrw=1")},
	{"server rewrite", get("/srv-old/a/b?q=1")},
	{"server set", get("/srvvar")},

	// rewrite flags
	{"rewrite last", get("/rw/last/a")},
	{"rewrite break", get("/rw/break/a")},
	{"rewrite redirect", get("/rw/redir/a?x=1")},
	{"rewrite permanent", get("/rw/perm/a")},
	{"rewrite without flag continues", get("/rw/none/a")},
	{"rewrite without flag keeps args", get("/rw/none/a?x=1")},
	{"rewrite no match", get("/rw/other")},
	{"rewrite head", "HEAD /rw/redir/a HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},

	// arguments
	{"args replace", get("/args/replace?old=1")},
	{"args replace without old", get("/args/replace")},
	{"args drop", get("/args/drop?old=1")},
	{"args new and drop", get("/args/both?old=1")},
	{"args captures", get("/args/cap/k/v?z=9")},
	{"args escaped capture", get("/args/esc/a%20b?x")},
	{"args plus capture", get("/args/esc/a+b&c")},
	{"args plain capture", get("/args/esc/ab")},
	{"uri capture unescaped", get("/args/uri/a%20b")},
	{"second question mark", get("/args/two/z?o=1")},

	// redirects
	{"redirect absolute", get("/redir/abs/x")},
	{"redirect absolute args", get("/redir/abs/x?a=1")},
	{"redirect query joins", get("/redir/q/x?a=1")},
	{"redirect drops args", get("/redir/drop?a=1")},
	{"redirect scheme", get("/redir/scheme")},
	{"redirect escaped capture", get("/redir/esc/a%20b")},
	{"redirect plain capture", get("/redir/esc/ab?k=v")},
	{"redirect unescapes", get("/redir/pct")},
	{"redirect no match", get("/redir/none")},
	{"absolute_redirect off", get("/noabs/x")},
	{"port_in_redirect off", get("/noport/x")},
	{"server_name_in_redirect", "GET /sname/x HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n"},
	{"redirect host header", "GET /rw/redir/h HTTP/1.1\r\nHost: Some.Host:8080\r\nConnection: close\r\n\r\n"},
	{"redirect without host", "GET /rw/redir/nohost HTTP/1.0\r\n\r\n"},

	// captures
	{"named captures", get("/named/one/two")},
	{"missing captures", get("/caps/a")},
	{"groupless regex clears captures", get("/loccap/word")},
	{"location captures", get("/loccap2/word")},

	// if operators
	{"if truthy", get("/if/truth?v=1")},
	{"if zero", get("/if/truth?v=0")},
	{"if empty", get("/if/truth?v=")},
	{"if double zero", get("/if/truth?v=00")},
	{"if unset", get("/if/truth")},
	{"if equal", get("/if/eq?a=yes")},
	{"if equal empty", get("/if/eq?a=")},
	{"if equal variables", get("/if/eq?a=k&b=k")},
	{"if not equal variables", get("/if/eq?a=k&b=l")},
	{"if ne true", get("/if/ne?a=no")},
	{"if ne false", get("/if/ne?a=yes")},
	{"if regex capture", get("/if/re", "User-Agent: Mozilla/5.0")},
	{"if caseless named", get("/if/re", "User-Agent: CURL/8.1.2")},
	{"if negative", get("/if/re", "User-Agent: lynx")},
	{"if negative caseless", get("/if/re", "User-Agent: Wfoo")},
	{"if negative caseless false", get("/if/re", "User-Agent: WGET")},
	{"if -f", get("/if/file?p=/a.txt")},
	{"if -d", get("/if/file?p=/tf")},
	{"if !-e", get("/if/file?p=/nope")},
	{"if -x", get("/if/exec?p=/exec.sh")},
	{"if !-x", get("/if/exec?p=/a.txt")},
	{"if -x directory", get("/if/exec?p=/tf")},
	{"if !-f request_filename", get("/if/notfile/missing")},
	{"if !-d request_filename", get("/if/notfile/f")},
	{"if directory", get("/if/notfile/d")},

	// if blocks as locations
	{"if error_page", get("/if/errpage?e=1")},
	{"if error_page not taken", get("/if/errpage")},
	{"if drops try_files", get("/if/evil?x=1")},
	{"try_files without if", get("/if/evil")},
	{"if set and rewrite", get("/if/setin?a=1")},
	{"if not taken", get("/if/setin")},
	{"if break", get("/if/break?b=1")},
	{"if no break", get("/if/break")},

	// set and break
	{"set", get("/set/?old=1")},
	{"set capture", get("/set/caps/xyz")},
	{"set escaped capture", get("/set/caps/x%20y")},
	{"break stops", get("/brk")},
	{"uninitialized", get("/uninit")},
	{"uninitialized no warning", get("/nowarn")},

	// return
	{"return 204", get("/ret/204")},
	{"return 200", get("/ret/200")},
	{"return text", get("/ret/text")},
	{"return text head", "HEAD /ret/text HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
	{"return text post", "POST /ret/text HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello"},
	{"return html", get("/ret/html?x=1")},
	{"return by extension", get("/ret/text.html")},
	{"return 404", get("/ret/404")},
	{"return 404 text", get("/ret/404text")},
	{"return 404 empty text", get("/ret/404empty")},
	{"return 444", get("/ret/444")},
	{"return 301", get("/ret/301")},
	{"return 302 url", get("/ret/302?to=z")},
	{"return 303", get("/ret/303")},
	{"return 307", get("/ret/307")},
	{"return 308", get("/ret/308")},
	{"return url only", get("/ret/url")},
	{"return 418", get("/ret/418")},
	{"return 500", get("/ret/500")},
	{"return with error_page", get("/ret/errpage")},
	{"return 301 without url", get("/ret/301bare")},
	{"return empty text", get("/ret/200empty")},
	{"return unescaped capture", get("/ret/captures/a%20b")},
	{"replacement from a variable", get("/varq?u=/echo/x%3Fy")},
	{"args escaped slash", get("/args/esc/a%2Fb")},

	// location selection
	{"no location", get("/no/location/here")},
	{"alias after break", get("/alias-brk/b.txt")},
	{"rewrite reaches internal", get("/toint")},
	{"internal refused", get("/internal-only")},
	{"if method", post("/method")},
	{"rewrite then if", get("/method/m")},

	// errors
	{"rewrite cycle", get("/loop")},
	{"zero length uri", get("/zero")},

	// try_files
	{"try_files file", post("/tf/a.txt")},
	{"try_files fallback", post("/tf/missing?q=1")},
	{"try_files fallback get", get("/tf/missing")},
	{"try_files directory", post("/tf/sub")},
	{"try_files =404", get("/tf404/missing")},
	{"try_files =403", get("/tf403/x")},
	{"try_files named", get("/tfnamed/missing?k=v")},
	{"try_files dir only", post("/tfdir/d")},
	{"try_files dir missing", get("/tfdir/a")},
	{"try_files alias", post("/al/b.txt")},
	{"try_files alias fallback", post("/al/zz")},
	{"try_files captures", post("/tfc/a")},
	{"try_files captures fallback", post("/tfc/zzz")},
	{"try_files keeps variables", get("/tfvar/x")},
	{"try_files regex alias", post("/raltf/b.txt")},
	{"try_files regex alias directory", post("/raltf/sub")},
	{"try_files regex alias fallback", post("/raltf/zz")},
	{"regex alias file", get("/ral/b.txt")},
	{"regex alias missing", get("/ral/c.txt")},
	{"server try_files", "POST /nolocation HTTP/1.1\r\nHost: srvtf\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"},
	{"server try_files not inherited", "GET /inner/x HTTP/1.1\r\nHost: srvtf\r\nConnection: close\r\n\r\n"},
}

// rewriteLogLine picks the error-log lines the module writes.
var rewriteLogLine = regexp.MustCompile(`\[(notice|warn|error|alert|crit)\] [0-9#]+: \*?[0-9]* ?(.*(matches|does not match|rewritten|uninitialized|redirection cycle|zero length|cannot be used|stat\(\)).*)$`)

func moduleLog(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if m := rewriteLogLine.FindStringSubmatch(l); m != nil {
			out = append(out, "["+m[1]+"] "+m[2])
		}
	}
	return out
}

// startPair is difftest.Start, except that while gresty lacks the
// temp-path and access_log directives nginxtest writes into every http
// block, gresty gets them in a string its configuration never uses.
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
		"        location / { set $unused_globals \"%%HTTP_GLOBALS%%\"; }\n    }\n" + conf[end:]
	return &difftest.Pair{Nginx: nginxtest.Start(t, conf), Gresty: nginxtest.StartGresty(t, grConf)}
}

func TestRewriteMatchesNginx(t *testing.T) {
	dir := setupFiles(t)
	conf := strings.ReplaceAll(diffConf, "DIR", dir)
	p := startPair(t, conf)
	ngPort, grPort := ":"+strconv.Itoa(p.Nginx.Port), ":"+strconv.Itoa(p.Gresty.Port)
	for _, rq := range diffRequests {
		ng, gr := p.Do(t, rq.raw)
		// the two servers listen on different ports.
		for _, x := range []struct {
			r    *difftest.Response
			port string
		}{{ng, ngPort}, {gr, grPort}} {
			if x.r.Header != nil {
				if l := x.r.Header.Get("Location"); l != "" {
					x.r.Header.Set("Location", strings.Replace(l, x.port+"/", ":PORT/", 1))
				}
			}
		}
		if diffs := difftest.Diff(ng, gr, headersFor[rq.name]...); len(diffs) > 0 {
			t.Errorf("%s: gresty differs from nginx:\n  %s\nnginx:\n%s\ngresty:\n%s", rq.name,
				strings.Join(diffs, "\n  "), ng.Raw, gr.Raw)
		}
	}
	ngLog, grLog := moduleLog(p.Nginx.ErrorLog()), moduleLog(p.Gresty.ErrorLog())
	if strings.Join(ngLog, "\n") != strings.Join(grLog, "\n") {
		n := max(len(ngLog), len(grLog))
		for i := 0; i < n; i++ {
			var a, b string
			if i < len(ngLog) {
				a = ngLog[i]
			}
			if i < len(grLog) {
				b = grLog[i]
			}
			if a != b {
				t.Errorf("error log line %d differs:\nnginx:  %s\ngresty: %s", i, a, b)
				break
			}
		}
	}
	t.Logf("%d requests, %d module log lines compared", len(diffRequests), len(ngLog))
	if len(ngLog) < 40 {
		t.Errorf("nginx logged only %d rewrite lines; the test lost its log comparison", len(ngLog))
	}
}
