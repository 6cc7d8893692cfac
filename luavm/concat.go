package luavm

import (
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// gopher-lua's ".." operator formats numbers with LNumber.String, Go's
// shortest form ("1.700000000123e+09", "0.30000000000000004"), where
// LuaJIT writes "%.14g" ("1700000000.123", "0.3"). The operator is an entry
// of the VM's instruction table, which this file wraps once at program
// start: before the original runs, number operands of an all-string-or-
// number concatenation are replaced by their LuaJIT text. The operands are
// always fresh temporaries (locals are copied into them first), so no
// variable changes. Operands with a __concat metamethod are left alone so
// the metamethod still receives the number.

type instFunc func(L *lua.LState, inst uint32, baseframe unsafe.Pointer) int

//go:linkname jumpTable github.com/yuin/gopher-lua.jumpTable
var jumpTable [lua.OP_NOP + 1]instFunc

func init() {
	orig := jumpTable[lua.OP_CONCAT]
	if orig == nil {
		panic("luavm: gopher-lua has no OP_CONCAT handler to wrap")
	}
	jumpTable[lua.OP_CONCAT] = func(L *lua.LState, inst uint32, baseframe unsafe.Pointer) int {
		b := int(inst & 0x1ff)
		c := int(inst>>9) & 0x1ff
		numbers := false
		for i := b; i <= c; i++ {
			switch L.Get(i + 1).(type) {
			case lua.LString:
			case lua.LNumber:
				numbers = true
			default:
				return orig(L, inst, baseframe)
			}
		}
		if numbers {
			for i := b; i <= c; i++ {
				if n, ok := L.Get(i + 1).(lua.LNumber); ok {
					L.Replace(i+1, lua.LString(FormatNumber(float64(n))))
				}
			}
		}
		return orig(L, inst, baseframe)
	}
}
