package httpparse

import (
	"strconv"
	"strings"
	"testing"
)

// summary renders everything a parse produced, so that two parses can be
// compared as strings. It appends raw bytes rather than formatting, to keep
// the fuzz targets that call it fast; fields are separated by "|".
func summary(r *Request, st State) string {
	b := make([]byte, 0, 512)
	num := func(n int) { b = strconv.AppendInt(b, int64(n), 10); b = append(b, '|') }
	str := func(s []byte) { b = append(b, s...); b = append(b, '|') }
	flag := func(v bool) { b = strconv.AppendBool(b, v); b = append(b, '|') }
	num(int(st))
	num(r.Status())
	str([]byte(r.Reason().String()))
	if st == Failed {
		text, prev, bad := r.ErrorText()
		str(text)
		str(prev)
		num(bad)
		return string(b)
	}
	if st != Done {
		return string(b)
	}
	num(r.HeadLen())
	num(int(r.Method))
	num(r.Version)
	for _, s := range [][]byte{r.MethodName(), r.RequestLine(), r.RawURI(), r.Path(), r.Args(), r.Exten(),
		r.Schema(), r.Host(), r.Port(), r.Protocol(), r.Server()} {
		str(s)
	}
	for _, v := range []bool{r.ComplexURI, r.QuotedURI, r.PlusInURI, r.EmptyPathInURI, r.Chunked, r.KeepAlive()} {
		flag(v)
	}
	num(int(r.ContentLength))
	num(int(r.Connection))
	for i := 0; i < r.NumHeaders(); i++ {
		h := r.Header(i)
		str(h.Name)
		str(h.Value)
		num(int(h.Known))
	}
	for i := 0; i < r.NumIgnored(); i++ {
		str(r.Ignored(i))
	}
	return string(b)
}

func parseAll(raw string, cfg *Config) (*Request, State) {
	r := new(Request)
	r.Reset(cfg)
	return r, r.Parse([]byte(raw))
}

func TestRequestFields(t *testing.T) {
	type want struct {
		method        Method
		version       int
		path, args    string
		exten, raw    string
		schema, host  string
		port, server  string
		proto         string
		complex, quot bool
		plus, empty   bool
		headLen       int
		cl            int64
		chunked       bool
		keepAlive     bool
	}
	tests := []struct {
		raw  string
		want want
	}{
		{"GET /a/b.html?x=1 HTTP/1.1\r\nHost: Example.COM.\r\n\r\nBODY", want{
			method: MethodGET, version: 1001, path: "/a/b.html", args: "x=1", exten: "html", raw: "/a/b.html?x=1",
			server: "example.com", proto: "HTTP/1.1", headLen: 50, cl: -1, keepAlive: true}},
		{"\r\nPOST /a%20b+c HTTP/1.0\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\n", want{
			method: MethodPOST, version: 1000, path: "/a b+c", raw: "/a%20b+c", proto: "HTTP/1.0",
			quot: true, plus: true, headLen: 71, cl: 3, keepAlive: true}},
		{"GET http://Example.com:8080 HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n", want{
			method: MethodGET, version: 1001, path: "/", raw: "/", schema: "http", host: "Example.com", port: "8080",
			server: "example.com", proto: "HTTP/1.1", headLen: 72, cl: -1}},
		{"PUT https://[::1]/x?y#z HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", want{
			method: MethodPUT, version: 1001, path: "/x", args: "y", raw: "/x?y#z", schema: "https", host: "[::1]",
			server: "[::1]", proto: "HTTP/1.1", complex: true, headLen: 73, cl: -1, chunked: true, keepAlive: true}},
		{"GET /x\n", want{method: MethodGET, version: 9, path: "/x", raw: "/x", headLen: 7, cl: -1}},
		{"PROPPATCH /a//b HTTP/1.1\nHost: h\n\n", want{
			method: MethodPROPPATCH, version: 1001, path: "/a/b", raw: "/a//b", proto: "HTTP/1.1", complex: true,
			server: "h", headLen: 34, cl: -1, keepAlive: true}},
		{"FOO / HTTP/1.1\r\nHost: h\r\n\r\n", want{
			method: MethodUnknown, version: 1001, path: "/", raw: "/", proto: "HTTP/1.1", server: "h",
			headLen: 27, cl: -1, keepAlive: true}},
	}
	for _, tt := range tests {
		r, st := parseAll(tt.raw, nil)
		if st != Done {
			t.Errorf("%q: state %d status %d %v", tt.raw, st, r.Status(), r.Reason())
			continue
		}
		got := want{
			method: r.Method, version: r.Version, path: string(r.Path()), args: string(r.Args()),
			exten: string(r.Exten()), raw: string(r.RawURI()), schema: string(r.Schema()), host: string(r.Host()),
			port: string(r.Port()), server: string(r.Server()), proto: string(r.Protocol()),
			complex: r.ComplexURI, quot: r.QuotedURI, plus: r.PlusInURI, empty: r.EmptyPathInURI,
			headLen: r.HeadLen(), cl: r.ContentLength, chunked: r.Chunked, keepAlive: r.KeepAlive(),
		}
		if got != tt.want {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.raw, got, tt.want)
		}
	}
}

