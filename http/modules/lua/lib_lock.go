package lua

import (
	"math"
	"runtime"
	"sync"
	"time"

	glua "github.com/yuin/gopher-lua"

	"gresty/errlog"
	"gresty/http/modules/lua/shdict"
	"gresty/luavm"
)

// This file is resty.lock (lua-resty-lock 0.09) in Go: a lock is a key
// added to a shared dict, so it excludes holders on every loop. Waiting
// for a lock held elsewhere sleeps on the loop's timers with the
// original's back-off (step, ratio, max_step) and never blocks the loop.
// A lock object that is garbage collected while it holds its key deletes
// the key, as the original's __gc does.

func init() { registerAPI(installLock) }

// restyLockVersion is the _VERSION the lua-resty-lock 0.09 release
// reports (its file was bumped only after the release).
const restyLockVersion = "0.08"

// lockCell is what a lock object holds; a cleanup that runs after the
// object is collected reads it from another goroutine, hence the mutex.
type lockCell struct {
	mu   sync.Mutex
	zone *shdict.Zone
	key  string
	held bool
}

func (c *lockCell) set(key string, held bool) {
	c.mu.Lock()
	c.key, c.held = key, held
	c.mu.Unlock()
}

func (c *lockCell) state() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.key, c.held
}

// lockHandle is the userdata's value: its collection releases the lock.
type lockHandle struct{ cell *lockCell }

func lockReleaseCollected(c *lockCell) {
	if key, held := c.state(); held && c.zone != nil {
		c.zone.Store(shdict.OpSet, key, shdict.Value{}, 0, 0, uint64(time.Now().UnixMilli()))
	}
}

func installLock(st *loopState) {
	st.vm.Preload("resty.lock", func(L *glua.LState) int {
		m := L.CreateTable(0, 6)
		m.RawSetString("_VERSION", glua.LString(restyLockVersion))
		mt := L.CreateTable(0, 1)
		mt.RawSetString("__index", m)
		m.RawSetString("new", L.NewFunction(func(L *glua.LState) int { return st.lockNew(L, mt) }))
		st.vm.RegisterYielding(m, "lock", st.lockLock)
		m.RawSetString("unlock", L.NewFunction(st.lockUnlock))
		m.RawSetString("expire", L.NewFunction(st.lockExpire))
		L.Push(m)
		return 1
	})
}

// lockNumber reads a number the lock's arithmetic uses.
func lockNumber(L *glua.LState, v glua.LValue, what string) float64 {
	f, ok := shdToNumber(v)
	if !ok {
		luavm.Raise(L, "attempt to perform arithmetic on field '%s' (a %s value)", what, v.Type().String())
	}
	return f
}

// lockNew is new(_, dict_name, opts).
func (st *loopState) lockNew(L *glua.LState, mt *glua.LTable) int {
	var dict glua.LValue = glua.LNil
	if shared, ok := st.ngx.RawGetString("shared").(*glua.LTable); ok && L.Get(2) != glua.LNil {
		dict = shared.RawGet(L.Get(2))
	}
	if dict == glua.LNil {
		L.Push(glua.LNil)
		L.Push(glua.LString("dictionary not found"))
		return 2
	}
	var timeout, exptime, step, ratio, maxStep glua.LValue = glua.LNil, glua.LNil, glua.LNil, glua.LNil, glua.LNil
	if opts := L.Get(3); glua.LVAsBool(opts) {
		if _, ok := opts.(*glua.LTable); !ok {
			luavm.Raise(L, "attempt to index local 'opts' (a %s value)", opts.Type().String())
		}
		timeout = L.GetField(opts, "timeout")
		exptime = L.GetField(opts, "exptime")
		step = L.GetField(opts, "step")
		ratio = L.GetField(opts, "ratio")
		maxStep = L.GetField(opts, "max_step")
	}
	if !glua.LVAsBool(exptime) {
		exptime = glua.LNumber(30)
	}
	if glua.LVAsBool(timeout) {
		timeout = glua.LNumber(math.Min(lockNumber(L, timeout, "timeout"), lockNumber(L, exptime, "exptime")))
		if glua.LVAsBool(step) {
			step = glua.LNumber(math.Min(lockNumber(L, step, "step"), float64(timeout.(glua.LNumber))))
		}
	}
	or := func(v glua.LValue, def float64) glua.LValue {
		if glua.LVAsBool(v) {
			return v
		}
		return glua.LNumber(def)
	}
	cell := &lockCell{}
	if t, ok := dict.(*glua.LTable); ok {
		if ud, ok := t.RawGetInt(1).(*glua.LUserData); ok {
			cell.zone, _ = ud.Value.(*shdict.Zone)
		}
	}
	h := &lockHandle{cell: cell}
	runtime.AddCleanup(h, lockReleaseCollected, cell)
	ud := L.NewUserData()
	ud.Value = h
	self := L.CreateTable(0, 8)
	self.RawSetString("cdata", ud)
	self.RawSetString("dict", dict)
	self.RawSetString("timeout", or(timeout, 5))
	self.RawSetString("exptime", exptime)
	self.RawSetString("step", or(step, 0.001))
	self.RawSetString("ratio", or(ratio, 2))
	self.RawSetString("max_step", or(maxStep, 0.5))
	L.SetMetatable(self, mt)
	L.Push(self)
	return 1
}

