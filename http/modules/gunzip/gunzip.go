// Package gunzip is nginx's ngx_http_gunzip_filter_module: a response
// with "Content-Encoding: gzip" is decompressed for a client that does
// not take gzip (by the gzip module's rules: Accept-Encoding,
// gzip_http_version, gzip_proxied, gzip_disable).
//
// Inflating is driven by the body filter on the request's loop; Go's
// inflater pulls its input, so it runs on a goroutine of its own that the
// filter hands each piece to and waits for, one step at a time: the
// loop never runs concurrently with it.
package gunzip

import (
	"compress/gzip"
	"errors"
	"io"
	"strings"

	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// Module is ngx_http_gunzip_filter_module.
var Module = &core.Module{
	Name:      "ngx_http_gunzip_filter_module",
	Type:      core.HTTPType,
	Configure: "--with-http_gunzip_module",
}

// LocConf is the module's configuration at one level.
type LocConf struct {
	Enable core.Value[bool]
	// Bufs is gunzip_buffers: the output is relayed in pieces of its
	// size.
	Bufs core.Value[core.Bufs]
}

func init() {
	ctx := core.HTTPMainSrvLoc
	Module.Directives = []core.Directive{
		core.FlagSlot("gunzip", ctx, core.LocLevel, func(c *LocConf) *core.Value[bool] { return &c.Enable }, false),
		core.BufsSlot("gunzip_buffers", ctx, core.LocLevel, func(c *LocConf) *core.Value[core.Bufs] { return &c.Bufs },
			core.Bufs{Num: 32, Size: 4096}),
	}
	Module.HTTP = &http.Hooks{
		CreateLocConf: func(*http.Conf) any { return &LocConf{} },
		Postconfiguration: func(cf *http.Conf) error {
			active := func(lc *http.LocConf) bool { return lc.Confs[Module.TypeIndex].(*LocConf).Enable.V }
			cf.AddHeaderFilterIf(active, func(next http.HeaderFilterFunc) http.HeaderFilterFunc {
				return func(r *http.Request) int { return headerFilter(r, next) }
			})
			cf.AddBodyFilterIf(active, func(next http.BodyFilterFunc) http.BodyFilterFunc {
				return func(r *http.Request, in []http.Buf) int { return bodyFilter(r, in, next) }
			})
			return nil
		},
	}
}

// headerFilter is ngx_http_gunzip_header_filter.
func headerFilter(r *http.Request, next http.HeaderFilterFunc) int {
	c := r.Loc.LocConfOf(Module).(*LocConf)
	ce := r.Out.Known(httpparse.HdrContentEncoding)
	if !c.Enable.V || ce == nil || len(ce.Value) != 4 || !strings.EqualFold(string(ce.Value), "gzip") {
		return next(r)
	}
	r.GzipVary = true
	if !r.GzipTested {
		if r.GzipCheck() {
			return next(r)
		}
	} else if r.GzipOK {
		return next(r)
	}
	st := &state{r: r, size: int(c.Bufs.V.Size), num: c.Bufs.V.Num}
	r.SetCtx(Module.TypeIndex, st)
	r.AddCleanup(st.stop)
	r.NeedInMemory()
	r.Out.DelKnown(httpparse.HdrContentEncoding)
	r.Out.ClearContentLength()
	r.Out.ClearAcceptRanges()
	r.WeakETag()
	return next(r)
}

// bodyFilter is ngx_http_gunzip_body_filter: each piece is inflated and
// what it gave is passed on, flushed when the piece asked for it.
func bodyFilter(r *http.Request, in []http.Buf, next http.BodyFilterFunc) int {
	st, _ := r.Ctx(Module.TypeIndex).(*state)
	if st == nil || st.done {
		return next(r, in)
	}
	var out []http.Buf
	for i := range in {
		b := &in[i]
		last := b.Last || b.LastInChain
		data, err := st.feed(b.Data, last)
		if err != nil {
			st.done = true
			st.stop()
			r.Logf(errlog.Error, "%s", err)
			// nginx passes its output on each time its gunzip_buffers
			// are full: what fills no whole round of them is lost.
			if round := st.size * st.num; round > 0 {
				if keep := len(data) / round * round; keep > 0 {
					for data = data[:keep]; len(data) > 0; data = data[st.size:] {
						out = append(out, http.Buf{Data: data[:st.size:st.size], Owned: true})
					}
					next(r, out)
				}
			}
			return http.Error
		}
		for len(data) > 0 {
			n := min(len(data), st.size)
			out = append(out, http.Buf{Data: data[:n:n], Owned: true})
			data = data[n:]
		}
		if last {
			st.done = true
			out = append(out, http.Buf{Last: b.Last, LastInChain: b.LastInChain})
		} else if b.Flush {
			out = append(out, http.Buf{Flush: true})
		}
	}
	if len(out) == 0 {
		return http.OK
	}
	return next(r, out)
}

// state is one response's inflater: a goroutine that takes pieces from
// in and answers on out with what each gave, once it needs the next one
// or is done. The loop's fields and the goroutine's are apart; they meet
// only through the channels.
type state struct {
	// the loop's
	r      *http.Request
	size   int
	num    int
	done   bool
	closed bool
	in     chan piece
	out    chan step

	// the goroutine's: the piece it reads from, whether it is the
	// last, and what it made since it last answered.
	started bool
	pending []byte
	final   bool
	got     []byte
}

// piece is a part of the compressed body.
type piece struct {
	data  []byte
	final bool
}

// step is one answer of the goroutine: the bytes made since the last one
// and, at the end, how the stream ended.
type step struct {
	data []byte
	end  bool
	err  error
}

// errStopped ends a goroutine whose request went away.
var errStopped = errors.New("stopped")

// feed gives the inflater a piece (the last one with last set) and
// returns what it made of it.
func (st *state) feed(b []byte, last bool) ([]byte, error) {
	if len(b) == 0 && !last {
		return nil, nil
	}
	if st.closed {
		return nil, errors.New("gunzip: the response is over")
	}
	if st.in == nil {
		st.in, st.out = make(chan piece), make(chan step)
		go st.run()
	}
	st.in <- piece{data: append([]byte(nil), b...), final: last}
	s := <-st.out
	if s.err != nil {
		return s.data, s.err
	}
	if last && !s.end {
		// the stream stopped short: zlib's Z_BUF_ERROR at Z_FINISH
		return s.data, errors.New("inflate() returned -5 on response end")
	}
	return s.data, nil
}

// stop ends the goroutine, if it runs.
func (st *state) stop() {
	if st.in != nil && !st.closed {
		st.closed = true
		close(st.in)
	}
}

// Read is the inflater's input (the goroutine's): the pending piece,
// then the next one, after handing back what was made so far.
func (st *state) Read(p []byte) (int, error) {
	for len(st.pending) == 0 {
		if st.final {
			return 0, io.EOF
		}
		if st.started {
			st.out <- step{data: st.takeGot()}
		}
		st.started = true
		pc, ok := <-st.in
		if !ok {
			return 0, errStopped
		}
		st.pending, st.final = pc.data, pc.final
	}
	n := copy(p, st.pending)
	st.pending = st.pending[n:]
	return n, nil
}

func (st *state) takeGot() []byte {
	g := st.got
	st.got = nil
	return g
}

// run inflates the gzip members one after the other until the input
// ends, then waits for the loop to let it go.
func (st *state) run() {
	zr, err := gzip.NewReader(st)
	if err == io.EOF {
		// no gzip header at all: zlib's Z_BUF_ERROR
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		buf := make([]byte, 32<<10)
		for {
			var n int
			n, err = zr.Read(buf)
			st.got = append(st.got, buf[:n]...)
			if err != nil {
				break
			}
		}
	}
	switch {
	case errors.Is(err, errStopped):
		return
	case err == io.EOF:
		st.out <- step{data: st.takeGot(), end: true}
	case errors.Is(err, io.ErrUnexpectedEOF):
		st.out <- step{data: st.takeGot()}
	default:
		// zlib's Z_DATA_ERROR, with the flush mode of the call
		flush := "0"
		if st.final {
			flush = "4"
		}
		st.out <- step{data: st.takeGot(), err: errors.New("inflate() failed: " + flush + ", -3")}
	}
	for range st.in {
	}
}
