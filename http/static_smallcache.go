package http

// The small-file cache: a loop keeps the bytes of small regular files it
// served, keyed by path, and answers from memory after one stat() shows
// the file is still the same one. Nothing about it is visible to users:
//
//   - every hit is validated against a fresh stat of the path (device,
//     inode, mode, size, modification and change times to the
//     nanosecond), so a file that was replaced, rewritten, truncated,
//     renamed away or made unreadable is never served from memory;
//   - a file whose modification or change time is less than settleTime
//     old is not cached at all, because two writes within one tick of the
//     file system's coarse clock can leave both times unchanged; such a
//     file is opened and read for every request until it settles;
//   - any stat or open failure falls back to the ordinary open path, which
//     reports the error exactly as nginx does.
//
// So a changed file is served changed at once, as nginx without
// open_file_cache serves it.

import (
	"time"

	"golang.org/x/sys/unix"
)

// Limits of a loop's small-file cache.
const (
	smallFileMax     = 32 << 10
	smallCacheBytes  = 8 << 20
	smallCacheFiles  = 4096
	smallSettleNanos = int64(2 * time.Second)
)

// smallCache is one loop's cache of small files' bytes, least recently
// used evicted first.
type smallCache struct {
	files      map[string]*smallFile
	head, tail *smallFile
	bytes      int
	// big holds paths last seen as regular files too large to cache:
	// they go straight to the ordinary open, which nginx's own syscalls
	// (open, fstat) serve, instead of paying one stat more each time.
	big map[string]struct{}
}

// maxBigPaths bounds smallCache.big; the set starts over when full.
const maxBigPaths = 4096

// skip tells whether the path (NUL terminated) is known to be too large.
func (c *smallCache) skip(name []byte) bool {
	_, ok := c.big[string(name[:len(name)-1])]
	return ok
}

// opened notes what the ordinary open found at a path: a file that became
// small enough is looked up in the cache again next time.
func (c *smallCache) opened(name []byte, isFile bool, size int64) {
	if isFile && size <= smallFileMax && len(c.big) > 0 {
		delete(c.big, string(name[:len(name)-1]))
	}
}

func (c *smallCache) markBig(key []byte) {
	if c.big == nil || len(c.big) >= maxBigPaths {
		c.big = make(map[string]struct{})
	}
	c.big[string(key)] = struct{}{}
}

// smallFile is one cached file: its identity as stat saw it, its bytes
// and its ETag value.
type smallFile struct {
	key        string
	dev, ino   uint64
	mode       uint32
	size       int64
	mtim, ctim unix.Timespec
	mtime      int64
	data       []byte
	etag       []byte
	prev, next *smallFile
}

func (f *smallFile) same(st *unix.Stat_t) bool {
	return f.dev == st.Dev && f.ino == st.Ino && f.mode == st.Mode && f.size == st.Size &&
		f.mtim == st.Mtim && f.ctim == st.Ctim
}

// lookup returns the cached bytes of the regular file at name (NUL
// terminated), loading them when the file is small and settled, or nil
// when the ordinary open path must serve it.
func (c *smallCache) lookup(s *fileState, name []byte, now time.Time) *smallFile {
	key := name[:len(name)-1]
	e := c.files[string(key)]
	st := &s.st
	if fstatat(unix.AT_FDCWD, name, st, 0) != 0 {
		if e != nil {
			c.drop(e)
		}
		return nil
	}
	if e != nil {
		if e.same(st) {
			c.touch(e)
			return e
		}
		c.drop(e)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil
	}
	if st.Size > smallFileMax {
		c.markBig(key)
		return nil
	}
	limit := now.UnixNano() - smallSettleNanos
	if st.Mtim.Nano() > limit || st.Ctim.Nano() > limit {
		return nil
	}
	f := &smallFile{dev: st.Dev, ino: st.Ino, mode: st.Mode, size: st.Size, mtim: st.Mtim, ctim: st.Ctim, mtime: st.Mtim.Sec}
	if !f.load(name) {
		return nil
	}
	f.key = string(key)
	f.etag = AppendETag(nil, f.mtime, f.size)
	c.insert(f)
	return f
}

// load reads the file and checks that it did not change meanwhile.
func (f *smallFile) load(name []byte) bool {
	fd, e := openat(unix.AT_FDCWD, name, unix.O_RDONLY|unix.O_NONBLOCK)
	if e != 0 {
		return false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || !f.same(&st) {
		return false
	}
	data := make([]byte, f.size)
	for n := 0; n < len(data); {
		k, err := unix.Pread(fd, data[n:], int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil || k == 0 {
			return false
		}
		n += k
	}
	if unix.Fstat(fd, &st) != nil || !f.same(&st) {
		return false
	}
	f.data = data
	return true
}

func (c *smallCache) insert(f *smallFile) {
	if c.files == nil {
		c.files = map[string]*smallFile{}
	}
	for c.tail != nil && (c.bytes+len(f.data) > smallCacheBytes || len(c.files) >= smallCacheFiles) {
		c.drop(c.tail)
	}
	c.files[f.key] = f
	c.bytes += len(f.data)
	c.pushFront(f)
}

func (c *smallCache) drop(f *smallFile) {
	c.unlink(f)
	delete(c.files, f.key)
	c.bytes -= len(f.data)
}

func (c *smallCache) touch(f *smallFile) {
	if c.head != f {
		c.unlink(f)
		c.pushFront(f)
	}
}

func (c *smallCache) unlink(f *smallFile) {
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		c.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		c.tail = f.prev
	}
	f.prev, f.next = nil, nil
}

func (c *smallCache) pushFront(f *smallFile) {
	f.prev, f.next = nil, c.head
	if c.head != nil {
		c.head.prev = f
	} else {
		c.tail = f
	}
	c.head = f
}
