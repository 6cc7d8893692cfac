package luavm

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// gopher-lua words runtime errors its own way ("attempt to index a
// non-table object(nil) with key 'y'"); LuaJIT names the culprit
// ("attempt to index local 'x' (a nil value)"), and that is what error
// logs and tests read. Every thread the runtime starts installs panicHook
// as its state's Panic function before running user code. gopher-lua
// calls it with the message on the stack while the failing frame is still
// intact, so the hook can look at the failing instruction and its debug
// information the way LuaJIT's lj_debug_slotname does, at no cost until
// an error happens.

const (
	bitRK   = 1 << 8
	maskReg = 0xff
)

func instA(i uint32) int  { return int(i>>18) & 0xff }
func instB(i uint32) int  { return int(i & 0x1ff) }
func instC(i uint32) int  { return int(i>>9) & 0x1ff }
func instBx(i uint32) int { return int(i & 0x3ffff) }
func instOp(i uint32) int { return int(i >> opShift) }

// panicHook replaces gopher-lua's panicWithoutTraceback.
func (vm *VM) panicHook(L *lua.LState) {
	vm.recordTrace(L)
	v := L.Get(-1)
	if s, ok := v.(lua.LString); ok {
		f := curFrame(L)
		switch {
		case f == nil:
		case f.Fn.IsG:
			if m, ok := builtinArgError(L, string(s)); ok {
				v = lua.LString(m)
			} else if m, ok := patternError(string(s)); ok {
				v = lua.LString(m)
			}
		case f.Pc > 0 && f.Pc <= len(f.Fn.Proto.Code):
			if m, ok := luajitMessage(L, f, string(s)); ok {
				v = lua.LString(m)
			}
		}
	}
	panic(&lua.ApiError{Type: lua.ApiErrorRun, Object: v})
}

// setHook is called first thing by every thread the runtime starts.
func (vm *VM) setHook(L *lua.LState) int {
	L.Panic = vm.panicFn
	return 0
}

// builtinArgError rewrites the "bad argument" errors of gopher-lua's own
// library functions ("bad argument #1 to sub (string expected, got nil)"),
// raised while their frame is current, into LuaJIT's form: the name as the
// caller wrote it, self not counted in method calls, and "no value" for a
// missing argument.
func builtinArgError(L *lua.LState, msg string) (string, bool) {
	i := strings.Index(msg, "bad argument #")
	if i < 0 || !strings.HasSuffix(msg, ")") {
		return "", false
	}
	rest := msg[i+len("bad argument #"):]
	sp := strings.IndexByte(rest, ' ')
	if sp < 0 {
		return "", false
	}
	n, err := strconv.Atoi(rest[:sp])
	if err != nil || !strings.HasPrefix(rest[sp:], " to ") {
		return "", false
	}
	open := strings.Index(rest, " (")
	if open < 0 || strings.HasPrefix(rest[sp+4:], "'") {
		return "", false
	}
	detail := rest[open+2 : len(rest)-1]
	// The message was pushed on top of the arguments.
	if n > L.GetTop()-1 && strings.HasSuffix(detail, ", got nil") {
		detail = strings.TrimSuffix(detail, "nil") + "no value"
	}
	return argErrorText(L, n, detail), true
}

// patternError drops the " at EOS" or " at <offset>" gopher-lua's pattern
// matcher appends to its errors, and names a stray ')' as LuaJIT does.
func patternError(msg string) (string, bool) {
	for _, p := range []struct{ gopher, luajit string }{
		{"unfinished capture", "unfinished capture"},
		{"invalid capture index", "invalid capture index"},
		{"invalid ')'", "invalid pattern capture"},
		{"unexpected EOS", "malformed pattern (ends with '%')"},
	} {
		i := strings.LastIndex(msg, p.gopher+" at ")
		if i < 0 {
			continue
		}
		return msg[:i] + p.luajit, true
	}
	return "", false
}

