package setmisc_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"gresty/internal/difftest"
)

func get(uri string) string {
	return "GET " + uri + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
}

// q builds "?x=<escaped s>" so that any byte reaches the variable.
func q(s string) string { return "?x=" + url.QueryEscape(s) }

const conf = `
http {
    default_type text/plain;
    upstream_list ul a b 2:c d;
    upstream_list one solo;
    set_base32_padding off;

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;

        set $x $arg_x;
        set_unescape_uri $x;

        location = /escape {
            set_escape_uri $a $x;
            set_escape_uri $b;
            return 200 "a=[$a] b=[$b]\n";
        }
        location = /unescape {
            set_unescape_uri $a $arg_x;
            return 200 "[$a]\n";
        }
        location = /quote {
            set_quote_sql_str $s $x;
            set_quote_pgsql_str $p $x;
            set_quote_json_str $j $x;
            return 200 "sql=$s pg=$p json=$j\n";
        }
        location = /base32 {
            set_base32_padding on;
            set_encode_base32 $e $x;
            set_decode_base32 $d $e;
            return 200 "e=$e d=[$d]\n";
        }
        location = /base32-nopad {
            set_encode_base32 $e $x;
            set_decode_base32 $d $e;
            return 200 "e=$e d=[$d]\n";
        }
        location = /base32-std {
            set_base32_alphabet "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
            set_encode_base32 $e $x;
            set_decode_base32 $d $e;
            return 200 "e=$e d=[$d]\n";
        }
        location = /base32-decode {
            set_decode_base32 $d $x;
            return 200 "d=[$d]\n";
        }
        location = /base64 {
            set_encode_base64 $e $x;
            set_decode_base64 $d $e;
            set_encode_base64url $eu $x;
            set_decode_base64url $du $eu;
            return 200 "e=$e d=[$d] eu=$eu du=[$du]\n";
        }
        location = /base64-decode {
            set_decode_base64 $d $x;
            return 200 "d=[$d]\n";
        }
        location = /base64url-decode {
            set_decode_base64url $d $x;
            return 200 "d=[$d]\n";
        }
        location = /hex {
            set_encode_hex $e $x;
            set_decode_hex $d $e;
            return 200 "e=$e d=[$d]\n";
        }
        location = /hex-decode {
            set_decode_hex $d $x;
            return 200 "d=[$d]\n";
        }
        location = /hash {
            set_md5 $m $x;
            set_sha1 $s $x;
            set_hmac_sha1 $h1 "secret $arg_k" $x;
            set_encode_base64 $h1;
            set_hmac_sha256 $h2 key $x;
            set_encode_hex $h2;
            return 200 "md5=$m sha1=$s h1=$h1 h2=$h2\n";
        }
        location = /if-empty {
            set $v $arg_v;
            set_if_empty $v "default $x";
            return 200 "v=$v\n";
        }
        location = /hashed {
            set_hashed_upstream $u ul $x;
            set_hashed_upstream $o one $x;
            set $name $arg_list;
            set_hashed_upstream $d $name $x;
            return 200 "u=$u o=$o d=$d\n";
        }
        location = /random {
            set_random $r 7 $arg_to;
            return 200 "r=$r\n";
        }
        location = /secure {
            set_secure_random_alphanum $r $arg_n;
            return 200 "r\n";
        }
        location = /rotate {
            set $r $arg_r;
            set_rotate $r $arg_from 3;
            return 200 "r=$r\n";
        }
        location = /rotate-shared {
            set_rotate $a 1 3;
            set_rotate $b 1 3;
            return 200 "a=$a b=$b\n";
        }
        location = /gmt {
            set_formatted_gmt_time $t $arg_f;
            return 200 "[$t]\n";
        }
        location = /today {
            set_local_today $t;
            set_formatted_local_time $l "%Y-%m-%d";
            return 200 "$t $l\n";
        }
        location = /order {
            set $a "x y";
            set_escape_uri $a;
            if ($a = "x%20y") {
                set $b matched;
            }
            set_quote_sql_str $a;
            return 200 "a=$a b=$b\n";
        }
        location = /args {
            set_unescape_uri $args $arg_q;
            return 200 "args=$args\n";
        }
        location = /arg-target {
            set $before "$arg_bar";
            set_if_empty $arg_bar 15;
            set_if_empty $arg_bah 25;
            set_md5 $http_x_h $http_x_h;
            return 200 "before=$before bar=$arg_bar bah=$arg_bah h=$http_x_h\n";
        }
        location = /in-if {
            if ($arg_a) {
                set_md5 $m $arg_a;
            }
            return 200 "m=$m\n";
        }
    }
}
`

// tricky holds the inputs the encoders are fed: empty, blanks, quotes,
// escapes, controls, non-UTF-8 and UTF-8 bytes, and every length modulo
// 5 and 3.
var tricky = []string{
	"", "a", "ab", "abc", "abcd", "abcde", "abcdef",
	"hello world", "a+b c%zz%2%41%e9", "it's \"quoted\" $x \\ back",
	"\x00\b\n\r\t\x1a\x1f\x7f", "caf\xc3\xa9", "\xe9\xff\xc0\xaf", "\xe0\x80\xed\xa0\xf4\x90",
	"~!@#$^&*()_+-=[]{}|;':,./<>?`",
}

