// Package cjson is lua-cjson (the OpenResty fork, 2.1.0.10) for gopher-lua:
// the cjson and cjson.safe modules with the same defaults, settings, API
// and error messages, written directly over Lua tables.
//
// A module instance belongs to one Lua VM; everything here runs on that
// VM's goroutine.
package cjson

import (
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"gresty/luavm/ltable"
)

// Version is the lua-cjson version the module reports as _VERSION.
const Version = "2.1.0.10"

// Env is what the module needs from the runtime embedding it.
type Env struct {
	// Null is cjson.null, the value JSON null decodes to. OpenResty makes
	// it the same value as ngx.null.
	Null lua.LValue
	// ArgError raises "bad argument #n to '<name>' (msg)".
	ArgError func(L *lua.LState, n int, msg string)
	// Raise raises an error message prefixed with the caller's position,
	// as luaL_error does.
	Raise func(L *lua.LState, format string, args ...any)
}

// Config is the setting set of one module instance (cjson.new() makes a
// fresh one). The zero value is not valid; use NewConfig.
type Config struct {
	// SparseConvert, SparseRatio and SparseSafe are encode_sparse_array:
	// whether an excessively sparse array becomes an object instead of
	// an error, the ratio that makes it excessive (0: never), and the
	// largest index always encoded as an array.
	SparseConvert bool
	SparseRatio   int
	SparseSafe    int
	// EncodeMaxDepth and DecodeMaxDepth bound nesting.
	EncodeMaxDepth int
	DecodeMaxDepth int
	// EncodeInvalidNums is encode_invalid_numbers: 0 off (error), 1 on
	// (NaN, Infinity), 2 "null". DecodeInvalidNums accepts hex, leading
	// zeros, a leading '+', inf and nan.
	EncodeInvalidNums int
	DecodeInvalidNums bool
	// KeepBuffer reuses the encode buffer between calls.
	KeepBuffer bool
	// NumberPrecision is the %.Ng precision of encoded numbers (1-16).
	NumberPrecision int
	// EmptyTableAsObject encodes {} as an object rather than [].
	EmptyTableAsObject bool
	// DecodeArrayWithMT gives decoded arrays cjson.array_mt.
	DecodeArrayWithMT bool
	// EscapeSlash writes "/" as "\/".
	EscapeSlash bool

	buf []byte
}

// NewConfig returns lua-cjson's defaults.
func NewConfig() *Config {
	return &Config{
		SparseRatio:        2,
		SparseSafe:         10,
		EncodeMaxDepth:     1000,
		DecodeMaxDepth:     1000,
		DecodeInvalidNums:  true,
		KeepBuffer:         true,
		NumberPrecision:    14,
		EmptyTableAsObject: true,
		EscapeSlash:        true,
	}
}

// shared holds the values all instances in one VM share: lua-cjson keeps
// them in the Lua registry, so cjson.new() instances and cjson.safe agree
// on them.
type shared struct {
	null         lua.LValue
	emptyArray   *lua.LUserData
	arrayMT      *lua.LTable
	emptyArrayMT *lua.LTable
	// index is the key index decoded objects share until walked.
	index ltable.Index
}

const registryKey = "gresty.cjson.shared"

func getShared(L *lua.LState, env Env) *shared {
	reg := L.G.Registry
	if ud, ok := reg.RawGetString(registryKey).(*lua.LUserData); ok {
		if s, ok := ud.Value.(*shared); ok {
			return s
		}
	}
	s := &shared{
		null:         env.Null,
		emptyArray:   &lua.LUserData{Metatable: lua.LNil},
		arrayMT:      L.NewTable(),
		emptyArrayMT: L.NewTable(),
	}
	if s.null == nil {
		s.null = &lua.LUserData{Metatable: lua.LNil}
	}
	reg.RawSetString(registryKey, &lua.LUserData{Value: s, Metatable: lua.LNil})
	return s
}

// Loader returns the package.preload loader of "cjson", or of "cjson.safe"
// when safe is set.
func Loader(env Env, safe bool) lua.LGFunction {
	return func(L *lua.LState) int {
		L.Push(newModule(L, env, safe))
		return 1
	}
}