func TestRequestHeaders(t *testing.T) {
	raw := "GET / HTTP/1.1\r\n" +
		"host:  h  \r\n" +
		"X-Empty:\r\n" +
		"X-Tab: \ta\t \r\n" +
		"Cookie: a=1\r\n" +
		"NoColon\r\n" +
		"X_Under: u\r\n" +
		"X@Y: z\r\n" +
		"cookie: b=2\r\n" +
		"USER-AGENT: ua\r\n\r\n"
	r, st := parseAll(raw, nil)
	if st != Done {
		t.Fatalf("state %d: %v", st, r.Reason())
	}
	want := []HeaderField{
		{[]byte("host"), []byte("h"), HdrHost},
		{[]byte("X-Empty"), []byte(""), HdrOther},
		{[]byte("X-Tab"), []byte("\ta\t"), HdrOther},
		{[]byte("Cookie"), []byte("a=1"), HdrCookie},
		{[]byte("NoColon"), []byte(""), HdrOther},
		{[]byte("cookie"), []byte("b=2"), HdrCookie},
		{[]byte("USER-AGENT"), []byte("ua"), HdrUserAgent},
	}
	if r.NumHeaders() != len(want) {
		t.Fatalf("%d headers: %q", r.NumHeaders(), summary(r, st))
	}
	for i, w := range want {
		h := r.Header(i)
		if string(h.Name) != string(w.Name) || string(h.Value) != string(w.Value) || h.Known != w.Known {
			t.Errorf("header %d = %q: %q (%v), want %q: %q (%v)", i, h.Name, h.Value, h.Known, w.Name, w.Value, w.Known)
		}
	}
	if r.NumIgnored() != 2 || string(r.Ignored(0)) != "X_Under: u" || string(r.Ignored(1)) != "X@Y: z" {
		t.Errorf("ignored: %q", summary(r, st))
	}
	if v := r.Get(HdrCookie); string(v) != "a=1" {
		t.Errorf("Get(Cookie) = %q", v)
	}
	if i := r.Index(HdrUserAgent); i != 6 {
		t.Errorf("Index(User-Agent) = %d", i)
	}
	if v := r.Get(HdrReferer); v != nil {
		t.Errorf("Get(Referer) = %q", v)
	}
	if v, ok := r.Lookup([]byte("x-tab")); !ok || string(v) != "\ta\t" {
		t.Errorf("Lookup(x-tab) = %q, %v", v, ok)
	}
	if _, ok := r.Lookup([]byte("x-none")); ok {
		t.Errorf("Lookup(x-none) found")
	}

	// with ignore_invalid_headers off and underscores allowed both stay
	r, st = parseAll(raw, &Config{KeepInvalidHeaders: true, UnderscoresInHeaders: true})
	if st != Done || r.NumHeaders() != 9 || r.NumIgnored() != 0 {
		t.Errorf("lax: %q", summary(r, st))
	}
	// underscores allowed, invalid names still skipped
	r, st = parseAll(raw, &Config{UnderscoresInHeaders: true})
	if st != Done || r.NumHeaders() != 8 || r.NumIgnored() != 1 {
		t.Errorf("underscores: %q", summary(r, st))
	}
}

