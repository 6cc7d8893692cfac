package httpparse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"strings"
	"testing"
)

// checkRequestInvariants fails t if a finished parse breaks a promise the
// rest of the server relies on.
func checkRequestInvariants(t *testing.T, r *Request, st State, data []byte, cfg *Config) {
	t.Helper()
	switch st {
	case Failed:
		switch r.Status() {
		case 400, 405, 414, 494, 501, 505:
		default:
			t.Fatalf("status %d", r.Status())
		}
		if r.Reason() == ReasonNone {
			t.Fatal("failed without reason")
		}
		return
	case NeedMore:
		if r.Status() != 0 {
			t.Fatalf("need more with status %d", r.Status())
		}
		return
	}
	if r.HeadLen() <= 0 || r.HeadLen() > len(data) {
		t.Fatalf("head length %d of %d", r.HeadLen(), len(data))
	}
	first, num, large := cfg.sizes()
	// leading empty lines do not count: nginx reuses a buffer that holds
	// nothing else
	if r.HeadLen()-r.RequestStart() > first+num*large {
		t.Fatalf("head of %d bytes passed buffers of %d+%dx%d", r.HeadLen()-r.RequestStart(), first, num, large)
	}
	path := string(r.Path())
	if !strings.HasPrefix(path, "/") || strings.Contains(path, "\x00") {
		t.Fatalf("path %q", path)
	}
	if strings.Contains(path, "/./") || strings.Contains(path, "/../") ||
		strings.HasSuffix(path, "/.") || strings.HasSuffix(path, "/..") {
		t.Fatalf("path %q not normalised", path)
	}
	if (cfg == nil || !cfg.NoMergeSlashes) && strings.Contains(path, "//") {
		t.Fatalf("path %q has unmerged slashes", path)
	}
	if r.Version != 9 && r.Version < 1000 || r.Version > 1999 {
		t.Fatalf("version %d", r.Version)
	}
	for i := 0; i < r.NumHeaders(); i++ {
		h := r.Header(i)
		if len(h.Name) == 0 || bytes.ContainsAny(h.Name, ": \t\r\n\x00\x7f") {
			t.Fatalf("header name %q", h.Name)
		}
		if bytes.ContainsAny(h.Value, "\r\n\x00") || bytes.HasPrefix(h.Value, []byte(" ")) || bytes.HasSuffix(h.Value, []byte(" ")) {
			t.Fatalf("header value %q", h.Value)
		}
		if h.Known != HdrOther && !strings.EqualFold(string(h.Name), h.Known.String()) {
			t.Fatalf("header %q known as %v", h.Name, h.Known)
		}
	}
	if r.Version > 1000 && r.Index(HdrHost) < 0 {
		t.Fatal("HTTP/1.1 without Host passed")
	}
	if r.Chunked && r.Index(HdrContentLength) >= 0 {
		t.Fatal("chunked with Content-Length passed")
	}
	if r.Index(HdrContentLength) >= 0 && r.ContentLength < 0 {
		t.Fatal("Content-Length header without a length")
	}
}

func FuzzRequest(f *testing.F) {
	for _, c := range splitCases() {
		f.Add([]byte(c.raw), uint16(7))
	}
	f.Add([]byte(chromeRequest), uint16(300))
	f.Add([]byte(apiRequest), uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		for _, cfg := range []*Config{nil, diffServers["tiny"].cfg, diffServers["lax"].cfg} {
			one, st := parseAll(string(data), cfg)
			checkRequestInvariants(t, one, st, data, cfg)
			want := summary(one, st)

			// the same bytes in two reads, the first moved to a new array
			at := int(cut) % (len(data) + 1)
			var r Request
			r.Reset(cfg)
			if r.Parse(append([]byte(nil), data[:at]...)) == NeedMore {
				if got := summary(&r, r.Parse(data)); got != want {
					t.Fatalf("cut %d:\n got %q\nwant %q", at, got, want)
				}
			} else if st != NeedMore {
				if got := summary(&r, r.Parse(data)); got != want {
					t.Fatalf("cut %d, early verdict:\n got %q\nwant %q", at, got, want)
				}
			}
		}
	})
}

