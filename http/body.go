package http

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"sync/atomic"

	"gresty/errlog"
	"gresty/httpparse"
)

// RequestBody is the request body being read or read
// (ngx_http_request_body_t): in memory up to client_body_buffer_size,
// beyond that in a temporary file, as nginx spools it.
type RequestBody struct {
	// Done is set once the whole body was read.
	Done bool
	// Received counts the body bytes read (after de-chunking).
	Received int64
	// File is the temporary file holding the body when it did not fit in
	// memory (or client_body_in_file_only).
	File *os.File

	reading bool
	rest    int64 // content-length bytes still to read; -1 when chunked
	chunked httpparse.ChunkedDecoder
	mem     []byte
	post    func(r *Request)
	// stream, when set, receives every piece of the body as it arrives
	// instead of buffering (proxy_request_buffering off, ngx.req.socket).
	stream   func(r *Request, data []byte, last bool)
	keepFile bool
	err      int
	// streamed is set when stream had data since the last call that
	// ends a read (a call without data).
	streamed bool
	// keepCopy keeps a streamed body in mem while it fits in
	// client_body_buffer_size; whole is set when it all came so, before
	// the upstream was contacted (nginx then handles it as buffered).
	keepCopy, whole bool
	// streaming is set for a body read by ReadBodyStream.
	streaming bool
	// starting is set while ReadBody's first pass runs: a failure then is
	// returned to the caller, who finalizes with it, not finalized here.
	starting bool
}

func (b *RequestBody) wantData() bool { return b.reading }

// Bytes returns an in-memory body. nil when the body is in a file.
func (b *RequestBody) Bytes() []byte {
	if b.File != nil {
		return nil
	}
	return b.mem
}

func (b *RequestBody) rebase(old, nb []byte) { b.mem = rebaseSlice(b.mem, old, nb) }

func (b *RequestBody) release() {
	if b.File != nil && !b.keepFile {
		name := b.File.Name()
		b.File.Close()
		os.Remove(name)
	} else if b.File != nil {
		b.File.Close()
	}
	b.File = nil
}

// ReadBody reads the whole request body, then calls post (nginx's
// ngx_http_read_client_request_body). It returns OK when post was already
// called or will be, or an HTTP status to finalize with. The caller
// returns Done afterwards when it got OK, as nginx handlers do: reading
// holds a reference on the request.
func (r *Request) ReadBody(post func(r *Request)) int {
	mr := r.Main
	mr.count++
	if r != mr || mr.Body != nil || mr.discardBody {
		// a subrequest, or the body was already read or discarded.
		if mr.Body == nil {
			mr.bodyStore = RequestBody{Done: true}
			mr.Body = &mr.bodyStore
		}
		post(r)
		return OK
	}
	mr.bodyStore = RequestBody{post: post, rest: mr.ContentLength}
	b := &mr.bodyStore
	mr.Body = b
	if rc := mr.testExpect(); rc != OK {
		mr.count--
		return rc
	}
	if mr.Chunked {
		b.rest = -1
		b.chunked.MaxSize = r.Loc.ClientMaxBodySize.V
	} else if mr.ContentLength <= 0 {
		b.Done = true
		post(r)
		return OK
	}
	b.reading = true
	b.starting = true
	b.pump(mr)
	b.starting = false
	if b.err != 0 {
		mr.count--
		return b.err
	}
	return OK
}

// ReadBodyStream delivers the body piece by piece to f as it arrives (the
// last call has last set; a call without data and without last ends the
// pieces one read of the client brought), for unbuffered proxying.
func (r *Request) ReadBodyStream(f func(r *Request, data []byte, last bool)) int {
	return r.readBodyStream(f, false)
}

// readBodyStream is ReadBodyStream; with keep, a body no larger than
// client_body_buffer_size that arrives whole with the request (in the
// reads made before the upstream is contacted) is also kept, for
// $request_body: nginx's unbuffered proxying leaves those buffers in the
// request, and a body that needed later reads has none left.
func (r *Request) readBodyStream(f func(r *Request, data []byte, last bool), keep bool) int {
	mr := r.Main
	mr.count++
	b := &RequestBody{stream: f, rest: mr.ContentLength, keepCopy: keep, streaming: true}
	mr.Body = b
	if rc := mr.testExpect(); rc != OK {
		mr.count--
		return rc
	}
	if mr.Chunked {
		b.rest = -1
		b.chunked.MaxSize = r.Loc.ClientMaxBodySize.V
	} else if mr.ContentLength <= 0 {
		b.Done = true
		b.whole = true
		f(r, nil, true)
		return OK
	}
	b.reading = true
	b.starting = true
	b.pump(mr)
	b.starting = false
	if b.err != 0 {
		mr.count--
		return b.err
	}
	if b.keepCopy {
		b.whole = b.Done
		if !b.Done {
			b.keepCopy, b.mem = false, nil
		}
	}
	return OK
}

