package lua_test

import (
	"fmt"
	"strings"
	"testing"

	"gresty/internal/difftest"
)

// utilPrelude is prepended to every snippet: show prints values the same
// way on both servers (tables with sorted keys, nested), and E strips the
// position resty.core's own Lua files give some errors, which names a file
// of the reference installation (gresty's errors from its own library
// code carry no position or a position in that code), and the
// configuration line in chunk names (the two servers' configurations
// differ in their temp-path lines).
const utilPrelude = `
local function dump(v)
    if type(v) ~= "table" then
        if type(v) == "string" then return string.format("%q", v) end
        return tostring(v)
    end
    local nums, strs = {}, {}
    for k in pairs(v) do
        if type(k) == "number" then nums[#nums + 1] = k else strs[#strs + 1] = tostring(k) end
    end
    table.sort(nums)
    table.sort(strs)
    local out = {}
    for _, k in ipairs(nums) do out[#out + 1] = k .. "=" .. dump(v[k]) end
    for _, k in ipairs(strs) do out[#out + 1] = k .. "=" .. dump(v[k]) end
    return "{" .. table.concat(out, ",") .. "}"
end
local function E(msg)
    msg = tostring(msg):gsub("^[^:]*resty/core/[%w_]+%.lua:%d+: ", "")
    msg = msg:gsub("^[^:]*ngx/re%.lua:%d+: ", ""):gsub("^ngx%.re:%d+: ", "")
    return (msg:gsub("_by_lua%(nginx%.conf:%d+%)", "_by_lua(nginx.conf)"))
end
local function show(...)
    local n = select("#", ...)
    local out = {}
    for i = 1, n do out[i] = dump((select(i, ...))) end
    ngx.say(table.concat(out, " "))
end
local function try(f, ...)
    local r = {pcall(f, ...)}
    if not r[1] then ngx.say("error: ", E(r[2])) return end
    show(unpack(r, 2, table.maxn(r)))
end
`

// runUtilSnippets serves each snippet at /s<i> on both servers and compares
// the answers.
func runUtilSnippets(t *testing.T, httpConf string, snippets []string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("http {\n" + httpConf + "\nserver {\nlisten 127.0.0.1:%%PORT%%;\n")
	for i, s := range snippets {
		fmt.Fprintf(&b, "location = /s%d {\ncontent_by_lua_block {\n%s\n%s\n}\n}\n", i, utilPrelude, s)
	}
	b.WriteString("}\n}\n")
	p := difftest.Start(t, b.String(), "lua")
	for i, s := range snippets {
		name := s
		if len(name) > 80 {
			name = name[:80]
		}
		p.Check(t, fmt.Sprintf("snippet %d %q", i, name), fmt.Sprintf("GET /s%d HTTP/1.0\r\n\r\n", i), "Content-Type")
	}
}

func TestTimeMatchesOpenResty(t *testing.T) {
	runUtilSnippets(t, "", []string{
		`show(ngx.http_time(1290079655), ngx.http_time(0), ngx.http_time(-5), ngx.http_time(1.9))`,
		`show(ngx.http_time(253402300800), ngx.http_time(2^40))`,
		`show(ngx.cookie_time(1290079655), ngx.cookie_time(0), ngx.cookie_time(2200000000), ngx.cookie_time(2145916799))`,
		`show(ngx.parse_http_time("Thu, 18 Nov 2010 11:27:35 GMT"), ngx.parse_http_time("Thursday, 18-Nov-10 11:27:35 GMT"))`,
		`show(ngx.parse_http_time("Thu Nov 18 11:27:35 2010"), ngx.parse_http_time("abc"), ngx.parse_http_time(""))`,
		`try(ngx.parse_http_time, 12) try(ngx.http_time, "12") try(ngx.cookie_time)`,
		`local n, t = ngx.now(), ngx.time() show(type(n), type(t), t == math.floor(n) or t == math.floor(n) + 1)`,
		`show(select("#", ngx.update_time()), ngx.now() >= ngx.time())`,
		`show(#ngx.today(), ngx.today():match("^%d%d%d%d%-%d%d%-%d%d$") ~= nil)`,
		`show(ngx.localtime():match("^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d$") ~= nil, #ngx.utctime())`,
	})
}

