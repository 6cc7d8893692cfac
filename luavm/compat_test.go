package luavm

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// evalSnippet runs a compatCases snippet the way the reference results
// were taken: loaded under the chunk name "=snip" and called from the
// host, so an error surfaces with its bare message.
func evalSnippet(vm *VM, src string) string {
	fn, err := vm.Load(src, "=snip")
	if err != nil {
		return "ERR:" + err.Error()
	}
	rets, e := vm.Call(fn)
	if e != nil {
		if _, ok := e.Value.(lua.LString); !ok {
			return "ERR:<non-string>"
		}
		return "ERR:" + e.Msg()
	}
	if len(rets) > 0 {
		if s, ok := rets[0].(lua.LString); ok {
			return string(s)
		}
	}
	return "<non-string>"
}

func TestCompat(t *testing.T) {
	vm, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	for _, c := range compatCases {
		if got := evalSnippet(vm, c.src); got != c.want {
			t.Errorf("%s\n got %q\nwant %q", c.src, got, c.want)
		}
	}
}
