package lua

import (
	"errors"

	glua "github.com/yuin/gopher-lua"

	"gresty/errlog"
	"gresty/luavm"
	"gresty/regex"
)

// This file holds ngx.re (match, find, gmatch, sub, gsub) and the
// ngx.re module (split, opt), with lua-resty-core's behaviour: the
// subject goes through tostring, ctx.pos is a 1-based byte position,
// unmatched groups are false, named groups are copied to their names,
// and errors come back as values ("pcre_exec() failed: -8", compile
// errors as PCRE prints them).
//
// sub and gsub with a function replacement run their loop in Lua, as
// resty.core does, so the function may wait (ngx.sleep, cosockets); the
// matching itself is Go.

func init() { registerAPI(installRe) }

// reState is a VM's regex machinery: compiled patterns, the matcher
// scratch space and the caches of the "o" option.
type reState struct {
	st *loopState
	// compiles keeps every compiled pattern, "o" or not: compiling is
	// costly and a compiled pattern is immutable. It is invisible to Lua;
	// once and subOnce give "o" its observable behaviour.
	compiles *regex.Cache
	// byOpts finds a compiled pattern by the pattern and option string
	// Lua passed, without parsing the options again; bounded by clearing.
	byOpts map[reKey]*compiled
	// tpls keeps parsed sub templates (only valid ones: an invalid one
	// is logged each time it is compiled, as ngx_lua does).
	tpls    map[string][]tplPart
	matcher *regex.Matcher
	ovec    []int
	// once is match, find, gmatch and split's "o" cache: an LRU of
	// lua_regex_cache_max_entries entries keyed by pattern and options,
	// as resty.core keeps it.
	once *onceLRU
	// subOnce is sub and gsub's "o" cache, which resty.core never
	// evicts: it stops taking entries once it holds
	// lua_regex_cache_max_entries.
	subOnce map[subKey]bool
	max     int
	// cachedOnce is set once once took an entry; ngx.re.opt refuses to
	// change the JIT stack size then.
	cachedOnce bool
}

// reKey identifies a compile by what Lua passed.
type reKey struct{ pat, opts string }

// subKey identifies an entry of sub and gsub's "o" cache.
type subKey struct {
	kind           int
	pat, opts, tpl string
}

// byOptsMax bounds byOpts and tpls.
const byOptsMax = 4096

// compiled is a pattern ready to run, with what resty.core keeps beside
// it: the option bits it tests.
type compiled struct {
	re    *regex.Regexp
	flags regex.Flags
	dup   bool
}

// The kinds of compile, which use different "o" caches.
const (
	reMatch = iota
	reSubFunc
	reSubStr
)

func installRe(st *loopState) {
	L := st.vm.L
	limit := st.main.RegexMatchLimit.V
	max := st.main.RegexCacheMaxEntries.V
	size := max
	if size < regex.DefaultCacheEntries {
		size = regex.DefaultCacheEntries
	}
	rs := &reState{
		st:       st,
		compiles: regex.NewCache(size, regex.Options{MatchLimit: limit}),
		matcher:  regex.NewMatcher(),
		byOpts:   map[reKey]*compiled{},
		tpls:     map[string][]tplPart{},
		once:     newOnceLRU(max),
		subOnce:  map[subKey]bool{},
		max:      max,
	}
	st.api["re"] = rs

	re := L.CreateTable(0, 5)
	re.RawSetString("match", L.NewFunction(func(L *glua.LState) int { return rs.match(L, true) }))
	re.RawSetString("find", L.NewFunction(func(L *glua.LState) int { return rs.match(L, false) }))
	re.RawSetString("gmatch", L.NewFunction(rs.gmatch))

	// sub and gsub are Lua so that a replacement function may wait.
	glue, err := st.vm.Load(reGlue, "=ngx.re")
	if err != nil {
		panic("lua: ngx.re glue: " + err.Error())
	}
	rets, lerr := st.vm.Call(glue,
		L.NewFunction(rs.subString),
		L.NewFunction(rs.fnStart),
		L.NewFunction(rs.fnNext),
		L.NewFunction(rs.fnPut),
		L.NewFunction(rs.fnResult))
	if lerr != nil || len(rets) != 2 {
		panic("lua: ngx.re glue did not load")
	}
	re.RawSetString("sub", rets[0])
	re.RawSetString("gsub", rets[1])
	st.ngx.RawSetString("re", re)

	st.vm.Preload("ngx.re", func(L *glua.LState) int {
		m := L.NewTable()
		m.RawSetString("version", glua.LString(restyCoreVersion))
		m.RawSetString("split", L.NewFunction(rs.split))
		m.RawSetString("opt", L.NewFunction(rs.opt))
		L.Push(m)
		return 1
	})
}

