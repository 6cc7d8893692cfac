package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gresty/internal/nginxtest"
)

// The static-site test: a page with a stylesheet, a script, two images and
// a JSON document, served with gzip and validators, must load in curl and
// in a real browser, and a browser's revalidation must be answered 304.

// siteConf serves the site with gzip for the text types and the SVG, and
// "expires epoch" so that the browser's cached copies are stale at once
// (Cache-Control: no-cache): its next load must ask with the validators
// it kept. The log records what a conditional exchange looks like from
// the server's side.
const siteConf = `
http {
    types {
        text/html               html;
        text/css                css;
        application/javascript  js;
        application/json        json;
        image/svg+xml           svg;
        image/png               png;
    }
    default_type application/octet-stream;
    log_format site '$status|$request|$sent_http_content_encoding|$http_if_modified_since|$http_if_none_match';
    gzip on;
    gzip_types text/css application/javascript application/json image/svg+xml;

    server {
        listen 127.0.0.1:%%PORT%%;
        access_log %%PREFIX%%/logs/site.log site;
        root %%SITE%%;
        location / {
            expires epoch;
        }
    }
}
`

// siteMtime is every file's modification time, so that both servers
// derive the same ETag and Last-Modified from the same bytes.
var siteMtime = time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)

// siteFile is one file of the site, with what a gzip-accepting client
// should get for it.
type siteFile struct {
	path string // URI
	name string // file name in the root
	gzip bool   // its type is in gzip_types
	body []byte
}

// etag is the validator nginx derives from the file, weakened when the
// response is compressed, as the gzip filter does.
func (f siteFile) etag() string {
	e := fmt.Sprintf(`"%x-%x"`, siteMtime.Unix(), len(f.body))
	if f.gzip {
		return "W/" + e
	}
	return e
}

// writeSite writes the site into a fresh directory and returns it, its
// files and the value the page's script must put into the document: it
// is only in the JSON file, so seeing it in the DOM proves that the page,
// its script and the JSON were all fetched, decoded and run.
func writeSite(t *testing.T) (string, []siteFile, string) {
	t.Helper()
	nonce := fmt.Sprintf("value-%016x", rand.Uint64())
	img := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	img.Set(1, 1, color.NRGBA{R: 0x33, G: 0x66, B: 0x99, A: 0xff})
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, img); err != nil {
		t.Fatal(err)
	}
	files := []siteFile{
		{path: "/", name: "index.html", gzip: true, body: []byte(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>static site</title>
<link rel="stylesheet" href="style.css">
<script src="app.js" defer></script></head>
<body><h1>A static site</h1>
<img id="logo" src="logo.svg" alt="logo"><img id="dot" src="dot.png" alt="dot">
<p id="out">pending</p>
</body></html>
`)},
		{path: "/style.css", name: "style.css", gzip: true, body: []byte(`body { font-family: sans-serif; margin: 2em; }
#out { color: rgb(1, 2, 3); }
h1 { font-size: 1.5em; }
`)},
		// The script reports, besides the JSON value, what only a decoded
		// stylesheet and decoded images can give: a computed colour and
		// the images' natural widths.
		{path: "/app.js", name: "app.js", gzip: true, body: []byte(`window.addEventListener('load', function () {
  var out = document.getElementById('out');
  fetch('data.json').then(function (r) {
    return r.json();
  }).then(function (d) {
    out.textContent = d.value;
    out.setAttribute('data-color', getComputedStyle(out).color);
    out.setAttribute('data-svg', document.getElementById('logo').naturalWidth);
    out.setAttribute('data-png', document.getElementById('dot').naturalWidth);
  }).catch(function (e) {
    out.textContent = 'failed: ' + e;
  });
});
`)},
		{path: "/data.json", name: "data.json", gzip: true,
			body: []byte(fmt.Sprintf("{\"value\": %q, \"note\": \"fetched by app.js after the load event\"}\n", nonce))},
		{path: "/logo.svg", name: "logo.svg", gzip: true,
			body: []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#336699"/></svg>` + "\n")},
		{path: "/dot.png", name: "dot.png", gzip: false, body: pngBuf.Bytes()},
	}
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.body, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, siteMtime, siteMtime); err != nil {
			t.Fatal(err)
		}
	}
	return dir, files, nonce
}

// requireTool finds an external program by any of names, skipping the
// test without one unless GRESTY_REQUIRE_NGINX=1 (CI), where it fails.
func requireTool(t *testing.T, what string, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s not found (looked for %s); install Debian's %s package to run this test", what, strings.Join(names, ", "), names[0])
	if os.Getenv("GRESTY_REQUIRE_NGINX") == "1" {
		t.Fatal(msg + " (GRESTY_REQUIRE_NGINX=1)")
	}
	t.Skip(msg)
	return ""
}

// curlReply is what one curl exchange showed: the final response's
// status, the headers compared between servers, and the decoded body.
type curlReply struct {
	status   int
	encoding string
	etag     string
	lastMod  string
	body     []byte
}