func TestCodecMatchesOpenResty(t *testing.T) {
	runUtilSnippets(t, "", []string{
		`show(ngx.encode_base64(""), ngx.encode_base64("a"), ngx.encode_base64("ab"), ngx.encode_base64("abc"), ngx.encode_base64("abcd"))`,
		`show(ngx.encode_base64(nil), ngx.encode_base64(false), ngx.encode_base64(true), ngx.encode_base64(3.25), ngx.encode_base64("\255\0\1"))`,
		`show(ngx.encode_base64("a", true), ngx.encode_base64("ab", true), ngx.encode_base64("abc", false), ngx.encode_base64("ab", nil))`,
		`try(ngx.encode_base64, "a", 1) try(ngx.encode_base64, "a", "yes")`,
		`show(ngx.decode_base64("YWJj"), ngx.decode_base64("YWI="), ngx.decode_base64("YQ=="), ngx.decode_base64("YQ"), ngx.decode_base64(""))`,
		`show(ngx.decode_base64("Y"), ngx.decode_base64("YW*j"), ngx.decode_base64("YQ==junk"), ngx.decode_base64("YWJjZ"), ngx.decode_base64("_-8="))`,
		`try(ngx.decode_base64, nil) try(ngx.decode_base64, 12)`,
		`show(ngx.md5(""), ngx.md5("hello"), ngx.md5(nil), ngx.md5(12), ngx.md5(true))`,
		`show(ngx.encode_base64(ngx.md5_bin("hello")), ngx.encode_base64(ngx.sha1_bin("hello")), #ngx.sha1_bin(nil))`,
		`show(ngx.crc32_short("hello"), ngx.crc32_long("hello"), ngx.crc32_short(""), ngx.crc32_long(nil), ngx.crc32_short(string.rep("x", 100)))`,
		`show(ngx.encode_base64(ngx.hmac_sha1("secret", "message")), ngx.encode_base64(ngx.hmac_sha1("", "")), ngx.encode_base64(ngx.hmac_sha1(1, 2)))`,
		`try(ngx.hmac_sha1, "a") try(ngx.hmac_sha1, "a", "b", "c") try(ngx.hmac_sha1, "a", {})`,
		`local s = "" for i = 0, 255 do s = s .. string.char(i) end for t = 0, 6 do ngx.say(t, " ", ngx.escape_uri(s, t)) end`,
		`show(ngx.escape_uri("a b&c=d/e?f#g"), ngx.escape_uri(nil), ngx.escape_uri(12.5), ngx.escape_uri("~-._!*'()"))`,
		// escape_uri raises at level 3: here that is pcall, so without a
		// position.
		`for _, t in ipairs({-1, 7, 2.5, "2", true}) do try(function() local r = ngx.escape_uri("a", t) return r end) end`,
		`local function f(t) local r = ngx.escape_uri("a", t) return r end local function g(t) local r = f(t) return r end try(g, 9)`,
		`show(ngx.unescape_uri("a%20b+c"), ngx.unescape_uri("%zz%4"), ngx.unescape_uri("%"), ngx.unescape_uri("%4g%41%61"), ngx.unescape_uri(nil), ngx.unescape_uri(5))`,
		`show(ngx.unescape_uri("%E4%BD%A0%e5%a5%bd"), ngx.unescape_uri("%%41"), ngx.unescape_uri("a%2"), ngx.unescape_uri("%3F%3f?"))`,
		`show(ngx.quote_sql_str("a'b\"c\\d\0e\nf\rg\th\26i\8j"), ngx.quote_sql_str(""), ngx.quote_sql_str(12), ngx.quote_sql_str("\200'"))`,
		`try(ngx.quote_sql_str) try(ngx.quote_sql_str, "a", "b") try(ngx.quote_sql_str, nil)`,
		`show(ngx.encode_args({a = "b c"}), ngx.encode_args({}), ngx.encode_args({["a b"] = "x&y=z"}), ngx.encode_args({a = true}), ngx.encode_args({a = false}))`,
		`show(ngx.encode_args({a = {1, 2, "x y"}}), ngx.encode_args({a = {true, false, "v"}}), ngx.encode_args({n = 1.5}), ngx.encode_args({n = 1e20}))`,
		`show(ngx.encode_args({k = "-_.!~*'()"}), ngx.encode_args({k = ",$@|` + "`" + `"}), ngx.encode_args({["%"] = "%"}))`,
		`try(ngx.encode_args, {a = ngx.null}) try(ngx.encode_args, {1, 2}) try(ngx.encode_args, {a = {ngx.null}}) try(ngx.encode_args, true)`,
		`try(ngx.encode_args) try(ngx.encode_args, {}, {}) try(ngx.encode_args, {a = function() end})`,
		`show(ngx.decode_args("a=1&b=2&a=3&c&d=&=e&&f=g=h"))`,
		`show(ngx.decode_args("a%20b=c+d&x=%zz&y=%41%4")) show(ngx.decode_args(""))`,
		`show(ngx.decode_args("a=1&b=2&c=3", 2)) show(ngx.decode_args("a=1&b=2&c=3", 0)) show(ngx.decode_args("a=1&b=2", -1))`,
		`show(ngx.decode_args("&&&a=1", 2)) show(ngx.decode_args("a&a&a=x"))`,
		`local s = "" for i = 1, 120 do s = s .. "k" .. i .. "=v&" end local t, err = ngx.decode_args(s) local n = 0 for _ in pairs(t) do n = n + 1 end show(n, err)`,
		`try(ngx.decode_args) try(ngx.decode_args, "a", 1, 2) try(ngx.decode_args, {}) try(ngx.decode_args, "a", "x") try(ngx.decode_args, "a=1", "1")`,
		`local b64 = require "ngx.base64" show(b64.encode_base64url("\255\254\253abc"), b64.encode_base64url(""), b64.encode_base64url("a"))`,
		`local b64 = require "ngx.base64" show(b64.decode_base64url("__79YWJj"), b64.decode_base64url("+/"), b64.decode_base64url("YQ"), b64.decode_base64url(1))`,
		`local b64 = require "ngx.base64" show(b64.encode_base64url(nil), b64.decode_base64url("Y"), b64.decode_base64url("YQ=="))`,
	})
}