// reGlue builds sub and gsub around the Go functions it is given: a string
// replacement is all Go, a function replacement loops here.
const reGlue = `
local sub_str, fn_start, fn_next, fn_put, fn_result = ...
local type, tostring = type, tostring
local function helper(global)
    return function(subj, regex, replace, opts)
        if type(replace) ~= "function" then
            return sub_str(subj, regex, replace, opts, global)
        end
        local st, err = fn_start(subj, regex, opts, global)
        if not st then
            return nil, nil, err
        end
        while true do
            local caps, err = fn_next(st)
            if not caps then
                if caps == false then
                    return nil, nil, err
                end
                break
            end
            fn_put(st, tostring(replace(caps)))
        end
        return fn_result(st)
    end
end
return helper(false), helper(true)
`

// raise raises msg with no position: these are the errors resty.core's
// own Lua code raises, whose position is inside it.
func raise(L *glua.LState, msg string) {
	L.Error(glua.LString(msg), 0)
}

// compile parses opts and compiles regex (and, for reSubStr, the
// template tpl). A bad option raises; a pattern error is returned as
// ngx.re's text. The "o" option is honoured as resty.core does.
func (rs *reState) compile(L *glua.LState, rv, ov glua.LValue, kind int, tpl string) (*compiled, []tplPart, string) {
	var opts string
	switch o := ov.(type) {
	case *glua.LNilType:
	case glua.LString:
		opts = string(o)
	default:
		raise(L, "attempt to get length of local 'opts' (a "+ov.Type().String()+" value)")
	}
	pat, ok := rv.(glua.LString)
	if !ok {
		raise(L, "attempt to get length of local 'regex' (a "+rv.Type().String()+" value)")
	}
	key := reKey{string(pat), opts}
	c := rs.byOpts[key]
	if c == nil {
		flags, err := regex.ParseOptions(opts)
		if err != nil {
			raise(L, err.Error())
		}
		// "o" and "j" do not change the compiled pattern: one entry of
		// compiles serves every spelling.
		re, cerr := rs.compiles.Get(string(pat), flags&^(regex.CompileOnce|regex.JIT))
		if cerr != nil {
			var pe *regex.Error
			if errors.As(cerr, &pe) {
				return nil, nil, pe.LuaText()
			}
			return nil, nil, cerr.Error()
		}
		if len(rs.byOpts) >= byOptsMax {
			clear(rs.byOpts)
		}
		c = &compiled{re: re, flags: flags, dup: flags&regex.DupNames != 0}
		rs.byOpts[key] = c
	}

	// Whether resty.core would compile now or find the pattern in its
	// "o" cache decides what is logged.
	once := c.flags&regex.CompileOnce != 0
	var sk subKey
	if once {
		switch kind {
		case reMatch:
			if rs.max <= 0 {
				once = false
			} else if rs.once.get(key) {
				return c, nil, ""
			}
		default:
			sk = subKey{kind: kind, pat: key.pat, opts: opts}
			if kind == reSubStr {
				sk.tpl = tpl
			}
			if rs.subOnce[sk] {
				parts, _ := rs.template(tpl)
				return c, parts, ""
			}
		}
	}
	if c.flags&regex.JIT != 0 {
		// PCRE's JIT always succeeds for ngx_lua's patterns; its debug
		// log says so for each compile.
		rs.st.logf(errlog.Debug, "pcre JIT compiling result: 1")
	}
	var parts []tplPart
	if kind == reSubStr {
		var ok bool
		if parts, ok = rs.template(tpl); !ok {
			return nil, nil, "failed to compile the replacement template"
		}
	}
	if once {
		if kind == reMatch {
			rs.once.set(key)
			rs.cachedOnce = true
		} else if len(rs.subOnce) < rs.max {
			rs.subOnce[sk] = true
		}
	}
	return c, parts, ""
}

