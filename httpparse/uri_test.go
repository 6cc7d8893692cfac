package httpparse

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gresty/internal/nginxtest"
)

// uriCase is a request target (and optional Cookie header) with what nginx
// makes of it, as "$uri|$args|$arg_a|$cookie_c", or "400".
type uriCase struct {
	target string
	cookie string
	want   string
}

var uriCases = []uriCase{
	{"/", "", "/|||"},
	{"/a/b", "", "/a/b|||"},
	{"/a//b///c", "", "/a/b/c|||"},
	{"//", "", "/|||"},
	{"/a/./b", "", "/a/b|||"},
	{"/a/.", "", "/a/|||"},
	{"/a/..", "", "/|||"},
	{"/a/b/..", "", "/a/|||"},
	{"/a/b/../", "", "/a/|||"},
	{"/a/b/../../c", "", "/c|||"},
	{"/a/.b/..c/...", "", "/a/.b/..c/...|||"},
	{"/.", "", "/|||"},
	{"/..", "", "400"},
	{"/a/../..", "", "400"},
	{"/a/%2e%2e", "", "/|||"},
	{"/a/%2E./b", "", "/b|||"},
	{"/a%2fb", "", "/a/b|||"},
	{"/a%2F..%2Fb", "", "/b|||"},
	{"/a%2F%2Fb", "", "/a/b|||"},
	{"/%41%42c", "", "/ABc|||"},
	{"/%e4%bd%a0", "", "/\xe4\xbd\xa0|||"},
	{"/a%3fb?c=d", "", "/a?b|c=d||"},
	{"/a%3Fb", "", "/a?b|||"},
	{"/a%23b", "", "/a#b|||"},
	{"/a%25b", "", "/a%b|||"},
	{"/a%2b", "", "/a+|||"},
	{"/a%20b", "", "/a b|||"},
	{"/a%0Ab", "", "/a\nb|||"},
	{"/a%00", "", "400"},
	{"/a%", "", "400"},
	{"/a%4", "", "400"},
	{"/a%g0", "", "400"},
	{"/a%4g", "", "400"},
	{"/a#frag", "", "/a|||"},
	{"/a#frag?x=1", "", "/a|||"},
	{"/a?x=1#frag", "", "/a|x=1||"},
	{"/a?", "", "/a|||"},
	{"/a?a=1&b=2", "", "/a|a=1&b=2|1|"},
	{"/?b=1&a=2", "", "/|b=1&a=2|2|"},
	{"/?A=3", "", "/|A=3|3|"},
	{"/?ba=1&a=", "", "/|ba=1&a=||"},
	{"/?aa=1", "", "/|aa=1||"},
	{"/?a", "", "/|a||"},
	{"/?a=%41", "", "/|a=%41|%41|"},
	{"/?x&a=1&a=2", "", "/|x&a=1&a=2|1|"},
	{"/a/./b?x=/../", "", "/a/b|x=/../||"},
	{"/a+b", "", "/a+b|||"},
	{"/a/b.html", "", "/a/b.html|||"},
	{"/a.b/c", "", "/a.b/c|||"},
	{"/\xff/x", "", "/\xff/x|||"},
	{"http://example.com", "", "/|||"},
	{"http://example.com?a=1", "", "/|a=1|1|"},
	{"http://example.com/a/../b?c", "", "/b|c||"},
	{"/", "c=1", "/|||1"},
	{"/", "a=1; c=2", "/|||2"},
	{"/", "a=1;c=2", "/|||2"},
	{"/", "C = 3 ; x=4", "/|||3 "},
	{"/", "xc=1; c=2", "/|||2"},
	{"/", "c", "/|||"},
	{"/", "c;c=5", "/|||"},
	{"/", "a=1, c=6", "/|||6"},
}

// uriVerdict computes the case's outcome with this package.
func uriVerdict(c uriCase) string {
	raw := "GET " + c.target + " HTTP/1.0\r\n"
	if c.cookie != "" {
		raw += "Cookie: " + c.cookie + "\r\n"
	}
	raw += "\r\n"
	var r Request
	r.Reset(nil)
	switch r.Parse([]byte(raw)) {
	case Failed:
		return fmt.Sprint(r.Status())
	case NeedMore:
		return "need more"
	}
	arg, _ := Arg(r.Args(), []byte("a"))
	var cookie []byte
	for i := 0; i < r.NumHeaders(); i++ {
		if h := r.Header(i); h.Known == HdrCookie {
			if v, ok := CookieValue(h.Value, []byte("c")); ok {
				cookie = v
				break
			}
		}
	}
	return string(r.Path()) + "|" + string(r.Args()) + "|" + string(arg) + "|" + string(cookie)
}

func TestURICases(t *testing.T) {
	for _, c := range uriCases {
		if got := uriVerdict(c); got != c.want {
			t.Errorf("%q cookie %q: got %q, want %q", c.target, c.cookie, got, c.want)
		}
	}
}

