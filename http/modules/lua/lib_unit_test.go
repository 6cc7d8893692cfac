package lua

import (
	"strings"
	"testing"

	glua "github.com/yuin/gopher-lua"

	"gresty/core"
	"gresty/errlog"
)

// newUtilVM returns a VM with the whole ngx API, as the configuration
// checks build one (no loop), and a function out(...) that collects its
// arguments, tab-separated, one call per line.
func newUtilVM(t *testing.T) (*loopState, *strings.Builder) {
	t.Helper()
	m := &MainConf{}
	m.RegexCacheMaxEntries.V = 1024
	st, err := newLoopState(&core.Cycle{Log: errlog.New(nil)}, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.vm.Close)
	var out strings.Builder
	st.vm.L.SetGlobal("out", st.vm.L.NewFunction(func(L *glua.LState) int {
		for i := 1; i <= L.GetTop(); i++ {
			if i > 1 {
				out.WriteByte('\t')
			}
			out.WriteString(st.vm.ToString(L, L.Get(i)).String())
		}
		out.WriteByte('\n')
		return 0
	}))
	return st, &out
}

// runUtilLua runs src to completion in st and returns what it passed to out.
func runUtilLua(t *testing.T, st *loopState, out *strings.Builder, src string) string {
	t.Helper()
	out.Reset()
	f, err := st.vm.Load(src, "=test")
	if err != nil {
		t.Fatalf("compile: %v\n%s", err, src)
	}
	var lerr error
	st.withCtx(&reqCtx{st: st, phase: PhaseInit}, func() {
		if _, e := st.vm.Call(f); e != nil {
			lerr = e
		}
	})
	if lerr != nil {
		t.Fatalf("run: %v\n%s", lerr, src)
	}
	return out.String()
}

