package luavm

import (
	"fmt"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// isGlueProto reports whether p is part of the runtime's own Lua code.
func isGlueProto(p *lua.FunctionProto) bool {
	return p != nil && p.SourceName == glueChunk
}

// callSite finds, for the Go function running in L, the frame the user's
// code called (the Go function itself, or the runtime trampoline standing
// in front of it) and that frame's caller.
func callSite(L *lua.LState) (callee, caller *frame) {
	f := curFrame(L)
	if f == nil {
		return nil, nil
	}
	for f.Parent != nil && !f.Parent.Fn.IsG && isGlueProto(f.Parent.Fn.Proto) {
		f = f.Parent
	}
	return f, f.Parent
}

// Where returns the "chunk:line:" position of the Lua code that called the
// running Go function, as luaL_where(L, 1) does, or "" when that caller is
// not Lua code. The runtime's trampolines are skipped. Callable from
// inside Lua.
func Where(L *lua.LState) string {
	callee, caller := callSite(L)
	if caller == nil || caller.Fn.IsG || tailCalled(callee) {
		return ""
	}
	return caller.Fn.Proto.SourceName + ":" + strconv.Itoa(frameLine(caller)) + ":"
}

// Raise raises a Lua error from a Go function, formatted like luaL_error:
// the caller's position, a space, and the message.
func Raise(L *lua.LState, format string, args ...any) {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	if w := Where(L); w != "" {
		msg = w + " " + msg
	}
	L.Error(lua.LString(msg), 0)
}

// isMethodCall reports whether the call at the caller's current
// instruction loaded its function with OP_SELF, i.e. was written obj:m().
func isMethodCall(caller *frame) bool {
	if caller == nil || caller.Fn.IsG || caller.Pc < 2 {
		return false
	}
	code := caller.Fn.Proto.Code
	call := code[caller.Pc-1]
	a := int(call>>18) & 0xff
	for pc := caller.Pc - 2; pc >= 0; pc-- {
		in := code[pc]
		if int(in>>18)&0xff != a {
			continue
		}
		switch int(in >> opShift) {
		case lua.OP_SELF:
			return true
		case lua.OP_JMP, lua.OP_EQ, lua.OP_LT, lua.OP_LE, lua.OP_TEST, lua.OP_SETGLOBAL,
			lua.OP_SETTABLE, lua.OP_SETTABLEKS, lua.OP_SETUPVAL, lua.OP_SETLIST, lua.OP_CLOSE:
			continue
		}
		return false
	}
	return false
}

// ArgError raises LuaJIT's "bad argument #n to 'name' (msg)" from a Go
// function, naming the function as the caller wrote it and not counting
// self in obj:method() calls. Callable from inside Lua.
func ArgError(L *lua.LState, n int, msg string) {
	L.Error(lua.LString(argErrorText(L, n, msg)), 0)
}

// argErrorText is the message ArgError raises.
func argErrorText(L *lua.LState, n int, msg string) string {
	callee, caller := callSite(L)
	name := "?"
	if callee != nil {
		name = callName(callee)
	}
	w := Where(L)
	if w != "" {
		w += " "
	}
	if isMethodCall(caller) && !tailCalled(callee) {
		n--
		if n == 0 {
			return w + "calling '" + name + "' on bad self (" + msg + ")"
		}
	}
	return w + "bad argument #" + strconv.Itoa(n) + " to '" + name + "' (" + msg + ")"
}

// TypeError raises ArgError's "<expected> expected, got <type>", where a
// missing argument is "no value" as in LuaJIT.
func TypeError(L *lua.LState, n int, expected string) {
	got := "no value"
	if n <= L.GetTop() {
		got = typeName(L.Get(n))
	}
	ArgError(L, n, expected+" expected, got "+got)
}

func typeName(v lua.LValue) string { return v.Type().String() }

// fixMessage rewrites gopher-lua's own "bad argument #1 to sub (...)"
// messages the way LuaJIT words them: "bad argument #1 to 'sub' (...)".
// When the position points into the runtime's glue, the function was
// called straight from pcall and LuaJIT knows neither its position nor its
// name.
func fixMessage(v lua.LValue) lua.LValue {
	s, ok := v.(lua.LString)
	if !ok {
		return v
	}
	str := string(s)
	glue := false
	if strings.HasPrefix(str, glueChunk+":") {
		// An error raised while the runtime's own Lua code ran (the
		// watchdog can stop any instruction): its position means nothing
		// to the user.
		glue = true
		if i := strings.Index(str, ": "); i >= 0 {
			str = str[i+2:]
		}
	}
	i := strings.Index(str, "bad argument #")
	if i < 0 {
		if glue {
			return lua.LString(str)
		}
		return v
	}
	j := strings.Index(str[i:], " to ")
	if j < 0 {
		return v
	}
	start := i + j + 4
	if start >= len(str) || str[start] == '\'' {
		return v
	}
	end := strings.IndexByte(str[start:], ' ')
	if end <= 0 {
		return v
	}
	name := str[start : start+end]
	if glue {
		name = "?"
	}
	rest := str[start+end:]
	return lua.LString(str[:start] + "'" + name + "'" + rest)
}
