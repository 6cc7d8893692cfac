package luavm

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// evalSnippet runs a compatCases snippet the way the reference results
// were taken: loaded under the chunk name "=snip" and called unprotected
// from the host, so an error surfaces with its bare message.
func evalSnippet(vm *VM, src string) string {
	fn, err := vm.Load(src, "=snip")
	if err != nil {
		return "ERR:" + err.Error()
	}
	vm.L.Push(fn)
	if err := vm.L.PCall(0, 1, nil); err != nil {
		if ae, ok := err.(*lua.ApiError); ok {
			return "ERR:" + lua.LVAsString(fixMessage(ae.Object))
		}
		return "ERR:" + err.Error()
	}
	defer vm.L.Pop(1)
	if s, ok := vm.L.Get(-1).(lua.LString); ok {
		return string(s)
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
