package lua

import (
	"encoding/binary"
	"math"
	"sync"
	"time"

	glua "github.com/yuin/gopher-lua"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/luavm"
)

// lua_capture_error_log and require "ngx.errlog" (lua-resty-core 0.1.25's
// ngx/errlog.lua over ngx_http_lua_log.c and ngx_http_lua_log_ringbuf.c).
//
// Capturing needs a patch of OpenResty's nginx that Debian's build lacks
// (there the directive is refused); gresty behaves as OpenResty does:
// every line the error logs write, at the levels they let through, is
// also kept in a ring buffer of the directive's size, from which
// ngx.errlog.get_logs reads (and removes) the oldest. One buffer serves
// every loop, where each nginx worker process has its own.

// minCaptureSize is OpenResty's NGX_MAX_ERROR_STR, the smallest buffer.
const minCaptureSize = 4096

// ringHeader is the size of an entry's header in the buffer: the time
// (a double), the length and the level, as ngx_lua lays them out.
const ringHeader = 16

// logRing is ngx_http_lua_log_ringbuf_t: entries are written at tail and
// read at head; sentinel marks where the data before a wrap ends.
type logRing struct {
	mu                          sync.Mutex
	data                        []byte
	head, tail, sentinel, count int
	filterLevel                 errlog.Level
	now                         func() time.Time
}

func newLogRing(size int) *logRing {
	rb := &logRing{data: make([]byte, size), filterLevel: errlog.Debug, now: time.Now}
	rb.reset()
	return rb
}

func (rb *logRing) reset() {
	rb.head, rb.tail, rb.sentinel, rb.count = 0, 0, len(rb.data), 0
}

// nextHeader skips the space at the end too small for a header, and the
// end of the data before a wrap.
func (rb *logRing) nextHeader() int {
	if len(rb.data)-rb.head < ringHeader || rb.head >= rb.sentinel {
		return 0
	}
	return rb.head
}

func (rb *logRing) entryLen(at int) int {
	return int(binary.LittleEndian.Uint32(rb.data[at+8:]))
}

func (rb *logRing) throwAway() {
	if rb.count == 0 {
		return
	}
	rb.head += ringHeader + rb.entryLen(rb.head)
	rb.count--
	if rb.count == 0 {
		rb.reset()
	}
	rb.head = rb.nextHeader()
}

func (rb *logRing) free() int {
	switch {
	case rb.count == 0:
		return len(rb.data)
	case rb.tail > rb.head:
		return len(rb.data) - rb.tail
	}
	return rb.head - rb.tail
}

// write keeps one line, throwing the oldest away while there is no room
// (ngx_http_lua_log_ringbuf_write). It is the cycle's log hook.
func (rb *logRing) write(level errlog.Level, line []byte) {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	if level > rb.filterLevel {
		return
	}
	n := len(line)
	if n+ringHeader > len(rb.data) {
		return
	}
	if rb.free() < n+ringHeader {
		if len(rb.data)-rb.tail < n+ringHeader {
			// no room before the end: what lies from head to the end
			// goes, and writing goes on at the start.
			for rb.head >= rb.tail && rb.count > 0 {
				rb.throwAway()
			}
			rb.sentinel = rb.tail
			rb.tail = 0
		}
		for rb.free() < n+ringHeader {
			rb.throwAway()
		}
	}
	t := rb.now()
	sec := float64(t.Unix()) + float64(t.Nanosecond()/int(time.Millisecond))/1000
	binary.LittleEndian.PutUint64(rb.data[rb.tail:], math.Float64bits(sec))
	binary.LittleEndian.PutUint32(rb.data[rb.tail+8:], uint32(n))
	binary.LittleEndian.PutUint32(rb.data[rb.tail+12:], uint32(level))
	rb.tail += ringHeader
	copy(rb.data[rb.tail:], line)
	rb.tail += n
	rb.count++
	if rb.tail > rb.sentinel {
		rb.sentinel = rb.tail
	}
}