// template returns tpl parsed, from tpls when it was seen before.
func (rs *reState) template(tpl string) ([]tplPart, bool) {
	if parts, ok := rs.tpls[tpl]; ok {
		return parts, true
	}
	parts, ok := rs.compileTemplate(tpl)
	if !ok {
		return nil, false
	}
	if len(rs.tpls) >= byOptsMax {
		clear(rs.tpls)
	}
	rs.tpls[tpl] = parts
	return parts, true
}

// onceLRU is the "o" cache of the match family: which (pattern,
// options) it holds, in LRU order.
type onceLRU struct {
	max     int
	entries map[reKey]*onceEntry
	head    onceEntry // sentinel: head.next is the most recent
}

type onceEntry struct {
	key        reKey
	prev, next *onceEntry
}

func newOnceLRU(max int) *onceLRU {
	l := &onceLRU{max: max, entries: map[reKey]*onceEntry{}}
	l.head.prev, l.head.next = &l.head, &l.head
	return l
}

// get reports whether key is cached, making it the most recent.
func (l *onceLRU) get(key reKey) bool {
	e := l.entries[key]
	if e == nil {
		return false
	}
	e.prev.next, e.next.prev = e.next, e.prev
	l.front(e)
	return true
}

func (l *onceLRU) set(key reKey) {
	if len(l.entries) >= l.max {
		old := l.head.prev
		old.prev.next, old.next.prev = old.next, old.prev
		delete(l.entries, old.key)
	}
	e := &onceEntry{key: key}
	l.entries[key] = e
	l.front(e)
}

func (l *onceLRU) front(e *onceEntry) {
	e.prev, e.next = &l.head, l.head.next
	l.head.next.prev = e
	l.head.next = e
}

// exec runs c on subj from byte offset pos into ovec. It returns the
// count of groups set (1 at least on a match), 0 for no match, or an
// error text.
func (rs *reState) exec(c *compiled, subj string, pos int, ovec []int) (int, string) {
	n, err := c.re.MatchString(rs.matcher, subj, pos, ovec)
	if err != nil {
		var ee *regex.ExecError
		if errors.As(err, &ee) {
			return 0, ee.Error()
		}
		return 0, err.Error()
	}
	if n == 0 {
		return 0, ""
	}
	return n, ""
}

// ovecFor returns the VM's shared ovector sized for c.
func (rs *reState) ovecFor(c *compiled) []int {
	n := c.re.OvectorLen()
	if cap(rs.ovec) < n {
		rs.ovec = make([]int, n)
	}
	return rs.ovec[:n]
}

// captures builds (or fills res with) the match table: [0] the whole
// match, [i] each group or false, and the named groups.
func captures(L *glua.LState, c *compiled, rc int, subj string, ovec []int, res *glua.LTable) *glua.LTable {
	ncap := c.re.NumCaptures()
	if res == nil {
		res = L.CreateTable(ncap, len(c.re.Names()))
	} else {
		luavm.TouchTable(res)
	}
	for i := 0; i <= ncap; i++ {
		if i < rc && ovec[2*i] >= 0 {
			res.RawSetInt(i, glua.LString(subj[ovec[2*i]:ovec[2*i+1]]))
		} else {
			res.RawSetInt(i, glua.LFalse)
		}
	}
	for _, nm := range c.re.Names() {
		v := res.RawGetInt(nm.Group)
		if !c.dup {
			res.RawSetString(nm.Name, v)
			continue
		}
		// with duplicate names, each name lists its matched groups.
		if v == glua.LNil || v == glua.LFalse {
			continue
		}
		if old, ok := res.RawGetString(nm.Name).(*glua.LTable); ok {
			old.RawSetInt(old.Len()+1, v)
		} else {
			t := L.CreateTable(1, 0)
			t.RawSetInt(1, v)
			res.RawSetString(nm.Name, t)
		}
	}
	return res
}

// subject is tostring(subj), as resty.core converts it.
func (rs *reState) subject(L *glua.LState, n int) string {
	v := L.Get(n)
	if s, ok := v.(glua.LString); ok {
		return string(s)
	}
	s, ok := rs.st.vm.ToString(L, v).(glua.LString)
	if !ok {
		raise(L, "'__tostring' must return a string")
	}
	return string(s)
}

// ctxPos reads ctx.pos (1-based) as a 0-based start offset.
func ctxPos(L *glua.LState, ctx *glua.LTable) int {
	switch p := ctx.RawGetString("pos").(type) {
	case *glua.LNilType:
		return 0
	case glua.LBool:
		if !p {
			return 0
		}
		raise(L, "attempt to compare boolean with number")
	case glua.LNumber:
		if p <= 0 {
			return 0
		}
		return int(p) - 1
	default:
		raise(L, "attempt to compare "+p.Type().String()+" with number")
	}
	return 0
}