type module struct {
	env Env
	sh  *shared
	cfg *Config
	// stack and tmp are a decoder's work buffers, kept between decodes.
	stack []lua.LValue
	tmp   []byte
}

func newModule(L *lua.LState, env Env, safe bool) *lua.LTable {
	m := &module{env: env, sh: getShared(L, env), cfg: NewConfig()}
	t := L.CreateTable(0, 20)
	set := func(name string, fn lua.LGFunction) { t.RawSetString(name, L.NewFunction(fn)) }
	set("encode", m.encodeFn(safe))
	set("decode", m.decodeFn(safe))
	set("encode_empty_table_as_object", m.boolOption(&m.cfg.EmptyTableAsObject))
	set("decode_array_with_array_mt", m.boolOption(&m.cfg.DecodeArrayWithMT))
	set("encode_sparse_array", m.encodeSparseArray)
	set("encode_max_depth", m.intOption(&m.cfg.EncodeMaxDepth, 1, 1<<31-1))
	set("decode_max_depth", m.intOption(&m.cfg.DecodeMaxDepth, 1, 1<<31-1))
	set("encode_number_precision", m.intOption(&m.cfg.NumberPrecision, 1, 16))
	set("encode_keep_buffer", m.boolOption(&m.cfg.KeepBuffer))
	set("encode_invalid_numbers", m.encodeInvalidNumbers)
	set("decode_invalid_numbers", m.boolOption(&m.cfg.DecodeInvalidNums))
	set("encode_escape_forward_slash", m.boolOption(&m.cfg.EscapeSlash))
	set("new", func(L *lua.LState) int {
		L.Push(newModule(L, env, safe))
		return 1
	})
	t.RawSetString("null", m.sh.null)
	t.RawSetString("empty_array", m.sh.emptyArray)
	t.RawSetString("array_mt", m.sh.arrayMT)
	t.RawSetString("empty_array_mt", m.sh.emptyArrayMT)
	t.RawSetString("_NAME", lua.LString("cjson"))
	t.RawSetString("_VERSION", lua.LString(Version))
	return t
}

func (m *module) argError(L *lua.LState, n int, msg string) {
	if m.env.ArgError != nil {
		m.env.ArgError(L, n, msg)
	}
	L.ArgError(n, msg)
}

// jsonError carries a conversion error out of a cjson.safe call, which
// returns it instead of raising it. lua-cjson's safe wrapper catches the
// error with lua_pcall before luaL_error could add a position, so the
// message has none.
type jsonError struct{ msg string }

// fail reports a conversion error.
func (m *module) fail(L *lua.LState, safe bool, msg string) {
	if safe {
		panic(jsonError{msg})
	}
	if m.env.Raise != nil {
		m.env.Raise(L, "%s", msg)
	}
	L.RaiseError("%s", msg)
}

func (m *module) encodeFn(safe bool) lua.LGFunction {
	return func(L *lua.LState) (n int) {
		if L.GetTop() != 1 {
			m.argError(L, 1, "expected 1 argument")
		}
		if safe {
			defer recoverSafe(L, &n)
		}
		var buf []byte
		if m.cfg.KeepBuffer {
			buf = m.cfg.buf[:0]
		}
		e := encoder{m: m, L: L, cfg: m.cfg, safe: safe, buf: buf}
		e.value(L.Get(1), 0)
		s := string(e.buf)
		if m.cfg.KeepBuffer {
			m.cfg.buf = e.buf
		} else {
			m.cfg.buf = nil
		}
		L.Push(lua.LString(s))
		return 1
	}
}

func (m *module) decodeFn(safe bool) lua.LGFunction {
	return func(L *lua.LState) (n int) {
		if L.GetTop() != 1 {
			m.argError(L, 1, "expected 1 argument")
		}
		var data string
		switch v := L.Get(1).(type) {
		case lua.LString:
			data = string(v)
		case lua.LNumber:
			data = strconv.FormatFloat(float64(v), 'g', 14, 64)
		default:
			m.argError(L, 1, "string expected, got "+v.Type().String())
		}
		if safe {
			defer recoverSafe(L, &n)
		}
		// the work buffers are lent to one decode at a time; one that
		// fails drops them with whatever they still point to.
		d := decoder{m: m, L: L, cfg: m.cfg, safe: safe, data: data, stack: m.stack[:0], tmp: m.tmp[:0]}
		m.stack, m.tmp = nil, nil
		v := d.run()
		m.stack, m.tmp = d.stack[:0], d.tmp[:0]
		L.Push(v)
		return 1
	}
}

