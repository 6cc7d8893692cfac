package lua

import (
	glua "github.com/yuin/gopher-lua"

	"gresty/errlog"
	"gresty/luavm"
)

// sock:receiveuntil(pattern, opts?) returns an iterator that reads up to
// the next occurrence of pattern. The matcher is ngx_lua's: a state per
// matched prefix length, plus "recovery" edges computed from the first
// self-overlap of the pattern at each offset. Where a mismatch finds no
// edge, the bytes of the matched prefix are given out as data and
// matching starts over at the mismatching byte. That is not a complete
// KMP automaton, and patterns with several overlaps can miss matches;
// ngx_lua's tests pin that behaviour, so it is kept.

// untilPattern is a compiled pattern and its matching state.
type untilPattern struct {
	pat       string
	inclusive bool
	// state is the length of the prefix matched so far; -1 after a
	// size-limited read found the pattern (the next call returns nil).
	state int
	// recover[s-2] maps the next byte to the state to continue in when
	// it does not extend a match of length s.
	recover [][]untilEdge
}

type untilEdge struct {
	ch    byte
	state int
}

// compileUntil computes the recovery edges
// (ngx_http_lua_socket_compile_pattern).
func compileUntil(pat string, inclusive bool) *untilPattern {
	cp := &untilPattern{pat: pat, inclusive: inclusive}
	n := len(pat)
	if n <= 2 {
		return cp
	}
	for i := 1; i < n; i++ {
		plen := 1
		for plen <= n-i-1 {
			if pat[:plen] != pat[i:i+plen] {
				break
			}
			if pat[plen] == pat[i+plen] {
				plen++
				continue
			}
			cur, next := i+plen, plen+1
			if cp.recover == nil {
				cp.recover = make([][]untilEdge, n-2)
			}
			edges := cp.recover[cur-2]
			found := false
			for k := range edges {
				if edges[k].ch == pat[plen] {
					found = true
					if edges[k].state < next {
						edges[k].state = next
					}
					break
				}
			}
			if !found {
				cp.recover[cur-2] = append(edges, untilEdge{ch: pat[plen], state: next})
			}
			break
		}
	}
	return cp
}

// scan matches avail against the pattern for u's read in progress,
// gathering the data before the pattern (ngx_http_lua_socket_read_until).
// It returns how many bytes it consumed and the filter result.
func (cp *untilPattern) scan(u *tcpSock, avail []byte) (int, int) {
	op := &u.op
	pat := cp.pat
	state := cp.state
	i := 0
	for i < len(avail) {
		ch := avail[i]
		if ch == pat[state] {
			i++
			state++
			if state == len(pat) {
				if op.length > 0 {
					cp.state = -1
				} else {
					cp.state = 0
				}
				if cp.inclusive {
					op.out = append(op.out, pat...)
				}
				return i, opOK
			}
			continue
		}
		if state == 0 {
			op.out = append(op.out, ch)
			i++
			if op.length > 0 {
				op.rest--
				if op.rest == 0 {
					cp.state = 0
					return i, opOK
				}
			}
			continue
		}
		next := -1
		if cp.recover != nil && state >= 2 {
			for _, e := range cp.recover[state-2] {
				if e.ch == ch {
					next = e.state
					break
				}
			}
		}
		if next < 0 {
			op.out = append(op.out, pat[:state]...)
			if op.length > 0 {
				if op.rest <= state {
					op.rest = 0
					cp.state = 0
					return i, opOK
				}
				op.rest -= state
			}
			state = 0
			continue
		}
		pending := state + 1 - next
		op.out = append(op.out, pat[:pending]...)
		state = next
		i++
		if op.length > 0 {
			if op.rest <= pending {
				op.rest = 0
				cp.state = state
				return i, opOK
			}
			op.rest -= pending
		}
	}
	cp.state = state
	return i, opAgain
}

// tcpReceiveUntil is sock:receiveuntil(pattern, opts?).
func (ss *sockState) tcpReceiveUntil(L *glua.LState) int {
	n := L.GetTop()
	if n != 2 && n != 3 {
		luavm.Raise(L, "expecting 2 or 3 arguments (including the object), but got %d", n)
	}
	inclusive := false
	if n == 3 {
		opts, ok := L.Get(3).(*glua.LTable)
		if !ok {
			luavm.TypeError(L, 3, "table")
		}
		switch v := opts.RawGetString("inclusive").(type) {
		case *glua.LNilType:
		case glua.LBool:
			inclusive = bool(v)
		default:
			luavm.Raise(L, "bad \"inclusive\" option value type: %s", v.Type().String())
		}
	}
	c := ss.cur(L)
	if c.debugOn() {
		c.logf(errlog.Debug, "lua tcp socket calling receiveuntil() method")
	}
	t := checkSockTable(L)
	pat := checkLuaString(L, 2)
	if pat == "" {
		return pushErr(L, "pattern is empty")
	}
	cp := compileUntil(pat, inclusive)
	it := ss.st.vm.YieldingFunction(func(L *glua.LState) int { return ss.untilIterator(L, t, cp) })
	L.Push(it)
	return 1
}

// untilIterator is the iterator receiveuntil returns: it([size]).
func (ss *sockState) untilIterator(L *glua.LState, t *glua.LTable, cp *untilPattern) int {
	n := L.GetTop()
	if n > 1 {
		luavm.Raise(L, "expecting 0 or 1 arguments, but seen %d", n)
	}
	size := 0
	if n >= 1 {
		size = L.CheckInt(1)
		if size < 0 {
			size = 0
		}
	}
	u := sockOf(t)
	if u == nil || u.conn == nil && u.kind == kindUpstream || u.readClosed {
		return pushErr(L, "closed")
	}
	c := ss.cur(L)
	if u.c != c {
		luavm.Raise(L, "bad request")
	}
	if u.busy(L, true, true, false) {
		return 2
	}
	if c.debugOn() {
		c.logf(errlog.Debug, "lua tcp socket receiveuntil iterator")
		c.logf(errlog.Debug, "lua tcp socket read timeout: %d", u.readTimeout.Milliseconds())
	}
	if cp.state == -1 {
		cp.state = 0
		L.Push(glua.LNil)
		L.Push(glua.LNil)
		L.Push(glua.LNil)
		return 3
	}
	return u.startRead(L, readOp{mode: modeUntil, length: size, rest: size, pat: cp, out: u.op.out[:0]})
}