// testExpect answers "Expect: 100-continue" before the body is read
// (ngx_http_test_expect).
func (r *Request) testExpect() int {
	if r.expectTested || r.HTTPVersion < 1001 {
		return OK
	}
	r.expectTested = true
	v, ok := r.KnownIn(httpparse.HdrExpect)
	if !ok || len(v) != len("100-continue") || !equalFoldBS(v, "100-continue") {
		return OK
	}
	if _, err := r.Conn.ec.WriteString("HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
		return Error
	}
	return OK
}

// pump moves body bytes from the connection's input into the body.
func (b *RequestBody) pump(r *Request) {
	c := r.Conn
	for b.reading {
		avail := c.data[c.pos:]
		if len(avail) == 0 {
			if b.streamed && b.stream != nil {
				// the end of what this read brought.
				b.streamed = false
				b.stream(r, nil, false)
				if !b.reading {
					return
				}
			}
			if c.eof {
				b.eof(r)
				return
			}
			c.setTimer(tmBody, r.Loc.ClientBodyTimeout.V)
			return
		}
		if b.rest >= 0 {
			n := int64(len(avail))
			if n > b.rest {
				n = b.rest
			}
			if !b.store(r, avail[:n], b.rest == n) {
				return
			}
			c.pos += int(n)
			r.RequestLength += n
			b.rest -= n
			if b.rest == 0 {
				b.finish(r)
			}
			continue
		}
		n, data, err := b.chunked.Decode(avail)
		c.pos += n
		r.RequestLength += int64(n)
		last := errors.Is(err, io.EOF)
		if len(data) > 0 || last {
			if !b.store(r, data, last) {
				return
			}
		}
		switch {
		case last:
			b.finish(r)
		case errors.Is(err, httpparse.ErrChunkedTooLarge):
			r.Logf(errlog.Error, "client intended to send too large chunked body: %d+%d bytes", b.Received, b.chunked.ChunkSize())
			b.fail(r, 413)
			return
		case err != nil:
			r.Logf(errlog.Error, "client sent invalid chunked body")
			b.fail(r, 400)
			return
		}
	}
}

func (b *RequestBody) store(r *Request, data []byte, last bool) bool {
	b.Received += int64(len(data))
	if b.stream != nil {
		if b.keepCopy && len(data) > 0 {
			if b.starting && b.Received <= r.Loc.ClientBodyBufferSize.V {
				b.mem = append(b.mem, data...)
			} else {
				b.keepCopy, b.mem = false, nil
			}
		}
		b.streamed = len(data) > 0 && !last
		b.stream(r, data, last)
		return true
	}
	if len(data) == 0 {
		return true
	}
	if b.File != nil {
		if _, err := b.File.Write(data); err != nil {
			r.Logf(errlog.Crit, "write() \"%s\" failed %s", b.File.Name(), errlog.Errno(err))
			b.fail(r, 500)
			return false
		}
		return true
	}
	limit := r.Loc.ClientBodyBufferSize.V
	inFile := r.Loc.ClientBodyInFileOnly.V != 0 || r.bodyInFile
	total := int64(len(b.mem) + len(data))
	if !inFile && (total <= limit || (b.rest >= 0 && r.ContentLength <= limit)) {
		if b.mem == nil {
			size := r.ContentLength
			if size < 0 || size > limit {
				size = limit
			}
			b.mem = make([]byte, 0, size)
		}
		b.mem = append(b.mem, data...)
		return true
	}
	f, err := r.tempFile()
	if err != nil {
		b.fail(r, 500)
		return false
	}
	b.File = f
	// client_body_in_file_only on keeps the file after the request
	// (clean removes it), and the line is only a notice then.
	b.keepFile = r.Loc.ClientBodyInFileOnly.V == 1 && !r.bodyInFile
	level := errlog.Warn
	if inFile {
		level = errlog.Notice
	}
	if !r.bodyInFile {
		r.Logf(level, "a client request body is buffered to a temporary file %s", f.Name())
	}
	if len(b.mem) > 0 {
		if _, err := f.Write(b.mem); err != nil {
			r.Logf(errlog.Crit, "write() \"%s\" failed %s", f.Name(), errlog.Errno(err))
			b.fail(r, 500)
			return false
		}
		b.mem = nil
	}
	if _, err := f.Write(data); err != nil {
		r.Logf(errlog.Crit, "write() \"%s\" failed %s", f.Name(), errlog.Errno(err))
		b.fail(r, 500)
		return false
	}
	return true
}

// tempSeq numbers temporary files (and multipart boundaries), from 1 as
// nginx's ngx_temp_number; tempJump is how far a number that collided
// with another server's file skips (nginx's ngx_random_number).
var (
	tempSeq  atomic.Uint64
	tempJump = uint64(rand.Uint32()&0xffff)<<16 + uint64(os.Getpid()&0xffff)
)