var gopherPhrases = []string{
	"attempt to index a non-table object(", "attempt to call a non-function object",
	"cannot perform ", "attempt to compare ", "__len undefined", "__unm undefined",
	"for statement ",
}

// luajitMessage rewrites msg, raised by the instruction f is executing.
func luajitMessage(L *lua.LState, f *frame, msg string) (string, bool) {
	at := -1
	for _, p := range gopherPhrases {
		if i := strings.Index(msg, p); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	if at < 0 {
		return "", false
	}
	prefix, body := msg[:at], msg[at:]
	pc := f.Pc - 1
	in := f.Fn.Proto.Code[pc]
	reg := func(r int) lua.LValue { return L.Get(r + 1) }
	rk := func(x int) (lua.LValue, int) {
		if x&bitRK != 0 {
			return f.Fn.Proto.Constants[x&maskReg], -1
		}
		return reg(x), x
	}
	culprit := func(verb string, v lua.LValue, r int) string {
		t := v.Type().String()
		if r >= 0 {
			if d := describe(f, pc, r); d != "" {
				return prefix + "attempt to " + verb + " " + d + " (a " + t + " value)"
			}
		}
		return prefix + "attempt to " + verb + " a " + t + " value"
	}
	op := instOp(in)
	switch {
	case strings.HasPrefix(body, "attempt to index"):
		var obj int
		switch op {
		case lua.OP_GETTABLE, lua.OP_GETTABLEKS, lua.OP_SELF:
			obj = instB(in)
		case lua.OP_SETTABLE, lua.OP_SETTABLEKS:
			obj = instA(in)
		default:
			return "", false
		}
		v := reg(obj)
		if _, isTable := v.(*lua.LTable); isTable {
			// The failure was further down an __index chain.
			return prefix + "attempt to index a " + indexedType(body) + " value", true
		}
		return culprit("index", v, obj), true
	case strings.HasPrefix(body, "attempt to call"):
		if op != lua.OP_CALL && op != lua.OP_TAILCALL {
			return "", false
		}
		return culprit("call", reg(instA(in)), instA(in)), true
	case strings.HasPrefix(body, "cannot perform concat"):
		if op != lua.OP_CONCAT {
			return "", false
		}
		b, c := instB(in), instC(in)
		bad := func(r int) bool {
			switch reg(r).(type) {
			case lua.LString, lua.LNumber:
				return false
			}
			return true
		}
		blame := c
		switch {
		case c > b && bad(c-1):
			blame = c - 1
		case bad(c):
		default:
			for r := c - 2; r >= b; r-- {
				if bad(r) {
					blame = r
					break
				}
			}
		}
		return culprit("concatenate", reg(blame), blame), true
	case strings.HasPrefix(body, "cannot perform"), body == "__unm undefined":
		switch op {
		case lua.OP_ADD, lua.OP_SUB, lua.OP_MUL, lua.OP_DIV, lua.OP_MOD, lua.OP_POW:
			v, r := rk(instB(in))
			if isArith(v) {
				v, r = rk(instC(in))
			}
			return culprit("perform arithmetic on", v, r), true
		case lua.OP_UNM:
			return culprit("perform arithmetic on", reg(instB(in)), instB(in)), true
		}
	case body == "__len undefined":
		if op == lua.OP_LEN {
			return culprit("get length of", reg(instB(in)), instB(in)), true
		}
	case strings.HasPrefix(body, "attempt to compare "):
		var t1, t2 string
		if n, _ := fmtSscan(body[len("attempt to compare "):], &t1, &t2); n == 2 {
			if t1 == t2 {
				return prefix + "attempt to compare two " + t1 + " values", true
			}
			return prefix + "attempt to compare " + t1 + " with " + t2, true
		}
	case strings.HasPrefix(body, "for statement "):
		for _, w := range []struct{ gopher, luajit string }{
			{"init", "initial value"}, {"limit", "limit"}, {"step", "step"},
		} {
			if strings.HasPrefix(body, "for statement "+w.gopher) {
				return prefix + "'for' " + w.luajit + " must be a number", true
			}
		}
	}
	return "", false
}

// fmtSscan splits "T1 with T2".
func fmtSscan(s string, t1, t2 *string) (int, error) {
	a, b, ok := strings.Cut(s, " with ")
	if !ok {
		return 0, nil
	}
	*t1, *t2 = a, b
	return 2, nil
}

func isArith(v lua.LValue) bool {
	switch x := v.(type) {
	case lua.LNumber:
		return true
	case lua.LString:
		_, ok := ParseNumber(string(x))
		return ok
	}
	return false
}

// indexedType takes the type out of gopher-lua's "non-table object(T)".
func indexedType(body string) string {
	i := strings.IndexByte(body, '(')
	j := strings.IndexByte(body, ')')
	if i < 0 || j < i {
		return "nil"
	}
	return body[i+1 : j]
}

// describe names what register r holds at pc, as LuaJIT's error messages
// do: a named local, or where the value was loaded from.
func describe(f *frame, pc, r int) string {
	p := f.Fn.Proto
	if name := localName(p, r, pc); name != "" {
		return "local '" + name + "'"
	}
	for i := pc - 1; i >= 0; i-- {
		in := p.Code[i]
		op, a := instOp(in), instA(in)
		switch op {
		case lua.OP_JMP, lua.OP_FORLOOP, lua.OP_FORPREP, lua.OP_TFORLOOP:
			// Control flow joins here; the defining instruction is not
			// known for sure.
			return ""
		case lua.OP_EQ, lua.OP_LT, lua.OP_LE, lua.OP_TEST, lua.OP_SETGLOBAL, lua.OP_SETUPVAL,
			lua.OP_SETTABLE, lua.OP_SETTABLEKS, lua.OP_SETLIST, lua.OP_CLOSE, lua.OP_RETURN, lua.OP_NOP:
			continue
		case lua.OP_LOADNIL:
			if a <= r && r <= instB(in) {
				return ""
			}
			continue
		case lua.OP_SELF:
			if r == a+1 {
				return describe(f, i, instB(in))
			}
		case lua.OP_CALL, lua.OP_TAILCALL, lua.OP_VARARG:
			if r >= a {
				return ""
			}
			continue
		}
		if a != r {
			continue
		}
		switch op {
		case lua.OP_GETGLOBAL:
			return "global '" + lua.LVAsString(p.Constants[instBx(in)]) + "'"
		case lua.OP_GETTABLEKS:
			return "field '" + lua.LVAsString(p.Constants[instC(in)&maskReg]) + "'"
		case lua.OP_GETTABLE:
			if c := instC(in); c&bitRK != 0 {
				if k, ok := p.Constants[c&maskReg].(lua.LString); ok {
					return "field '" + string(k) + "'"
				}
			}
			return ""
		case lua.OP_SELF:
			if c := instC(in); c&bitRK != 0 {
				return "method '" + lua.LVAsString(p.Constants[c&maskReg]) + "'"
			}
			return ""
		case lua.OP_GETUPVAL:
			if b := instB(in); b < len(p.DbgUpvalues) {
				return "upvalue '" + p.DbgUpvalues[b] + "'"
			}
			return ""
		case lua.OP_MOVE:
			if b := instB(in); b < a {
				return describe(f, i, b)
			}
			return ""
		}
		return ""
	}
	return ""
}

// localName returns the name of the local in register r at pc. (gopher-lua's
// LocalName misses a local at the first instruction of its scope.)
func localName(p *lua.FunctionProto, r, pc int) string {
	n := r + 1
	for _, l := range p.DbgLocals {
		if l.StartPc > pc {
			break
		}
		if pc < l.EndPc {
			if n--; n == 0 {
				return l.Name
			}
		}
	}
	return ""
}