func recoverSafe(L *lua.LState, n *int) {
	if r := recover(); r != nil {
		je, ok := r.(jsonError)
		if !ok {
			panic(r)
		}
		L.SetTop(1)
		L.Push(lua.LNil)
		L.Push(lua.LString(je.msg))
		*n = 2
	}
}

// Configuration functions, as lua-cjson's json_arg_init and friends.

func (m *module) argInit(L *lua.LState, n int) {
	if L.GetTop() > n {
		m.argError(L, n+1, "found too many arguments")
	}
}

func (m *module) integer(L *lua.LState, idx int, setting *int, min, max int) {
	v := L.Get(idx)
	if v == lua.LNil {
		return
	}
	var f float64
	switch x := v.(type) {
	case lua.LNumber:
		f = float64(x)
	case lua.LString:
		p, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			m.argError(L, idx, "number expected, got string")
		}
		f = p
	default:
		m.argError(L, idx, "number expected, got "+v.Type().String())
	}
	n := int(f)
	if n < min || n > max {
		m.argError(L, 1, "expected integer between "+strconv.Itoa(min)+" and "+strconv.Itoa(max))
	}
	*setting = n
}

// enum handles json_enum_option: a boolean, or one of options by name.
func (m *module) enum(L *lua.LState, idx int, setting *int, options []string) {
	v := L.Get(idx)
	if v == lua.LNil {
		return
	}
	if b, ok := v.(lua.LBool); ok {
		*setting = 0
		if b {
			*setting = 1
		}
		return
	}
	var s string
	switch x := v.(type) {
	case lua.LString:
		s = string(x)
	case lua.LNumber:
		s = strconv.FormatFloat(float64(x), 'g', 14, 64)
	default:
		m.argError(L, idx, "string expected, got "+v.Type().String())
	}
	for i, o := range options {
		if o == s {
			*setting = i
			return
		}
	}
	m.argError(L, idx, "invalid option '"+s+"'")
}

func pushEnum(L *lua.LState, setting int, options []string) {
	if setting == 0 || setting == 1 {
		L.Push(lua.LBool(setting == 1))
		return
	}
	L.Push(lua.LString(options[setting]))
}

var onOff = []string{"off", "on"}

func (m *module) boolOption(p *bool) lua.LGFunction {
	return func(L *lua.LState) int {
		m.argInit(L, 1)
		v := 0
		if *p {
			v = 1
		}
		m.enum(L, 1, &v, onOff)
		*p = v == 1
		pushEnum(L, v, onOff)
		return 1
	}
}

func (m *module) intOption(p *int, min, max int) lua.LGFunction {
	return func(L *lua.LState) int {
		m.argInit(L, 1)
		m.integer(L, 1, p, min, max)
		L.Push(lua.LNumber(*p))
		return 1
	}
}

func (m *module) encodeSparseArray(L *lua.LState) int {
	m.argInit(L, 3)
	conv := 0
	if m.cfg.SparseConvert {
		conv = 1
	}
	m.enum(L, 1, &conv, onOff)
	m.cfg.SparseConvert = conv == 1
	m.integer(L, 2, &m.cfg.SparseRatio, 0, 1<<31-1)
	m.integer(L, 3, &m.cfg.SparseSafe, 0, 1<<31-1)
	L.Push(lua.LBool(m.cfg.SparseConvert))
	L.Push(lua.LNumber(m.cfg.SparseRatio))
	L.Push(lua.LNumber(m.cfg.SparseSafe))
	return 3
}

var invalidNumberOptions = []string{"off", "on", "null"}

func (m *module) encodeInvalidNumbers(L *lua.LState) int {
	m.argInit(L, 1)
	m.enum(L, 1, &m.cfg.EncodeInvalidNums, invalidNumberOptions)
	pushEnum(L, m.cfg.EncodeInvalidNums, invalidNumberOptions)
	return 1
}