// BodyInFile makes ReadBody put the body in a temporary file whatever
// its size, without the "buffered to a temporary file" line (nginx's
// request_body_in_file_only with request_body_file_log_level 0, as the
// dav module asks for a PUT). Call it before ReadBody.
func (r *Request) BodyInFile() { r.Main.bodyInFile = true }

// TakeBodyFile hands the read body's temporary file over to the caller,
// who then removes or keeps it: it is closed and no longer the
// request's. A body of no bytes (Content-Length 0, or an empty chunked
// one) gets an empty file; a request without a body, or whose body was
// read into memory before BodyInFile, has none (false).
func (r *Request) TakeBodyFile() (string, bool) {
	mr := r.Main
	b := mr.Body
	if b == nil {
		return "", false
	}
	if b.File == nil {
		if len(b.mem) > 0 || mr.ContentLength != 0 && !mr.Chunked {
			return "", false
		}
		f, err := r.tempFile()
		if err != nil {
			return "", false
		}
		b.File = f
	}
	name := b.File.Name()
	b.File.Close()
	b.File, b.keepFile = nil, false
	return name, true
}

// tempFile creates the file a request body is spooled to, with the
// hashed directories of client_body_temp_path's levels.
func (r *Request) tempFile() (*os.File, error) {
	f, name, err := r.Loc.ClientBodyTempPath.V.openTempFile()
	if err != nil {
		r.Logf(errlog.Crit, "open() \"%s\" failed %s", name, errlog.Errno(err))
	}
	return f, err
}

func (b *RequestBody) finish(r *Request) {
	b.reading = false
	b.Done = true
	if r.Conn.timerKind == tmBody {
		r.Conn.stopTimer()
	}
	if b.File != nil {
		b.File.Seek(0, io.SeekStart)
	}
	if b.post != nil {
		post := b.post
		b.post = nil
		post(r)
	}
}

func (b *RequestBody) fail(r *Request, status int) {
	b.reading = false
	b.err = status
	r.Conn.lingering = true
	r.KeepAlive = false
	if r.Conn.timerKind == tmBody {
		r.Conn.stopTimer()
	}
	if b.post != nil || b.stream != nil {
		b.post, b.stream = nil, nil
		if !b.starting {
			// the reader holds a reference; the failure ends it.
			r.Finalize(status)
		}
	}
}

// eof: the client closed before sending the whole body.
func (b *RequestBody) eof(r *Request) {
	if !b.reading {
		return
	}
	r.Logf(errlog.Info, "client prematurely closed connection")
	b.reading = false
	b.post, b.stream = nil, nil
	r.Finalize(400)
}

// startDiscard begins discarding an unread body.
func (r *Request) startDiscard() int {
	b := &RequestBody{rest: r.ContentLength}
	if r.Chunked {
		b.rest = -1
	}
	r.discard = b
	if rc := r.discardInput(); rc != OK {
		return rc
	}
	if r.discarding {
		r.Main.count++
		r.discardHeld = true
	}
	return OK
}

// discardInput consumes body bytes being discarded. A malformed chunked
// body is logged and answered 400 (ngx_http_discard_request_body_filter).
func (r *Request) discardInput() int {
	b := r.discard
	c := r.Conn
	r.discarding = true
	for {
		avail := c.data[c.pos:]
		if len(avail) == 0 {
			break
		}
		if b.rest >= 0 {
			n := int64(len(avail))
			if n > b.rest {
				n = b.rest
			}
			c.pos += int(n)
			b.rest -= n
			if b.rest == 0 {
				r.discardDone()
				return OK
			}
			continue
		}
		n, _, err := b.chunked.Decode(avail)
		c.pos += n
		if errors.Is(err, io.EOF) {
			r.discardDone()
			return OK
		}
		if err != nil {
			r.Logf(errlog.Error, "client sent invalid chunked body")
			r.discarding = false
			r.KeepAlive = false
			c.lingering = true
			if c.timerKind == tmDiscard {
				c.stopTimer()
			}
			return 400
		}
	}
	if c.eof {
		r.discardEOF()
		return OK
	}
	c.setTimer(tmDiscard, r.Loc.LingeringTimeout.V)
	return OK
}

func (r *Request) discardDone() {
	wasHeld := r.discarding
	r.discarding = false
	if r.Conn.timerKind == tmDiscard {
		r.Conn.stopTimer()
	}
	if wasHeld && r.discardHeld {
		r.discardHeld = false
		r.Finalize(Done)
	}
}

func (r *Request) discardEOF() {
	r.discarding = false
	r.KeepAlive = false
	r.Conn.closeNow()
}

func (r *Request) discardTimedOut() {
	r.discarding = false
	r.Conn.closeNow()
}
