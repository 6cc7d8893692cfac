package rewrite

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/regex"
)

// build compiles an http block with the modules this package needs, in
// nginx's order, and returns the server's script, or the error.
func build(t *testing.T, srv string) (*script, error) {
	t.Helper()
	reg := core.NewRegistry(core.CoreModule, core.ErrlogModule, core.EventsModule, core.EventCoreModule,
		http.HTTPModule, http.CoreModule, http.TryFilesModule, Module,
		http.WriteFilterModule, http.HeaderFilterModule, http.ChunkedFilterModule)
	text := "events {}\nhttp {\nserver {\nlisten 127.0.0.1:1;\n" + srv + "\n}\n}\n"
	c, err := core.Build(core.BuildOptions{
		Registry:        reg,
		Prefix:          t.TempDir(),
		ConfFile:        "nginx.conf",
		Text:            []byte(text),
		DefaultErrorLog: "stderr",
		StartLog:        errlog.New(nil),
		Test:            true,
	})
	if err != nil {
		return nil, err
	}
	cfg := http.ConfigOf(c)
	return cfg.Main.Servers[0].Loc().LocConfOf(Module).(*LocConf).script, nil
}

// describe renders a script as one line per code, for comparisons.
func describe(s *script) []string {
	if s == nil {
		return nil
	}
	var out []string
	for i, c := range s.codes {
		var d string
		switch c := c.(type) {
		case *regexCode:
			if c.test {
				d = fmt.Sprintf("test %q caseless=%v negative=%v", c.name, c.re.Re.Flags()&regex.Caseless != 0, c.negative)
				break
			}
			d = fmt.Sprintf("rewrite %q -> %s status=%d redirect=%v break=%v addArgs=%v next=%d",
				c.name, describeValue(c.repl), c.status, c.redirect, c.breakCycle, c.addArgs, c.next)
		case stopCode:
			d = "stop"
		case *returnCode:
			d = fmt.Sprintf("return %d", c.status)
			if c.text != nil {
				d += " " + describeValue(c.text)
			}
		case breakCode:
			d = "break"
		case *ifCode:
			d = fmt.Sprintf("if next=%d loc=%v", c.next, c.loc != nil)
		case compareCode:
			d = fmt.Sprintf("compare equal=%v", c.equal)
		case fileCode:
			d = fmt.Sprintf("file op=%d negate=%v", c.op, c.negate)
		case valueCode:
			d = fmt.Sprintf("value %q", c.text)
		case complexCode:
			d = "complex " + describeValue(c.v)
		case varCode:
			d = "var"
		case setCode:
			d = "set"
		default:
			d = fmt.Sprintf("%T", c)
		}
		out = append(out, fmt.Sprintf("%d %s", i, d))
	}
	return out
}

// describeValue renders a value's parts: literals quoted, $N for
// captures, $v for variables, "?" where the arguments start.
func describeValue(v *value) string {
	var b strings.Builder
	for i, p := range v.parts {
		if i == v.argsAt {
			b.WriteString("?")
		}
		switch {
		case p.varIdx >= 0:
			b.WriteString("$v")
		case p.capture > 0:
			fmt.Fprintf(&b, "$%d", p.capture)
		default:
			fmt.Fprintf(&b, "%q", p.lit)
		}
	}
	if v.argsAt == len(v.parts) {
		b.WriteString("?")
	}
	if v.hasQuery {
		b.WriteString(" (query)")
	}
	return b.String()
}