// lockSelf returns the lock object's table and state.
func lockSelf(L *glua.LState) (*glua.LTable, *lockCell) {
	self, ok := L.Get(1).(*glua.LTable)
	if !ok {
		luavm.Raise(L, "attempt to index local 'self' (a %s value)", L.Get(1).Type().String())
	}
	if ud, ok := self.RawGetString("cdata").(*glua.LUserData); ok {
		if h, ok := ud.Value.(*lockHandle); ok {
			return self, h.cell
		}
	}
	luavm.Raise(L, "attempt to index local 'cdata' (a nil value)")
	return nil, nil
}

// lockAdd is dict:add(key, true, exptime) with its results.
func (st *loopState) lockAdd(L *glua.LState, z *shdict.Zone, key string, exptime float64) error {
	if exptime < 0 {
		luavm.Raise(L, `bad "exptime" argument`)
	}
	_, err := z.Store(shdict.OpAdd, key, shdict.Value{Type: shdict.Boolean, Num: 1}, shdict.ToLong(exptime*1000), 0, st.shdNow())
	return err
}

// lockLock is lock(self, key): 0 when the lock was free, the seconds
// waited when it was taken after a wait, or nil and an error.
func (st *loopState) lockLock(L *glua.LState) int {
	self, cell := lockSelf(L)
	keyArg := L.Get(2)
	if !glua.LVAsBool(keyArg) {
		return shdFail(L, "nil key")
	}
	if _, held := cell.state(); held {
		return shdFail(L, "locked")
	}
	z := shdZoneOf(L, self.RawGetString("dict"))
	exptime := lockNumber(L, L.GetField(self, "exptime"), "exptime")
	key, msg := st.shdKey(L, 2)
	if msg != "" {
		return shdFail(L, msg)
	}
	err := st.lockAdd(L, z, key, exptime)
	if err == nil {
		cell.set(key, true)
		self.RawSetString("key", keyArg)
		L.Push(glua.LNumber(0))
		return 1
	}
	if err != shdict.ErrExists {
		return shdFail(L, err.Error())
	}
	step := lockNumber(L, L.GetField(self, "step"), "step")
	ratio := lockNumber(L, L.GetField(self, "ratio"), "ratio")
	timeout := lockNumber(L, L.GetField(self, "timeout"), "timeout")
	maxStep := lockNumber(L, L.GetField(self, "max_step"), "max_step")
	if !(timeout > 0) {
		return shdFail(L, "timeout")
	}
	// the wait is ngx.sleep's: same phases, same timer.
	c := st.request(L, sleepPhases)
	st.vm.CheckYieldable(L)
	th := st.vm.Current()
	elapsed := 0.0
	var timer interface {
		Reset(time.Duration) bool
		Stop() bool
	}
	sleepFor := func(secs float64) time.Duration {
		// ngx.sleep counts whole milliseconds.
		return time.Duration(int64(secs*1000)) * time.Millisecond
	}
	timer = st.ls.Loop().AfterFunc(sleepFor(step), func() {
		if !th.Alive() {
			// the thread was killed while it waited: it must not take
			// the lock any more.
			return
		}
		if c.r != nil {
			c.r.Logf(errlog.Debug, "lua sleep timer expired: \"%s?%s\"", c.r.URI, c.r.Args)
		}
		elapsed += step
		timeout -= step
		switch err := st.lockAdd(L, z, key, exptime); {
		case err == nil:
			cell.set(key, true)
			self.RawSetString("key", keyArg)
			c.resume(th, glua.LNumber(elapsed))
			return
		case err != shdict.ErrExists:
			c.resume(th, glua.LNil, glua.LString(err.Error()))
			return
		case timeout <= 0:
			c.resume(th, glua.LNil, glua.LString("timeout"))
			return
		}
		step = math.Min(math.Min(math.Max(0.001, step*ratio), timeout), maxStep)
		timer.Reset(sleepFor(step))
	})
	c.onCleanup(func() { timer.Stop() })
	return st.vm.Suspend(L)
}

// lockUnlock is unlock(self): 1, or nil and "unlocked".
func (st *loopState) lockUnlock(L *glua.LState) int {
	self, cell := lockSelf(L)
	key, held := cell.state()
	if !held {
		return shdFail(L, "unlocked")
	}
	z := shdZoneOf(L, self.RawGetString("dict"))
	cell.set("", false)
	z.Store(shdict.OpSet, key, shdict.Value{}, 0, 0, st.shdNow())
	L.Push(glua.LNumber(1))
	return 1
}

// lockExpire is expire(self, timeout): the held key gets a new expiry
// (the lock's exptime when timeout is nil).
func (st *loopState) lockExpire(L *glua.LState) int {
	self, cell := lockSelf(L)
	key, held := cell.state()
	if !held {
		return shdFail(L, "unlocked")
	}
	t := L.Get(2)
	if !glua.LVAsBool(t) {
		t = L.GetField(self, "exptime")
	}
	secs := lockNumber(L, t, "exptime")
	if secs < 0 {
		luavm.Raise(L, `bad "exptime" argument`)
	}
	z := shdZoneOf(L, self.RawGetString("dict"))
	if _, err := z.Store(shdict.OpReplace, key, shdict.Value{Type: shdict.Boolean, Num: 1}, shdict.ToLong(secs*1000), 0, st.shdNow()); err != nil {
		return shdFail(L, err.Error())
	}
	L.Push(glua.LTrue)
	return 1
}

// shdZoneOf returns the zone of a dict table held by a library object.
func shdZoneOf(L *glua.LState, v glua.LValue) *shdict.Zone {
	if t, ok := v.(*glua.LTable); ok {
		if ud, ok := t.RawGetInt(1).(*glua.LUserData); ok {
			if z, ok := ud.Value.(*shdict.Zone); ok {
				return z
			}
		}
	}
	luavm.Raise(L, `bad "zone" argument`)
	return nil
}
