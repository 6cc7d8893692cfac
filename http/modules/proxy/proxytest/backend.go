// Package proxytest holds the test doubles of the proxy tests: backends
// on 127.0.0.1 that answer raw HTTP as a test programs them (echo the
// request, stall, reset, send chunked or close-delimited bodies, invalid
// heads), count their connections and requests, and a client that reads
// a response without half-closing its connection (nginx treats a client's
// half-close as an abort of a proxied request).
//
// Everything here is safe for use from any test goroutine.
package proxytest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gresty/internal/difftest"
)

// Request is a request a backend read.
type Request struct {
	Method string
	Target string
	// Head is the request head as received, up to and including the
	// empty line; Body the body after de-chunking.
	Head   []byte
	Body   []byte
	Header map[string][]string
	// BodyReader, for a Content-Length body over 1 MiB, is the body not
	// read yet (Body is then nil): the handler reads it, as slowly as it
	// likes.
	BodyReader io.Reader
}

// Get returns the first value of header name (any case).
func (r *Request) Get(name string) string {
	if v := r.Header[strings.ToLower(name)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Handler answers one request on c. It returns whether the connection
// may carry another request.
type Handler func(req *Request, c net.Conn) bool

// Backend is a programmable HTTP server.
type Backend struct {
	// Name is what the "id" handler answers.
	Name string
	// Addr is "127.0.0.1:port".
	Addr string
	Port int

	accepted atomic.Int64
	requests atomic.Int64
	ln       net.Listener

	mu       sync.Mutex
	handlers []route
	conns    map[net.Conn]bool
}

type route struct {
	prefix string
	h      Handler
}

// Start runs a backend until the test ends. Handle adds routes; "/echo",
// "/id", "/status/NNN" and "/chunked" are built in.
func Start(t testing.TB, name string) *Backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	return start(t, name, ln, ln.Addr().String())
}

// StartUnix is Start on a unix socket; Addr is "unix:/path".
func StartUnix(t testing.TB, name string) *Backend {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	return start(t, name, ln, "unix:"+path)
}

func start(t testing.TB, name string, ln net.Listener, addr string) *Backend {
	b := &Backend{Name: name, ln: ln, Addr: addr, conns: map[net.Conn]bool{}}
	if ta, ok := ln.Addr().(*net.TCPAddr); ok {
		b.Port = ta.Port
	}
	b.Handle("/echo", Echo)
	b.Handle("/id", func(req *Request, c net.Conn) bool {
		return Respond(c, req, 200, []string{"X-Backend: " + b.Name}, b.Name)
	})
	b.Handle("/status/", func(req *Request, c net.Conn) bool {
		code, _ := strconv.Atoi(strings.TrimPrefix(strings.SplitN(req.Target, "?", 2)[0], "/status/"))
		return Respond(c, req, code, []string{"X-Backend: " + b.Name}, fmt.Sprintf("status %d from %s\n", code, b.Name))
	})
	b.Handle("/chunked", func(req *Request, c net.Conn) bool {
		_, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"+
			"5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n")
		return err == nil && keep(req)
	})
	go b.serve()
	t.Cleanup(b.Close)
	return b
}

// Close stops the backend and closes its connections.
func (b *Backend) Close() {
	b.ln.Close()
	b.mu.Lock()
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
}

// Handle routes requests whose target starts with prefix to h; later
// routes win over earlier ones with a shorter prefix.
func (b *Backend) Handle(prefix string, h Handler) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.handlers = append(b.handlers, route{prefix, h})
}

// Accepted returns how many connections the backend accepted.
func (b *Backend) Accepted() int64 { return b.accepted.Load() }

// Requests returns how many requests the backend read.
func (b *Backend) Requests() int64 { return b.requests.Load() }

// Open returns how many of its connections are still open.
func (b *Backend) Open() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.conns)
}

func (b *Backend) serve() {
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.accepted.Add(1)
		b.mu.Lock()
		b.conns[c] = true
		b.mu.Unlock()
		go b.conn(c)
	}
}

func (b *Backend) route(target string) Handler {
	b.mu.Lock()
	defer b.mu.Unlock()
	var best route
	for _, r := range b.handlers {
		if strings.HasPrefix(target, r.prefix) && len(r.prefix) >= len(best.prefix) {
			best = r
		}
	}
	return best.h
}

func (b *Backend) conn(c net.Conn) {
	defer func() {
		c.Close()
		b.mu.Lock()
		delete(b.conns, c)
		b.mu.Unlock()
	}()
	br := bufio.NewReaderSize(c, 64<<10)
	for {
		req, err := ReadRequest(br)
		if err != nil {
			return
		}
		b.requests.Add(1)
		h := b.route(req.Target)
		if h == nil {
			h = func(req *Request, c net.Conn) bool { return Respond(c, req, 404, nil, "no route\n") }
		}
		if !h(req, c) {
			return
		}
		if req.BodyReader != nil {
			// what the handler left of the body
			if _, err := io.Copy(io.Discard, req.BodyReader); err != nil {
				return
			}
		}
	}
}