func TestRequestErrors(t *testing.T) {
	tests := []struct {
		raw    string
		status int
		reason Reason
		text   string
		prev   string
		bad    int
	}{
		{"get / HTTP/1.1\r\n", 400, ReasonInvalidMethod, "", "", -1},
		{"GET? / HTTP/1.1\r\n", 400, ReasonInvalidMethod, "GET", "", -1},
		{"GET /\x01 HTTP/1.1\r\n", 400, ReasonInvalidRequest, "GET /", "", -1},
		{"GET / HTTP/3.0\r\n", 505, ReasonInvalidVersion, "GET / HTTP/", "", -1},
		{"POST /\r\n", 400, ReasonInvalid09Method, "POST /", "", -1},
		{"GET /.. HTTP/1.0\r\n\r\n", 400, ReasonInvalidRequest, "GET /.. HTTP/1.0", "", -1},
		{"GET http://a..b/ HTTP/1.0\r\n\r\n", 400, ReasonInvalidHostInRequestLine, "a..b", "", -1},
		{"GET / HTTP/1.0\r\nX A: 1\r\n", 400, ReasonInvalidHeader, "X", "", ' '},
		{"GET / HTTP/1.0\r\nX: a\x00\r\n", 400, ReasonInvalidHeader, "X: a", "", 0},
		{"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400, ReasonDuplicateHost, "Host: b", "Host: a", -1},
		{"GET / HTTP/1.0\r\nExpect: a\r\nExpect: b\r\n\r\n", 400, ReasonDuplicateHeader, "Expect: b", "Expect: a", -1},
		{"GET / HTTP/1.0\r\nHost: a/b\r\n\r\n", 400, ReasonInvalidHost, "Host: a/b", "", -1},
		{"GET / HTTP/1.1\r\n\r\n", 400, ReasonNoHost, "GET / HTTP/1.1", "", -1},
		{"GET / HTTP/1.0\r\nContent-Length: x\r\n\r\n", 400, ReasonInvalidContentLength, "Content-Length: x", "", -1},
		{"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, ReasonTransferEncoding10, "Transfer-Encoding: chunked", "", -1},
		{"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501, ReasonUnknownTransferEncoding, "gzip", "", -1},
		{"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
			ReasonContentLengthAndTransferEncoding, "Transfer-Encoding: chunked", "", -1},
		{"CONNECT / HTTP/1.0\r\n\r\n", 405, ReasonConnectMethod, "CONNECT / HTTP/1.0", "", -1},
		{"TRACE / HTTP/1.0\r\n\r\n", 405, ReasonTraceMethod, "TRACE / HTTP/1.0", "", -1},
	}
	for _, tt := range tests {
		r, st := parseAll(tt.raw, nil)
		if st != Failed || r.Status() != tt.status || r.Reason() != tt.reason {
			t.Errorf("%q: %q, want %d %q", tt.raw, summary(r, st), tt.status, tt.reason)
			continue
		}
		text, prev, bad := r.ErrorText()
		if string(text) != tt.text || string(prev) != tt.prev || bad != tt.bad {
			t.Errorf("%q: ErrorText = %q, %q, %d; want %q, %q, %d", tt.raw, text, prev, bad, tt.text, tt.prev, tt.bad)
		}
	}
}

// splitCases are streams the incremental tests feed in pieces: the
// differential table plus a few shapes it lacks.
func splitCases() []diffCase {
	extra := []diffCase{
		{"absolute ipv6 port", "", "GET http://[::1]:8/a HTTP/1.1\r\nHost: h\r\n\r\n", ""},
		{"complex and args", "", "GET /a/../b%20c?d=e#f HTTP/1.1\r\nHost: h\r\n\r\n", ""},
		{"too long header line tiny", "tiny", "GET / HTTP/1.1\r\nHost: h\r\nX: " + long('v', 600) + "\r\n\r\n", ""},
	}
	return append(append([]diffCase(nil), diffCases...), extra...)
}

// TestIncrementalSplits feeds every stream in two pieces at every split
// point, and byte by byte, and expects exactly the one-shot result: the
// parser must neither depend on read boundaries nor repeat work wrongly.
func TestIncrementalSplits(t *testing.T) {
	for _, c := range splitCases() {
		cfg := diffServers[c.server].cfg
		raw := []byte(c.raw)
		if len(raw) > 3000 {
			raw = raw[:3000]
		}
		one, st := parseAll(string(raw), cfg)
		want := summary(one, st)
		step := 1
		if len(raw) > 400 {
			step = 7
		}
		for cut := 0; cut <= len(raw); cut += step {
			var r Request
			r.Reset(cfg)
			first := r.Parse(raw[:cut])
			if first == Done || first == Failed {
				// a verdict from a prefix must be final
				if got := summary(&r, r.Parse(raw)); got != want && st != NeedMore {
					t.Errorf("%s: cut %d: early verdict differs:\n got %q\nwant %q", c.name, cut, got, want)
				}
				continue
			}
			if got := summary(&r, r.Parse(raw)); got != want {
				t.Errorf("%s: cut %d:\n got %q\nwant %q", c.name, cut, got, want)
				break
			}
		}
		// byte by byte, moving the bytes to a fresh buffer on every call
		var r Request
		r.Reset(cfg)
		var got State
		for i := 1; i <= len(raw); i++ {
			moved := append([]byte(nil), raw[:i]...)
			if got = r.Parse(moved); got != NeedMore {
				break
			}
		}
		if s := summary(&r, r.Parse(append([]byte(nil), raw...))); s != want {
			t.Errorf("%s: byte by byte:\n got %q\nwant %q", c.name, s, want)
		}
	}
}

func TestSelectServer(t *testing.T) {
	lax := &Config{UnderscoresInHeaders: true}
	var seen []string
	cfg := &Config{SelectServer: func(host []byte) *Config {
		seen = append(seen, string(host))
		if string(host) == "Lax" {
			return lax
		}
		return nil
	}}
	raw := "GET / HTTP/1.1\r\nX_A: 1\r\nHost: Lax:80\r\nX_B: 2\r\nHost2: x\r\n\r\n"
	r, st := parseAll(raw, cfg)
	if st != Done {
		t.Fatal(summary(r, st))
	}
	if len(seen) != 1 || seen[0] != "Lax" {
		t.Errorf("SelectServer saw %q", seen)
	}
	// X_A came before the switch and was ignored; X_B after it is kept.
	if r.NumIgnored() != 1 || string(r.Ignored(0)) != "X_A: 1" || r.NumHeaders() != 3 {
		t.Errorf("after switch: %q", summary(r, st))
	}
	// an absolute URI selects the server; Host does not select again
	seen = nil
	r, st = parseAll("GET http://abs/ HTTP/1.1\r\nHost: Lax\r\n\r\n", cfg)
	if st != Done || len(seen) != 1 || seen[0] != "abs" || string(r.Server()) != "abs" {
		t.Errorf("absolute: seen %q, %q", seen, summary(r, st))
	}
}

func TestPipelinedWindow(t *testing.T) {
	cfg := &Config{ClientHeaderBufferSize: 64, LargeHeaderBuffers: 2, LargeHeaderBufferSize: 256}
	first := "GET / HTTP/1.1\r\nHost: x\r\n\r\n" // 27 bytes
	second := "GET /" + long('a', 40) + " HTTP/1.1\r\nHost: x\r\n\r\n"
	raw := []byte(first + second)
	var r Request
	r.Reset(cfg)
	if st := r.Parse(raw); st != Done || r.BufferEnd() != 64 || r.LargeBuffers() != 0 {
		t.Fatalf("first: %q end=%d large=%d", summary(&r, st), r.BufferEnd(), r.LargeBuffers())
	}
	next := r.HeadLen()
	r.ResetPipelined(cfg, r.BufferEnd()-next, min(r.LargeBuffers(), 1))
	// 37 bytes of room: the request line does not fit and moves to a large
	// buffer, as in nginx.
	if st := r.Parse(raw[next:]); st != Done || r.LargeBuffers() != 1 || r.BufferEnd() != 256 {
		t.Fatalf("second: %q end=%d large=%d", summary(&r, st), r.BufferEnd(), r.LargeBuffers())
	}
}

func TestKnownHeaderLookup(t *testing.T) {
	for k := KnownHeader(1); k < numKnown; k++ {
		name := k.String()
		for _, v := range []string{name, strings.ToLower(name), strings.ToUpper(name)} {
			if got := LookupHeader([]byte(v)); got != k {
				t.Errorf("LookupHeader(%q) = %v, want %v", v, got, k)
			}
		}
		// one byte changed must not match
		b := []byte(strings.ToLower(name))
		b[len(b)/2] ^= 0x01
		if got := LookupHeader(b); got == k {
			t.Errorf("LookupHeader(%q) = %v", b, got)
		}
	}
	for _, v := range []string{"", "x", "X-Custom", "Hostt", "Hos", "Content-Length2", "Set-Cookie2", "Te_"} {
		if got := LookupHeader([]byte(v)); got != HdrOther {
			t.Errorf("LookupHeader(%q) = %v", v, got)
		}
	}
}

func TestValidateHost(t *testing.T) {
	tests := []struct {
		host string
		n    int
		ok   bool
	}{
		{"example.com", 11, true},
		{"example.com:80", 11, true},
		{"example.com.", 11, true},
		{"example.com.:80", 11, true},
		{"[::1]", 5, true},
		{"[::1]:80", 5, true},
		{"[::1", 4, true},
		{".a", 2, true},
		{"a.", 1, true},
		{"\xff", 1, true},
		{"", 0, false},
		{".", 0, false},
		{":80", 0, false},
		{"a..b", 0, false},
		{"a/b", 0, false},
		{"a b", 0, false},
		{"a\x7f", 0, false},
		{"a:1..2", 0, false},
	}
	for _, tt := range tests {
		n, ok := ValidateHost([]byte(tt.host))
		if n != tt.n || ok != tt.ok {
			t.Errorf("ValidateHost(%q) = %d, %v; want %d, %v", tt.host, n, ok, tt.n, tt.ok)
		}
	}
}

func TestMethods(t *testing.T) {
	for m := MethodGET; m <= MethodCONNECT; m <<= 1 {
		if got := ParseMethod([]byte(m.String())); got != m {
			t.Errorf("ParseMethod(%q) = %v", m.String(), got)
		}
	}
	for _, s := range []string{"get", "GETS", "", "PATCHY", "OPTION"} {
		if got := ParseMethod([]byte(s)); got != MethodUnknown {
			t.Errorf("ParseMethod(%q) = %v", s, got)
		}
	}
}

func TestWireStatus(t *testing.T) {
	for in, want := range map[int]int{494: 400, 400: 400, 414: 414, 505: 505} {
		if got := WireStatus(in); got != want {
			t.Errorf("WireStatus(%d) = %d", in, got)
		}
	}
}

func TestZeroValues(t *testing.T) {
	var r Request
	if st := r.Parse([]byte("GET / HTTP/1.0\r\n\r\n")); st != Done || r.ContentLength != -1 {
		t.Errorf("zero Request: %q", summary(&r, st))
	}
	var resp Response
	if st := resp.Parse([]byte("HTTP/1.1 200 OK\r\n\r\n")); st != Done || resp.ContentLength != -1 {
		t.Errorf("zero Response: %s", respSummary(&resp, st))
	}
}
