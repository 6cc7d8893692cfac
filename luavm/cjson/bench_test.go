package cjson_test

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
	gopherjson "layeh.com/gopher-json"

	"gresty/luavm"
)

// doc is a 322-byte mixed document, the size the runtime's research used.
const doc = `{"id":12345,"name":"gresty","tags":["lua","nginx","go"],"active":true,"score":98.6,` +
	`"owner":{"login":"someone","id":42,"site":"https://example.com/path"},"nothing":null,` +
	`"items":[{"sku":"A-1","qty":2,"price":9.99},{"sku":"B-22","qty":1,"price":149.5}],` +
	`"note":"line one\nline two \"quoted\"","ratio":0.3333333333333333,"big":1e+21}`

func benchVM(b *testing.B) (*luavm.VM, *lua.LFunction, *lua.LFunction) {
	vm, err := luavm.New(luavm.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(vm.Close)
	L := vm.L
	if err := L.DoString(`cjson = require "cjson"`); err != nil {
		b.Fatal(err)
	}
	mod := L.GetGlobal("cjson")
	enc := L.GetField(mod, "encode").(*lua.LFunction)
	dec := L.GetField(mod, "decode").(*lua.LFunction)
	return vm, enc, dec
}

func BenchmarkDecode(b *testing.B) {
	vm, _, dec := benchVM(b)
	L := vm.L
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		L.Push(dec)
		L.Push(lua.LString(doc))
		L.Call(1, 1)
		L.Pop(1)
	}
}

func BenchmarkEncode(b *testing.B) {
	vm, enc, dec := benchVM(b)
	L := vm.L
	L.Push(dec)
	L.Push(lua.LString(doc))
	L.Call(1, 1)
	v := L.Get(-1)
	L.Pop(1)
	b.ReportAllocs()
	for b.Loop() {
		L.Push(enc)
		L.Push(v)
		L.Call(1, 1)
		L.Pop(1)
	}
}

// The same document through gopher-json (layeh.com/gopher-json), the
// JSON module gopher-lua programs commonly use, for comparison: it goes
// through encoding/json and a Go map, and encodes tables the same way.
func BenchmarkDecodeGopherJSON(b *testing.B) {
	vm, _, _ := benchVM(b)
	L := vm.L
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gopherjson.Decode(L, []byte(doc)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeGopherJSON(b *testing.B) {
	vm, _, _ := benchVM(b)
	L := vm.L
	v, err := gopherjson.Decode(L, []byte(doc))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gopherjson.Encode(v); err != nil {
			b.Fatal(err)
		}
	}
}
