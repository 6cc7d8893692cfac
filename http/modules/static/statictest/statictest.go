// Package statictest holds what the differential tests of the static file
// modules share: a fixture tree with fixed times, a server pair running
// gresty and Debian's nginx on one configuration, and a runner that
// compares every answer and the error logs. Any test goroutine may use it.
package statictest

import (
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
	"gresty/modules"

	"golang.org/x/sys/unix"
)

// FixedTime is the mtime of every fixture file and directory, so that
// Last-Modified, ETags and listings are the same on both servers.
var FixedTime = time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)

// Fixture builds the tree both servers serve and returns its root.
func Fixture(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	rnd := rand.New(rand.NewSource(1))
	blob := func(n int) []byte {
		b := make([]byte, n)
		rnd.Read(b)
		return b
	}
	files := map[string][]byte{
		"a.txt":              []byte("hello world\n"),
		"empty.txt":          nil,
		"page.html":          []byte("<p>page</p>\n"),
		"Photo.JPG":          blob(300),
		"noext":              []byte("no extension\n"),
		"mid.bin":            blob(40 << 10),
		"big.bin":            blob(300 << 10),
		"sp ace.txt":         []byte("space\n"),
		"pct%41.txt":         []byte("percent\n"),
		"utf-ü.txt":          []byte("utf8\n"),
		".hidden":            []byte("hidden\n"),
		"dir/index.html":     []byte("<h1>dir index</h1>\n"),
		"dir/a.txt":          []byte("dir a\n"),
		"dir/sub/x.txt":      []byte("x\n"),
		"sp dir/x.txt":       []byte("x\n"),
		"noindex/one.txt":    []byte("one\n"),
		"noindex/two.txt":    []byte("two\n"),
		"idx/first.html":     []byte("first\n"),
		"idx/second.html":    []byte("second\n"),
		"list/file.txt":      []byte("file\n"),
		"list/<b>&\"q\".txt": []byte("html chars\n"),
		"list/sub/inner.txt": []byte("inner\n"),
		"list/" + strings.Repeat("l", 60) + ".txt": []byte("long\n"),
		"list/" + strings.Repeat("d", 50) + "/x":   []byte("fifty\n"),
		"list/" + strings.Repeat("<", 55):          []byte("long html\n"),
		"list/kilo.bin":                            blob(10000),
		"list/k2.bin":                              blob(10751),
		"list/mega.bin":                            blob(1<<20 + 600<<10),
		"list/ünï.txt":                             []byte("utf\n"),
		"list/.dot":                                []byte("dot\n"),
		"real/target.txt":                          []byte("target\n"),
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"link.txt":      "a.txt",
		"linkdir":       "dir",
		"broken":        "nothing-here",
		"list/tolink":   "file.txt",
		"list/todir":    "sub",
		"list/dangling": "missing",
		"viadir":        "real",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	if os.Geteuid() == 0 {
		// links owned by someone else than their targets, for
		// disable_symlinks if_not_owner.
		for name, target := range map[string]string{"otherlink": "a.txt", "otherdir": "dir"} {
			p := filepath.Join(root, name)
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			if err := os.Lchown(p, 4242, 4242); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.Mkdir(filepath.Join(root, "emptydir"), 0o755); err != nil {
		t.Fatal(err)
	}
	// directories last: creating entries changes their times.
	var paths []string
	filepath.Walk(root, func(p string, _ os.FileInfo, _ error) error {
		paths = append(paths, p)
		return nil
	})
	for i := len(paths) - 1; i >= 0; i-- {
		if err := lchtimes(paths[i], FixedTime); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// StartPair is difftest.Start, except that while gresty does not know the
// temp-path and access_log directives nginxtest writes into every http
// block, gresty gets them inside a string of a server no request reaches.
func StartPair(t *testing.T, conf string) *difftest.Pair {
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

// Request is one row of a differential table: a raw request and the
// headers to compare beyond difftest's defaults.
type Request struct {
	Name string
	Raw  string
}

// Get is a GET request for uri with the given header lines, on a
// connection the client closes after it.
func Get(uri string, hdrs ...string) string {
	return Method("GET", uri, hdrs...)
}

// Method is Get with another method.
func Method(m, uri string, hdrs ...string) string {
	var b strings.Builder
	b.WriteString(m + " " + uri + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n")
	for _, h := range hdrs {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// Run sends every request to both servers and compares the answers, then
// the error and critical lines of both error logs, in order.
func Run(t *testing.T, p *difftest.Pair, reqs []Request) {
	t.Helper()
	for _, rq := range reqs {
		ng, gr := fetch(t, rq, "nginx", p.Nginx.Addr), fetch(t, rq, "gresty", p.Gresty.Addr)
		for _, r := range []*difftest.Response{ng, gr} {
			if r.Header != nil {
				if l := r.Header.Get("Location"); l != "" {
					r.Header.Set("Location", portRE.ReplaceAllString(l, ":PORT"))
				}
			}
		}
		if diffs := difftest.Diff(ng, gr); len(diffs) > 0 {
			t.Errorf("%s: gresty differs from nginx:\n  %s\nnginx:\n%s\ngresty:\n%s", rq.Name,
				strings.Join(diffs, "\n  "), clip(ng.Raw), clip(gr.Raw))
		}
	}
	CompareLogs(t, p)
}

// fetch is difftest.Fetch, naming the request when the exchange fails.
func fetch(t *testing.T, rq Request, server, addr string) *difftest.Response {
	t.Helper()
	b, err := nginxtest.Exchange(addr, []byte(rq.Raw), 5*time.Second)
	if err != nil && len(b) == 0 {
		t.Fatalf("%s: %s at %s: %v", rq.Name, server, addr, err)
	}
	return difftest.Parse(b, strings.HasPrefix(rq.Raw, "HEAD "))
}

var portRE = regexp.MustCompile(`:\d+`)

func clip(b []byte) string {
	if len(b) > 1500 {
		return string(b[:1500]) + "..."
	}
	return string(b)
}

// logLineRE takes the level and message of an error-log line, up to the
// request context (which names the servers' different ports).
var logLineRE = regexp.MustCompile(`^\S+ \S+ \[(error|crit|alert|emerg)\] \d+#\d+: (?:\*\d+ )?(.*?)(?:, client: .*)?$`)

func logLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if m := logLineRE.FindStringSubmatch(l); m != nil {
			out = append(out, m[1]+" "+m[2])
		}
	}
	return out
}

// CompareLogs compares the emerg, alert, crit and error lines of both
// servers' error logs, in order, without their request context.
func CompareLogs(t *testing.T, p *difftest.Pair) {
	t.Helper()
	ng, gr := logLines(p.Nginx.ErrorLog()), logLines(p.Gresty.ErrorLog())
	n := max(len(ng), len(gr))
	for i := 0; i < n; i++ {
		var a, b string
		if i < len(ng) {
			a = ng[i]
		}
		if i < len(gr) {
			b = gr[i]
		}
		if a != b {
			t.Errorf("error log line %d differs:\nnginx:  %s\ngresty: %s", i, a, b)
			return
		}
	}
	t.Logf("%d error-log lines compared", len(ng))
	if testing.Verbose() {
		t.Logf("nginx error log:\n%s", strings.Join(ng, "\n"))
	}
}

// lchtimes sets a path's times without following a symbolic link.
func lchtimes(p string, tm time.Time) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return lutimes(p, tm)
	}
	return os.Chtimes(p, tm, tm)
}

func lutimes(p string, tm time.Time) error {
	ts := []unix.Timespec{unix.NsecToTimespec(tm.UnixNano()), unix.NsecToTimespec(tm.UnixNano())}
	return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
}