// optTable reads an optional table argument (ctx, res).
func optTable(L *glua.LState, n int, name string) *glua.LTable {
	switch v := L.Get(n).(type) {
	case *glua.LNilType:
		return nil
	case *glua.LTable:
		return v
	case glua.LBool:
		if !v {
			return nil
		}
	}
	raise(L, "attempt to index local '"+name+"' (a "+L.Get(n).Type().String()+" value)")
	return nil
}

// match is ngx.re.match(subj, regex, opts?, ctx?, res?) and, with caps
// false, ngx.re.find(subj, regex, opts?, ctx?, nth?).
func (rs *reState) match(L *glua.LState, caps bool) int {
	subj := rs.subject(L, 1)
	c, _, cerr := rs.compile(L, L.Get(2), L.Get(3), reMatch, "")
	if c == nil {
		return pushFail(L, caps, cerr)
	}
	ctx := optTable(L, 4, "ctx")
	pos := 0
	if ctx != nil {
		pos = ctxPos(L, ctx)
	}
	ovec := rs.ovecFor(c)
	rc, err := rs.exec(c, subj, pos, ovec)
	if err != "" {
		return pushFail(L, caps, err)
	}
	if rc == 0 {
		L.Push(glua.LNil)
		return 1
	}
	if ctx != nil {
		ctx.RawSetString("pos", glua.LNumber(ovec[1]+1))
	}
	if !caps {
		nth := 0
		switch v := L.Get(5).(type) {
		case glua.LNumber:
			if v >= 0 {
				nth = int(v)
			}
		case *glua.LNilType:
		case glua.LBool:
			if v {
				raise(L, "attempt to compare boolean with number")
			}
		default:
			raise(L, "attempt to compare "+v.Type().String()+" with number")
		}
		if nth > c.re.NumCaptures() {
			return pushFail(L, false, "nth out of bound")
		}
		if nth >= rc || ovec[2*nth] < 0 || ovec[2*nth+1] < 0 {
			L.Push(glua.LNil)
			L.Push(glua.LNil)
			return 2
		}
		L.Push(glua.LNumber(ovec[2*nth] + 1))
		L.Push(glua.LNumber(ovec[2*nth+1]))
		return 2
	}
	res := optTable(L, 5, "res")
	L.Push(captures(L, c, rc, subj, ovec, res))
	return 1
}

// pushFail returns an error as match (nil, err) or find (nil, nil, err)
// do.
func pushFail(L *glua.LState, caps bool, err string) int {
	L.Push(glua.LNil)
	if !caps {
		L.Push(glua.LNil)
		L.Push(glua.LString(err))
		return 3
	}
	L.Push(glua.LString(err))
	return 2
}

// gmatchIter is the state of a gmatch iterator.
type gmatchIter struct {
	c    *compiled
	subj string
	pos  int
	done bool
	ovec []int
}

// gmatch is ngx.re.gmatch(subj, regex, opts?): an iterator object (a
// table with __call, as resty.core makes it).
func (rs *reState) gmatch(L *glua.LState) int {
	subj := rs.subject(L, 1)
	c, _, cerr := rs.compile(L, L.Get(2), L.Get(3), reMatch, "")
	if c == nil {
		L.Push(glua.LNil)
		L.Push(glua.LString(cerr))
		return 2
	}
	it := &gmatchIter{c: c, subj: subj, ovec: make([]int, c.re.OvectorLen())}
	ud := L.NewUserData()
	ud.Value = it
	obj := L.CreateTable(0, 1)
	obj.RawSetString("_compiled", ud)
	mt := L.CreateTable(0, 1)
	mt.RawSetString("__call", L.NewFunction(func(L *glua.LState) int { return rs.iterate(L, it) }))
	L.SetMetatable(obj, mt)
	L.Push(obj)
	return 1
}