func FuzzResponse(f *testing.F) {
	seeds := []string{
		upstreamResponse,
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
		"HTTP/1.0 404 Not Found\nServer: x\n\n",
		"HTTP/1.1 200 OK\r\nHTTP/1.1 200 OK\r\nX_Y: 1\r\n\r\n",
		"HTTP/1.1 403.1 x\r\n\r\n",
		"<html>",
		"HTTP/1.1 2000\r\n\r\n",
		"HTTP/1.1 204\r\nA: b\x00\r\n\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint16(5), uint16(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut, max uint16) {
		var one Response
		one.MaxHeadSize = int(max)
		one.Reset()
		st := one.Parse(data)
		want := respSummary(&one, st)
		if st == Done {
			if one.HeadLen() < 0 || one.HeadLen() > len(data) {
				t.Fatalf("head %d of %d", one.HeadLen(), len(data))
			}
			if one.Version != 9 && (one.StatusCode < 0 || one.StatusCode > 999) {
				t.Fatalf("status %d", one.StatusCode)
			}
			if one.Chunked && one.ContentLength != -1 {
				t.Fatal("chunked keeps a length")
			}
			_ = one.Framing(false)
		}
		if st == Failed && one.Failure() == "" {
			t.Fatal("failed without reason")
		}
		at := int(cut) % (len(data) + 1)
		var r Response
		r.MaxHeadSize = int(max)
		r.Reset()
		if r.Parse(data[:at]) != NeedMore {
			return
		}
		got := r.Parse(data)
		// nginx starts an HTTP/0.9 body where the failing read began
		if got == Done && r.Version == 9 {
			return
		}
		if s := respSummary(&r, got); s != want {
			t.Fatalf("cut %d:\n got %s\nwant %s", at, s, want)
		}
	})
}

func FuzzChunked(f *testing.F) {
	for _, c := range diffCases {
		if i := strings.Index(c.raw, "\r\n\r\n"); i >= 0 && strings.Contains(c.raw, "chunked") {
			f.Add([]byte(c.raw[i+4:]), uint16(3), uint16(0))
		}
	}
	f.Add([]byte("5\r\nhello\r\n0\r\nA: b\r\n\r\nrest"), uint16(1), uint16(5))
	f.Add(chunkedBody(3, 10), uint16(9), uint16(25))
	f.Fuzz(func(t *testing.T, data []byte, step, max uint16) {
		one, oneRest, oneErr := decodeAll(string(data), len(data)+1, int64(max))
		n := int(step%64) + 1
		got, rest, err := decodeAll(string(data), n, int64(max))
		if got != one || !errors.Is(err, oneErr) || (err == io.EOF && rest != oneRest) {
			t.Fatalf("step %d: %q %q %v; one-shot %q %q %v", n, got, rest, err, one, oneRest, oneErr)
		}
		if max > 0 && int64(len(got)) > int64(max) {
			t.Fatalf("decoded %d bytes past the limit %d", len(got), max)
		}
		if len(got) > len(data) {
			t.Fatalf("decoded %d bytes from %d", len(got), len(data))
		}
	})
}