// curlGet runs curl --compressed for url with extra request headers.
func curlGet(t *testing.T, curl, url string, headers ...string) curlReply {
	t.Helper()
	dir := t.TempDir()
	hdrs, body := filepath.Join(dir, "headers"), filepath.Join(dir, "body")
	args := []string{"-sS", "--compressed", "--noproxy", "*", "--max-time", "10", "-D", hdrs, "-o", body}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	args = append(args, url)
	if out, err := exec.Command(curl, args...).CombinedOutput(); err != nil {
		t.Fatalf("curl %s: %v\n%s", url, err, out)
	}
	raw, err := os.ReadFile(hdrs)
	if err != nil {
		t.Fatal(err)
	}
	var r curlReply
	lines := strings.Split(strings.TrimRight(string(raw), "\r\n"), "\r\n")
	if _, err := fmt.Sscanf(lines[0], "HTTP/1.1 %d", &r.status); err != nil {
		t.Fatalf("curl %s: status line %q", url, lines[0])
	}
	for _, l := range lines[1:] {
		name, value, _ := strings.Cut(l, ":")
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "content-encoding":
			r.encoding = value
		case "etag":
			r.etag = value
		case "last-modified":
			r.lastMod = value
		}
	}
	// curl does not create the output file for an empty body.
	r.body, _ = os.ReadFile(body)
	return r
}

// curlChecks fetches every file with curl, checks the decoded bytes and
// the encoding, then revalidates with each validator it was given, and
// with validators that do not match. It returns every reply, in order,
// for comparison with another server.
func curlChecks(t *testing.T, curl, base string, files []siteFile) []curlReply {
	t.Helper()
	lastMod := siteMtime.Format(time.RFC1123)
	lastMod = strings.Replace(lastMod, "UTC", "GMT", 1)
	var all []curlReply
	for _, f := range files {
		url := base + f.path
		full := curlGet(t, curl, url)
		wantEnc := ""
		if f.gzip {
			wantEnc = "gzip"
		}
		if full.status != 200 || !bytes.Equal(full.body, f.body) || full.encoding != wantEnc {
			t.Errorf("curl %s: status %d, Content-Encoding %q, body equal to the file: %v; want 200, %q, true",
				f.path, full.status, full.encoding, bytes.Equal(full.body, f.body), wantEnc)
		}
		if full.etag != f.etag() || full.lastMod != lastMod {
			t.Errorf("curl %s: ETag %q, Last-Modified %q; want %q, %q", f.path, full.etag, full.lastMod, f.etag(), lastMod)
		}
		all = append(all, full)
		for _, c := range []struct {
			header string
			want   int
		}{
			{"If-None-Match: " + full.etag, 304},
			{"If-Modified-Since: " + full.lastMod, 304},
			{"If-None-Match: \"0-0\"", 200},
			{"If-Modified-Since: Mon, 04 Mar 2024 05:06:06 GMT", 200},
		} {
			r := curlGet(t, curl, url, c.header)
			switch {
			case r.status != c.want:
				t.Errorf("curl %s with %q: status %d, want %d", f.path, c.header, r.status, c.want)
			case c.want == 304 && (len(r.body) != 0 || r.encoding != ""):
				t.Errorf("curl %s with %q: 304 with %d body bytes, Content-Encoding %q", f.path, c.header, len(r.body), r.encoding)
			case c.want == 200 && !bytes.Equal(r.body, f.body):
				t.Errorf("curl %s with %q: body differs from the file", f.path, c.header)
			}
			all = append(all, r)
		}
	}
	return all
}

// logEntry is one line of the site log.
type logEntry struct {
	status, request, encoding, ims, inm string
}

// readSiteLog returns the site log's entries from byte offset from on,
// and the log's length.
func readSiteLog(t *testing.T, prefix string, from int) ([]logEntry, int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(prefix, "logs", "site.log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []logEntry
	for _, l := range strings.Split(string(b[min(from, len(b)):]), "\n") {
		if l == "" {
			continue
		}
		f := strings.Split(l, "|")
		if len(f) != 5 {
			t.Fatalf("site log line %q: want 5 fields", l)
		}
		out = append(out, logEntry{f[0], f[1], f[2], f[3], f[4]})
	}
	return out, len(b)
}

// waitSiteLog waits until the log has an entry for every file (the
// server logs a request after answering it, so a line may trail the
// browser's exit) and returns, per URI, the entries for it.
func waitSiteLog(t *testing.T, prefix string, from int, files []siteFile) (map[string][]logEntry, int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		entries, end := readSiteLog(t, prefix, from)
		byPath := map[string][]logEntry{}
		for _, e := range entries {
			method, rest, _ := strings.Cut(e.request, " ")
			uri, _, _ := strings.Cut(rest, " ")
			if method == "GET" {
				byPath[uri] = append(byPath[uri], e)
			}
		}
		complete := true
		for _, f := range files {
			if len(byPath[f.path]) == 0 {
				complete = false
			}
		}
		if complete || time.Now().After(deadline) {
			return byPath, end
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// chromiumFlags keep the browser on the loopback address: no background
// services, no proxy, and every host name but 127.0.0.1 unresolvable.
// The virtual time budget makes --dump-dom wait for the fetch the page
// starts after its load event.
var chromiumFlags = []string{
	"--headless=new", "--no-sandbox", "--disable-gpu",
	"--no-first-run", "--no-default-browser-check",
	"--disable-background-networking", "--disable-component-update",
	"--disable-sync", "--disable-default-apps", "--disable-extensions",
	"--disable-breakpad", "--no-proxy-server",
	"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
	"--virtual-time-budget=5000",
}

// loadInChromium loads url in a headless Chromium on the profile in
// profile and returns the document as the page's scripts left it.
func loadInChromium(t *testing.T, bin, profile, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append(append([]string{}, chromiumFlags...), "--user-data-dir="+profile, "--dump-dom", url)
	cmd := exec.CommandContext(ctx, bin, args...)
	// The browser's own helper processes share its process group, so a
	// hung browser is ended with all of them and nothing else.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	home := filepath.Join(profile, "home")
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home+"/.config", "XDG_CACHE_HOME="+home+"/.cache")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, stderr.String())
	}
	return stdout.String()
}

