package gzip

import (
	"io"
	"sync"

	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// Encoder is a reusable streaming compressor. Its compressed output
// collects in a buffer of its own until Bytes is read and Reset clears
// it; an Encoder is used by one request at a time, on one loop.
type Encoder interface {
	// Start begins a new stream. size is the length of the input when
	// known, else -1.
	Start(size int64)
	// Write compresses p (which it does not keep).
	Write(p []byte) error
	// Flush makes everything written so far decodable by the client (a
	// sync flush).
	Flush() error
	// Finish ends the stream with its trailer.
	Finish() error
	// Bytes returns the compressed output collected since the last
	// Reset; the slice is valid until the next call on the Encoder.
	Bytes() []byte
	// Reset clears the collected output, keeping its memory.
	Reset()
}

// Pools keeps idle encoders per loop and per compression level, so that
// the expensive compressor state is built once per loop rather than once
// per response. One Pools belongs to one configuration; its loop pools
// are created on first use by each loop.
type Pools struct {
	newEncoder func(level int) Encoder
	loops      sync.Map // loop ID → *loopPool
}

// NewPools returns pools building encoders with newEncoder.
func NewPools(newEncoder func(level int) Encoder) *Pools {
	return &Pools{newEncoder: newEncoder}
}

// maxIdle bounds the idle encoders kept per loop and level: a loop
// compresses one response at a time unless responses stream, so a few
// cover it, and a burst of streaming responses does not pin memory.
const maxIdle = 4

// maxKeptOutput is the largest output buffer an idle encoder keeps.
const maxKeptOutput = 256 << 10

// readChunk is how much of a file buffer is read at a time.
const readChunk = 32 << 10

// loopPool is one loop's idle encoders; only that loop touches it.
type loopPool struct {
	idle  map[int][]Encoder
	rbuf  []byte
	cache *bodyCache
}

func (p *Pools) loop(r *http.Request) *loopPool {
	id := r.Conn.Loop().ID()
	if lp, ok := p.loops.Load(id); ok {
		return lp.(*loopPool)
	}
	lp, _ := p.loops.LoadOrStore(id, &loopPool{idle: map[int][]Encoder{}})
	return lp.(*loopPool)
}

func (lp *loopPool) get(p *Pools, level int) Encoder {
	if l := lp.idle[level]; len(l) > 0 {
		e := l[len(l)-1]
		lp.idle[level] = l[:len(l)-1]
		return e
	}
	return p.newEncoder(level)
}

func (lp *loopPool) put(level int, e Encoder) {
	if len(lp.idle[level]) < maxIdle {
		e.Reset()
		lp.idle[level] = append(lp.idle[level], e)
	}
}

// Settings are what a compressing filter reads from its location
// configuration for one response.
type Settings struct {
	Enable    bool
	MinLength int64
	Types     *Types
	Level     int
	// Chunk is how many compressed bytes are collected before they are
	// passed on without a flush.
	Chunk int
}

// Filter is a compressing header and body filter: gzip's, and zstd's
// with its own encoder and negotiation.
type Filter struct {
	// Module owns the request context (a *Stream).
	Module *core.Module
	// Encoding is the Content-Encoding value.
	Encoding []byte
	Pools    *Pools
	Settings func(lc *http.LocConf) Settings
	// Accept tells whether the client takes this encoding; it runs only
	// for responses the filter would compress.
	Accept func(r *http.Request) bool
}

// Stream is a compressed response's state, the request context of the
// filter's module.
type Stream struct {
	// In and Out count the bytes before and after compression.
	In, Out int64
	level   int
	chunk   int
	enc     Encoder
	done    bool
	bufs    [1]http.Buf
}

// Install puts the filter in front of the header and body chains of the
// locations where it is on.
func (f *Filter) Install(cf *http.Conf) {
	on := func(lc *http.LocConf) bool { return f.Settings(lc).Enable }
	cf.AddHeaderFilterIf(on, func(next http.HeaderFilterFunc) http.HeaderFilterFunc {
		return func(r *http.Request) int { return f.header(r, next) }
	})
	cf.AddBodyFilterIf(on, func(next http.BodyFilterFunc) http.BodyFilterFunc {
		return func(r *http.Request, in []http.Buf) int { return f.body(r, in, next) }
	})
}

var contentEncoding = []byte("Content-Encoding")

// header is ngx_http_gzip_header_filter: only 200, 403 and 404 responses
// of a listed type, long enough, not already encoded, and not header-only
// are looked at; those make the response vary on Accept-Encoding; the
// ones the client accepts are marked for compression and lose their
// length, their ranges and their strong ETag.
func (f *Filter) header(r *http.Request, next http.HeaderFilterFunc) int {
	s := f.Settings(r.Loc)
	st := r.Out.Status
	if !s.Enable || (st != 200 && st != 403 && st != 404) || encoded(r) ||
		(r.Out.ContentLength != -1 && r.Out.ContentLength < s.MinLength) ||
		!s.Types.Match(r) || r.HeaderOnly {
		return next(r)
	}
	r.GzipVary = true
	if !f.Accept(r) {
		return next(r)
	}
	chunk := s.Chunk
	if chunk <= 0 {
		chunk = 128 << 10
	}
	r.SetCtx(f.Module.TypeIndex, &Stream{level: s.Level, chunk: chunk})
	r.Out.Add(contentEncoding, f.Encoding)
	r.Out.ClearContentLength()
	r.Out.ClearAcceptRanges()
	r.WeakETag()
	return next(r)
}

// encoded tells whether the response already has a non-empty
// Content-Encoding.
func encoded(r *http.Request) bool {
	h := r.Out.Known(httpparse.HdrContentEncoding)
	return h != nil && len(h.Value) > 0
}

// body compresses the body as it passes. Output is passed on when a
// buffer asks for a flush (after a sync flush of the compressor), at the
// end, and whenever Chunk bytes have collected; the compressor goes back
// to its loop's pool as soon as the stream ends. A small body that
// arrives whole may be answered from the loop's body cache (cache.go).
func (f *Filter) body(r *http.Request, in []http.Buf, next http.BodyFilterFunc) int {
	st, _ := r.Ctx(f.Module.TypeIndex).(*Stream)
	if st == nil || st.done || r.HeaderOnly || len(in) == 0 {
		return next(r, in)
	}
	lp := f.Pools.loop(r)
	if st.enc == nil {
		rc, done, whole := f.cached(r, st, lp, in, next)
		if done {
			return rc
		}
		st.enc = lp.get(f.Pools, st.level)
		// only a body seen whole has a length known for sure: a filter
		// before this one may change a streamed body's.
		st.enc.Start(whole)
	}
	enc := st.enc
	rc := http.OK
	for i := range in {
		b := &in[i]
		var err error
		switch {
		case b.File != nil:
			err = st.readFile(r, lp, b)
		case len(b.Data) > 0:
			st.In += int64(len(b.Data))
			err = enc.Write(b.Data)
		}
		if err == nil && b.Last {
			err = enc.Finish()
		} else if err == nil && b.Flush {
			err = enc.Flush()
		}
		if err != nil {
			st.fail()
			return http.Error
		}
		if b.Last || b.Flush || len(enc.Bytes()) >= st.chunk {
			rc = f.emit(r, st, lp, b.Flush, b.Last, next)
			if rc == http.Error || b.Last {
				return rc
			}
		}
	}
	if len(enc.Bytes()) > 0 {
		rc = f.emit(r, st, lp, false, false, next)
	}
	return rc
}

// emit passes the collected output on. With nothing to say it returns OK
// without calling the next filter, as nginx's gzip filter does.
func (f *Filter) emit(r *http.Request, st *Stream, lp *loopPool, flush, last bool, next http.BodyFilterFunc) int {
	enc := st.enc
	out := enc.Bytes()
	if len(out) == 0 && !flush && !last {
		return http.OK
	}
	st.Out += int64(len(out))
	st.bufs[0] = http.Buf{Data: out, Flush: flush, Last: last, LastInChain: last}
	rc := next(r, st.bufs[:])
	st.bufs[0] = http.Buf{}
	enc.Reset()
	if last {
		st.done = true
		st.enc = nil
		lp.put(st.level, enc)
	} else if rc == http.Error {
		st.fail()
	}
	return rc
}

// fail ends the stream after an error; the encoder is dropped, since its
// state is unknown.
func (st *Stream) fail() {
	st.done = true
	st.enc = nil
}

// readFile compresses a file range, read in pieces into the loop's read
// buffer (nginx reads it into memory for the filter too).
func (st *Stream) readFile(r *http.Request, lp *loopPool, b *http.Buf) error {
	if lp.rbuf == nil {
		lp.rbuf = make([]byte, readChunk)
	}
	pos, left := b.FilePos, b.FileLen
	for left > 0 {
		n := int64(len(lp.rbuf))
		if n > left {
			n = left
		}
		k, err := b.File.ReadAt(lp.rbuf[:n], pos)
		if k > 0 {
			st.In += int64(k)
			if werr := st.enc.Write(lp.rbuf[:k]); werr != nil {
				return werr
			}
			pos += int64(k)
			left -= int64(k)
		}
		if err != nil && left > 0 {
			if err == io.EOF {
				r.Logf(errlog.Crit, "file \"%s\" was truncated while read", b.File.Name())
			} else {
				r.Logf(errlog.Crit, "pread() \"%s\" failed %s", b.File.Name(), errlog.Errno(err))
			}
			return err
		}
	}
	return nil
}
