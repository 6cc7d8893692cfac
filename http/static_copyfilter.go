package http

import (
	"gresty/core"
	"gresty/errlog"

	"golang.org/x/sys/unix"
)

// CopyFilterModule is ngx_http_copy_filter_module: where sendfile is off,
// file ranges in the body are read into memory, output_buffers' size at a
// time, before they reach the filters after it. When the connection's
// queue is full the rest waits for it to drain, so a large file never sits
// in memory whole.
var CopyFilterModule = &core.Module{
	Name: "ngx_http_copy_filter_module",
	Type: core.HTTPType,
	Directives: []core.Directive{
		core.BufsSlot("output_buffers", core.HTTPMainSrvLoc, core.LocLevel,
			func(c *copyConf) *core.Value[core.Bufs] { return &c.bufs }, core.Bufs{Num: 2, Size: 32768}),
	},
}

func init() {
	// the hooks refer back to the module for its context index.
	CopyFilterModule.HTTP = &Hooks{
		CreateLocConf:     func(*Conf) any { return &copyConf{} },
		Postconfiguration: copyFilterInit,
	}
}

type copyConf struct {
	bufs core.Value[core.Bufs]
}

// copyCtx is a request's copy state: the buffers not passed on yet, and
// whether the filter holds the request while it waits for a drain.
type copyCtx struct {
	queue []Buf
	held  bool
	next  BodyFilterFunc
	// inMemory is set when a body filter needs the bytes (NeedInMemory).
	inMemory bool
}

func copyFilterInit(cf *Conf) error {
	idx := CopyFilterModule.TypeIndex
	cf.AddBodyFilter(func(next BodyFilterFunc) BodyFilterFunc {
		return func(r *Request, in []Buf) int {
			ctx, _ := r.Ctx(idx).(*copyCtx)
			if ctx == nil {
				_, mem := r.Ctx(idx).(copyInMemory)
				if !needsCopy(r, in, mem) {
					return next(r, in)
				}
				ctx = &copyCtx{next: next, inMemory: mem}
				r.SetCtx(idx, ctx)
			}
			if len(in) == 0 && len(ctx.queue) == 0 {
				// a call without data (the writer flushing what later
				// filters hold) goes on, as ngx_output_chain's short
				// path passes it.
				return next(r, in)
			}
			for _, b := range in {
				if !b.Owned && len(b.Data) > 0 {
					b.Data = append([]byte(nil), b.Data...)
					b.Owned = true
				}
				ctx.queue = append(ctx.queue, b)
			}
			if ctx.held {
				return Again
			}
			return ctx.pump(r)
		}
	})
	return nil
}

func needsCopy(r *Request, in []Buf, inMemory bool) bool {
	if r.Loc.Sendfile.V && !inMemory {
		return false
	}
	for i := range in {
		if in[i].File != nil && in[i].FileLen > 0 {
			return true
		}
	}
	return false
}

// pump passes the queue on, reading file ranges a buffer at a time, until
// it is empty or the connection cannot take more.
func (ctx *copyCtx) pump(r *Request) int {
	s := &r.Conn.srv.files
	size := int64(32768)
	if c, ok := r.Loc.LocConfOf(CopyFilterModule).(*copyConf); ok && c.bufs.V.Size > 0 {
		size = c.bufs.V.Size
	}
	rc := OK
	for len(ctx.queue) > 0 {
		b := &ctx.queue[0]
		var out [1]Buf
		if b.File == nil || b.FileLen <= 0 || (r.Loc.Sendfile.V && !ctx.inMemory) {
			out[0] = *b
			ctx.queue = ctx.queue[1:]
		} else {
			if c := r.Conn; !c.closed() && c.ec.Buffered() > c.srv.outHigh {
				// the connection holds enough: read on when it drains,
				// so that a file never sits in memory whole.
				return ctx.wait(r)
			}
			n := min(size, b.FileLen)
			if int64(cap(s.readBuf)) < n {
				s.readBuf = make([]byte, n)
			}
			data := s.readBuf[:n]
			if !readFull(r, b, data) {
				return ctx.fail(r)
			}
			b.FilePos += n
			b.FileLen -= n
			out[0] = Buf{Data: data}
			if b.FileLen == 0 {
				out[0].Last, out[0].LastInChain, out[0].Flush = b.Last, b.LastInChain, b.Flush
				ctx.queue = ctx.queue[1:]
			}
		}
		rc = ctx.next(r, out[:])
		if rc == Error {
			return ctx.fail(r)
		}
		if rc == Again && len(ctx.queue) > 0 {
			return ctx.wait(r)
		}
	}
	ctx.queue = ctx.queue[:0]
	return rc
}

// copyHeld tells whether the copy filter holds output of r's response
// back, waiting for the connection to drain.
func (r *Request) copyHeld() bool {
	ctx, _ := r.Main.Ctx(CopyFilterModule.TypeIndex).(*copyCtx)
	return ctx != nil && ctx.held
}

// wait holds the request until the connection drains, then goes on.
func (ctx *copyCtx) wait(r *Request) int {
	if !ctx.held {
		ctx.held = true
		r.Hold()
	}
	r.Main.SetDrainHandler(func(*Request) { ctx.resume(r) })
	return Again
}

// resume goes on after a drain; the request is released once the queue
// is through.
func (ctx *copyCtx) resume(r *Request) {
	r.Main.SetDrainHandler(nil)
	rc := ctx.pump(r)
	if rc == Again && len(ctx.queue) > 0 {
		return
	}
	if ctx.held {
		ctx.held = false
		if rc == Error {
			r.Finalize(Error)
			return
		}
		r.Finalize(Done)
	}
}

func (ctx *copyCtx) fail(r *Request) int {
	ctx.queue = ctx.queue[:0]
	r.Main.SetDrainHandler(nil)
	return Error
}

// ReadBufFile reads the file range of b into memory of its own, for a
// body filter that must see the bytes of a range the copy filter passed
// on as it is; a failed or short read is logged as nginx logs it and
// gives false.
func (r *Request) ReadBufFile(b *Buf) ([]byte, bool) {
	data := make([]byte, b.FileLen)
	if !readFull(r, b, data) {
		return nil, false
	}
	return data, true
}

// readFull reads data from b's file at its position, with nginx's
// messages for a failed or short read.
func readFull(r *Request, b *Buf, data []byte) bool {
	fd := int(b.File.Fd())
	for n := 0; n < len(data); {
		k, err := unix.Pread(fd, data[n:], b.FilePos+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			r.Logf(errlog.Crit, "pread() \"%s\" failed %s", b.File.Name(), errlog.Errno(err))
			return false
		}
		if k == 0 {
			r.Logf(errlog.Alert, "pread() read only %d of %d from \"%s\"", n, len(data), b.File.Name())
			return false
		}
		n += k
	}
	return true
}
