package cjson_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"gresty/luavm"
)

// prelude gives every case json (cjson), safe (cjson.safe) and show(),
// which serialises values with sorted keys so results are comparable.
const prelude = `
local json = require "cjson"
local safe = require "cjson.safe"
local function show(v)
  if type(v) ~= "table" then
    if v == json.null then return "null" end
    return type(v) == "string" and string.format("%q", v) or tostring(v)
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. show(v[k]) end
  return "{" .. table.concat(parts, ",") .. "}"
end
local function try(f, ...)
  local r = {pcall(f, ...)}
  if not r[1] then return "error: " .. tostring(r[2]) end
  for i = 2, #r do r[i] = show(r[i]) end
  return table.concat(r, " ", 2)
end
`

func run(t *testing.T, vm *luavm.VM, src string) string {
	t.Helper()
	fn, err := vm.CompileInline(prelude+src, "t")
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	th, st := vm.Start(fn)
	defer vm.Release(th)
	if st != luavm.Done {
		return "thread: " + th.Err().Msg()
	}
	return lua.LVAsString(th.Results()[0])
}

func newVM(t testing.TB) *luavm.VM {
	vm, err := luavm.New(luavm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(vm.Close)
	return vm
}

// The cases of lua-cjson's own test suite (tests/test.lua and
// tests/agentzh.t), with its expected results.
func TestLuaCJSONSuite(t *testing.T) {
	vm := newVM(t)
	for _, c := range []struct{ src, want string }{
		{`return json._NAME .. " " .. json._VERSION .. " " .. safe._NAME`, "cjson 2.1.0.10 cjson"},
		// Decoding simple types.
		{`return try(json.decode, '"test string"')`, `"test string"`},
		{`return try(json.decode, '[ 0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10 ]')`, "{1=0,2=-5000,3=-1,4=0.0003,5=1023.2,6=0}"},
		{`return try(json.decode, 'null')`, "null"},
		{`return try(json.decode, 'true') .. try(json.decode, 'false')`, "truefalse"},
		{`return try(json.decode, '{ "1": "one", "3": "three" }')`, `{1="one",3="three"}`},
		{`local t = json.decode('{ "1": "one" }') return tostring(t["1"]) .. tostring(t[1])`, "onenil"},
		{`return try(json.decode, '{ "a": "a", "b": "b" }')`, `{a="a",b="b"}`},
		{`return try(json.decode, '[ "one", null, "three" ]')`, `{1="one",2=null,3="three"}`},
		// Decoding errors.
		{`return try(json.decode, '\0"\0"')`, "error: JSON parser does not support UTF-16 or UTF-32"},
		{`return try(json.decode, '"\0"\0')`, "error: JSON parser does not support UTF-16 or UTF-32"},
		{`return try(json.decode, '\0\0\0"')`, "error: JSON parser does not support UTF-16 or UTF-32"},
		{`return try(json.decode, '"\0\0\0')`, "error: JSON parser does not support UTF-16 or UTF-32"},
		{`return try(json.decode, '{ "unexpected eof": ')`, "error: Expected value but found T_END at character 21"},
		{`return try(json.decode, '{ "extra data": true }, false')`, "error: Expected the end but found T_COMMA at character 23"},
		{`return try(json.decode, [[ { "bad escape \q code" } ]])`, "error: Expected object key string but found invalid escape code at character 16"},
		{`return try(json.decode, [[ { "bad unicode \u0f6 escape" } ]])`, "error: Expected object key string but found invalid unicode escape code at character 17"},
		{`return try(json.decode, ' [ "bad barewood", test ] ')`, "error: Expected value but found invalid token at character 20"},
		{`return try(json.decode, '[ -+12 ]')`, "error: Expected value but found invalid number at character 3"},
		{`return try(json.decode, '-v')`, "error: Expected value but found invalid number at character 1"},
		{`return try(json.decode, '[ 0.4eg10 ]')`, "error: Expected comma or array end but found invalid token at character 6"},
		// Nesting limits.
		{`json.decode_max_depth(5) return try(json.decode, '[[[[[ "nested" ]]]]]')`, `{1={1={1={1={1="nested"}}}}}`},
		{`json.decode_max_depth(5) return try(json.decode, '[[[[[[ "nested" ]]]]]]')`, "error: Found too many nested data structures (6) at character 6"},
		{`json.decode_max_depth(5) return try(json.decode, '{"a":{"b":{"c":{"d":{"e":"nested"}}}}}')`, `{a={b={c={d={e="nested"}}}}}`},
		{`json.decode_max_depth(5) return try(json.decode, '{"a":{"b":{"c":{"d":{"e":{"f":"nested"}}}}}}')`,
			"error: Found too many nested data structures (6) at character 26"},
		{`json.decode_max_depth(1000) return try(json.decode, string.rep("[", 1100) .. '1100' .. string.rep("]", 1100))`,
			"error: Found too many nested data structures (1001) at character 1001"},
		{`json.encode_max_depth(5) return try(json.encode, {{{{{"nested"}}}}})`, `"[[[[[\"nested\"]]]]]"`},
		{`json.encode_max_depth(5) return try(json.encode, {{{{{{"nested"}}}}}})`, "error: Cannot serialise, excessive nesting (6)"},
		{`json.encode_max_depth(5) return try(json.encode, {a={b={c={d={e="nested"}}}}})`, `"{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":\"nested\"}}}}}"`},
		{`json.encode_max_depth(5) return try(json.encode, {a={b={c={d={e={f="nested"}}}}}})`, "error: Cannot serialise, excessive nesting (6)"},
		{`json.encode_max_depth(5) local c = {} c[1] = c return try(json.encode, c)`, "error: Cannot serialise, excessive nesting (6)"},
		{`local big = {} for i = 1, 1100 do big = {{10, false, true, json.null}, "string", a = big} end
json.encode_max_depth(1000) return try(json.encode, big)`, "error: Cannot serialise, excessive nesting (1001)"},
		// Encoding simple types.
		{`return json.encode(json.null) .. json.encode(true) .. json.encode(false) .. json.encode({}) .. json.encode(10) .. json.encode("hello")`,
			`nulltruefalse{}10"hello"`},
		{`return try(json.encode, function() end)`, "error: Cannot serialise function: type not supported"},
		{`return try(json.encode, coroutine.create(function() end))`, "error: Cannot serialise thread: type not supported"},
		// Invalid numbers, accepted by default.
		{`return try(json.decode, '0x6.ffp1')`, "13.9921875"},
		{`return try(json.decode, '[ 0123, 00.33 ]')`, "{1=123,2=0.33}"},
		{`return try(json.decode, '[ +Inf, Inf, -Inf ]')`, "{1=inf,2=inf,3=-inf}"},
		{`return try(json.decode, '[ +Infinity, Infinity, -Infinity ]')`, "{1=inf,2=inf,3=-inf}"},
		{`return try(json.decode, '[ +NaN, NaN, -NaN ]')`, "{1=nan,2=nan,3=nan}"},
		{`return try(json.decode, 'Infrared')`, "error: Expected the end but found invalid token at character 4"},
		{`return try(json.decode, 'Noodle')`, "error: Expected value but found invalid token at character 1"},
		{`return tostring(json.decode_invalid_numbers(false)) .. " " .. try(json.decode, '0x6')`,
			"false error: Expected value but found invalid number at character 1"},
		{`json.decode_invalid_numbers(false) return try(json.decode, '[ 0123, 00.33 ]')`, "error: Expected value but found invalid number at character 3"},
		{`json.decode_invalid_numbers(false) return try(json.decode, '[ +Inf, Inf, -Inf ]')`, "error: Expected value but found invalid token at character 3"},
		{`json.decode_invalid_numbers(false) return try(json.decode, '[ +Infinity, Infinity, -Infinity ]')`, "error: Expected value but found invalid token at character 3"},
		{`json.decode_invalid_numbers(false) return try(json.decode, '[ +NaN, NaN, -NaN ]')`, "error: Expected value but found invalid token at character 3"},
		{`return tostring(json.decode_invalid_numbers("on"))`, "true"},
		// Encoding invalid numbers.
		{`return tostring(json.encode_invalid_numbers(false)) .. " " .. try(json.encode, 0/0) .. " " .. try(json.encode, 1/0)`,
			"false error: Cannot serialise number: must not be NaN or Infinity error: Cannot serialise number: must not be NaN or Infinity"},
		{`return json.encode_invalid_numbers("null") .. " " .. json.encode(0/0) .. json.encode(1/0)`, "null nullnull"},
		{`return tostring(json.encode_invalid_numbers(true)) .. " " .. json.encode(0/0) .. json.encode(1/0) .. json.encode(-1/0)`,
			"true NaNInfinity-Infinity"},
		{`return tostring(json.encode_invalid_numbers("off"))`, "false"},
		// Encoding tables.
		{`return try(json.encode_sparse_array, true, 2, 3)`, "true 2 3"},
		{`json.encode_sparse_array(true, 2, 3) return json.encode({[3] = "sparse test"})`, `[null,null,"sparse test"]`},
		{`json.encode_sparse_array(true, 2, 3) return json.encode({[1] = "one", [4] = "sparse test"})`, `["one",null,null,"sparse test"]`},
		{`json.encode_sparse_array(true, 2, 3) return show(json.decode(json.encode({[1] = "one", [5] = "sparse test"})))`,
			`{1="one",5="sparse test"}`},
		{`json.encode_sparse_array(true, 2, 3) return json.encode({["2"] = "numeric string key test"})`, `{"2":"numeric string key test"}`},
		{`return try(json.encode_sparse_array, false)`, "false 2 10"},
		{`return try(json.encode, {[false] = "wrong"})`, "error: Cannot serialise boolean: table key must be a number or string"},
		{`return try(json.encode, {1, 2, [11] = 3})`, "error: Cannot serialise table: excessively sparse array"},
		{`return json.encode({1, 2, nil, 4})`, "[1,2,null,4]"},
		{`return json.encode({[1] = 1, [10] = 2})`, "[1,null,null,null,null,null,null,null,null,2]"},
		{`return json.encode({a = 1, [5] = 2}):len() .. ""`, "13"},
		// Escaping.
		{`return json.encode("a/b<c>&\128\"\\\n\t\0\31\127")`, `"a\/b<c>&` + "\x80" + `\"\\\n\t\u0000\u001f\u007f"`},
		{`return try(json.decode, [["\uF800"]]) == string.format("%q", "\239\160\128") and "ok"`, "ok"},
		{`return try(json.decode, [["\uDC00\uD800"]])`, "error: Expected value but found invalid unicode escape code at character 2"},
		{`return try(json.decode, [["\uDB00\uDB00"]])`, "error: Expected value but found invalid unicode escape code at character 2"},
		{`return try(json.decode, [["\uDB00"]])`, "error: Expected value but found invalid unicode escape code at character 2"},
		{`return try(json.decode, [["\uDB00\uD"]])`, "error: Expected value but found invalid unicode escape code at character 2"},
		{`return try(json.decode, [["\ud83d\ude00 \u00e9\/\b\f\n\r\t\"\\"]]) == string.format("%q", "\240\159\152\128 \195\169/\8\12\n\r\t\"\\") and "ok"`, "ok"},
		// Number precision and buffer settings.
		{`return tostring(json.encode_keep_buffer(false)) .. json.encode_number_precision(3) .. json.encode(1/3)`, "false30.333"},
		{`return json.encode(1/3) .. " " .. json.encode(0.1 + 0.2) .. " " .. json.encode(2^53) .. " " .. json.encode(123456789012345) .. " " .. json.encode(-0.0)`,
			"0.33333333333333 0.3 9.007199254741e+15 1.2345678901234e+14 -0"},
		{`json.encode_number_precision(16) return json.encode(2^53) .. " " .. string.format("%16.0f", json.decode("9007199254740992"))`,
			"9007199254740992 9007199254740992"},
		// Configuration errors.
		{`return try(json.encode_number_precision, 0)`, "error: bad argument #1 to '?' (expected integer between 1 and 16)"},
		{`return try(json.encode_number_precision, "five")`, "error: bad argument #1 to '?' (number expected, got string)"},
		{`return try(json.encode_keep_buffer, nil, true)`, "error: bad argument #2 to '?' (found too many arguments)"},
		{`return try(json.encode_max_depth, "wrong")`, "error: bad argument #1 to '?' (number expected, got string)"},
		{`return try(json.decode_max_depth, "0")`, "error: bad argument #1 to '?' (expected integer between 1 and 2147483647)"},
		{`return try(json.encode_invalid_numbers, -2)`, "error: bad argument #1 to '?' (invalid option '-2')"},
		{`return try(json.decode_invalid_numbers, true, false)`, "error: bad argument #2 to '?' (found too many arguments)"},
		{`return try(json.encode_sparse_array, "not quite on")`, "error: bad argument #1 to '?' (invalid option 'not quite on')"},
		{`json.encode_sparse_array(true, 5, 5) json = json.new() return try(json.encode_sparse_array)`, "false 2 10"},
		// cjson.safe.
		{`return try(safe.encode, true)`, `"true"`},
		{`return try(safe.encode, "arg1", "arg2")`, "error: bad argument #1 to '?' (expected 1 argument)"},
		{`return try(safe.decode, "Oops")`, `nil "Expected value but found invalid token at character 1"`},
		{`return try(function(...) return safe.new().decode(...) end, "Oops")`, `nil "Expected value but found invalid token at character 1"`},
		{`return try(safe.encode, function() end)`, `nil "Cannot serialise function: type not supported"`},
		// Errors outside pcall carry the caller's position.
		{`local ok, err = pcall(function() json.decode("[") end) return err`, "t:22: Expected value but found T_END at character 2"},
		{`local ok, err = pcall(function() json.encode() end) return err`, "t:22: bad argument #1 to 'encode' (expected 1 argument)"},
		// tests/agentzh.t
		{`return json.encode({}) .. json.encode({dogs = {}})`, `{}{"dogs":{}}`},
		{`json.encode_empty_table_as_object(false) return json.encode({}) .. json.encode({dogs = {}})`, `[]{"dogs":[]}`},
		{`json.encode_empty_table_as_object(true) return json.encode({}) .. json.encode({dogs = {}})`, `{}{"dogs":{}}`},
		{`return json.encode({arr = json.empty_array})`, `{"arr":[]}`},
		{`return json.encode({arr = setmetatable({}, json.empty_array_mt)})`, `{"arr":[]}`},
		{`return json.encode(setmetatable({"hello", "world", "lua"}, json.empty_array_mt))`, `["hello","world","lua"]`},
		{`return json.encode(setmetatable({}, json.array_mt))`, "[]"},
		{`return json.encode(setmetatable({"foo", "bar"}, json.array_mt))`, `["foo","bar"]`},
		{`local t = json.decode([[{"my_array":[]}]]) return tostring(getmetatable(t.my_array) == json.array_mt) .. json.encode(t)`,
			`false{"my_array":{}}`},
		{`json.decode_array_with_array_mt(true) local t = json.decode([[{"my_array":["hello","world"]}]])
t.my_array.hash_value = "adding a hash value" t.my_array[1] = nil t.my_array[2] = nil
return tostring(getmetatable(t.my_array) == json.array_mt) .. json.encode(t)`, `true{"my_array":[]}`},
		{`json.decode_array_with_array_mt(true) json.decode_array_with_array_mt(false)
local t = json.decode([[{"my_array":[]}]]) return tostring(getmetatable(t.my_array) == json.array_mt)`, "false"},
		{`local data = table.new(0, 2) data.foo = "bar" data[1] = "hello" setmetatable(data, json.array_mt) return json.encode(data)`, `["hello"]`},
		{`local c = require "cjson" package.loaded["cjson"] = nil local c2 = require "cjson"
return json.encode(setmetatable({}, c2.array_mt)) .. json.encode(setmetatable({}, c2.empty_array_mt)) .. tostring(c2.empty_array == c.empty_array)`,
			"[][]true"},
		{`return json.encode(json.decode("[\"a=1&b=2\"]"))`, `["a=1&b=2"]`},
		{`local a = {test = "http://google.com/google"}
local r = json.encode(a) json.encode_escape_forward_slash(false) r = r .. json.encode(a)
json.encode_escape_forward_slash(true) return r .. json.encode(a)`,
			`{"test":"http:\/\/google.com\/google"}{"test":"http://google.com/google"}{"test":"http:\/\/google.com\/google"}`},
		// OpenResty shares the null value with ngx.null.
		{`return tostring(json.null == safe.null) .. tostring(json.decode("null") == ngx_null) .. json.encode({ngx_null})`, "truetrue[null]"},
	} {
		src := strings.ReplaceAll(c.src, "ngx_null", "(...)")
		if got := runWithNull(t, vm, src); got != c.want {
			t.Errorf("%s\n got %q\nwant %q", c.src, got, c.want)
		}
	}
}

// runWithNull runs src with the VM's null passed as the chunk's vararg,
// each time with fresh module instances.
func runWithNull(t *testing.T, vm *luavm.VM, src string) string {
	t.Helper()
	fn, err := vm.CompileInline(`package.loaded.cjson = nil package.loaded["cjson.safe"] = nil`+prelude+src, "t")
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	th, st := vm.Start(fn, vm.Null())
	defer vm.Release(th)
	if st != luavm.Done {
		return "thread: " + th.Err().Msg()
	}
	return lua.LVAsString(th.Results()[0])
}

// Every byte encodes as lua-cjson does and decodes back.
func TestOctets(t *testing.T) {
	vm := newVM(t)
	var raw strings.Builder
	for i := 0; i < 256; i++ {
		raw.WriteByte(byte(i))
	}
	vm.L.SetGlobal("raw", lua.LString(raw.String()))
	got := run(t, vm, `local e = json.encode(raw) assert(json.decode(e) == raw) return e`)
	want := `"\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f` +
		`\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f` +
		` !\"#$%&'()*+,-.\/0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_` + "`" +
		`abcdefghijklmnopqrstuvwxyz{|}~\u007f` + raw.String()[128:] + `"`
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// \uXXXX escapes, surrogate pairs included, decode to the same UTF-8 as
// Go's encoder produces.
func TestUnicodeEscapes(t *testing.T) {
	vm := newVM(t)
	var esc, want strings.Builder
	esc.WriteByte('"')
	for cp := rune(0); cp < 0x110000; cp += 37 {
		if cp >= 0xD800 && cp < 0xE000 {
			continue
		}
		if cp < 0x10000 {
			esc.WriteString(`\u` + hex4(int(cp)))
		} else {
			v := cp - 0x10000
			esc.WriteString(`\u` + hex4(int(0xD800+v>>10)) + `\u` + hex4(int(0xDC00+v&0x3FF)))
		}
		want.WriteString(string(cp))
	}
	esc.WriteByte('"')
	vm.L.SetGlobal("esc", lua.LString(esc.String()))
	got := run(t, vm, `return json.decode(esc)`)
	if got != want.String() || !utf8.ValidString(got) {
		t.Fatalf("decoded %d bytes, want %d", len(got), want.Len())
	}
}

func hex4(v int) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[v>>12&15], digits[v>>8&15], digits[v>>4&15], digits[v&15]})
}

