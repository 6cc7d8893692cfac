// Package difftest runs gresty and Debian's nginx side by side on the same
// configuration and compares their answers to the same requests: the
// status, the headers nginx's behaviour defines, and the body.
package difftest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"gresty/internal/nginxtest"
)

// Pair is an nginx and a gresty serving the same configuration.
type Pair struct {
	Nginx  *nginxtest.Server
	Gresty *nginxtest.Server
}

// Start runs both servers on conf (nginxtest.Start's rules). Each server
// has its own prefix: files both must serve belong in a directory of the
// test's named by an absolute path in conf.
func Start(t testing.TB, conf string, modules ...string) *Pair {
	t.Helper()
	return &Pair{
		Nginx:  nginxtest.Start(t, conf, modules...),
		Gresty: nginxtest.StartGresty(t, conf, modules...),
	}
}

// Response is a parsed answer.
type Response struct {
	Raw    []byte
	Status int
	Header http.Header
	Body   []byte
	// Order is the header names in the order sent.
	Order []string
}

// Do sends a raw request to both servers and returns their responses.
func (p *Pair) Do(t testing.TB, raw string) (ng, gr *Response) {
	t.Helper()
	return Fetch(t, p.Nginx.Addr, raw), Fetch(t, p.Gresty.Addr, raw)
}

// Fetch sends raw to addr (the connection is half-closed after it) and
// parses the first response.
func Fetch(t testing.TB, addr, raw string) *Response {
	t.Helper()
	b, err := nginxtest.Exchange(addr, []byte(raw), 5*time.Second)
	if err != nil && len(b) == 0 {
		t.Fatalf("difftest: %s: %v", addr, err)
	}
	return Parse(b, strings.HasPrefix(raw, "HEAD "))
}

// Parse reads the first response in b.
func Parse(b []byte, head bool) *Response {
	r := &Response{Raw: b}
	if !bytes.HasPrefix(b, []byte("HTTP/")) {
		r.Body = b
		return r
	}
	req := &http.Request{Method: "GET"}
	if head {
		req.Method = "HEAD"
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), req)
	if err != nil {
		return r
	}
	defer resp.Body.Close()
	r.Status = resp.StatusCode
	r.Header = resp.Header
	r.Body, _ = io.ReadAll(resp.Body)
	if end := bytes.Index(b, []byte("\r\n\r\n")); end > 0 {
		for _, l := range strings.Split(string(b[:end]), "\r\n")[1:] {
			if name, _, ok := strings.Cut(l, ":"); ok {
				r.Order = append(r.Order, name)
			}
		}
	}
	// net/http moves these out of Header; keep them comparable.
	if len(resp.TransferEncoding) > 0 {
		r.Header.Set("Transfer-Encoding", strings.Join(resp.TransferEncoding, ", "))
	}
	return r
}

// CompareHeaders are the response headers compared by default: the ones
// whose value nginx's behaviour defines (not Date).
var CompareHeaders = []string{
	"Content-Type", "Content-Length", "Location", "ETag", "Last-Modified", "Content-Range",
	"Accept-Ranges", "Content-Encoding", "Vary", "Cache-Control", "Expires", "Transfer-Encoding",
	"Connection", "Server", "WWW-Authenticate", "Content-Disposition",
}

// Check sends raw to both servers and reports every difference in status,
// the given headers (CompareHeaders when none) and body.
func (p *Pair) Check(t testing.TB, name, raw string, headers ...string) {
	t.Helper()
	ng, gr := p.Do(t, raw)
	if diffs := Diff(ng, gr, headers...); len(diffs) > 0 {
		t.Errorf("%s: gresty differs from nginx:\n  %s\nnginx:\n%s\ngresty:\n%s", name, strings.Join(diffs, "\n  "), clip(ng.Raw), clip(gr.Raw))
	}
}

// Diff lists the differences between two responses.
func Diff(ng, gr *Response, headers ...string) []string {
	if len(headers) == 0 {
		headers = CompareHeaders
	}
	var out []string
	if ng.Status != gr.Status {
		out = append(out, fmt.Sprintf("status: nginx %d, gresty %d", ng.Status, gr.Status))
	}
	for _, h := range headers {
		a, b := values(ng.Header, h), values(gr.Header, h)
		if a != b {
			out = append(out, fmt.Sprintf("%s: nginx %q, gresty %q", h, a, b))
		}
	}
	if !bytes.Equal(ng.Body, gr.Body) {
		out = append(out, fmt.Sprintf("body: nginx %q, gresty %q", clip(ng.Body), clip(gr.Body)))
	}
	return out
}

func values(h http.Header, name string) string {
	if h == nil {
		return ""
	}
	v := h.Values(name)
	if strings.EqualFold(name, "Set-Cookie") {
		sort.Strings(v)
	}
	return strings.Join(v, "\x00")
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "..."
	}
	return string(b)
}

// FetchOpen sends raw (which should say "Connection: close") and reads
// the response up to the server's close, without half-closing the
// request, which a server would take for a client gone while an upstream
// answers.
func FetchOpen(t testing.TB, addr, raw string) *Response {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("%s: %v", addr, err)
	}
	return Parse(b, strings.HasPrefix(raw, "HEAD "))
}

// RequestLogLines lists the error-log lines s wrote for requests at the
// given levels, one "LEVEL MESSAGE" per line: the message up to its
// ", client:", with s's prefix written PREFIX.
func RequestLogLines(s *nginxtest.Server, levels ...string) string {
	line := regexp.MustCompile(`\[(` + strings.Join(levels, "|") + `)\] \d+#\d+: \*\d+ (.*?), client: `)
	var out []string
	for _, m := range line.FindAllStringSubmatch(s.Log("error.log", 1), -1) {
		out = append(out, m[1]+" "+strings.ReplaceAll(m[2], s.Prefix, "PREFIX"))
	}
	return strings.Join(out, "\n")
}

// CheckLogLines fails t unless both servers logged the same request
// lines at the given levels, and some.
func (p *Pair) CheckLogLines(t testing.TB, levels ...string) {
	t.Helper()
	if a, b := RequestLogLines(p.Nginx, levels...), RequestLogLines(p.Gresty, levels...); a != b || a == "" {
		t.Errorf("log lines differ\nnginx:\n%s\ngresty:\n%s", a, b)
	}
}
