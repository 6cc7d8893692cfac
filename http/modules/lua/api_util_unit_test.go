package lua

import (
	"testing"
)

func TestBase64Codec(t *testing.T) {
	for _, c := range []struct {
		in, std, stdNoPad, url string
	}{
		{"", "", "", ""},
		{"a", "YQ==", "YQ", "YQ"},
		{"ab", "YWI=", "YWI", "YWI"},
		{"abc", "YWJj", "YWJj", "YWJj"},
		{"\xff\xfe\xfd", "//79", "//79", "__79"},
		{"\xfb\xff", "+/8=", "+/8", "-_8"},
	} {
		if got := encodeBase64(c.in, stdBase64, true); got != c.std {
			t.Errorf("encode(%q) = %q, want %q", c.in, got, c.std)
		}
		if got := encodeBase64(c.in, stdBase64, false); got != c.stdNoPad {
			t.Errorf("encode(%q, no padding) = %q, want %q", c.in, got, c.stdNoPad)
		}
		if got := encodeBase64(c.in, urlBase64, false); got != c.url {
			t.Errorf("encode url(%q) = %q, want %q", c.in, got, c.url)
		}
		for _, enc := range []string{c.std, c.stdNoPad} {
			if got, ok := decodeBase64(enc, stdBase64Dec); !ok || got != c.in {
				t.Errorf("decode(%q) = %q, %v", enc, got, ok)
			}
		}
		if got, ok := decodeBase64(c.url, urlBase64Dec); !ok || got != c.in {
			t.Errorf("decode url(%q) = %q, %v", c.url, got, ok)
		}
	}
	for _, c := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"Y", "", false},        // one symbol left over
		{"YW*j", "", false},     // not in the alphabet
		{"YQ==junk", "a", true}, // what follows '=' is not read
		{"YR==", "a", true},     // leftover bits are dropped unchecked
		{"-_8=", "", false},     // url symbols in the standard alphabet
		{"=", "", true},
	} {
		got, ok := decodeBase64(c.in, stdBase64Dec)
		if got != c.want || ok != c.ok {
			t.Errorf("decode(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestURIEscapes(t *testing.T) {
	for _, c := range []struct {
		in   string
		typ  int
		want string
	}{
		{"a b/c?d#e%f", escURI, "a%20b/c%3Fd%23e%25f"},
		{"a+b&c=d", escArgs, "a%2Bb&c=d"},
		{"!*'();:@&=+$,/?#[] ~", escURIComponent, "!*'()%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D%20~"},
		{"<a href=\"x\">", escHTML, "<a%20href=%22x%22>"},
		{"a'b c", escRefresh, "a%27b%20c"},
		{"a b%\x01\x80", escMemcached, "a%20b%25%01\x80"},
		{"\xe4\xbd\xa0", escURIComponent, "%E4%BD%A0"},
	} {
		if got := string(appendEscape(nil, c.in, c.typ)); got != c.want {
			t.Errorf("escape(%q, %d) = %q, want %q", c.in, c.typ, got, c.want)
		}
		if n := escapeCount(c.in, c.typ); len(c.in)+2*n != len(c.want) {
			t.Errorf("escapeCount(%q, %d) = %d", c.in, c.typ, n)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"a%20b+c", "a b c"},
		{"%zz%4", "%zz%4"},
		{"%", "%"},
		{"%4g%41%61", "%4gAa"},
		{"a%2", "a%2"},
		{"%%41", "%A"},
	} {
		if got := string(appendUnescape(nil, c.in)); got != c.want {
			t.Errorf("unescape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestQuoteSQL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "''"},
		{"abc", "'abc'"},
		{"a'b\"c\\d", `'a\'b\"c\\d'`},
		{"\x00\b\n\r\t\x1a", `'\0\b\n\r\t\Z'`},
		{"\x80'", "'\x80\\''"},
	} {
		if got := quoteSQL(c.in); got != c.want {
			t.Errorf("quoteSQL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestHTTPTimes(t *testing.T) {
	for _, c := range []struct {
		t            int64
		http, cookie string
	}{
		{1290079655, "Thu, 18 Nov 2010 11:27:35 GMT", "Thu, 18-Nov-10 11:27:35 GMT"},
		{0, "Thu, 01 Jan 1970 00:00:00 GMT", "Thu, 01-Jan-70 00:00:00 GMT"},
		{-100, "Thu, 01 Jan 1970 00:00:00 GMT", "Thu, 01-Jan-70 00:00:00 GMT"},
		{2200000000, "Sun, 18 Sep 2039 23:06:40 GMT", "Sun, 18-Sep-2039 23:06:40 GMT"},
		{1 << 40, "Fri, 31 Dec 9999 23:59:59 GMT", "Fri, 31-Dec-9999 23:59:59 GMT"},
	} {
		if got := gmtime(c.t).Format("Mon, 02 Jan 2006 15:04:05 GMT"); got != c.http {
			t.Errorf("http time %d = %q, want %q", c.t, got, c.http)
		}
		if got := cookieTime(c.t); got != c.cookie {
			t.Errorf("cookie time %d = %q, want %q", c.t, got, c.cookie)
		}
	}
}

func TestAtoi(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"0", 0}, {"123", 123}, {"", -1}, {"-1", -1}, {"1 ", -1},
		{"9223372036854775807", 9223372036854775807}, {"9223372036854775808", -1},
	} {
		if got := ngxAtoi(c.in); got != c.want {
			t.Errorf("atoi(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestLuaSub(t *testing.T) {
	for _, c := range []struct {
		s    string
		i, j int
		want string
	}{
		{"hello", 1, 5, "hello"}, {"hello", 2, 3, "el"}, {"hello", 0, -1, "hello"},
		{"hello", -3, -2, "ll"}, {"hello", 4, 2, ""}, {"hello", 3, 99, "llo"}, {"", 1, 0, ""},
	} {
		if got := string(luaSub(c.s, c.i, c.j)); got != c.want {
			t.Errorf("sub(%q, %d, %d) = %q, want %q", c.s, c.i, c.j, got, c.want)
		}
	}
}

func TestReplacementTemplates(t *testing.T) {
	st, _ := newUtilVM(t)
	rs := st.api["re"].(*reState)
	subj := "abcdef"
	ovec := []int{1, 4, 1, 2, -1, -1, 3, 4} // $0=bcd $1=b $2 unset $3=d
	for _, c := range []struct {
		tpl  string
		want string
		ok   bool
	}{
		{"[$0]", "[bcd]", true},
		{"$1$3", "bd", true},
		{"${1}x$2y", "bxy", true},
		{"$$1", "$1", true},
		{"$9", "", true},
		{"$01", "b", true},
		{"plain", "plain", true},
		{"", "", true},
		{"$", "", false},
		{"${", "", false},
		{"${}", "", false},
		{"${1", "", false},
		{"$a", "", false},
		{"${name}", "", false},
		{"$ x", "", false},
	} {
		parts, ok := rs.compileTemplate(c.tpl)
		if ok != c.ok {
			t.Errorf("compileTemplate(%q) ok = %v, want %v", c.tpl, ok, c.ok)
			continue
		}
		if !ok {
			continue
		}
		if got := string(appendTemplate(nil, parts, subj, 4, ovec)); got != c.want {
			t.Errorf("template %q = %q, want %q", c.tpl, got, c.want)
		}
	}
}