// ReadRequest reads one request (head and Content-Length or chunked
// body).
func ReadRequest(br *bufio.Reader) (*Request, error) {
	var head bytes.Buffer
	for {
		line, err := br.ReadSlice('\n')
		head.Write(line)
		if err != nil {
			return nil, err
		}
		if len(line) <= 2 && (string(line) == "\r\n" || string(line) == "\n") {
			break
		}
		if head.Len() > 1<<20 {
			return nil, errors.New("head too long")
		}
	}
	req := &Request{Head: head.Bytes(), Header: map[string][]string{}}
	lines := strings.Split(strings.TrimRight(head.String(), "\r\n"), "\r\n")
	f := strings.Fields(lines[0])
	if len(f) < 2 {
		return nil, errors.New("bad request line")
	}
	req.Method, req.Target = f[0], f[1]
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ":")
		k = strings.ToLower(strings.TrimSpace(k))
		req.Header[k] = append(req.Header[k], strings.TrimSpace(v))
	}
	switch {
	case strings.Contains(strings.ToLower(req.Get("Transfer-Encoding")), "chunked"):
		var body bytes.Buffer
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return nil, err
			}
			n, err := strconv.ParseInt(strings.TrimSpace(strings.SplitN(line, ";", 2)[0]), 16, 64)
			if err != nil {
				return nil, err
			}
			if n == 0 {
				for {
					l, err := br.ReadString('\n')
					if err != nil {
						return nil, err
					}
					if l == "\r\n" || l == "\n" {
						break
					}
				}
				break
			}
			if _, err := io.CopyN(&body, br, n); err != nil {
				return nil, err
			}
			if _, err := br.Discard(2); err != nil {
				return nil, err
			}
		}
		req.Body = body.Bytes()
	case req.Get("Content-Length") != "":
		n, _ := strconv.Atoi(req.Get("Content-Length"))
		if n > 1<<20 {
			req.BodyReader = io.LimitReader(br, int64(n))
			return req, nil
		}
		req.Body = make([]byte, n)
		if _, err := io.ReadFull(br, req.Body); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// keep tells whether the connection stays open after answering req.
func keep(req *Request) bool {
	return !strings.EqualFold(req.Get("Connection"), "close") && !strings.HasSuffix(strings.SplitN(string(req.Head), "\r\n", 2)[0], "HTTP/1.0")
}

// FixedDate is the Date every backend sends, so that responses that pass
// it through compare equal.
const FixedDate = "Date: Mon, 01 Jan 2024 00:00:00 GMT"

// Respond writes a complete response with Content-Length, as HTTP/1.1
// with keepalive when req allows it.
func Respond(c net.Conn, req *Request, status int, headers []string, body string) bool {
	k := keep(req)
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, reason(status))
	b.WriteString("Server: backend\r\n" + FixedDate + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if !hasHeader(headers, "Content-Length") && status != 204 && status != 304 {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	if !k {
		b.WriteString("Connection: close\r\n")
	}
	b.WriteString("\r\n")
	if req.Method != "HEAD" && status != 204 && status != 304 {
		b.WriteString(body)
	}
	_, err := io.WriteString(c, b.String())
	return err == nil && k
}

func hasHeader(hs []string, name string) bool {
	for _, h := range hs {
		if k, _, _ := strings.Cut(h, ":"); strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

func reason(status int) string {
	switch status {
	case 200:
		return "OK"
	case 204:
		return "No Content"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 304:
		return "Not Modified"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 429:
		return "Too Many Requests"
	case 500:
		return "Internal Server Error"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Gateway Timeout"
	}
	return "Status"
}

// Echo answers with the request it received: the head as sent by the
// proxy, then the body.
func Echo(req *Request, c net.Conn) bool {
	return Respond(c, req, 200, []string{"Content-Type: text/plain"}, string(req.Head)+string(req.Body))
}

// Raw answers every request with fixed bytes, then closes.
func Raw(resp string) Handler {
	return func(req *Request, c net.Conn) bool {
		io.WriteString(c, resp)
		return false
	}
}

// Do sends raw to addr and returns the parsed response. It never
// half-closes: raw should ask for "Connection: close", and the response
// ends with the connection, or at timeout.
func Do(t testing.TB, addr, raw string) *difftest.Response {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	b, _ := io.ReadAll(c)
	return difftest.Parse(b, strings.HasPrefix(raw, "HEAD "))
}

// Check sends raw to both servers of p and reports the differences in
// status, the given headers (difftest.CompareHeaders when none) and body.
func Check(t testing.TB, p *difftest.Pair, name, raw string, headers ...string) (ng, gr *difftest.Response) {
	t.Helper()
	ng, gr = Do(t, p.Nginx.Addr, raw), Do(t, p.Gresty.Addr, raw)
	if diffs := difftest.Diff(ng, gr, headers...); len(diffs) > 0 {
		t.Errorf("%s: gresty differs from nginx:\n  %s\nnginx:\n%s\ngresty:\n%s", name, strings.Join(diffs, "\n  "), clip(ng.Raw), clip(gr.Raw))
	}
	return ng, gr
}

func clip(b []byte) string {
	if len(b) > 800 {
		return string(b[:800]) + "..."
	}
	return string(b)
}

// Get is a GET request for target with "Connection: close" and extra
// header lines.
func Get(target string, headers ...string) string {
	return Req("GET", target, "", headers...)
}

// Req is a request with a method, a body (Content-Length when not
// empty) and extra header lines; "Connection: close" is added.
func Req(method, target, body string, headers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n", method, target)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	return b.String()
}

// DeadAddr returns "127.0.0.1:port" for a port nothing listens on (it was
// free a moment ago), for refused connections.
func DeadAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxytest: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

var logPrefix = regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(\w+)\] \d+#\d+: (?:\*\d+ )?`)

// LogTail returns the warn-and-worse lines an error log got after offset
// from, without their time, pid and connection number, and the offset
// where it ends now.
func LogTail(log string, from int) ([]string, int) {
	var out []string
	if from > len(log) {
		from = len(log)
	}
	for _, l := range strings.Split(log[from:], "\n") {
		m := logPrefix.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		switch m[1] {
		case "warn", "error", "crit", "alert", "emerg":
			out = append(out, "["+m[1]+"] "+l[len(m[0]):])
		}
	}
	return out, len(log)
}