func TestStaticSiteInCurlAndBrowser(t *testing.T) {
	curl := requireTool(t, "curl", "curl")
	root, files, nonce := writeSite(t)
	conf := strings.ReplaceAll(siteConf, "%%SITE%%", root)
	g := nginxtest.StartGresty(t, conf)
	base := "http://" + g.Addr

	var grestyReplies []curlReply
	t.Run("curl", func(t *testing.T) {
		grestyReplies = curlChecks(t, curl, base, files)
	})

	// The same exchanges against nginx on the same configuration and
	// files: statuses, encodings and validators must agree.
	t.Run("nginx", func(t *testing.T) {
		n := nginxtest.Start(t, conf)
		ngxReplies := curlChecks(t, curl, "http://"+n.Addr, files)
		if len(ngxReplies) != len(grestyReplies) {
			t.Fatalf("%d exchanges with nginx, %d with gresty", len(ngxReplies), len(grestyReplies))
		}
		for i, nr := range ngxReplies {
			gr := grestyReplies[i]
			f := files[i/5]
			if nr.status != gr.status || nr.encoding != gr.encoding || nr.etag != gr.etag || nr.lastMod != gr.lastMod {
				t.Errorf("%s exchange %d: nginx %d %q %q %q, gresty %d %q %q %q", f.path, i%5,
					nr.status, nr.encoding, nr.etag, nr.lastMod, gr.status, gr.encoding, gr.etag, gr.lastMod)
			}
		}
	})

	t.Run("chromium", func(t *testing.T) {
		chromium := requireTool(t, "Chromium", "chromium", "chromium-headless-shell")
		profile := t.TempDir()
		wantDOM := []string{
			">" + nonce + "</p>",
			`data-color="rgb(1, 2, 3)"`,
			`data-svg="40"`,
			`data-png="3"`,
		}
		checkDOM := func(load, dom string) {
			for _, w := range wantDOM {
				if !strings.Contains(dom, w) {
					t.Errorf("%s load: the document lacks %s:\n%s", load, w, dom)
				}
			}
		}
		lastMod := strings.Replace(siteMtime.Format(time.RFC1123), "UTC", "GMT", 1)

		// A new profile has nothing cached: every file comes whole,
		// compressed where its type says so. The log so far holds the
		// curl exchanges.
		_, start := readSiteLog(t, g.Prefix, 0)
		checkDOM("first", loadInChromium(t, chromium, profile, base+"/"))
		first, end := waitSiteLog(t, g.Prefix, start, files)
		for _, f := range files {
			wantEnc := "-"
			if f.gzip {
				wantEnc = "gzip"
			}
			es := first[f.path]
			if len(es) != 1 || es[0].status != "200" || es[0].encoding != wantEnc || es[0].inm != "-" || es[0].ims != "-" {
				t.Errorf("first load, %s: logged %+v; want one 200 with encoding %s and no validators", f.path, es, wantEnc)
			}
		}

		// The same profile again: the cached copies are stale, so the
		// browser asks with both validators and gets 304 for each, and
		// the page still works from the revalidated cache.
		checkDOM("second", loadInChromium(t, chromium, profile, base+"/"))
		second, _ := waitSiteLog(t, g.Prefix, end, files)
		for _, f := range files {
			wantINM := strings.ReplaceAll(f.etag(), `"`, `\x22`)
			es := second[f.path]
			if len(es) != 1 || es[0].status != "304" || es[0].encoding != "-" || es[0].inm != wantINM || es[0].ims != lastMod {
				t.Errorf("second load, %s: logged %+v; want one 304 without encoding for If-None-Match %s, If-Modified-Since %s",
					f.path, es, wantINM, lastMod)
			}
		}
		if t.Failed() {
			t.Logf("site log:\n%s", readFile(filepath.Join(g.Prefix, "logs"), "site.log"))
		}
	})
}