func TestRegexMatchesOpenResty(t *testing.T) {
	runUtilSnippets(t, "", []string{
		// match
		`show(ngx.re.match("hello, 1234", "([0-9]+)"))`,
		`show(ngx.re.match("hello, 1234", "([a-z]+), ([0-9]+)"))`,
		`show(ngx.re.match("hello", "(h)(x)?(e)"))`,
		`show(ngx.re.match("hello", "(x)|(h)"))`,
		`show(ngx.re.match("hello, world", "(?<first>[a-z]+), (?<second>[a-z]+)"))`,
		`show(ngx.re.match("hello", "(?<a>x)?(?<b>h)"))`,
		`show(ngx.re.match("hello", "(?<n>h)|(?<n>e)", "D"))`,
		`show(ngx.re.match("he", "(?<n>h)(?<n>e)", "D"))`,
		`show(ngx.re.match("hello", "(?<n>h)(?<n>e)"))`,
		`show(ngx.re.match("HELLO", "hello", "i"), ngx.re.match("HELLO", "hello"))`,
		`show(ngx.re.match("a\nb", "^b", "m"), ngx.re.match("a\nb", "^b"))`,
		`show(ngx.re.match("a\nb", "a.b", "s"), ngx.re.match("a\nb", "a.b"))`,
		`show(ngx.re.match("abc", [[a # comment
		  b c]], "x"))`,
		`show(ngx.re.match("xabc", "abc", "a"), ngx.re.match("abcx", "abc", "a"))`,
		`show(ngx.re.match("你好", "^.$", "u"), ngx.re.match("你好", "^..$", "u"), #ngx.re.match("你好", ".")[0])`,
		`show(ngx.re.match("\255", ".", "u"))`,
		`show(ngx.re.match("hello", "l+", "j"), ngx.re.match("hello", "l+", "jo"), ngx.re.match("hello", "l+", "o"))`,
		`show(ngx.re.match("hello", ""), ngx.re.match("", ""), ngx.re.match("", "a"))`,
		`show(ngx.re.match(nil, "nil"), ngx.re.match(12.5, "[0-9.]+"), ngx.re.match(true, "r"))`,
		`show(ngx.re.match("abc", "("))`,
		`show(ngx.re.match("abc", "[a"))`,
		`show(ngx.re.match("abc", "a{2,1}"))`,
		`show(ngx.re.match("abc", "(?<n>a)(?<n>b)"))`,
		`try(ngx.re.match, "abc", "a", "H") try(ngx.re.match, "abc", "a", "iHm")`,
		`try(ngx.re.match, "abc", nil) try(ngx.re.match, "abc", 1) try(ngx.re.match, "abc", "a", 1)`,
		`show(ngx.re.match("abcabc", "abcd|ab|abc", "d"), ngx.re.match("abcabc", "abcd|ab|abc"))`,
		`show(ngx.re.match("abc", "(b)", "d"))`,
		`show(ngx.re.match("abc", "(?<n>b)", "d"))`,
		`local ctx = {} show(ngx.re.match("1234, 56", "[0-9]+", "", ctx), ctx.pos) show(ngx.re.match("1234, 56", "[0-9]+", "", ctx), ctx.pos) show(ngx.re.match("1234, 56", "[0-9]+", "", ctx), ctx.pos)`,
		`local ctx = {pos = 3} show(ngx.re.match("1234", "[0-9]+", "", ctx), ctx.pos)`,
		`local ctx = {pos = 0} show(ngx.re.match("1234", "[0-9]+", "", ctx), ctx.pos) ctx.pos = -5 show(ngx.re.match("1234", "[0-9]", "", ctx), ctx.pos)`,
		`local ctx = {pos = 5} show(ngx.re.match("1234", "", "", ctx), ctx.pos) ctx.pos = 6 show(ngx.re.match("1234", "", "", ctx), ctx.pos)`,
		`local ctx = {pos = 2} show(ngx.re.match("你好", ".", "u", ctx), ctx.pos)`,
		`local ctx = {pos = "2"} try(ngx.re.match, "abc", "b", "", ctx)`,
		`local res = {9, 9, 9, x = 1} show(ngx.re.match("ab", "(a)(b)?", "", nil, res), res)`,
		`local res = {} ngx.re.match("ab", "(?<n>a)", "D", nil, res) ngx.re.match("ab", "(?<n>a)", "D", nil, res) show(res)`,
		`local m = ngx.re.match("2024-01-02", [[(\d+)-(\d+)-(\d+)]]) show(m[1] + 0, m[2], m[3], #m)`,
		`show(ngx.re.match("a.b", [[\.]]), ngx.re.match("a b", [[\s]]), ngx.re.match("a_b", [[\W]]), ngx.re.match("ab", [[\bb]]))`,
		`show(ngx.re.match("aaa", "a*?"), ngx.re.match("aaa", "a{2}"), ngx.re.match("aaa", "(a)\\1"))`,
		`show(ngx.re.match("foobar", "foo(?=bar)"), ngx.re.match("foobar", "(?<=foo)bar"), ngx.re.match("foobaz", "foo(?!bar)"))`,
		`show(ngx.re.match("abc", "(?i)B"), ngx.re.match("ABC", "(?-i)b", "i"), ngx.re.match("abc", "(?:a)(b)"))`,
		`show(ngx.re.match("a\nb\n", "b$"), ngx.re.match("a\nb\n", [[b\z]]), ngx.re.match("a\nb\n", [[b\Z]]))`,
		`show(ngx.re.match("αβγ", "[α-γ]+", "u"), ngx.re.match("ÀB", "àb", "iu"), ngx.re.match("ÀB", "àb", "i"))`,
		`show(ngx.re.match(string.rep("a", 10000), "a+$")[0] == string.rep("a", 10000))`,
		// find
		`show(ngx.re.find("hello, 1234", "([0-9])([0-9]+)"))`,
		`show(ngx.re.find("hello, 1234", "([0-9])([0-9]+)", "", nil, 1), ngx.re.find("hello, 1234", "([0-9])([0-9]+)", "", nil, 2))`,
		`show(ngx.re.find("hello, 1234", "([0-9])([0-9]+)", "", nil, 3))`,
		`show(ngx.re.find("hello", "(x)?h", "", nil, 1), ngx.re.find("hello", "(h)|(x)", "", nil, 2))`,
		`show(ngx.re.find("hello", "z"), ngx.re.find("hello", ""), ngx.re.find("", ""))`,
		`show(ngx.re.find("hello", "("))`,
		`local ctx = {} show(ngx.re.find("a1b22c333", "[0-9]+", "", ctx), ctx.pos) show(ngx.re.find("a1b22c333", "[0-9]+", "", ctx), ctx.pos)`,
		`show(ngx.re.find("hello", "l", "", nil, -1), ngx.re.find("hello", "l+", "o"), ngx.re.find("hel", "(?<x>e)", "", nil, 1))`,
		`try(ngx.re.find, "hello", "l", "", nil, "1")`,
		// gmatch
		`local out = {} for m in ngx.re.gmatch("hello, world", "[a-z]+") do out[#out + 1] = m[0] end show(out)`,
		`local out = {} for m in ngx.re.gmatch("a1b2c3", "([a-z])([0-9])") do out[#out + 1] = m end show(out)`,
		`local out = {} for m in ngx.re.gmatch("abc", "") do out[#out + 1] = m[0] end show(#out, out)`,
		`local out = {} for m in ngx.re.gmatch("aaa", "a*") do out[#out + 1] = m[0] end show(out)`,
		`local out = {} for m in ngx.re.gmatch("abc", "x*") do out[#out + 1] = m[0] end show(#out)`,
		`local it = ngx.re.gmatch("ab", "[a-z]") show(type(it), it(), it(), it(), it())`,
		`local it, err = ngx.re.gmatch("ab", "(") show(it, err)`,
		`local out = {} for m in ngx.re.gmatch("k1=v1, k2=v2", "(?<k>\\w+)=(?<v>\\w+)") do out[#out + 1] = m end show(out)`,
		`local out = {} for m in ngx.re.gmatch("你好吗", ".", "u") do out[#out + 1] = m[0] end show(out)`,
		`local out = {} for m in ngx.re.gmatch("A1a2", "a[0-9]", "i") do out[#out + 1] = m[0] end show(out)`,
		`local it = ngx.re.gmatch("\255x", "x", "u") show(it())`,
		`local out = {} for m in ngx.re.gmatch("aaa", "a", "o") do out[#out + 1] = m[0] end for m in ngx.re.gmatch("aa", "a", "o") do out[#out + 1] = m[0] end show(out)`,
		`try(ngx.re.gmatch, "abc", "a", "Q")`,
		`local out = {} for m in ngx.re.gmatch("abcabc", "abc|ab", "d") do out[#out + 1] = m[0] end show(out)`,
		// sub and gsub with templates
		`show(ngx.re.sub("hello, world", "o", "0"), ngx.re.gsub("hello, world", "o", "0"))`,
		`show(ngx.re.sub("hello, 1234", "([0-9])[0-9]", "[$0][$1]"))`,
		`show(ngx.re.gsub("hello, world", "([a-z])([a-z]+)", "${2}${1}ay"))`,
		`show(ngx.re.gsub("abc", "b", "$$"), ngx.re.gsub("abc", "b", "$$$0$$"), ngx.re.gsub("abc", "(b)", "$1$1"))`,
		`show(ngx.re.gsub("abc", "(b)", "$2"), ngx.re.gsub("abc", "(b)", "${9}x"), ngx.re.gsub("abc", "b", "$10"))`,
		`show(ngx.re.gsub("abc", "(b)", "${1}1"), ngx.re.gsub("abc", "(b)", "$11"), ngx.re.gsub("abc", "(b)", "$01"))`,
		`show(ngx.re.sub("abc", "b", "$"), ngx.re.sub("abc", "b", "${"), ngx.re.sub("abc", "b", "${}"))`,
		`show(ngx.re.sub("abc", "b", "${1"), ngx.re.sub("abc", "b", "${1a}"), ngx.re.sub("abc", "b", "$a"), ngx.re.sub("abc", "(?<x>b)", "${x}"))`,
		`show(ngx.re.sub("abc", "b", "$ "), ngx.re.sub("abc", "b", "x$"), ngx.re.sub("abc", "b", "{$0}"))`,
		`show(ngx.re.gsub("abc", "", "-"), ngx.re.gsub("", "", "-"), ngx.re.sub("", "", "-"))`,
		`show(ngx.re.gsub("abc", "x*", "-"), ngx.re.gsub("aaa", "a*", "-"), ngx.re.gsub("baaac", "a*", "-"))`,
		`show(ngx.re.gsub("hello", "z", "y"), ngx.re.sub("hello", "z", "y"))`,
		`show(ngx.re.gsub("hello", "(", "y"))`,
		`show(ngx.re.gsub("hello", "l", 1), ngx.re.gsub("hello", "l", nil), ngx.re.gsub("hello", "l", true), ngx.re.gsub(nil, "n", "N"))`,
		`show(ngx.re.gsub("你好你好", "好", "坏"), ngx.re.gsub("你好", "", "-", "u"))`,
		`show(ngx.re.gsub("\255a", "a", "b", "u"))`,
		`show(ngx.re.gsub("aaa", "a", "b", "a"), ngx.re.gsub("xaaa", "a", "b", "a"))`,
		`show(ngx.re.gsub("AbAb", "a", "x", "i"), ngx.re.gsub("AbAb", "a", "x", "io"), ngx.re.gsub("AbAb", "a", "x", "io"))`,
		`show(ngx.re.gsub("abcabc", "abc|ab", "[$0]", "d"), ngx.re.gsub("abcabc", "(abc|ab)", "[$1]", "d"))`,
		`try(ngx.re.gsub, "abc", "b", "x", "Z") try(ngx.re.sub, "abc", "b", "x", "Z")`,
		`show(ngx.re.gsub("a-b-c", "-", "$0$0", "o"), ngx.re.gsub("a-b-c", "-", "+", "o"), ngx.re.gsub("a-b-c", "-", "$0$0", "o"))`,
		// sub and gsub with functions
		`show(ngx.re.gsub("hello, world", "[a-z]+", function(m) return m[0]:upper() end))`,
		`show(ngx.re.sub("hello, world", "([a-z])([a-z]+)", function(m) return m[2] .. m[1] end))`,
		`show(ngx.re.gsub("a1b2", "(?<l>[a-z])(?<d>[0-9])", function(m) return m.d .. m.l end))`,
		`show(ngx.re.gsub("abc", "b", function(m) return nil end), ngx.re.gsub("abc", "b", function(m) return 12 end))`,
		`show(ngx.re.gsub("abc", "", function(m) return "-" end), ngx.re.gsub("aaa", "a*", function(m) return "<" .. m[0] .. ">" end))`,
		`show(ngx.re.gsub("abc", "(x)?b", function(m) return tostring(m[1]) end))`,
		`local n = 0 show(ngx.re.gsub("aaaa", "a", function(m) n = n + 1 return n end), n)`,
		`show(ngx.re.gsub("abc", "(", function(m) return "" end))`,
		`try(ngx.re.gsub, "abc", "b", function(m) error("boom", 0) end)`,
		`try(ngx.re.gsub, "abc", "b", function(m) end)`,
		`show(ngx.re.gsub("abc", "b", function(m) ngx.sleep(0.001) return "X" end))`,
		`show(ngx.re.gsub("a b", " ", function(m) return ngx.re.gsub("xy", "y", "z") end))`,
		`show(ngx.re.gsub("abcabc", "abc|ab", function(m) return "[" .. m[0] .. "]" end, "d"))`,
		`show(ngx.re.gsub("\255a", "a", function() return "b" end, "u"))`,
		`try(ngx.re.gsub, "abc", "b", function() return "" end, "Y")`,
		// split
		`local re = require "ngx.re" show(re.split("a,b,c", ","))`,
		`local re = require "ngx.re" show(re.split("a,b,,c,,", ","), re.split(",a", ","), re.split("", ","))`,
		`local re = require "ngx.re" show(re.split("a1b22c", "([0-9]+)"), re.split("a1b", "([0-9])(x)?"))`,
		`local re = require "ngx.re" show(re.split("abc", ""), re.split("abc", "x*"))`,
		`local re = require "ngx.re" show(re.split("a,b,c,d", ",", nil, nil, 2), re.split("a,b,c,d", ",", nil, nil, 1), re.split("a,b,c,d", ",", nil, nil, 10))`,
		`local re = require "ngx.re" show(re.split("a,b,,,", ",", nil, nil, 3), re.split("a,b,,,", ",", nil, nil, 0))`,
		`local re = require "ngx.re" local ctx = {pos = 3} show(re.split("a,b,c", ",", nil, ctx), ctx.pos)`,
		`local re = require "ngx.re" local ctx = {} show(re.split("a,b", ",", nil, ctx), ctx.pos)`,
		`local re = require "ngx.re" local ctx = {pos = 10} show(re.split("a,b", ",", nil, ctx), ctx.pos)`,
		`local re = require "ngx.re" local res = {"x", "y", "z", "w"} show(re.split("a,b", ",", nil, nil, nil, res), res)`,
		`local re = require "ngx.re" show(re.split("a,b", "("), re.split("aXbxc", "x", "i"), re.split("a,b,c", ",", "o"))`,
		`local re = require "ngx.re" try(re.split, "a,b", ",", nil, nil, nil, "x") try(re.split, "a", "a", "Q")`,
		`local re = require "ngx.re" show(re.split("你,好", ",", "u"), re.split("a1b2c3", "[0-9]", "jo"))`,
		`local re = require "ngx.re" show(re.split(",,,", ","), re.split("abc", "a|b|c"), re.split("abc", "(a)|b|c"))`,
		`local re = require "ngx.re" show(re.split("aXbXc", "(?<sep>X)"), re.split(12321, 2))`,
		`local re = require "ngx.re" try(re.opt, "foo", 1) try(re.opt, "jit_stack_size", 1024)`,
		`local re = require "ngx.re" show(re.version ~= nil, type(re.split), type(re.opt))`,
		`local n = 0 for k in pairs(ngx.re) do n = n + 1 end show(n)`,
	})
}