// Decoded objects share a stand-in key index until walked (ltable.Index):
// walks must still see every key once, in document order, with the keys
// Lua adds afterwards, through pairs, next, table functions and encode.
func TestDecodedObjectsWalk(t *testing.T) {
	vm := newVM(t)
	got := run(t, vm, `
local cjson = require "cjson"
local out = {}
local function keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = tostring(k) end
  return table.concat(ks, ",")
end
local a = cjson.decode('{"z":1,"a":2,"m":{"y":1,"b":2},"a":3}')
local b = cjson.decode('{"z":1}')
a.ts = 1          -- the stand-in learns "ts"
b.ts = 2          -- and so does not list it for b
b.z = nil
b.host = "h"
out[#out + 1] = keys(a)
out[#out + 1] = keys(a.m)
local bk = {}
for k in pairs(b) do bk[#bk + 1] = k end
table.sort(bk)
out[#out + 1] = table.concat(bk, ",")
out[#out + 1] = tostring(next(cjson.decode('{}')))
out[#out + 1] = tostring(next(cjson.decode('{"only":1}')))
out[#out + 1] = tostring(table.nkeys(cjson.decode('{"p":1,"q":2}')))
out[#out + 1] = cjson.encode(cjson.decode('{"c":1,"b":{"y":true,"x":false},"a":[1,2]}'))
local c = cjson.decode('{"k1":1,"k2":2}')
c.k1 = nil
c.k3 = 3
out[#out + 1] = cjson.encode(c)
local k, v = next(c, "k2")
out[#out + 1] = tostring(k) .. "=" .. tostring(v)
return table.concat(out, " | ")`)
	want := "z,a,m,ts | y,b | host,ts | nil | only | 2 | " +
		`{"c":1,"b":{"y":true,"x":false},"a":[1,2]} | {"k2":2,"k3":3} | k3=3`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
