package luavm

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"gresty/luavm/ltable"
)

func (vm *VM) openBase() {
	L := vm.L
	g := L.Get(lua.GlobalsIndex).(*lua.LTable)
	for name, fn := range map[string]lua.LGFunction{
		"tostring":       vm.baseToString,
		"tonumber":       baseToNumber,
		"print":          vm.basePrint,
		"load":           vm.baseLoad,
		"loadstring":     vm.baseLoadString,
		"loadfile":       vm.baseLoadFile,
		"dofile":         vm.baseDoFile,
		"collectgarbage": baseCollectGarbage,
		"gcinfo":         baseGCInfo,
		"error":          vm.baseError,
		"assert":         vm.baseAssert,
		"setmetatable":   baseSetMetatable,
		"type":           baseType,
	} {
		g.RawSetString(name, L.NewFunction(fn))
	}
	// next gives a table its own key index before walking it
	// (ltable.Own), and pairs returns next, as LuaJIT's does.
	next := L.NewFunction(baseNext)
	g.RawSetString("next", next)
	g.RawSetString("pairs", L.NewFunction(func(L *lua.LState) int {
		L.Push(next)
		L.Push(L.CheckTable(1))
		L.Push(lua.LNil)
		return 3
	}))
	// rawset forgets what a table's field cache remembers (fieldcache.go).
	if raw, ok := g.RawGetString("rawset").(*lua.LFunction); ok && raw.IsG {
		g.RawSetString("rawset", L.NewFunction(func(L *lua.LState) int {
			touchValue(L.Get(1))
			return raw.GFunction(L)
		}))
	}
	dbg := L.GetGlobal("debug").(*lua.LTable)
	dbg.RawSetString("traceback", L.NewFunction(vm.debugTraceback))
	// gopher-lua's math.huge is the largest finite number.
	L.GetGlobal("math").(*lua.LTable).RawSetString("huge", lua.LNumber(math.Inf(1)))
	// gopher-lua extras LuaJIT does not have.
	for _, name := range []string{"_GOPHER_LUA_VERSION", "_printregs", "channel"} {
		g.RawSetString(name, lua.LNil)
	}
}

func baseNext(L *lua.LState) int {
	t := L.CheckTable(1)
	k, v := ltable.Next(t, L.Get(2))
	if k == lua.LNil {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(k)
	L.Push(v)
	return 2
}

// typeNames are type()'s answers, boxed once: gopher-lua's type boxes
// the name on every call.
var typeNames = func() (a [lua.LTChannel + 1]lua.LValue) {
	for i := range a {
		a[i] = lua.LString(lua.LValueType(i).String())
	}
	return
}()

func baseType(L *lua.LState) int {
	t := L.CheckAny(1).Type()
	if int(t) < len(typeNames) {
		L.Push(typeNames[t])
	} else {
		L.Push(lua.LString(t.String()))
	}
	return 1
}

// ToString converts v as LuaJIT's tostring does, calling __tostring.
// Callable from inside Lua.
func (vm *VM) ToString(L *lua.LState, v lua.LValue) lua.LValue {
	switch x := v.(type) {
	case lua.LString:
		return x
	case lua.LNumber:
		return lua.LString(FormatNumber(float64(x)))
	case *lua.LNilType:
		return lua.LString("nil")
	case lua.LBool:
		if x {
			return lua.LString("true")
		}
		return lua.LString("false")
	}
	if mt := L.GetMetaField(v, "__tostring"); mt != lua.LNil {
		L.Push(mt)
		L.Push(v)
		L.Call(1, 1)
		r := L.Get(-1)
		L.Pop(1)
		return r
	}
	if v == vm.null {
		return lua.LString("userdata: NULL")
	}
	return lua.LString(v.String())
}

func (vm *VM) baseToString(L *lua.LState) int {
	if L.GetTop() == 0 {
		ArgError(L, 1, "value expected")
	}
	L.Push(vm.ToString(L, L.Get(1)))
	return 1
}

func baseToNumber(L *lua.LState) int {
	if L.GetTop() == 0 {
		ArgError(L, 1, "value expected")
	}
	v := L.Get(1)
	base := 10
	if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
		b, ok := L.Get(2).(lua.LNumber)
		if !ok {
			if s, isStr := L.Get(2).(lua.LString); isStr {
				if f, ok := ParseNumber(string(s)); ok {
					b, ok = lua.LNumber(f), true
				}
			}
			if !ok {
				TypeError(L, 2, "number")
			}
		}
		base = int(b)
		if base < 2 || base > 36 {
			ArgError(L, 2, "base out of range")
		}
	}
	if base == 10 {
		switch x := v.(type) {
		case lua.LNumber:
			L.Push(x)
			return 1
		case lua.LString:
			if f, ok := ParseNumber(string(x)); ok {
				L.Push(lua.LNumber(f))
				return 1
			}
		}
		L.Push(lua.LNil)
		return 1
	}
	var s string
	switch x := v.(type) {
	case lua.LString:
		s = string(x)
	case lua.LNumber:
		s = FormatNumber(float64(x))
	default:
		TypeError(L, 1, "string")
	}
	if f, ok := parseBase(s, base); ok {
		L.Push(lua.LNumber(f))
	} else {
		L.Push(lua.LNil)
	}
	return 1
}