func TestSetMiscMatchesNginx(t *testing.T) {
	p := difftest.Start(t, conf, "set-misc")
	type tc struct{ name, raw string }
	var tests []tc
	for _, s := range tricky {
		for _, loc := range []string{"/escape", "/quote", "/base32", "/base32-nopad", "/base32-std", "/base64", "/hex", "/hash", "/hashed"} {
			tests = append(tests, tc{loc + " " + strings.ToValidUTF8(s, "?"), get(loc + q(s))})
		}
	}
	for _, s := range []string{"%41%4a%4A", "%zz", "%4", "%", "%%41", "a+b", "%2B%20%3f", "x%4g"} {
		tests = append(tests, tc{"unescape " + s, get("/unescape?x=" + s)})
	}
	for _, s := range []string{"c5h66p35", "C5H66P35", "c5h66p3", "44======", "44", "4=4", "w", "c5h66p35c5h66p35", "!!"} {
		tests = append(tests, tc{"base32 decode " + s, get("/base32-decode" + q(s))})
	}
	for _, s := range []string{"YWJj", "YWJ", "YW", "Y", "YWJjZA==", "YWJjZA", "YW=Jj", "Y*Jj", "-_-_", "+/+/"} {
		tests = append(tests, tc{"base64 decode " + s, get("/base64-decode" + q(s))})
		tests = append(tests, tc{"base64url decode " + s, get("/base64url-decode" + q(s))})
	}
	for _, s := range []string{"616263", "6", "6G", "4A4b", ""} {
		tests = append(tests, tc{"hex decode " + s, get("/hex-decode" + q(s))})
	}
	tests = append(tests,
		tc{"if_empty empty", get("/if-empty?x=d")},
		tc{"if_empty set", get("/if-empty?v=given")},
		tc{"hashed by variable list", get("/hashed?x=key&list=ul")},
		tc{"hashed by variable list, other case", get("/hashed?x=KEY&list=UL")},
		tc{"hashed by missing list", get("/hashed?x=key&list=none")},
		tc{"random fixed", get("/random?to=7")},
		tc{"random bad to", get("/random?to=x")},
		tc{"random empty to", get("/random")},
		tc{"secure random bad length", get("/secure?n=0")},
		tc{"secure random too long", get("/secure?n=65")},
		tc{"secure random", get("/secure?n=64")},
		tc{"rotate given", get("/rotate?r=2&from=1")},
		tc{"rotate over", get("/rotate?r=3&from=1")},
		tc{"rotate bad current", get("/rotate?r=x&from=1")},
		tc{"rotate bad from", get("/rotate?r=1&from=-1")},
		tc{"rotate reversed", get("/rotate?r=5&from=9")},
		tc{"rotate shared 1", get("/rotate-shared")},
		tc{"rotate shared 2", get("/rotate-shared")},
		tc{"gmt empty format", get("/gmt")},
		tc{"gmt too long", get("/gmt?f=" + strings.Repeat("%25Y", 70))},
		tc{"local today", get("/today")},
		tc{"order with rewrite", get("/order")},
		tc{"set $args", get("/args?q=a%3Db")},
		tc{"in if", get("/in-if?a=1")},
		tc{"prefix variables as targets", get("/arg-target?bar=71")},
		tc{"prefix variables as targets, empty", get("/arg-target")},
		tc{"in if unmatched", get("/in-if")},
	)
	for _, tc := range tests {
		p.Check(t, tc.name, tc.raw)
	}
}

// TestFormattedTimeMatchesNginx compares strftime conversions, flags,
// widths and modifiers in GMT and local time. The formats are literals:
// the original hands a variable's bytes to strftime without a final NUL,
// so only a format from the configuration is well defined. The clock may
// tick between the two requests, so a difference is tried again.
func TestFormattedTimeMatchesNginx(t *testing.T) {
	formats := []string{
		"%a %A %b %B %h %c", "%C %d %D %e %F", "%g %G %H %I %j %k %l", "%m %M %n %p %P %r %R",
		"%S %t %T %u %U %V %w %W", "%x %X %y %Y %z %Z %%", "%s", "%Q %5 %+Y", "%-d %_H %05Y %^a %#b %#Z %#p %10A %-10d",
		"%Ey %OH %EC %Ea %Ob %#Eh %Ex %OY", "[%]", "%030T %-5z %_z %^c", "%", "%5",
	}
	var b strings.Builder
	b.WriteString("http {\n    default_type text/plain;\n    server {\n        listen 127.0.0.1:%%PORT%%;\n")
	for i, f := range formats {
		fmt.Fprintf(&b, "        location = /g%d { set_formatted_gmt_time $t '%s'; return 200 \"[$t]\\n\"; }\n", i, f)
		fmt.Fprintf(&b, "        location = /l%d { set_formatted_local_time $t '%s'; return 200 \"[$t]\\n\"; }\n", i, f)
	}
	b.WriteString("    }\n}\n")
	p := difftest.Start(t, b.String(), "set-misc")
	for i, f := range formats {
		for _, kind := range []string{"g", "l"} {
			raw := get(fmt.Sprintf("/%s%d", kind, i))
			var diffs []string
			for attempt := 0; attempt < 2; attempt++ {
				ng, gr := p.Do(t, raw)
				if diffs = difftest.Diff(ng, gr); len(diffs) == 0 {
					break
				}
			}
			if len(diffs) > 0 {
				t.Errorf("%s format %q: %s", kind, f, strings.Join(diffs, "; "))
			}
		}
	}
}