// FuzzChunkedRoundTrip encodes data in chunks of fuzzed sizes, with
// extensions and trailers, and checks that this decoder and Go's agree on
// the result.
func FuzzChunkedRoundTrip(f *testing.F) {
	f.Add([]byte("hello world"), []byte{3, 0, 5}, true)
	f.Add([]byte{}, []byte{}, false)
	f.Fuzz(func(t *testing.T, data, sizes []byte, extras bool) {
		var enc []byte
		rest := data
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if i < len(sizes) && sizes[i] > 0 {
				n = min(int(sizes[i]), n)
			}
			enc = AppendChunkHeader(enc, int64(n))
			if extras {
				// an extension goes before the CRLF the header ends with
				enc = append(enc[:len(enc)-2], ";name=value\r\n"...)
			}
			enc = append(enc, rest[:n]...)
			enc = append(enc, ChunkEnd...)
			rest = rest[n:]
		}
		var trailer []byte
		if extras {
			trailer = []byte("X-Check: 1\r\n")
		}
		enc = AppendLastChunk(enc, false, trailer)

		got, after, err := decodeAll(string(enc), 5, 0)
		if err != io.EOF || after != "" || got != string(data) {
			t.Fatalf("decoded %q, rest %q, %v", got, after, err)
		}
		goData, goErr := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(enc)))
		if goErr != nil || !bytes.Equal(goData, data) {
			t.Fatalf("Go decoded %q, %v", goData, goErr)
		}
	})
}

// FuzzRequestNetHTTP builds well-formed requests from fuzzed parts and
// checks that this parser and Go's net/http accept them alike and agree on
// the method, target and header values. Only requests both are specified to
// accept are built: token methods, visible-ASCII targets, token header
// names and visible-ASCII values.
func FuzzRequestNetHTTP(f *testing.F) {
	f.Add("GET", "/a/b?c=d", "X-A", "1", "Accept", "text/html")
	f.Add("POST", "/", "Content-Type", "application/json", "User-Agent", "curl/8")
	f.Fuzz(func(t *testing.T, method, target, n1, v1, n2, v2 string) {
		if !wellFormedMethod(method) || !wellFormedTarget(target) ||
			!wellFormedName(n1) || !wellFormedName(n2) || !wellFormedValue(v1) || !wellFormedValue(v2) {
			return
		}
		for _, n := range []string{n1, n2} {
			switch LookupHeader([]byte(n)) {
			case HdrOther, HdrAccept, HdrUserAgent, HdrReferer, HdrCookie, HdrContentType, HdrVia:
			default:
				return // names with framing or validation rules of their own
			}
		}
		if method == "CONNECT" || method == "TRACE" || strings.EqualFold(n1, n2) {
			return
		}
		raw := method + " " + target + " HTTP/1.1\r\nHost: example.com\r\n" +
			n1 + ": " + v1 + "\r\n" + n2 + ": " + v2 + "\r\n\r\n"

		var r Request
		r.Reset(nil)
		st := r.Parse([]byte(raw))
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if (st == Done) != (err == nil) {
			t.Fatalf("%q: ours %d (%v), net/http %v", raw, st, r.Reason(), err)
		}
		if err != nil {
			return
		}
		if string(r.MethodName()) != req.Method || string(r.RawURI()) != req.RequestURI {
			t.Fatalf("%q: ours %q %q, net/http %q %q", raw, r.MethodName(), r.RawURI(), req.Method, req.RequestURI)
		}
		for _, h := range [][2]string{{n1, v1}, {n2, v2}} {
			ours, _ := r.Lookup([]byte(h[0]))
			if theirs := req.Header.Get(h[0]); string(ours) != theirs {
				t.Fatalf("%q: header %q ours %q, net/http %q", raw, h[0], ours, theirs)
			}
		}
	})
}

func wellFormedMethod(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, c := range []byte(s) {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// wellFormedTarget allows an origin-form target of unreserved and
// sub-delimiter characters, without escapes or dot segments (which nginx
// normalises and Go leaves alone).
func wellFormedTarget(s string) bool {
	if !strings.HasPrefix(s, "/") || len(s) > 200 || strings.Contains(s, "//") || strings.Contains(s, "/.") ||
		strings.ContainsAny(s, "#%") {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("/-._~?=&!$'()*+,;:@", c) >= 0) {
			return false
		}
	}
	return true
}

func wellFormedName(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func wellFormedValue(s string) bool {
	if len(s) > 200 || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		return false
	}
	for _, c := range []byte(s) {
		if c < 0x21 && c != ' ' || c > 0x7e {
			return false
		}
	}
	return true
}