// The expected values come from lua-resty-string's and
// lua-resty-lrucache's documentation and test suites (the originals on
// OpenSSL and LuaJIT's FFI).
var restyLibCases = []struct {
	name, src, want string
}{
	{"aes default key derivation", `
		local aes, str = require "resty.aes", require "resty.string"
		local a = aes:new("secret")
		local e = a:encrypt("hello")
		out(str.to_hex(e), a:decrypt(e))`,
		"7b47a4dbb11e2cddb2f3740c9e3a552b\thello\n"},
	{"aes empty key", `
		local aes, str = require "resty.aes", require "resty.string"
		out(str.to_hex(aes:new(""):encrypt("hello")))`,
		"6cb1a35bf9d66e92c9dec684fc329746\n"},
	{"aes salt", `
		local aes, str = require "resty.aes", require "resty.string"
		out(str.to_hex(aes:new("secret", "WhatSalt"):encrypt("hello")))
		out(aes:new("secret", "Oversized!"))
		out(aes:new("secret", "abc"))`,
		"f72db89f8e19326d8da4928be106705c\nnil\tsalt must be 8 characters or nil\nnil\tsalt must be 8 characters or nil\n"},
	{"aes-256 ecb sha1 with rounds", `
		local aes, str = require "resty.aes", require "resty.string"
		out(str.to_hex(aes:new("secret", nil, aes.cipher(256, "ecb"), aes.hash.sha1):encrypt("hello")))
		out(str.to_hex(aes:new("secret", nil, aes.cipher(256, "ecb"), aes.hash.sha1, 5):encrypt("hello")))`,
		"927148b31f0e89696a222489403f540d\nd1a9b6e59b8980e783df223889563bee\n"},
	{"aes custom key generator", `
		local aes, str = require "resty.aes", require "resty.string"
		local a = aes:new("Xr4ilOzQ4PCOq3aQ0qbuaQ==", nil, aes.cipher(128, "cbc"),
			{iv = ngx.decode_base64("Jq5cyFTja2vfyjZoSN6muw=="), method = ngx.decode_base64})
		out(str.to_hex(a:encrypt("hello")))
		out(aes:new("short", nil, aes.cipher(128, "cbc"), {iv = "1234"}))
		out(aes:new("1234567890123456", nil, aes.cipher(128, "cbc"), {iv = string.rep("x", 17)}))
		out(aes:new("1234567890123456", nil, aes.cipher(128, "cbc"), {}))`,
		"7b47a4dbb11e2cddb2f3740c9e3a552b\nnil\tbad key length\nnil\tbad iv length\nnil\tiv is needed\n"},
	{"aes gcm", `
		local aes, str = require "resty.aes", require "resty.string"
		local a = aes:new("secret", nil, aes.cipher(256, "gcm"), aes.hash.sha256, 1, 12)
		local e = a:encrypt("hello")
		out(str.to_hex(e[1]), str.to_hex(e[2]), a:decrypt(e[1], e[2]), a:decrypt(e[1], string.rep("x", 16)))`,
		"4acef84443\tbcecc29fb0d8b5c895e21f6ea89681a2\thello\tnil\tEVP_DecryptFinal_ex failed\n"},
	{"aes gcm with an iv", `
		local aes, str = require "resty.aes", require "resty.string"
		local function unhex(s) return (s:gsub("..", function(c) return string.char(tonumber(c, 16)) end)) end
		local a = aes:new(unhex("40A4510F290AD8182AF4B0260C655F8511E5B46BCA20EA191D8BC7B4D99CE95F"), nil,
			aes.cipher(256, "gcm"), {iv = unhex("f31a8c01e125e4720481be05")})
		local e = a:encrypt("13770713710")
		out(str.to_hex(e[1]), str.to_hex(e[2]))`,
		"755eccf6aa0cd51d55ad0c\t9a61f5a3cc3089bbe7de00a3dd484a1d\n"},
	{"aes padding off", `
		local aes = require "resty.aes"
		local a = aes:new("k", nil, aes.cipher(256, "cbc"), nil, nil, nil, false)
		out(a:encrypt("short"))
		out(#a:encrypt(string.rep("x", 32)), a:decrypt(a:encrypt(string.rep("x", 32))) == string.rep("x", 32))
		out(a:decrypt("xx"))`,
		"nil\tEVP_EncryptFinal_ex failed\n32\ttrue\nnil\tEVP_DecryptFinal_ex failed\n"},
	{"aes stream modes round trip", `
		local aes = require "resty.aes"
		for _, m in ipairs({"cfb1", "cfb8", "cfb128", "ofb", "ctr"}) do
			local a = aes:new("k", nil, aes.cipher(192, m))
			local e = a:encrypt("stream of 21 bytes!!!")
			out(m, #e, a:decrypt(e))
		end`,
		"cfb1\t21\tstream of 21 bytes!!!\ncfb8\t21\tstream of 21 bytes!!!\ncfb128\t21\tstream of 21 bytes!!!\n" +
			"ofb\t21\tstream of 21 bytes!!!\nctr\t21\tstream of 21 bytes!!!\n"},
	{"aes self check", `
		local aes = require "resty.aes"
		local a = aes:new("k")
		out(pcall(a.encrypt, "x"))`,
		"false\tbad argument #1 self: table expected, got string\n"},
	{"digests", `
		local str = require "resty.string"
		for _, n in ipairs({"md5", "sha1", "sha224", "sha256", "sha384", "sha512"}) do
			local h = require("resty." .. n):new()
			h:update("hel") h:update("lo")
			out(n, str.to_hex(h:final()))
		end`,
		"md5\t5d41402abc4b2a76b9719d911017c592\nsha1\taaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d\n" +
			"sha224\tea09ae9cc6768c50fcee903ed054556e5bfc8347907f12598aa24193\n" +
			"sha256\t2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\n" +
			"sha384\t59e1748777448c69de6b800d7a33bbfb9ff1b463e44354c3553bcdb9c666fa90125a3c79f90397bdf5f6a13de828684f\n" +
			"sha512\t9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043\n"},
	{"digest reset and md5 length", `
		local str, md5 = require "resty.string", require "resty.md5"
		local h = md5:new()
		h:update("garbage") out(h:reset()) h:update("hello world", 5)
		out(str.to_hex(h:final()), md5._VERSION)`,
		"true\n5d41402abc4b2a76b9719d911017c592\t0.17\n"},
	{"resty.string atoi and to_hex", `
		local str = require "resty.string"
		out(str.atoi("123"), str.atoi(""), str.atoi("-1"), str.atoi("1a"), str.atoi("9223372036854775807") > 0, str.atoi("9223372036854775808"))
		out(str.to_hex("\0\255ab"), str.to_hex(""))`,
		"123\t-1\t-1\t-1\ttrue\t-1\n00ff6162\t\n"},
	{"resty.random", `
		local r = require "resty.random"
		local a, b = r.bytes(16), r.bytes(16, false)
		out(#a, #b, a ~= b, #r.bytes(0))`,
		"16\t16\ttrue\t0\n"},
	{"resty.core modules load", `
		for _, n in ipairs({"resty.core", "resty.core.base", "resty.core.regex", "resty.core.time", "resty.core.shdict", "resty.core.var"}) do
			local m = require(n)
			out(n, type(m), m.version)
		end
		local t = require "resty.core.time"
		out(type(t.monotonic_msec()), t.monotonic_time() >= 0)
		out(require("resty.core.utils").str_replace_char("a-b-c", "-", "_"))`,
		"resty.core\ttable\t0.1.25\nresty.core.base\ttable\t0.1.25\nresty.core.regex\ttable\t0.1.25\n" +
			"resty.core.time\ttable\t0.1.25\nresty.core.shdict\ttable\t0.1.25\nresty.core.var\ttable\t0.1.25\nnumber\ttrue\na_b_c\n"},
	{"lrucache basics", `
		local lru = require "resty.lrucache"
		local c = lru.new(2)
		c:set("a", 1) c:set("b", 2)
		out(c:get("a"), c:count(), c:capacity())
		c:set("c", 3)
		out(c:get("b"), c:get("a"), c:get("c"), c:count())
		out(c:delete("a"), c:delete("a"), c:count())
		local keys = c:get_keys() out(#keys, keys[1])
		c:flush_all() out(c:count(), c:get("c"))
		out(lru.new(0))`,
		"1\t2\t2\nnil\t1\t3\t2\ntrue\tfalse\t1\n1\tc\n0\tnil\nnil\tsize too small\n"},
	{"lrucache ttl and flags", `
		local lru = require "resty.lrucache"
		local c = lru.new(4)
		c:set("old", "v", -1, 7) c:set("new", "w", 100, 3) c:set("f", "x", nil, -2)
		out(c:get("old")) out(c:get("new")) out(c:get("f"))
		local t = {} c:set(t, "table key") c:set(1, "one")
		out(c:get(t), c:get(1), c:get("1"))
		out(pcall(c.set, c, nil, 1))`,
		"nil\tv\t7\nw\tnil\t3\nx\tnil\t0\ntable key\tone\tnil\nfalse\ttable index is nil\n"},
	{"lrucache order of keys", `
		local lru = require "resty.lrucache"
		local c = lru.new(3)
		c:set("a", 1) c:set("b", 2) c:set("c", 3) c:get("a")
		out(table.concat(c:get_keys(), ","), table.concat(c:get_keys(2), ","))
		local res = {"x", "y", "z", "w"} c:get_keys(0, res) out(res[1], res[3], res[4])`,
		"a,c,b\ta,c\na\tb\tnil\n"},
	{"lrucache.pureffi", `
		local lru = require "resty.lrucache.pureffi"
		local c = lru.new(2)
		c:set(1, "one") c:set("k", nil)
		out(c:get("1"), c:get(1), c:count())
		out(c:get("k"))`,
		"one\tone\t2\nnil\tnil\t0\n"},
}

func TestRestyLibraries(t *testing.T) {
	st, out := newUtilVM(t)
	for _, c := range restyLibCases {
		t.Run(c.name, func(t *testing.T) {
			if got := runUtilLua(t, st, out, c.src); got != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}