// read takes the oldest entry out (ngx_http_lua_log_ringbuf_read).
func (rb *logRing) read() (level errlog.Level, at float64, msg string, ok bool) {
	if rb.count == 0 || rb.head >= rb.sentinel {
		return 0, 0, "", false
	}
	h := rb.head
	at = math.Float64frombits(binary.LittleEndian.Uint64(rb.data[h:]))
	n := rb.entryLen(h)
	level = errlog.Level(binary.LittleEndian.Uint32(rb.data[h+12:]))
	msg = string(rb.data[h+ringHeader : h+ringHeader+n])
	rb.head = h + ringHeader + n
	rb.count--
	if rb.count == 0 {
		rb.reset()
	}
	rb.head = rb.nextHeader()
	return level, at, msg, true
}

// setCaptureErrorLog is the lua_capture_error_log directive.
func setCaptureErrorLog(p *core.Parser, d *conf.Directive, c any) error {
	m := c.(*MainConf)
	if m.capture != nil {
		return p.Invalid(d, "is duplicate")
	}
	v := d.Args[0]
	if v == "" {
		return p.Errorf(d, "invalid capture error log size \"%s\"", v)
	}
	size, ok := core.ParseSize(v)
	if !ok || size < minCaptureSize {
		return p.Errorf(d, "invalid capture error log size \"%s\", minimum size is %d", v, minCaptureSize)
	}
	m.capture = newLogRing(int(size))
	p.Cycle.LogHook.Set(m.capture.write)
	return nil
}

func init() { registerAPI(installErrlog) }

func installErrlog(st *loopState) {
	st.vm.Preload("ngx.errlog", func(L *glua.LState) int {
		m := L.NewTable()
		m.RawSetString("version", glua.LString(restyCoreVersion))
		notSet := `directive "lua_capture_error_log" is not set`
		m.RawSetString("set_filter_level", L.NewFunction(func(L *glua.LState) int {
			v := L.Get(1)
			if v == glua.LNil || v == glua.LFalse {
				return pushErr(L, `missing "level" argument`)
			}
			level := checkInteger(L, 1)
			rb := st.main.capture
			if rb == nil {
				return pushErr(L, notSet)
			}
			if level > int(errlog.Debug) || level < int(errlog.Stderr) {
				return pushErr(L, "bad log level: "+itoa(level))
			}
			rb.mu.Lock()
			rb.filterLevel = errlog.Level(level)
			rb.mu.Unlock()
			L.Push(glua.LTrue)
			return 1
		}))
		m.RawSetString("get_logs", L.NewFunction(func(L *glua.LState) int {
			max := 10
			if v := L.Get(1); v != glua.LNil {
				max = checkInteger(L, 1)
			}
			rb := st.main.capture
			if rb == nil {
				return pushErr(L, notSet)
			}
			logs, ok := L.Get(2).(*glua.LTable)
			if !ok {
				logs = L.CreateTable(max*3+1, 0)
			}
			count := 0
			rb.mu.Lock()
			for i := 1; i <= max; i++ {
				level, at, msg, ok := rb.read()
				if !ok {
					logs.RawSetInt(count+1, glua.LNil)
					break
				}
				logs.RawSetInt(count+1, glua.LNumber(level))
				logs.RawSetInt(count+2, glua.LNumber(at))
				logs.RawSetInt(count+3, glua.LString(msg))
				count += 3
				if i == max {
					logs.RawSetInt(count+1, glua.LNil)
				}
			}
			rb.mu.Unlock()
			L.Push(logs)
			return 1
		}))
		m.RawSetString("get_sys_filter_level", L.NewFunction(func(L *glua.LState) int {
			log := st.cycle.Log
			if c := st.cur(); c != nil && c.r != nil {
				log = c.r.Log()
			}
			L.Push(glua.LNumber(log.MaxLevel()))
			return 1
		}))
		m.RawSetString("raw_log", L.NewFunction(func(L *glua.LState) int {
			lv, ok := L.Get(1).(glua.LNumber)
			if !ok {
				luavm.Raise(L, "bad argument #1 to 'raw_log' (must be a number)")
			}
			msg, ok := L.Get(2).(glua.LString)
			if !ok {
				luavm.Raise(L, "bad argument #2 to 'raw_log' (must be a string)")
			}
			level := int(lv)
			if level > int(errlog.Debug) || level < int(errlog.Stderr) {
				luavm.Raise(L, "bad log level")
			}
			if c := st.cur(); c != nil && c.r != nil {
				c.r.Logf(errlog.Level(level), "%s", string(msg))
				return 0
			}
			st.logf(errlog.Level(level), "%s", string(msg))
			return 0
		}))
		L.Push(m)
		return 1
	})
}
