package cjson

import (
	"math"
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"gresty/luavm/ltable"
)

type encoder struct {
	m    *module
	L    *lua.LState
	cfg  *Config
	safe bool
	buf  []byte
}

// escapes[c] is the JSON escape of byte c, "" when it is written as is.
var escapes = func() (t [256]string) {
	const hex = "0123456789abcdef"
	for c := 0; c < 0x20; c++ {
		t[c] = `\u00` + string(hex[c>>4]) + string(hex[c&15])
	}
	t['\b'], t['\t'], t['\n'], t['\f'], t['\r'] = `\b`, `\t`, `\n`, `\f`, `\r`
	t['"'], t['\\'], t['/'], t[0x7f] = `\"`, `\\`, `\/`, `\u007f`
	return t
}()

func (e *encoder) fail(v lua.LValue, reason string) {
	e.m.fail(e.L, e.safe, "Cannot serialise "+v.Type().String()+": "+reason)
}

func (e *encoder) str(s string) {
	b := append(e.buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		esc := escapes[s[i]]
		if esc == "" || (s[i] == '/' && !e.cfg.EscapeSlash) {
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, esc...)
		start = i + 1
	}
	b = append(b, s[start:]...)
	e.buf = append(b, '"')
}

func (e *encoder) number(v lua.LNumber) {
	f := float64(v)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		switch e.cfg.EncodeInvalidNums {
		case 0:
			e.fail(v, "must not be NaN or Infinity")
		case 1:
			switch {
			case math.IsNaN(f):
				e.buf = append(e.buf, "NaN"...)
			case f < 0:
				e.buf = append(e.buf, "-Infinity"...)
			default:
				e.buf = append(e.buf, "Infinity"...)
			}
			return
		default:
			e.buf = append(e.buf, "null"...)
			return
		}
	}
	// lua-cjson prints with snprintf("%.14g"), which rounds exactly as
	// strconv does.
	e.buf = strconv.AppendFloat(e.buf, f, 'g', e.cfg.NumberPrecision, 64)
}

func (e *encoder) value(v lua.LValue, depth int) {
	switch x := v.(type) {
	case lua.LString:
		e.str(string(x))
	case lua.LNumber:
		e.number(x)
	case lua.LBool:
		if x {
			e.buf = append(e.buf, "true"...)
		} else {
			e.buf = append(e.buf, "false"...)
		}
	case *lua.LNilType:
		e.buf = append(e.buf, "null"...)
	case *lua.LTable:
		e.table(x, depth+1)
	case *lua.LUserData:
		switch lua.LValue(x) {
		case e.m.sh.null:
			e.buf = append(e.buf, "null"...)
		case e.m.sh.emptyArray:
			e.buf = append(e.buf, "[]"...)
		default:
			e.fail(v, "type not supported")
		}
	default:
		e.fail(v, "type not supported")
	}
}

func (e *encoder) table(t *lua.LTable, depth int) {
	if depth > e.cfg.EncodeMaxDepth {
		e.m.fail(e.L, e.safe, "Cannot serialise, excessive nesting ("+strconv.Itoa(depth)+")")
	}
	mt, _ := t.Metatable.(*lua.LTable)
	if mt != nil && mt == e.m.sh.arrayMT {
		e.array(t, t.Len(), depth)
		return
	}
	n := e.arrayLength(t)
	if n > 0 || (n == 0 && !e.cfg.EmptyTableAsObject) {
		e.array(t, n, depth)
		return
	}
	if mt != nil && mt == e.m.sh.emptyArrayMT {
		e.buf = append(e.buf, "[]"...)
		return
	}
	e.object(t, depth)
}

// arrayLength returns the length of t as a JSON array, or -1 when it must
// be an object: every key a positive integer, and not too sparse.
func (e *encoder) arrayLength(t *lua.LTable) int {
	maxKey, items, array := ltable.ArrayKeys(t)
	if !array {
		return -1
	}
	c := e.cfg
	if c.SparseRatio > 0 && maxKey > float64(items*c.SparseRatio) && maxKey > float64(c.SparseSafe) {
		if !c.SparseConvert {
			e.fail(t, "excessively sparse array")
		}
		return -1
	}
	return int(maxKey)
}

func (e *encoder) array(t *lua.LTable, n, depth int) {
	e.buf = append(e.buf, '[')
	for i := 1; i <= n; i++ {
		if i > 1 {
			e.buf = append(e.buf, ',')
		}
		e.value(t.RawGetInt(i), depth)
	}
	e.buf = append(e.buf, ']')
}

func (e *encoder) object(t *lua.LTable, depth int) {
	e.buf = append(e.buf, '{')
	first := true
	for k, v := ltable.Next(t, lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		switch key := k.(type) {
		case lua.LNumber:
			e.buf = append(e.buf, '"')
			e.number(key)
			e.buf = append(e.buf, '"', ':')
		case lua.LString:
			e.str(string(key))
			e.buf = append(e.buf, ':')
		default:
			e.fail(k, "table key must be a number or string")
		}
		e.value(v, depth)
	}
	e.buf = append(e.buf, '}')
}