func (rs *reState) iterate(L *glua.LState, it *gmatchIter) int {
	if it.done {
		L.Push(glua.LNil)
		return 1
	}
	rc, err := rs.exec(it.c, it.subj, it.pos, it.ovec)
	if err != "" || rc == 0 {
		it.done = true
		L.Push(glua.LNil)
		if err != "" {
			L.Push(glua.LString(err))
			return 2
		}
		return 1
	}
	next := it.ovec[1]
	if next == it.ovec[0] {
		// an empty match: the next search starts one byte further.
		next++
		if next > len(it.subj) {
			it.done = true
		}
	}
	it.pos = next
	L.Push(captures(L, it.c, rc, it.subj, it.ovec, nil))
	return 1
}

// tplPart is a piece of a compiled replacement template: literal text,
// or the group to copy when group >= 0.
type tplPart struct {
	text  string
	group int
}

// compileTemplate compiles a sub/gsub replacement as ngx_lua does: $N
// and ${N} copy group N, $$ is a dollar; anything else after a '$' is an
// error, logged as ngx_lua logs it.
func (rs *reState) compileTemplate(tpl string) ([]tplPart, bool) {
	var parts []tplPart
	for i := 0; i < len(tpl); {
		if tpl[i] != '$' {
			j := i
			for j < len(tpl) && tpl[j] != '$' {
				j++
			}
			parts = append(parts, tplPart{text: tpl[i:j], group: -1})
			i = j
			continue
		}
		i++
		if i == len(tpl) {
			rs.st.logf(errlog.Error, "lua script: invalid capturing variable name found in \"%s\"", tpl)
			return nil, false
		}
		if tpl[i] == '$' {
			parts = append(parts, tplPart{text: "$", group: -1})
			i++
			continue
		}
		bracket := false
		if tpl[i] == '{' {
			bracket = true
			i++
			if i == len(tpl) {
				rs.st.logf(errlog.Error, "lua script: invalid capturing variable name found in \"%s\"", tpl)
				return nil, false
			}
		}
		numeric := tpl[i] >= '0' && tpl[i] <= '9'
		start, end := i, i
		n := 0
		for ; i < len(tpl); i, end = i+1, end+1 {
			ch := tpl[i]
			if ch == '}' && bracket {
				bracket = false
				i++
				break
			}
			if numeric {
				if ch >= '0' && ch <= '9' {
					n = n*10 + int(ch-'0')
					continue
				}
				break
			}
			if ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '_' {
				continue
			}
			break
		}
		name := tpl[start:end]
		if bracket {
			rs.st.logf(errlog.Error, "the closing bracket in \"%s\" variable is missing", name)
			return nil, false
		}
		if name == "" {
			rs.st.logf(errlog.Error, "lua script: invalid capturing variable name found in \"%s\"", tpl)
			return nil, false
		}
		if !numeric {
			rs.st.logf(errlog.Error, "attempt to use named capturing variable \"%s\" (named captures not supported yet)", name)
			return nil, false
		}
		parts = append(parts, tplPart{group: n})
	}
	return parts, true
}

// appendTemplate appends the template's value for a match with rc
// groups set.
func appendTemplate(b []byte, parts []tplPart, subj string, rc int, ovec []int) []byte {
	for _, p := range parts {
		if p.group < 0 {
			b = append(b, p.text...)
			continue
		}
		if p.group < rc && ovec[2*p.group] >= 0 {
			b = append(b, subj[ovec[2*p.group]:ovec[2*p.group+1]]...)
		}
	}
	return b
}

// subString is sub/gsub with a string (or tostring'ed) replacement:
// (subj, regex, replace, opts, global) → result, count | nil, nil, err.
func (rs *reState) subString(L *glua.LState) int {
	rv := L.Get(3)
	var tpl string
	if s, ok := rv.(glua.LString); ok {
		tpl = string(s)
	} else {
		s, ok := rs.st.vm.ToString(L, rv).(glua.LString)
		if !ok {
			raise(L, "'__tostring' must return a string")
		}
		tpl = string(s)
	}
	c, tplParts, cerr := rs.compile(L, L.Get(2), L.Get(4), reSubStr, tpl)
	if c == nil {
		return pushFail(L, false, cerr)
	}
	subj := rs.subject(L, 1)
	global := L.ToBool(5)
	ovec := rs.ovecFor(c)
	var out []byte
	count, pos, cp := 0, 0, 0
	for {
		rc, err := rs.exec(c, subj, pos, ovec)
		if err != "" {
			return pushFail(L, false, err)
		}
		if rc == 0 {
			break
		}
		count++
		out = append(out, subj[cp:ovec[0]]...)
		out = appendTemplate(out, tplParts, subj, rc, ovec)
		cp = ovec[1]
		pos = cp
		if pos == ovec[0] {
			pos++
			if pos > len(subj) {
				break
			}
		}
		if !global {
			break
		}
	}
	if count == 0 {
		L.Push(glua.LString(subj))
		L.Push(glua.LNumber(0))
		return 2
	}
	out = append(out, subj[cp:]...)
	L.Push(glua.LString(out))
	L.Push(glua.LNumber(count))
	return 2
}