func TestCompile(t *testing.T) {
	tests := []struct {
		name string
		srv  string
		want []string
	}{
		{"rewrite without flag", `rewrite ^/a(.*) /b$1;`, []string{
			`0 rewrite "^/a(.*)" -> "/b"$1 status=0 redirect=false break=false addArgs=true next=1`,
		}},
		{"rewrite last", `rewrite ^/a /b last;`, []string{
			`0 rewrite "^/a" -> "/b" status=0 redirect=false break=false addArgs=true next=2`,
			`1 stop`,
		}},
		{"rewrite break", `rewrite ^/a /b break;`, []string{
			`0 rewrite "^/a" -> "/b" status=0 redirect=false break=true addArgs=true next=2`,
			`1 stop`,
		}},
		{"rewrite redirect", `rewrite ^/a /b redirect;`, []string{
			`0 rewrite "^/a" -> "/b" status=302 redirect=true break=false addArgs=true next=2`,
			`1 stop`,
		}},
		{"rewrite permanent", `rewrite ^/a /b permanent;`, []string{
			`0 rewrite "^/a" -> "/b" status=301 redirect=true break=false addArgs=true next=2`,
			`1 stop`,
		}},
		{"absolute replacement redirects", `rewrite ^ http://x/$1?a=b;`, []string{
			`0 rewrite "^" -> "http://x/"$1"?a=b" (query) status=302 redirect=true break=false addArgs=true next=2`,
			`1 stop`,
		}},
		{"scheme replacement redirects", `rewrite ^ $scheme://x;`, []string{
			`0 rewrite "^" -> $v"://x" status=302 redirect=true break=false addArgs=true next=2`,
			`1 stop`,
		}},
		{"args split at the first question mark", `rewrite ^/(a)(b) /x?p=$1&q=$2?r;`, []string{
			`0 rewrite "^/(a)(b)" -> "/x"?"p="$1"&q="$2"?r" (query) status=0 redirect=false break=false addArgs=true next=1`,
		}},
		{"trailing question mark drops args", `rewrite ^ /x?;`, []string{
			`0 rewrite "^" -> "/x" status=0 redirect=false break=false addArgs=false next=1`,
		}},
		{"args then trailing question mark", `rewrite ^ /x?a=1?;`, []string{
			`0 rewrite "^" -> "/x"?"a=1" (query) status=0 redirect=false break=false addArgs=false next=1`,
		}},
		{"return code", `return 403;`, []string{`0 return 403`}},
		{"return text", `return 200 "hi $1";`, []string{`0 return 200 "hi "$1`}},
		{"return empty text is none", `return 404 "";`, []string{`0 return 404`}},
		{"return url", `return https://x$request_uri;`, []string{`0 return 302 "https://x"$v`}},
		{"break", `break;`, []string{`0 break`}},
		{"set literal", `set $a "x y";`, []string{`0 value "x y"`, `1 set`}},
		{"set complex", `set $a $host-$1;`, []string{`0 complex $v"-"$1`, `1 set`}},
		{"if variable", "if ($host) { return 204; }\nset $z 1;", []string{
			`0 var`, `1 if next=3 loc=false`, `2 return 204`, `3 value "1"`, `4 set`,
		}},
		{"if equal", `if ($host = "a b") { break; }`, []string{
			`0 var`, `1 value "a b"`, `2 compare equal=true`, `3 if next=5 loc=false`, `4 break`,
		}},
		{"if not equal spaced", `if ( $host != $1 ) { break; }`, []string{
			`0 var`, `1 complex $1`, `2 compare equal=false`, `3 if next=5 loc=false`, `4 break`,
		}},
		{"if regex", `if ($uri ~* ^/A) { break; }`, []string{
			`0 var`, `1 test "^/A" caseless=true negative=false`, `2 if next=4 loc=false`, `3 break`,
		}},
		{"if negative regex", `if ($uri !~ x) { break; }`, []string{
			`0 var`, `1 test "x" caseless=false negative=true`, `2 if next=4 loc=false`, `3 break`,
		}},
		{"if file", `if (-f $request_filename) { break; }`, []string{
			`0 complex $v`, `1 file op=0 negate=false`, `2 if next=4 loc=false`, `3 break`,
		}},
		{"if not dir", `if (!-d /tmp) { break; }`, []string{
			`0 value "/tmp"`, `1 file op=1 negate=true`, `2 if next=4 loc=false`, `3 break`,
		}},
		{"if exists and exec", "if (-e /a) { break; }\nif (!-x /b) { break; }", []string{
			`0 value "/a"`, `1 file op=2 negate=false`, `2 if next=4 loc=false`, `3 break`,
			`4 value "/b"`, `5 file op=3 negate=true`, `6 if next=8 loc=false`, `7 break`,
		}},
		{"nested codes are inline", "if ($host) { rewrite ^ /x last; set $a 1; }\nreturn 404;", []string{
			`0 var`, `1 if next=6 loc=false`,
			`2 rewrite "^" -> "/x" status=0 redirect=false break=false addArgs=true next=4`, `3 stop`,
			`4 value "1"`, `5 set`, `6 return 404`,
		}},
		{"no directives", `rewrite_log on;`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := build(t, tc.srv)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(s); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// TestCompileErrors covers the messages of misuse; the nginx differential
// test checks the same texts against nginx -t.
func TestCompileErrors(t *testing.T) {
	tests := []struct {
		srv, want string
	}{
		{`rewrite ^ "";`, `empty replacement`},
		{`rewrite ^ /x foo;`, `invalid parameter "foo"`},
		{`rewrite ( /x;`, `pcre2_compile() failed: missing closing parenthesis in "("`},
		{`rewrite ^ /$;`, `invalid variable name`},
		{`rewrite ^ /${a;`, `the closing bracket in "a" variable is missing`},
		{`return abc;`, `invalid return code "abc"`},
		{`return 1000;`, `invalid return code "1000"`},
		{`return http://x y;`, `invalid return code "http://x"`},
		{`set a b;`, `invalid variable name "a"`},
		{`set $ b;`, `invalid variable name "$"`},
		{`set $uri b;`, `the duplicate "uri" variable`},
		{`if $a { }`, `invalid condition "$a"`},
		{`if ($a { }`, `invalid condition "$a"`},
		{`if (x) { }`, `invalid condition "x"`},
		{`if () { }`, `invalid condition ")"`},
		{`if ( ) { }`, `invalid condition ")"`},
		{`if ($a = b c) { }`, `invalid condition "$a"`},
		{`if ($host == b) { }`, `unexpected "==" in condition`},
		{`if (-f) { }`, `invalid condition "-f"`},
		{`if (-z /a) { }`, `invalid condition "-z"`},
		{`if (!-q /a) { }`, `invalid condition "!-q"`},
		{`if ($host ~ "(") { }`, `pcre2_compile() failed: missing closing parenthesis in "("`},
		{`if ($host) { if ($host) { } }`, `"if" directive is not allowed here`},
		{`if ($host) { location / { } }`, `"location" directive is not allowed here`},
		{`break 1;`, `invalid number of arguments in "break" directive`},
		{`rewrite_log maybe;`, `invalid value "maybe" in "rewrite_log" directive, it must be "on" or "off"`},
		{"uninitialized_variable_warn on;\nuninitialized_variable_warn off;", `"uninitialized_variable_warn" directive is duplicate`},
	}
	for _, tc := range tests {
		t.Run(tc.srv, func(t *testing.T) {
			_, err := build(t, tc.srv)
			if err == nil {
				t.Fatalf("accepted")
			}
			msg := err.Error()
			if i := strings.LastIndex(msg, " in "); i >= 0 {
				msg = msg[:i]
			}
			if msg != tc.want {
				t.Errorf("error %q, want %q", msg, tc.want)
			}
		})
	}
}

func TestTruth(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{{"", false}, {"0", false}, {"1", true}, {"00", true}, {"a", true}, {" ", true}} {
		if got := truth([]byte(tc.in)); got != tc.want {
			t.Errorf("truth(%q) = %v", tc.in, got)
		}
	}
}