func TestRegexCacheOptionsMatchOpenResty(t *testing.T) {
	runUtilSnippets(t, "lua_regex_cache_max_entries 2;", []string{
		`show(ngx.re.match("hello, 1234", "([0-9]+)", "o"), ngx.re.match("howdy, 567", "([0-9]+)", "oi"), ngx.re.match("hiya, 98", "([0-9]+)", "ox"))`,
		`show(ngx.re.gsub("a1", "[0-9]", "x", "o"), ngx.re.gsub("b2", "[0-9]", "y", "o"), ngx.re.gsub("c3", "[0-9]", "z", "o"), ngx.re.gsub("d4", "[a-z]", "w", "o"))`,
		`local re = require "ngx.re" try(re.opt, "jit_stack_size", 65536)`,
	})
}

func TestRegexCacheDisabledMatchesOpenResty(t *testing.T) {
	runUtilSnippets(t, "lua_regex_cache_max_entries 0;", []string{
		`show(ngx.re.match("hello, 1234", "([0-9]+)", "o"), ngx.re.gsub("a1", "[0-9]", "x", "o"))`,
		`local re = require "ngx.re" ngx.re.match("a", "a", "o") try(re.opt, "jit_stack_size", 65536) try(re.opt, "jit_stack_size", 10)`,
	})
}