func TestURICasesAgainstNginx(t *testing.T) {
	s := nginxtest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { return 200 "$uri|$args|$arg_a|$cookie_c"; }
    }
}
`)
	for _, c := range uriCases {
		raw := "GET " + c.target + " HTTP/1.0\r\n"
		if c.cookie != "" {
			raw += "Cookie: " + c.cookie + "\r\n"
		}
		resp, err := nginxtest.Exchange(s.Addr, []byte(raw+"\r\n"), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(nginxtest.Status(resp))
		if got == "200" {
			_, body, _ := strings.Cut(string(resp), "\r\n\r\n")
			got = body
		}
		if got != c.want {
			t.Errorf("%q cookie %q: nginx says %q, table says %q", c.target, c.cookie, got, c.want)
		}
	}
}

func TestParseComplexURI(t *testing.T) {
	tests := []struct {
		raw          string
		merge, empty bool
		path, args   string
		exten        string
		plus, quoted bool
		ok           bool
	}{
		{raw: "/a//b", merge: true, path: "/a/b", ok: true},
		{raw: "/a//b", path: "/a//b", ok: true},
		{raw: "//..", path: "/", ok: true},
		{raw: "//..", merge: true, ok: false},
		{raw: "/a/b.tar.gz", merge: true, path: "/a/b.tar.gz", exten: "gz", ok: true},
		{raw: "/a.b/c", merge: true, path: "/a.b/c", ok: true},
		{raw: "/a.b/c.", merge: true, path: "/a.b/c.", ok: true},
		{raw: "/x.php%3fa", merge: true, path: "/x.php?a", exten: "php?a", quoted: true, ok: true},
		{raw: "?a=1", merge: true, empty: true, path: "/", args: "a=1", ok: true},
		{raw: "?", merge: true, empty: true, path: "/", args: "", ok: true},
		{raw: "", empty: true, path: "/", ok: true},
		{raw: "/a%2Bb", merge: true, path: "/a+b", plus: true, quoted: true, ok: true},
		{raw: "/a+b", merge: true, path: "/a+b", plus: true, ok: true},
		{raw: "/+", merge: true, path: "/+", plus: true, ok: true},
		{raw: "/a?x#y", merge: true, path: "/a", args: "x", ok: true},
		{raw: "/a/..?x", merge: true, path: "/", args: "x", ok: true},
		{raw: "/a/.?x", merge: true, path: "/a/", args: "x", ok: true},
		{raw: "/a/.#x", merge: true, path: "/a/", ok: true},
		{raw: "/a/..#x", merge: true, path: "/", ok: true},
		{raw: "/%2e", merge: true, path: "/", quoted: true, ok: true},
		{raw: "/%", merge: true, ok: false},
	}
	for _, tt := range tests {
		res, ok := ParseComplexURI(make([]byte, 0, 64), []byte(tt.raw), tt.merge, tt.empty)
		if ok != tt.ok {
			t.Errorf("%q: ok = %v, want %v", tt.raw, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if string(res.Path) != tt.path || string(res.Args) != tt.args || string(res.Exten) != tt.exten ||
			res.PlusInURI != tt.plus || res.QuotedURI != tt.quoted {
			t.Errorf("%q: got path %q args %q exten %q plus %v quoted %v, want %q %q %q %v %v",
				tt.raw, res.Path, res.Args, res.Exten, res.PlusInURI, res.QuotedURI,
				tt.path, tt.args, tt.exten, tt.plus, tt.quoted)
		}
	}
}

func TestParseComplexURINoAlloc(t *testing.T) {
	dst := make([]byte, 0, 64)
	raw := []byte("/a/./b/../c%20d//e?x=1")
	if n := testing.AllocsPerRun(100, func() { ParseComplexURI(dst, raw, true, false) }); n != 0 {
		t.Fatalf("%v allocs", n)
	}
}

// TestEscapeTables checks each table against the byte sets nginx's
// comments describe, built here independently of the bitmaps.
func TestEscapeTables(t *testing.T) {
	set := func(extra string, controls, high bool) (s [256]bool) {
		for c := 0; c < 256; c++ {
			s[c] = (controls && (c < 0x20 || c == 0x7f)) || (high && c >= 0x80)
		}
		for _, c := range []byte(extra) {
			s[c] = true
		}
		return s
	}
	component := set("", true, true)
	for c := 0; c < 256; c++ {
		isAlnum := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		component[c] = !(isAlnum || c == '-' || c == '.' || c == '_' || c == '~')
	}
	want := map[EscapeType][256]bool{
		EscapeURI:          set(" \"#%<>?\\^`{|}", true, true),
		EscapeArgs:         set(" \"#%&+;<>?\\^`{|}", true, true),
		EscapeURIComponent: component,
		EscapeHTML:         set(" \"#%'<>\\^`{|}", true, true),
		EscapeRefresh:      set(" \"'<>\\^`{|~", true, true),
		EscapeMemcached:    set(" %", true, false),
		EscapeMailAuth:     set(" %", true, false),
	}
	// nginx's memcached table covers controls 0x00-0x1f but not DEL.
	m := want[EscapeMemcached]
	m[0x7f] = false
	want[EscapeMemcached], want[EscapeMailAuth] = m, m
	for typ, w := range want {
		for c := 0; c < 256; c++ {
			if got := NeedsEscape(byte(c), typ); got != w[c] {
				t.Errorf("type %d byte %#02x: escape %v, want %v", typ, c, got, w[c])
			}
		}
	}
}

