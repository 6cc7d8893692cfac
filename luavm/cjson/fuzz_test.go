package cjson_test

import (
	"testing"

	lua "github.com/yuin/gopher-lua"

	"gresty/luavm"
)

// FuzzDecode feeds arbitrary bytes to cjson.decode: it must never panic,
// and whatever it accepts must survive encode and decode unchanged.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		doc, `[]`, `{}`, `""`, `[1,2,3]`, `{"a":[{"b":null}]}`, `"\u00e9\ud83d\ude00"`, `[1e400,-0,0.1]`,
		`0x10`, `NaN`, `-Infinity`, `[ 0123 ]`, `"\q"`, "[1]\x00x", `{"a" 1}`, `[[[[[[[[[[[[[[]]]]]]]]]]]]]`,
	} {
		f.Add(s)
	}
	vm, err := luavm.New(luavm.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer vm.Close()
	L := vm.L
	if err := L.DoString(`
local json = require "cjson.safe"
json.encode_invalid_numbers(true)
function roundtrip(s)
  local v, err = json.decode(s)
  if err then return true end
  local e1 = assert(json.encode(v))
  local e2 = assert(json.encode(assert(json.decode(e1))))
  if e1 ~= e2 and not e1:find("NaN") then error("unstable: " .. e1 .. " vs " .. e2) end
  return true
end`); err != nil {
		f.Fatal(err)
	}
	rt := L.GetGlobal("roundtrip")
	f.Fuzz(func(t *testing.T, s string) {
		if err := L.CallByParam(lua.P{Fn: rt, NRet: 1, Protect: true}, lua.LString(s)); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		L.Pop(1)
	})
}