// The reference loads lua-resty-lrucache's Lua originals; gresty its Go
// version.
func TestLRUCacheMatchesOpenResty(t *testing.T) {
	var snippets []string
	for _, mod := range []string{"resty.lrucache", "resty.lrucache.pureffi"} {
		pre := `local lru = require "` + mod + `" `
		snippets = append(snippets,
			pre+`local c = lru.new(3) c:set("a", 1) c:set("b", 2) c:set("c", 3) show(c:get("a")) c:set("d", 4) show(c:get("b"), c:count(), c:capacity(), c:get_keys())`,
			pre+`local c = lru.new(2) c:set("a", 1, -1, 5) show(c:get("a")) c:set("a", 2, 1000, 6) show(c:get("a")) c:set("a", 3, nil, 2^33 + 1) show(c:get("a"))`,
			pre+`local c = lru.new(2) c:set("a", 1, 0) show(c:get("a")) c:set("b", 2, nil, 1.7) show(c:get("b")) c:set("x", 1, nil, "3") show(c:get("x"))`,
			pre+`local c = lru.new(2) c:set("a", 1) show(c:delete("a"), c:delete("a"), c:delete("zz"), c:count(), c:get("a"))`,
			pre+`local c = lru.new(5) for i = 1, 7 do c:set("k" .. i, i) end c:get("k4") show(c:get_keys(), c:get_keys(2), c:count())`,
			pre+`local c = lru.new(3) c:set("a", 1) c:set("b", 2) c:flush_all() show(c:count(), c:get("a"), c:get_keys()) c:set("z", 26) show(c:get("z"), c:count())`,
			pre+`local c = lru.new(3) c:set("a", 1) c:set("b", 2) local res = {"x", "y", "z", "w"} show(c:get_keys(0, res)) show(c:get_keys(1, {"p", "q", "r"}))`,
			pre+`local c = lru.new(3) c:set("a", nil) show(c:count(), c:get("a")) c:set("a", false) show(c:get("a"))`,
			pre+`show(lru.new(0)) show(lru.new(-3)) show(lru.new(1.5):capacity()) show(lru._VERSION)`,
			pre+`local c = lru.new(4) c:set(1, "n") c:set("1", "s") c:set(true, "b") show(c:get(1), c:get("1"), c:get(true), c:count())`,
		)
	}
	runUtilSnippets(t, "", snippets)
}