// fnSub is the state of sub/gsub with a function replacement between the
// Go steps the Lua loop calls.
type fnSub struct {
	c       *compiled
	subj    string
	global  bool
	pos, cp int
	count   int
	done    bool
	out     []byte
	ovec    []int
}

// fnStart compiles for a function replacement: (subj, regex, opts,
// global) → state | nil, err.
func (rs *reState) fnStart(L *glua.LState) int {
	c, _, cerr := rs.compile(L, L.Get(2), L.Get(3), reSubFunc, "")
	if c == nil {
		L.Push(glua.LNil)
		L.Push(glua.LString(cerr))
		return 2
	}
	s := &fnSub{c: c, subj: rs.subject(L, 1), global: L.ToBool(4), ovec: make([]int, c.re.OvectorLen())}
	ud := L.NewUserData()
	ud.Value = s
	L.Push(ud)
	return 1
}

func fnState(L *glua.LState) *fnSub {
	ud, ok := L.Get(1).(*glua.LUserData)
	if ok {
		if s, ok := ud.Value.(*fnSub); ok {
			return s
		}
	}
	raise(L, "bad ngx.re state")
	return nil
}

// fnNext finds the next match: its captures table, nil when there is
// none, or false and the error.
func (rs *reState) fnNext(L *glua.LState) int {
	s := fnState(L)
	if s.done {
		L.Push(glua.LNil)
		return 1
	}
	rc, err := rs.exec(s.c, s.subj, s.pos, s.ovec)
	if err != "" {
		s.done = true
		L.Push(glua.LFalse)
		L.Push(glua.LString(err))
		return 2
	}
	if rc == 0 {
		s.done = true
		L.Push(glua.LNil)
		return 1
	}
	s.count++
	s.out = append(s.out, s.subj[s.cp:s.ovec[0]]...)
	L.Push(captures(L, s.c, rc, s.subj, s.ovec, nil))
	return 1
}

// fnPut appends the replacement of the last match and moves on.
func (rs *reState) fnPut(L *glua.LState) int {
	s := fnState(L)
	piece, _ := L.Get(2).(glua.LString)
	s.out = append(s.out, piece...)
	s.cp = s.ovec[1]
	s.pos = s.cp
	if s.pos == s.ovec[0] {
		s.pos++
		if s.pos > len(s.subj) {
			s.done = true
		}
	}
	if !s.global {
		s.done = true
	}
	return 0
}

// fnResult returns the result and the count.
func (rs *reState) fnResult(L *glua.LState) int {
	s := fnState(L)
	if s.count == 0 {
		L.Push(glua.LString(s.subj))
		L.Push(glua.LNumber(0))
		return 2
	}
	s.out = append(s.out, s.subj[s.cp:]...)
	L.Push(glua.LString(s.out))
	L.Push(glua.LNumber(s.count))
	return 2
}