func TestAppendEscape(t *testing.T) {
	tests := []struct {
		in   string
		typ  EscapeType
		want string
	}{
		{"/a b?c#d", EscapeURI, "/a%20b%3Fc%23d"},
		{"a=b&c+d;e", EscapeArgs, "a=b%26c%2Bd%3Be"},
		{"a/b c~d", EscapeURIComponent, "a%2Fb%20c~d"},
		{"\xff\x00", EscapeURI, "%FF%00"},
		{"it's", EscapeHTML, "it%27s"},
		{"a~b", EscapeRefresh, "a%7Eb"},
		{"a b%\x7f", EscapeMemcached, "a%20b%25\x7f"},
	}
	for _, tt := range tests {
		got := AppendEscape(nil, []byte(tt.in), tt.typ)
		if string(got) != tt.want {
			t.Errorf("AppendEscape(%q, %d) = %q, want %q", tt.in, tt.typ, got, tt.want)
		}
		if n := EscapeCount([]byte(tt.in), tt.typ); len(tt.in)+2*n != len(tt.want) {
			t.Errorf("EscapeCount(%q, %d) = %d, inconsistent with %q", tt.in, tt.typ, n, tt.want)
		}
	}
}

func TestAppendUnescape(t *testing.T) {
	tests := []struct {
		in   string
		typ  UnescapeType
		want string
		n    int // bytes consumed; -1 for all
	}{
		{"a%20b", UnescapePlain, "a b", -1},
		{"a%2", UnescapePlain, "a", -1},
		{"a%zzb", UnescapePlain, "azzb", -1},
		{"a%2zb", UnescapePlain, "ab", -1},
		{"%%41", UnescapePlain, "%41", -1},
		{"a?b%3Fc", UnescapePlain, "a?b?c", -1},
		{"a?b", UnescapeURI, "a?", 2},
		{"a%3fb", UnescapeURI, "a?", 4},
		{"a%3Fb", UnescapeURI, "a?", 4},
		{"a%41%00%7e", UnescapeURI, "aA\x00~", -1},
		{"a%41%20%25%26%7f%80", UnescapeRedirect, "aA%20%25&%7f%80", -1},
		{"%2F%2f", UnescapeRedirect, "//", -1},
		{"a%3Fb", UnescapeRedirect, "a?", 4},
		{"a%0a%0A", UnescapeRedirect, "a%0a%0A", -1},
	}
	for _, tt := range tests {
		got, n := AppendUnescape(nil, []byte(tt.in), tt.typ)
		wantN := tt.n
		if wantN < 0 {
			wantN = len(tt.in)
		}
		if string(got) != tt.want || n != wantN {
			t.Errorf("AppendUnescape(%q, %d) = %q, %d; want %q, %d", tt.in, tt.typ, got, n, tt.want, wantN)
		}
	}
}

func TestAppendEscapeHTML(t *testing.T) {
	in := []byte(`<a href="x">&amp;</a>'`)
	want := `&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt;'`
	if got := AppendEscapeHTML(nil, in); string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if n := EscapeHTMLCount(in); len(in)+n != len(want) {
		t.Errorf("EscapeHTMLCount = %d, want %d", n, len(want)-len(in))
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct{ in, path, args string }{
		{"/a?b=c", "/a", "b=c"},
		{"/a", "/a", ""},
		{"/a?", "/a", ""},
		{"/a?b?c", "/a", "b?c"},
	}
	for _, tt := range tests {
		p, a := SplitArgs([]byte(tt.in))
		if string(p) != tt.path || string(a) != tt.args {
			t.Errorf("SplitArgs(%q) = %q, %q", tt.in, p, a)
		}
	}
}

func TestCheckUnsafeURI(t *testing.T) {
	tests := []struct {
		in, path, args string
		ok             bool
	}{
		{"/a/b", "/a/b", "", true},
		{"/a/b?x=1", "/a/b", "x=1", true},
		{"/a/..", "", "", false},
		{"/a/../b", "", "", false},
		{"..", "", "", false},
		{"../a", "", "", false},
		{"/a..b", "/a..b", "", true},
		{"/a/...", "/a/...", "", true},
		{"", "", "", false},
		{"?a", "", "", false},
		{"/a\x00", "", "", false},
		{"/a%2F..%2Fb", "", "", false},
		{"%2E%2E/a", "", "", false},
		{"/a%00", "", "", false},
		{"/a%20b?c%20", "/a b", "c%20", true},
		{"/a?/../", "/a", "/../", true},
	}
	for _, tt := range tests {
		p, a, ok := CheckUnsafeURI(make([]byte, 0, 32), []byte(tt.in))
		if ok != tt.ok || (ok && (string(p) != tt.path || string(a) != tt.args)) {
			t.Errorf("CheckUnsafeURI(%q) = %q, %q, %v; want %q, %q, %v", tt.in, p, a, ok, tt.path, tt.args, tt.ok)
		}
	}
}