// LogPrefix returns the "source:line: " prefix ngx_lua's print and ngx.log
// put before a message, naming the calling Lua function as "name(): " when
// it has a name. Only the base name of a file path is kept. Callable from
// inside Lua.
func LogPrefix(L *lua.LState) string {
	_, caller := callSite(L)
	if caller == nil || caller.Fn.IsG {
		return "[C]:-1: "
	}
	src := caller.Fn.Proto.SourceName
	if i := strings.LastIndexAny(src, `/\`); i >= 0 {
		src = src[i+1:]
	}
	var b strings.Builder
	b.WriteString(src)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(frameLine(caller)))
	b.WriteString(": ")
	if caller.Parent != nil {
		if name := callName(caller); name != "?" {
			b.WriteString(name)
			b.WriteString("(): ")
		}
	}
	return b.String()
}

// LogArgs concatenates L's arguments from index first on, as ngx.log and
// print format them: numbers as %.14g, nil, booleans, tables through
// __tostring, null as "null"; anything else is a "bad argument" error.
// Callable from inside Lua.
func (vm *VM) LogArgs(L *lua.LState, first int) string {
	var b []byte
	for i, n := first, L.GetTop(); i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LNumber:
			b = AppendNumber(b, float64(v))
		case lua.LString:
			b = append(b, v...)
		case *lua.LNilType:
			b = append(b, "nil"...)
		case lua.LBool:
			b = strconv.AppendBool(b, bool(v))
		case *lua.LTable:
			if L.GetMetaField(v, "__tostring") == lua.LNil {
				ArgError(L, i, "expected table to have __tostring metamethod")
			}
			b = append(b, lua.LVAsString(vm.ToString(L, v))...)
		case *lua.LUserData:
			if v == vm.null {
				b = append(b, "null"...)
				continue
			}
			ArgError(L, i, "string, number, boolean, or nil expected, got userdata")
		default:
			ArgError(L, i, "string, number, boolean, or nil expected, got "+typeName(v))
		}
	}
	return string(b)
}

func (vm *VM) basePrint(L *lua.LState) int {
	msg := LogPrefix(L) + vm.LogArgs(L, 1)
	if vm.opts.Print != nil {
		vm.opts.Print(L, msg)
	}
	return 0
}

func (vm *VM) pushLoaded(L *lua.LState, fn *lua.LFunction, err error) int {
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(fn)
	return 1
}

func (vm *VM) baseLoad(L *lua.LState) int {
	switch v := L.Get(1).(type) {
	case lua.LString:
		name := L.OptString(2, string(v))
		fn, err := vm.Load(string(v), name)
		return vm.pushLoaded(L, fn, err)
	case *lua.LFunction:
		name := L.OptString(2, "=(load)")
		var b strings.Builder
		for {
			L.Push(v)
			L.Call(0, 1)
			r := L.Get(-1)
			L.Pop(1)
			if r == lua.LNil {
				break
			}
			s, ok := r.(lua.LString)
			if !ok {
				if n, isNum := r.(lua.LNumber); isNum {
					s, ok = lua.LString(FormatNumber(float64(n))), true
				}
			}
			if !ok {
				L.Push(lua.LNil)
				L.Push(lua.LString("reader function must return a string"))
				return 2
			}
			if s == "" {
				break
			}
			b.WriteString(string(s))
		}
		fn, err := vm.Load(b.String(), name)
		return vm.pushLoaded(L, fn, err)
	}
	TypeError(L, 1, "function")
	return 0
}

func (vm *VM) baseLoadString(L *lua.LState) int {
	s := checkString(L, 1)
	fn, err := vm.Load(s, L.OptString(2, s))
	return vm.pushLoaded(L, fn, err)
}

func (vm *VM) baseLoadFile(L *lua.LState) int {
	p := checkString(L, 1)
	fn, err := vm.loadFile(p)
	return vm.pushLoaded(L, fn, err)
}

func (vm *VM) baseDoFile(L *lua.LState) int {
	p := checkString(L, 1)
	fn, err := vm.loadFile(p)
	if err != nil {
		L.Error(lua.LString(err.Error()), 0)
	}
	top := L.GetTop()
	L.Push(fn)
	L.Call(0, lua.MultRet)
	return L.GetTop() - top
}

// checkString returns argument n as a string, converting numbers, or
// raises LuaJIT's type error.
func checkString(L *lua.LState, n int) string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return FormatNumber(float64(v))
	}
	TypeError(L, n, "string")
	return ""
}

// collectgarbage never collects: Go's collector is process-wide and a
// forced cycle would stall every loop. It answers the queries LuaJIT
// answers.
func baseCollectGarbage(L *lua.LState) int {
	opt := L.OptString(1, "collect")
	switch opt {
	case "collect", "stop", "restart":
		L.Push(lua.LNumber(0))
	case "count":
		L.Push(lua.LNumber(gcKB()))
	case "step":
		L.Push(lua.LFalse)
	case "setpause", "setstepmul":
		L.Push(lua.LNumber(200))
	default:
		ArgError(L, 1, "invalid option '"+opt+"'")
	}
	return 1
}

func baseGCInfo(L *lua.LState) int {
	L.Push(lua.LNumber(int(gcKB())))
	return 1
}

// levelWhere returns the position of the function level steps up the
// stack from the Go function running in L (1 is its caller), skipping
// the runtime's own frames, or "" if that function is not Lua code.
func (vm *VM) levelWhere(L *lua.LState, level int) string {
	f := curFrame(L)
	if f == nil || level < 1 {
		return ""
	}
	t := L
	if tailCalled(f) {
		// the Lua function that tail-called this Go one is gone in
		// LuaJIT (see goFrameName).
		f = f.Parent
	}
	for f = f.Parent; ; f = f.Parent {
		if f == nil {
			// The base of a pcall helper: carry on in the code that
			// called pcall, whose Go half stands for LuaJIT's C pcall.
			p := t.Parent
			if p == nil {
				break
			}
			pf := curFrame(p)
			if pf == nil || !vm.isHelperDriver(pf.Fn) {
				break
			}
			t, f = p, pf
		}
		if !f.Fn.IsG && isGlueProto(f.Fn.Proto) {
			continue
		}
		if level--; level == 0 {
			break
		}
	}
	if f == nil || f.Fn.IsG {
		return ""
	}
	return f.Fn.Proto.SourceName + ":" + strconv.Itoa(frameLine(f)) + ": "
}

func (vm *VM) baseError(L *lua.LState) int {
	obj := L.Get(1)
	level := 1
	if L.GetTop() >= 2 {
		level = L.CheckInt(2)
	}
	if level > 0 {
		switch v := obj.(type) {
		case lua.LString:
			obj = lua.LString(vm.levelWhere(L, level) + string(v))
		case lua.LNumber:
			obj = lua.LString(vm.levelWhere(L, level) + FormatNumber(float64(v)))
		}
	}
	L.Error(obj, 0)
	return 0
}

func (vm *VM) baseAssert(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		ArgError(L, 1, "value expected")
	}
	if lua.LVAsBool(L.Get(1)) {
		return n
	}
	if n < 2 {
		L.Error(lua.LString(vm.levelWhere(L, 1)+"assertion failed!"), 0)
	}
	switch m := L.Get(2).(type) {
	case lua.LString:
		L.Error(lua.LString(vm.levelWhere(L, 1)+string(m)), 0)
	case lua.LNumber:
		L.Error(lua.LString(vm.levelWhere(L, 1)+FormatNumber(float64(m))), 0)
	default:
		L.Error(m, 0)
	}
	return 0
}

// setmetatable accepts only tables, as LuaJIT's does; gopher-lua's would
// silently give every number or string a metatable.
func baseSetMetatable(L *lua.LState) int {
	t := checkTable(L, 1)
	mt := L.Get(2)
	switch mt.(type) {
	case *lua.LNilType, *lua.LTable:
	default:
		if L.GetTop() < 2 {
			ArgError(L, 2, "nil or table expected")
		}
		ArgError(L, 2, "nil or table expected")
	}
	if L.GetMetaField(t, "__metatable") != lua.LNil {
		Raise(L, "cannot change a protected metatable")
	}
	t.Metatable = mt
	L.SetTop(1)
	return 1
}

// debugTraceback is debug.traceback([thread,] [message [, level]]).
func (vm *VM) debugTraceback(L *lua.LState) int {
	t, arg := L, 1
	if co, ok := L.Get(1).(*lua.LState); ok {
		t, arg = co, 2
	}
	msg := L.Get(arg)
	if L.GetTop() >= arg {
		switch m := msg.(type) {
		case lua.LString:
		case lua.LNumber:
			msg = lua.LString(FormatNumber(float64(m)))
		default:
			L.Push(msg)
			return 1
		}
	}
	level := 1
	if t != L {
		level = 0
	}
	if L.GetTop() > arg {
		level = int(checkInt(L, arg+1))
	}
	tb := vm.traceback(t, level)
	if s, ok := msg.(lua.LString); ok {
		tb = string(s) + "\n" + tb
	}
	L.Push(lua.LString(tb))
	return 1
}
