package luavm

import (
	"math"
	"math/bits"
	"runtime"

	lua "github.com/yuin/gopher-lua"
)

// LuaBitOp semantics: arguments are normalised to 32-bit integers the way
// bit.tobit does (modulo 2^32, then signed), results are signed 32-bit.

func toBit(f float64) int32 {
	// Adding 2^52+2^51 puts the integer part, modulo 2^32, in the low
	// word of the mantissa, which is BitOp's definition of tobit.
	return int32(uint32(math.Float64bits(f + 6755399441055744.0)))
}

func bitArg(L *lua.LState, n int) int32 { return toBit(checkNumber(L, n)) }

func pushBit(L *lua.LState, v int32) int {
	L.Push(lua.LNumber(v))
	return 1
}

func (vm *VM) openBit() {
	L := vm.L
	t := L.NewTable()
	fold := func(op func(a, b int32) int32) lua.LGFunction {
		return func(L *lua.LState) int {
			r := bitArg(L, 1)
			for i, n := 2, L.GetTop(); i <= n; i++ {
				r = op(r, bitArg(L, i))
			}
			return pushBit(L, r)
		}
	}
	shift := func(op func(v int32, n uint) int32) lua.LGFunction {
		return func(L *lua.LState) int {
			v := bitArg(L, 1)
			n := uint(bitArg(L, 2)) & 31
			return pushBit(L, op(v, n))
		}
	}
	for name, fn := range map[string]lua.LGFunction{
		"tobit": func(L *lua.LState) int { return pushBit(L, bitArg(L, 1)) },
		"bnot":  func(L *lua.LState) int { return pushBit(L, ^bitArg(L, 1)) },
		"band":  fold(func(a, b int32) int32 { return a & b }),
		"bor":   fold(func(a, b int32) int32 { return a | b }),
		"bxor":  fold(func(a, b int32) int32 { return a ^ b }),
		"lshift": shift(func(v int32, n uint) int32 {
			return int32(uint32(v) << n)
		}),
		"rshift": shift(func(v int32, n uint) int32 {
			return int32(uint32(v) >> n)
		}),
		"arshift": shift(func(v int32, n uint) int32 { return v >> n }),
		"rol": shift(func(v int32, n uint) int32 {
			return int32(bits.RotateLeft32(uint32(v), int(n)))
		}),
		"ror": shift(func(v int32, n uint) int32 {
			return int32(bits.RotateLeft32(uint32(v), -int(n)))
		}),
		"bswap": func(L *lua.LState) int {
			return pushBit(L, int32(bits.ReverseBytes32(uint32(bitArg(L, 1)))))
		},
		"tohex": bitToHex,
	} {
		t.RawSetString(name, L.NewFunction(fn))
	}
	L.SetGlobal("bit", t)
	if loaded, ok := pkgField(L, "loaded").(*lua.LTable); ok {
		loaded.RawSetString("bit", t)
	}
}

func bitToHex(L *lua.LState) int {
	v := uint32(bitArg(L, 1))
	n := int32(8)
	if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
		n = bitArg(L, 2)
	}
	digits := "0123456789abcdef"
	if n < 0 {
		n = -n
		digits = "0123456789ABCDEF"
	}
	if n > 1<<16 {
		n = 1 << 16
	}
	// Widths past 8 digits pad the 32-bit value with zeros.
	buf := make([]byte, n)
	w := uint64(v)
	for i := n - 1; i >= 0; i-- {
		buf[i] = digits[w&15]
		w >>= 4
	}
	L.Push(lua.LString(buf))
	return 1
}

func (vm *VM) openJIT() {
	L := vm.L
	t := L.NewTable()
	t.RawSetString("version", lua.LString("LuaJIT 2.1.0-beta3"))
	t.RawSetString("version_num", lua.LNumber(20100))
	t.RawSetString("os", lua.LString(jitOS()))
	t.RawSetString("arch", lua.LString(jitArch()))
	nop := L.NewFunction(func(L *lua.LState) int { return 0 })
	for _, name := range []string{"on", "off", "flush", "attach"} {
		t.RawSetString(name, nop)
	}
	// There is no JIT compiler: report it as off, as LuaJIT does after
	// jit.off().
	t.RawSetString("status", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LFalse)
		return 1
	}))
	opt := L.NewTable()
	opt.RawSetString("start", nop)
	t.RawSetString("opt", opt)
	L.SetGlobal("jit", t)
	if loaded, ok := pkgField(L, "loaded").(*lua.LTable); ok {
		loaded.RawSetString("jit", t)
		loaded.RawSetString("jit.opt", opt)
	}
}

func jitOS() string {
	switch runtime.GOOS {
	case "linux":
		return "Linux"
	case "darwin":
		return "OSX"
	case "windows":
		return "Windows"
	case "freebsd", "netbsd", "openbsd", "dragonfly":
		return "BSD"
	}
	return "Other"
}

func jitArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x64"
	case "386":
		return "x86"
	case "arm64":
		return "arm64"
	case "arm":
		return "arm"
	case "ppc64", "ppc64le":
		return "ppc"
	case "mips", "mipsle", "mips64", "mips64le":
		return runtime.GOARCH
	}
	return runtime.GOARCH
}
