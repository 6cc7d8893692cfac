//go:build linux

package eventloop

import (
	"os"

	"golang.org/x/sys/unix"
)

const (
	// chunkSize is the size of the pooled buffers Write copies into.
	chunkSize = 16 << 10
	// maxFreeChunks bounds the loop's chunk free list (4 MiB), so one huge
	// response does not pin its memory afterwards.
	maxFreeChunks = 256
	// maxIov is the most buffers one writev sends.
	maxIov = 64
	// maxSendfile caps one sendfile call, as nginx's sendfile_max_chunk
	// caps a worker's turn on one connection.
	maxSendfile = 2 << 20
)

type segKind uint8

const (
	segChunk segKind = iota // a pooled chunk owned by the queue
	segRef                  // caller bytes (WriteRef), or a private copy
	segFile                 // a file range for sendfile
)

// seg is one element of a connection's output queue. Pending bytes are
// b[r:w]; a file segment sends n bytes from off.
type seg struct {
	b     []byte
	r, w  int
	kind  segKind
	dgram bool // one datagram: never append to it
	file  *os.File
	ffd   int
	off   int64
	n     int64
}

// outq is a connection's output queue: segments from head to the end of
// segs, in the order they were written.
type outq struct {
	segs []seg
	head int
	size int64 // pending bytes, files included
}

func (q *outq) empty() bool { return q.head == len(q.segs) }

// appendCopy copies b into pooled chunks at the tail of the queue.
func (q *outq) appendCopy(l *Loop, b []byte) {
	q.size += int64(len(b))
	if n := len(q.segs); n > q.head {
		t := &q.segs[n-1]
		if t.kind == segChunk && !t.dgram && t.w < len(t.b) {
			k := copy(t.b[t.w:], b)
			t.w += k
			b = b[k:]
		}
	}
	for len(b) > 0 {
		c := l.getChunk()
		k := copy(c, b)
		q.segs = append(q.segs, seg{b: c, w: k, kind: segChunk})
		b = b[k:]
	}
}

// appendDgram queues one datagram made of bufs.
func (q *outq) appendDgram(l *Loop, bufs [][]byte) {
	total := 0
	for _, b := range bufs {
		total += len(b)
	}
	var c []byte
	kind := segChunk
	if total <= chunkSize {
		c = l.getChunk()
	} else {
		c = make([]byte, total)
		kind = segRef
	}
	w := 0
	for _, b := range bufs {
		w += copy(c[w:], b)
	}
	q.size += int64(total)
	q.segs = append(q.segs, seg{b: c, w: w, kind: kind, dgram: true})
}

// smallRef is the size up to which referenced bytes are copied into the
// queue's chunks instead: a copy of a response head or a short body costs
// less than the separate iovec the kernel would walk, and pipelined
// responses then leave in one contiguous buffer.
const smallRef = 2048

func (q *outq) appendRef(l *Loop, b []byte, dgram bool) {
	if !dgram && len(b) <= smallRef {
		q.appendCopy(l, b)
		return
	}
	q.size += int64(len(b))
	q.segs = append(q.segs, seg{b: b, w: len(b), kind: segRef, dgram: dgram})
}

func (q *outq) appendFile(f *os.File, fd int, off, n int64) {
	q.size += n
	q.segs = append(q.segs, seg{kind: segFile, file: f, ffd: fd, off: off, n: n})
}

// gather fills iov with the pending byte segments from the head up to the
// first file segment and returns the count and the byte total.
func (q *outq) gather(iov []unix.Iovec) (int, int) {
	n, total := 0, 0
	for i := q.head; i < len(q.segs) && n < len(iov); i++ {
		s := &q.segs[i]
		if s.kind == segFile {
			break
		}
		if s.w > s.r {
			iov[n].Base = &s.b[s.r]
			iov[n].SetLen(s.w - s.r)
			n++
			total += s.w - s.r
		}
	}
	return n, total
}

// trimIov cuts iov down to its first max bytes and returns the count and
// the byte total that remain.
func trimIov(iov []unix.Iovec, max int) (int, int) {
	total := 0
	for i := range iov {
		l := int(iov[i].Len)
		if total+l >= max {
			iov[i].SetLen(max - total)
			clear(iov[i+1:])
			return i + 1, max
		}
		total += l
	}
	return len(iov), total
}

// advance consumes n written bytes from the head.
func (q *outq) advance(l *Loop, n int) {
	q.size -= int64(n)
	for n > 0 && q.head < len(q.segs) {
		s := &q.segs[q.head]
		if s.kind == segFile {
			break
		}
		p := s.w - s.r
		if n < p {
			s.r += n
			return
		}
		n -= p
		q.pop(l)
	}
	// Skip empty byte segments so the head is always something to send.
	for q.head < len(q.segs) && q.segs[q.head].kind != segFile && q.segs[q.head].w == q.segs[q.head].r {
		q.pop(l)
	}
}

// pop releases the head segment.
func (q *outq) pop(l *Loop) {
	s := &q.segs[q.head]
	if s.kind == segChunk {
		l.putChunk(s.b)
	}
	*s = seg{}
	q.head++
	if q.head == len(q.segs) {
		q.segs = q.segs[:0]
		q.head = 0
	} else if q.head >= 64 && q.head*2 >= len(q.segs) {
		k := copy(q.segs, q.segs[q.head:])
		clear(q.segs[k:])
		q.segs = q.segs[:k]
		q.head = 0
	}
}

// release drops everything queued.
func (q *outq) release(l *Loop) {
	for q.head < len(q.segs) {
		q.pop(l)
	}
	q.size = 0
	if cap(q.segs) > 256 {
		q.segs = nil
	}
}