// split is ngx.re.split(subj, regex, opts?, ctx?, max?, res?) of the
// ngx.re module.
func (rs *reState) split(L *glua.LState) int {
	subj := rs.subject(L, 1)
	ctx := optTable(L, 4, "ctx")
	if ctx == nil {
		ctx = L.CreateTable(0, 1)
		ctx.RawSetString("pos", glua.LNumber(1))
	} else if ctx.RawGetString("pos") == glua.LNil {
		ctx.RawSetString("pos", glua.LNumber(1))
	}
	max := 0
	switch v := L.Get(5).(type) {
	case glua.LNumber:
		max = int(v)
	case *glua.LNilType:
	case glua.LBool:
		if v {
			raise(L, "attempt to compare number with boolean")
		}
	default:
		raise(L, "attempt to compare number with "+v.Type().String())
	}
	var res *glua.LTable
	switch v := L.Get(6).(type) {
	case *glua.LNilType:
		n := 4
		if max > 0 && max < n {
			n = max
		}
		res = L.CreateTable(n, 0)
	case *glua.LTable:
		res = v
	default:
		if v == glua.LFalse {
			res = L.CreateTable(4, 0)
			break
		}
		luavm.Raise(L, "res is not a table")
	}
	start, ok := ctx.RawGetString("pos").(glua.LNumber)
	if !ok {
		raise(L, "attempt to compare number with "+ctx.RawGetString("pos").Type().String())
	}
	slen := len(subj)
	if float64(start) > float64(slen) {
		res.RawSetInt(1, glua.LNil)
		L.Push(res)
		return 1
	}
	c, _, cerr := rs.compile(L, L.Get(2), L.Get(3), reMatch, "")
	if c == nil {
		L.Push(glua.LNil)
		L.Push(glua.LString(cerr))
		return 2
	}
	// Positions below are 1-based as in the Lua original; ctxPos is the
	// 0-based offset the next search starts at, kept in ctx.pos.
	subIdx := int(start)
	pos := subIdx - 1
	ovec := rs.ovecFor(c)
	idx := 0
	lastEmpty := 0
	hasLastEmpty := false
	count := 1
	sub := func(from, to int) glua.LString { return luaSub(subj, from, to) }
	for max <= 0 || count < max {
		p := pos
		if p < 0 {
			p = 0
		}
		rc, err := rs.exec(c, subj, p, ovec)
		if err != "" {
			ctx.RawSetString("pos", glua.LNumber(pos))
			L.Push(glua.LNil)
			L.Push(glua.LString(err))
			return 2
		}
		if rc == 0 || ovec[0] < 0 || ovec[1] < 0 {
			break
		}
		from, to := ovec[0]+1, ovec[1]+1
		if ovec[0] == ovec[1] {
			pos = ovec[1] + 1
		} else {
			pos = ovec[1]
		}
		var capture glua.LValue = glua.LNil
		if c.re.NumCaptures() > 0 && rc > 1 {
			// an unset first group reads string.sub(subj, 0, -1): all
			// of it, as the original does.
			capture = luaSub(subj, ovec[2]+1, ovec[3])
		}
		if hasLastEmpty {
			subIdx = lastEmpty
		}
		if from == to {
			lastEmpty = from
			hasLastEmpty = true
		}
		if from > subIdx || !hasLastEmpty {
			count++
			idx++
			res.RawSetInt(idx, sub(subIdx, from-1))
			if capture != glua.LNil {
				idx++
				res.RawSetInt(idx, capture)
			}
			subIdx = to
			if subIdx > slen {
				break
			}
		}
	}
	ctx.RawSetString("pos", glua.LNumber(pos))
	if max <= 0 && subIdx > slen {
		// trailing empty fields go (without a limit); when all are
		// empty the index stays where it was, as in the original.
		for i := idx; i >= 1; i-- {
			if v, ok := res.RawGetInt(i).(glua.LString); !ok || v != "" {
				idx = i
				break
			}
			res.RawSetInt(i, glua.LNil)
		}
	} else {
		idx++
		res.RawSetInt(idx, sub(subIdx, slen))
	}
	res.RawSetInt(idx+1, glua.LNil)
	L.Push(res)
	return 1
}

// opt is ngx.re.opt(option, value): only "jit_stack_size" exists; PCRE's
// JIT stack has no counterpart here, so a size is accepted (ngx_lua
// raises small ones to its minimum) and changes nothing.
func (rs *reState) opt(L *glua.LState) int {
	name, _ := L.Get(1).(glua.LString)
	if name != "jit_stack_size" {
		luavm.Raise(L, "unrecognized option name")
	}
	if rs.cachedOnce {
		luavm.Raise(L, "changing jit stack size is not allowed when some regexs have already been compiled and cached")
	}
	if _, ok := L.Get(2).(glua.LNumber); !ok {
		raise(L, "bad argument #1 to 'ngx_http_lua_ffi_set_jit_stack_size' (cannot convert '"+L.Get(2).Type().String()+"' to 'int')")
	}
	return 0
}

// luaSub is string.sub(s, i, j): 1-based inclusive bounds, negative ones
// counted from the end.
func luaSub(s string, i, j int) glua.LString {
	n := len(s)
	if i < 0 {
		i += n + 1
	}
	if j < 0 {
		j += n + 1
	}
	if i < 1 {
		i = 1
	}
	if j > n {
		j = n
	}
	if i > j {
		return ""
	}
	return glua.LString(s[i-1 : j])
}
