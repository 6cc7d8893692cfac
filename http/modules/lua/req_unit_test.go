package lua

import (
	"sort"
	"strings"
	"testing"

	glua "github.com/yuin/gopher-lua"

	"gresty/http"
	"gresty/httpparse"
)

// dumpTable renders a table of arguments or headers as "k=v" pairs in key
// order, arrays as {a,b}.
func dumpTable(t *glua.LTable) string {
	var out []string
	t.ForEach(func(k, v glua.LValue) {
		s := v.String()
		if a, ok := v.(*glua.LTable); ok {
			var vs []string
			for i := 1; i <= a.Len(); i++ {
				vs = append(vs, a.RawGetInt(i).String())
			}
			s = "{" + strings.Join(vs, ",") + "}"
		}
		out = append(out, k.String()+"="+s)
	})
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestGetURIArgs(t *testing.T) {
	cases := []struct {
		args      string
		max       int
		want      string
		truncated bool
	}{
		{"", -1, "", false},
		{"a=1&b=2", -1, "a=1 b=2", false},
		{"a=1&a=2&a", -1, "a={1,2,true}", false},
		{"a&b=&=c&&", -1, "a=true b=", false},
		{"x=%41%2&y=a+b%zz", -1, "x=A%2 y=a b%zz", false},
		{"k==v", -1, "k==v", false},
		{"a=1&b=2&c=3", 2, "a=1 b=2", true},
		{"a=1&b=2", 2, "a=1 b=2", false},
		{"a&b&c&d", 2, "a=true b=true", true},
		// the limit counts '&'-separated pairs, empty ones too, but only
		// pairs with a key fill it.
		{"&&a=1&b=2", 2, "a=1 b=2", true},
		{"a=1&&b=2&c=3", 2, "a=1 b=2", true},
		{"a=1&b=2&c=3", 0, "a=1 b=2 c=3", false},
	}
	L := glua.NewState()
	defer L.Close()
	for _, c := range cases {
		tb := L.NewTable()
		tr := getURIArgs(L, tb, []byte(c.args), c.max)
		if got := dumpTable(tb); got != c.want || tr != c.truncated {
			t.Errorf("%q max %d: got %q truncated %v, want %q %v", c.args, c.max, got, tr, c.want, c.truncated)
		}
	}
}

func TestParseArgs(t *testing.T) {
	cases := []struct {
		body      string
		max       int
		want      string
		truncated bool
	}{
		{"a=1&b=%20c+d", 100, "a=1 b= c d", false},
		{"a=1&b=2&c=3", 2, "a=1 b=2", true},
		{"a=1&b=2", 2, "a=1 b=2", false},
		// an ignored empty pair still counts, as in ngx_http_lua_parse_args.
		{"&a=1&b=2", 2, "a=1", true},
		{"e&=x&f=", 0, "e=true f=", false},
	}
	L := glua.NewState()
	defer L.Close()
	for _, c := range cases {
		tb := L.NewTable()
		tr := parseArgs(L, tb, []byte(c.body), c.max)
		if got := dumpTable(tb); got != c.want || tr != c.truncated {
			t.Errorf("%q max %d: got %q truncated %v, want %q %v", c.body, c.max, got, tr, c.want, c.truncated)
		}
	}
}

func TestArgsFromTable(t *testing.T) {
	cases := []struct {
		src, want string
	}{
		{`{a = "1 2"}`, "a=1%202"},
		{`{a = true, b = false}`, "a"},
		{`{a = {1, "x/y", true, false}}`, "a=1&a=x%2Fy&a"},
		{`{["k y"] = 3.5}`, "k%20y=3.5"},
		{`{}`, ""},
	}
	for _, c := range cases {
		L := glua.NewState()
		if err := L.DoString("t = " + c.src); err != nil {
			t.Fatal(err)
		}
		if got := argsFromTable(L, L.GetGlobal("t").(*glua.LTable)); got != c.want {
			t.Errorf("%s: got %q, want %q", c.src, got, c.want)
		}
		L.Close()
	}
}

func TestValidateHost(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"Example.COM", "example.com", true},
		{"example.com:8080", "example.com", true},
		{"example.com.", "example.com", true},
		{"[::1]:80", "[::1]", true},
		{"a..b", "", false},
		{"a/b", "", false},
		{":80", "", false},
		{"a\x00b", "", false},
	}
	for _, c := range cases {
		got, ok := validateHost(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("%q: got %q %v, want %q %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestHeaderEscapes(t *testing.T) {
	cases := []struct {
		in   string
		name bool
		want string
	}{
		{"X-Foo", true, "X-Foo"},
		{"X Foo:bar", true, "X%20Foo%3Abar"},
		{"a\"(),/;<=>?@[\\]{}", true, "a%22%28%29%2C%2F%3B%3C%3D%3E%3F%40%5B%5C%5D%7B%7D"},
		{"v\r\nX: y", false, "v%0D%0AX: y"},
		{"tab\tok \xff", false, "tab\tok \xff"},
		{"del\x7f", false, "del%7F"},
	}
	for _, c := range cases {
		tbl := headerValueEscape
		if c.name {
			tbl = headerNameEscape
		}
		if got := escapeHeader(c.in, tbl); got != c.want {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseOffset(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"12345", 12345, true},
		{"", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"9223372036854775807", 1<<63 - 1, true},
		{"9223372036854775808", 0, false},
	}
	for _, c := range cases {
		got, ok := parseOffset(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("%q: got %d %v, want %d %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestEscapeLogAndArgs(t *testing.T) {
	if got := escapeLog("a\r\"b\\c\x80"); got != `a\x0D\x22b\x5Cc\x80` {
		t.Errorf("escapeLog: %q", got)
	}
	if got := string(escapeArgs("a b&c=\x01\x7f")); got != "a%20b&c=%01%7F" {
		t.Errorf("escapeArgs: %q", got)
	}
	if b, bad := unsafeURIByte("/a\tb"); bad {
		t.Errorf("tab is safe in a URI, got 0x%02x", b)
	}
	if b, bad := unsafeURIByte("/a\nb"); !bad || b != '\n' {
		t.Errorf("LF must be unsafe, got 0x%02x %v", b, bad)
	}
}

// The header rules ngx_lua applies to nginx's specially kept response
// headers.
func TestSetRespHeader(t *testing.T) {
	cases := []struct {
		name  string
		steps [][3]string // key, value, "add" for no override
		check func(out *http.ResponseHeaders) string
		want  string
	}{
		{"generic override", [][3]string{{"X-A", "1", ""}, {"x-a", "2", "add"}, {"X-a", "3", ""}},
			liveHeaders, "X-A: 3"},
		{"generic clear", [][3]string{{"X-A", "1", ""}, {"X-A", "2", "add"}, {"X-A", "", ""}},
			liveHeaders, ""},
		{"content type", [][3]string{{"Content-Type", "text/x; charset=a", ""}},
			func(out *http.ResponseHeaders) string { return out.ContentType + "|" + liveHeaders(out) }, "text/x; charset=a|"},
		{"content length", [][3]string{{"Content-Length", "12", ""}},
			func(out *http.ResponseHeaders) string { return liveHeaders(out) + "|" + itoaTest(out.ContentLength) }, "Content-Length: 12|12"},
		{"content length cleared", [][3]string{{"Content-Length", "12", ""}, {"content-length", "", ""}},
			func(out *http.ResponseHeaders) string { return liveHeaders(out) + "|" + itoaTest(out.ContentLength) }, "|-1"},
		{"cache-control multi", [][3]string{{"Cache-Control", "a", ""}, {"Cache-Control", "b", "add"}, {"cache-control", "c", ""}},
			liveHeaders, "Cache-Control: c"},
		{"server cleared", [][3]string{{"Server", "", ""}},
			func(out *http.ResponseHeaders) string { return liveHeaders(out) + "|" + boolTest(out.OmitServer) }, "|true"},
		{"relative location", [][3]string{{"Location", "/a", ""}},
			func(out *http.ResponseHeaders) string {
				return liveHeaders(out) + "|" + boolTest(out.Known(httpparse.HdrLocation) != nil)
			}, "Location: /a|false"},
		{"absolute location", [][3]string{{"Location", "http://x/a", ""}},
			func(out *http.ResponseHeaders) string {
				return liveHeaders(out) + "|" + boolTest(out.Known(httpparse.HdrLocation) != nil)
			}, "Location: http://x/a|true"},
	}
	for _, c := range cases {
		r := &http.Request{}
		r.Out.Reset()
		ctx := &reqCtx{r: r}
		for _, s := range c.steps {
			if !ctx.setRespHeader(s[0], s[1], s[2] != "add") {
				t.Fatalf("%s: %q refused", c.name, s[1])
			}
		}
		if got := c.check(&r.Out); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	r := &http.Request{}
	r.Out.Reset()
	if (&reqCtx{r: r}).setRespHeader("Content-Length", "x", true) {
		t.Error("a Content-Length that is not a number must be refused")
	}
}

func liveHeaders(out *http.ResponseHeaders) string {
	var s []string
	for _, h := range out.Headers {
		if h.Name != nil {
			s = append(s, string(h.Name)+": "+string(h.Value))
		}
	}
	return strings.Join(s, ", ")
}

func itoaTest(n int64) string { return glua.LNumber(n).String() }

func boolTest(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
