package http

// Opening files for responses: nginx's ngx_open_cached_file with its
// open_file_cache, disable_symlinks walks and error reporting, plus a
// per-loop cache of small files' bytes that lets a hot static file go out
// without opening it.
//
// Descriptors handed to a request stay open until everything its
// connection queued before the request ended has been sent
// (ReleaseAfterSend), because a queued sendfile segment refers to them by
// number.

import (
	"syscall"
	"time"
	"unsafe"

	"gresty/errlog"

	"golang.org/x/sys/unix"
)

// OpenFlags tell OpenFile what the caller needs.
type OpenFlags uint8

// The open flags, as the of.test_* fields of ngx_open_file_info_t.
const (
	// OpenTestOnly only stats the file; no descriptor is kept
	// (index, try_files).
	OpenTestOnly OpenFlags = 1 << iota
	// OpenTestDir expects a directory: a single stat answers when it is
	// one.
	OpenTestDir
	// OpenSmall lets a small regular file come from the loop's byte
	// cache: OpenFileInfo.Data then holds the whole file and no
	// descriptor is opened.
	OpenSmall
)

// OpenFileInfo is what OpenFile found (ngx_open_file_info_t).
type OpenFileInfo struct {
	Size  int64
	Mtime int64
	// Uniq is the inode number.
	Uniq   uint64
	IsDir  bool
	IsFile bool
	IsLink bool
	IsExec bool

	// Err is the errno of a failed call, 0 when the failure was not a
	// system error (answer 500); Failed names the call ("open()",
	// "openat()", "stat()", "fstat()") for the error log.
	Err    syscall.Errno
	Failed string

	// Data is the whole file when it came from the small-file cache (nil
	// otherwise). The bytes never change: they may be queued with
	// Buf.Owned and kept as long as needed.
	Data []byte
	// ETag is the ETag value of a cached small file (see AppendETag), so
	// that the hot path formats nothing.
	ETag []byte

	cached *cachedFile
	own    *ownedFD
}

// File returns the open file, nil for directories, test-only opens and
// cached small files. It stays open until the request's output has been
// sent. Request loop only.
func (fi *OpenFileInfo) File() *File {
	switch {
	case fi.cached != nil:
		return fi.cached.bufFile()
	case fi.own != nil:
		return &fi.own.File
	}
	return nil
}

// ownedFD is a descriptor one request opened without a cache. Closed ones
// go back to the loop's free list, so the hot path allocates nothing.
type ownedFD struct {
	File
	next *ownedFD
}

// maxFreeFDs bounds the loop's free list of ownedFDs.
const maxFreeFDs = 1024

// newOwned returns an ownedFD for fd opened at name (not retained).
func (s *fileState) newOwned(fd int, name []byte) *ownedFD {
	o := s.freeFDs
	if o != nil {
		s.freeFDs, o.next = o.next, nil
		s.nfree--
	} else {
		o = &ownedFD{}
	}
	o.fd = fd
	o.name = append(o.name[:0], name...)
	return o
}

// closeOwned closes o's descriptor and keeps o for reuse.
func (s *fileState) closeOwned(o *ownedFD) {
	if o.fd >= 0 {
		unix.Close(o.fd)
		o.fd = -1
	}
	if s.nfree < maxFreeFDs {
		o.next = s.freeFDs
		s.freeFDs = o
		s.nfree++
	}
}

// fileState is a loop's file machinery: its open_file_cache instances and
// its small-file cache. Only the loop touches it.
type fileState struct {
	cfg    *Config
	caches map[*OpenFileCacheConf]*ofCache
	small  smallCache
	// name is scratch space for NUL-terminated paths; st for stat
	// results (kept here so that the hot path does not allocate).
	name []byte
	comp []byte
	st   unix.Stat_t
	// readBuf is the copy filter's read buffer.
	readBuf []byte
	// freeFDs are closed ownedFDs kept for reuse.
	freeFDs *ownedFD
	nfree   int
}

// openInfo is the working state of one open (the C ngx_open_file_info_t).
type openInfo struct {
	fd                   int
	uniq                 uint64
	mtime, size          int64
	isDir, isFile        bool
	isLink, isExec       bool
	err                  syscall.Errno
	failed               string
	testOnly, testDir    bool
	errors               bool
	valid                int64
	minUses              int
	symlinks, symlinksAt int
}

func (of *openInfo) fill(st *unix.Stat_t) {
	of.uniq = st.Ino
	of.mtime = st.Mtim.Sec
	of.size = st.Size
	m := st.Mode & unix.S_IFMT
	of.isDir = m == unix.S_IFDIR
	of.isFile = m == unix.S_IFREG
	of.isLink = m == unix.S_IFLNK
	of.isExec = st.Mode&unix.S_IXUSR != 0
}

func (of *openInfo) export(fi *OpenFileInfo) {
	fi.Size, fi.Mtime, fi.Uniq = of.size, of.mtime, of.uniq
	fi.IsDir, fi.IsFile, fi.IsLink, fi.IsExec = of.isDir, of.isFile, of.isLink, of.isExec
	fi.Err, fi.Failed = of.err, of.failed
}

// OpenFile opens (or with OpenTestOnly, stats) the file at path for r,
// with the location's open_file_cache and disable_symlinks settings, as
// ngx_open_cached_file. It returns false when that failed; fi.Err and
// fi.Failed then say why (fi.Err == 0: answer 500). An opened file stays
// open until r's output has been sent. path is not retained. Request
// loop only.
func (r *Request) OpenFile(path []byte, flags OpenFlags, fi *OpenFileInfo) bool {
	*fi = OpenFileInfo{}
	srv := r.Conn.srv
	s := &srv.files
	s.switchConfig(srv.cfg)
	loc := r.Loc
	of := openInfo{
		fd:       -1,
		testOnly: flags&OpenTestOnly != 0,
		testDir:  flags&OpenTestDir != 0,
		errors:   loc.OpenFileCacheErrors.V,
		valid:    int64(loc.OpenFileCacheValid.V / time.Second),
		minUses:  loc.OpenFileCacheMinUses.V,
	}
	if !r.setDisableSymlinks(loc, path, &of) {
		return false
	}
	s.name = append(append(s.name[:0], path...), 0)
	name := s.name

	small := flags&OpenSmall != 0 && of.symlinks == SymlinksOff && !of.testOnly
	if small && !s.small.skip(name) {
		if sf := s.small.lookup(s, name, r.Conn.loopNow()); sf != nil {
			fi.Size, fi.Mtime, fi.Uniq = sf.size, sf.mtime, sf.ino
			fi.IsFile = true
			fi.IsExec = sf.mode&unix.S_IXUSR != 0
			fi.Data, fi.ETag = sf.data, sf.etag
			return true
		}
	}

	var ok bool
	cc := loc.OpenFileCache.V
	if cc == nil || r.Conn.cfg != srv.cfg {
		// a request of a configuration the loop no longer serves does
		// not fill caches that would outlive it.
		ok = s.openUncached(r, name, &of, fi)
	} else {
		ok = s.cache(cc).open(s, r, name, &of, fi)
	}
	of.export(fi)
	if small && ok {
		s.small.opened(name, fi.IsFile, fi.Size)
	}
	return ok
}

// setDisableSymlinks applies disable_symlinks and its "from=" part to of
// (ngx_http_set_disable_symlinks); false means the template failed.
func (r *Request) setDisableSymlinks(loc *LocConf, path []byte, of *openInfo) bool {
	of.symlinks = loc.DisableSymlinks.V
	if loc.DisableSymlinksFrom == nil || of.symlinks == SymlinksOff {
		return true
	}
	from := loc.DisableSymlinksFrom.EvalBytes(r)
	if len(from) == 0 || len(from) > len(path) || string(path[:len(from)]) != string(from) {
		return true
	}
	if len(from) == len(path) {
		of.symlinks = SymlinksOff
		return true
	}
	if path[len(from)] == '/' {
		of.symlinksAt = len(from)
		return true
	}
	if path[len(from)-1] == '/' {
		of.symlinksAt = len(from) - 1
	}
	return true
}

// switchConfig drops the open_file_cache instances of a configuration the
// loop no longer serves (after a reload); descriptors still in use close
// when their requests are done.
func (s *fileState) switchConfig(cfg *Config) {
	if s.cfg == cfg {
		return
	}
	s.cfg = cfg
	for k, c := range s.caches {
		c.flush()
		delete(s.caches, k)
	}
}

func (s *fileState) cache(cc *OpenFileCacheConf) *ofCache {
	c := s.caches[cc]
	if c == nil {
		if s.caches == nil {
			s.caches = map[*OpenFileCacheConf]*ofCache{}
		}
		c = &ofCache{max: cc.Max, inactive: int64(cc.Inactive / time.Second), files: map[string]*cachedFile{}}
		s.caches[cc] = c
	}
	return c
}

// openUncached is ngx_open_cached_file without a cache.
func (s *fileState) openUncached(r *Request, name []byte, of *openInfo, fi *OpenFileInfo) bool {
	if of.testOnly {
		if !s.fileInfo(r, name, of) {
			return false
		}
		of.fill(&s.st)
		return true
	}
	if !s.openAndStat(r, name, of) {
		return false
	}
	if of.fd >= 0 {
		o := s.newOwned(of.fd, name[:len(name)-1])
		fi.own = o
		mr := r.Main
		mr.files = append(mr.files, o)
	}
	return true
}

// fileInfo is ngx_file_info_wrapper: stat, or with disable_symlinks an
// open through the checked walk and fstat. The result is in s.st.
func (s *fileState) fileInfo(r *Request, name []byte, of *openInfo) bool {
	if of.symlinks == SymlinksOff {
		if e := fstatat(unix.AT_FDCWD, name, &s.st, 0); e != 0 {
			of.err, of.failed = e, "stat()"
			return false
		}
		return true
	}
	fd := s.openWrapper(r, name, of, unix.O_RDONLY|unix.O_NONBLOCK)
	if fd < 0 {
		return false
	}
	ok := true
	if err := unix.Fstat(fd, &s.st); err != nil {
		of.err, of.failed = errnoOf(err), "fstat()"
		ok = false
	}
	unix.Close(fd)
	return ok
}

// openAndStat is ngx_open_and_stat_file: with a descriptor already open
// (a cache retest) the file is only stat'ed and kept when it is the same
// inode; with OpenTestDir a directory answers from the stat; otherwise
// the file is opened and fstat'ed. Directories are not kept open.
func (s *fileState) openAndStat(r *Request, name []byte, of *openInfo) bool {
	if of.fd >= 0 {
		if !s.fileInfo(r, name, of) {
			of.fd = -1
			return false
		}
		if of.uniq == s.st.Ino {
			of.fill(&s.st)
			return true
		}
	} else if of.testDir {
		if !s.fileInfo(r, name, of) {
			of.fd = -1
			return false
		}
		if s.st.Mode&unix.S_IFMT == unix.S_IFDIR {
			of.fill(&s.st)
			return true
		}
	}
	fd := s.openWrapper(r, name, of, unix.O_RDONLY|unix.O_NONBLOCK)
	if fd < 0 {
		of.fd = -1
		return false
	}
	if err := unix.Fstat(fd, &s.st); err != nil {
		r.Logf(errlog.Crit, "fstat() \"%s\" failed %s", name[:len(name)-1], errlog.Errno(err))
		unix.Close(fd)
		of.fd = -1
		return false
	}
	if s.st.Mode&unix.S_IFMT == unix.S_IFDIR {
		unix.Close(fd)
		of.fd = -1
	} else {
		of.fd = fd
	}
	of.fill(&s.st)
	return true
}

// openWrapper is ngx_open_file_wrapper: a plain open, or with
// disable_symlinks a walk from "/" (or the "from=" directory) that opens
// each component relative to the previous one without following symbolic
// links (on), or only those owned by the target's owner (if_not_owner).
func (s *fileState) openWrapper(r *Request, name []byte, of *openInfo, mode int) int {
	if of.symlinks == SymlinksOff {
		fd, e := openat(unix.AT_FDCWD, name, mode)
		if e != 0 {
			of.err, of.failed = e, "open()"
			return -1
		}
		return fd
	}
	p := name[:len(name)-1]
	end := len(p)
	i := 0
	atFd := unix.AT_FDCWD
	atName := 0
	switch {
	case of.symlinksAt > 0:
		s.comp = append(append(s.comp[:0], p[:of.symlinksAt]...), 0)
		fd, e := openat(unix.AT_FDCWD, s.comp, unix.O_PATH|unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NONBLOCK)
		if e != 0 {
			of.err, of.failed = e, "open()"
			return -1
		}
		atFd, atName = fd, of.symlinksAt
		i = of.symlinksAt + 1
	case end > 0 && p[0] == '/':
		fd, e := openat(unix.AT_FDCWD, []byte("/\x00"), unix.O_PATH|unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NONBLOCK)
		if e != 0 {
			of.err, of.failed = e, "openat()"
			return -1
		}
		atFd, atName = fd, 1
		i = 1
	}
	closeAt := func() {
		if atFd != unix.AT_FDCWD {
			if err := unix.Close(atFd); err != nil {
				r.Logf(errlog.Alert, "close() \"%s\" failed %s", p[:atName], errlog.Errno(err))
			}
		}
	}
	for {
		j := i
		for j < end && p[j] != '/' {
			j++
		}
		if j == end {
			break
		}
		if j == i {
			i++
			continue
		}
		s.comp = append(append(s.comp[:0], p[i:j]...), 0)
		var fd int
		var e syscall.Errno
		if of.symlinks == SymlinksNotOwner {
			fd, e = s.openatOwner(r, atFd, s.comp, unix.O_PATH|unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NONBLOCK)
		} else {
			fd, e = openat(atFd, s.comp, unix.O_PATH|unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NONBLOCK|unix.O_NOFOLLOW)
		}
		if e != 0 {
			of.err, of.failed = e, "openat()"
			closeAt()
			return -1
		}
		closeAt()
		atFd, atName = fd, j
		i = j + 1
	}
	var fd int
	var e syscall.Errno
	switch {
	case i == end:
		// a trailing slash: the last component must be a directory.
		fd, e = openat(atFd, []byte(".\x00"), mode)
	case of.symlinks == SymlinksNotOwner:
		s.comp = append(append(s.comp[:0], p[i:]...), 0)
		fd, e = s.openatOwner(r, atFd, s.comp, mode)
	default:
		s.comp = append(append(s.comp[:0], p[i:]...), 0)
		fd, e = openat(atFd, s.comp, mode|unix.O_NOFOLLOW)
	}
	if e != 0 {
		of.err, of.failed = e, "openat()"
		fd = -1
	}
	closeAt()
	return fd
}

// openatOwner opens name relative to atFd and fails with ELOOP when what
// was opened is not owned by the owner of the directory entry, which
// catches a symbolic link to someone else's file (ngx_openat_file_owner).
func (s *fileState) openatOwner(r *Request, atFd int, name []byte, mode int) (int, syscall.Errno) {
	fd, e := openat(atFd, name, mode)
	if e != 0 {
		return -1, e
	}
	var at, st unix.Stat_t
	if e = fstatat(atFd, name, &at, unix.AT_SYMLINK_NOFOLLOW); e == 0 {
		if err := unix.Fstat(fd, &st); err != nil {
			e = errnoOf(err)
		} else if st.Uid != at.Uid {
			e = unix.ELOOP
		}
	}
	if e != 0 {
		unix.Close(fd)
		return -1, e
	}
	return fd, 0
}

// fstatat and openat take NUL-terminated names and do not allocate.
func fstatat(dirfd int, name []byte, st *unix.Stat_t, flags int) syscall.Errno {
	_, _, e := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(&name[0])),
		uintptr(unsafe.Pointer(st)), uintptr(flags), 0, 0)
	return e
}

func openat(dirfd int, name []byte, flags int) (int, syscall.Errno) {
	for {
		fd, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&name[0])),
			uintptr(flags|unix.O_CLOEXEC), 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(fd), 0
	}
}

func errnoOf(err error) syscall.Errno {
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return 0
}

// ofCache is one open_file_cache (one per directive, per loop): entries
// by name with nginx's counters, and an expiry queue, most recently used
// first (ngx_open_file_cache_t).
type ofCache struct {
	max      int
	inactive int64
	current  int
	files    map[string]*cachedFile
	// head is the most recently used entry, tail the least.
	head, tail *cachedFile
}

// cachedFile is ngx_cached_open_file_t.
type cachedFile struct {
	name   string
	fd     int
	file   File // what response buffers refer to
	uniq   uint64
	mtime  int64
	size   int64
	err    syscall.Errno
	failed string

	isDir, isFile, isLink, isExec bool

	symlinks, symlinksAt int

	created, accessed int64
	uses, count       int
	// close marks an entry gone from the cache, freed when its last
	// user is done.
	close bool

	prev, next *cachedFile
	queued     bool
}

func (f *cachedFile) bufFile() *File {
	if f.fd < 0 {
		return nil
	}
	if f.file.name == nil {
		f.file.name = []byte(f.name)
	}
	f.file.fd = f.fd
	return &f.file
}

// closeFD closes the entry's descriptor; log (nil: none) reports a
// failure.
func (f *cachedFile) closeFD(log *errlog.Log) {
	if f.fd < 0 {
		return
	}
	if err := unix.Close(f.fd); err != nil && log != nil {
		log.Logf(errlog.Alert, "close() \"%s\" failed %s", f.name, errlog.Errno(err))
	}
	f.fd = -1
	f.file.fd = -1
}

func (c *ofCache) unqueue(f *cachedFile) {
	if !f.queued {
		return
	}
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
	f.prev, f.next, f.queued = nil, nil, false
}

func (c *ofCache) pushFront(f *cachedFile) {
	f.prev, f.next, f.queued = nil, c.head, true
	if c.head != nil {
		c.head.prev = f
	} else {
		c.tail = f
	}
	c.head = f
}

func (c *ofCache) remove(f *cachedFile) {
	c.unqueue(f)
	if c.files[f.name] == f {
		delete(c.files, f.name)
	}
	c.current--
}

// open is ngx_open_cached_file with a cache: a fresh entry (younger than
// open_file_cache_valid) answers without a system call; an older one is
// re-checked with stat and kept when it is still the same inode; errors
// are cached only with open_file_cache_errors.
func (c *ofCache) open(s *fileState, r *Request, name []byte, of *openInfo, fi *OpenFileInfo) bool {
	now := r.Conn.loopNow().Unix()
	key := name[:len(name)-1]
	file := c.files[string(key)]
	failed := func() bool {
		if file != nil {
			c.remove(file)
			if file.count == 0 {
				file.closeFD(r.Log())
			} else {
				file.close = true
			}
		}
		if of.fd >= 0 {
			unix.Close(of.fd)
			of.fd = -1
		}
		return false
	}
	const (
		stCreate = iota
		stAddEvent
		stUpdate
	)
	next := stCreate
	if file != nil {
		file.uses++
		c.unqueue(file)
		switch {
		case file.fd < 0 && file.err == 0 && !file.isDir:
			// not used often enough to be kept open.
			if !s.openAndStat(r, name, of) && (of.err == 0 || !of.errors) {
				return failed()
			}
			next = stAddEvent
		case now-file.created < of.valid && file.symlinks == of.symlinks && file.symlinksAt == of.symlinksAt:
			if file.err == 0 {
				of.fd = file.fd
				of.uniq, of.mtime, of.size = file.uniq, file.mtime, file.size
				of.isDir, of.isFile, of.isLink, of.isExec = file.isDir, file.isFile, file.isLink, file.isExec
				if !file.isDir {
					file.count++
				}
			} else {
				of.err = file.err
				of.failed = "open()"
				if file.symlinks != SymlinksOff {
					of.failed = "openat()"
				}
			}
			return c.found(r, file, of, fi, now)
		default:
			if file.isDir {
				// a directory rarely turns into a file: one stat.
				of.testDir = true
			}
			of.fd, of.uniq = file.fd, file.uniq
			if !s.openAndStat(r, name, of) && (of.err == 0 || !of.errors) {
				return failed()
			}
			next = -1
			switch {
			case of.isDir:
				if file.isDir || file.err != 0 {
					next = stUpdate
				}
			case of.err == 0:
				if file.isDir || file.err != 0 {
					next = stAddEvent
				} else if of.uniq == file.uniq {
					next = stUpdate
				}
			default:
				if file.err != 0 || file.isDir {
					next = stUpdate
				}
			}
			if next < 0 {
				// the file changed or went away.
				if file.count == 0 {
					if file.fd != of.fd {
						file.closeFD(r.Log())
					}
					next = stAddEvent
				} else {
					c.remove(file)
					file.close = true
					if file.fd == of.fd {
						// still ours: the new entry reopens.
						of.fd = -1
					}
					file = nil
					next = stCreate
				}
			}
		}
	} else {
		if !s.openAndStat(r, name, of) && (of.err == 0 || !of.errors) {
			return false
		}
	}
	if next == stCreate {
		if c.current >= c.max {
			c.expire(r.Log(), 0, now)
		}
		file = &cachedFile{name: string(key), fd: -1, uses: 1}
		c.files[file.name] = file
		c.current++
	}
	// update:
	if file.fd != of.fd && file.fd >= 0 {
		file.closeFD(r.Log())
	}
	file.fd = of.fd
	file.err = of.err
	file.failed = of.failed
	file.symlinks, file.symlinksAt = of.symlinks, of.symlinksAt
	if of.err == 0 {
		file.uniq, file.mtime, file.size = of.uniq, of.mtime, of.size
		file.close = false
		file.isDir, file.isFile, file.isLink, file.isExec = of.isDir, of.isFile, of.isLink, of.isExec
		if !of.isDir {
			file.count++
		}
	}
	file.created = now
	return c.found(r, file, of, fi, now)
}

// found finishes a lookup: the entry moves to the head of the queue and a
// request using its descriptor releases it once its output is sent.
func (c *ofCache) found(r *Request, file *cachedFile, of *openInfo, fi *OpenFileInfo, now int64) bool {
	file.accessed = now
	c.pushFront(file)
	if of.err != 0 {
		return false
	}
	if !of.isDir {
		fi.cached = file
		minUses := of.minUses
		mr := r.Main
		loop, log := r.Conn.srv.loop, r.Log()
		mr.AddCleanup(func() {
			// the request may be gone when the release runs: it
			// keeps only the loop and the log.
			mr.ReleaseAfterSend(func() { c.release(log, file, minUses, loop.Now().Unix()) })
		})
	}
	return true
}

// release is ngx_open_file_cleanup: one user fewer; a rarely used file is
// closed, and one or two inactive entries expire.
func (c *ofCache) release(log *errlog.Log, file *cachedFile, minUses int, now int64) {
	file.count--
	c.closeCached(log, file, minUses, now)
	c.expire(log, 1, now)
}

// closeCached is ngx_close_cached_file.
func (c *ofCache) closeCached(log *errlog.Log, file *cachedFile, minUses int, now int64) {
	if !file.close {
		file.accessed = now
		c.unqueue(file)
		c.pushFront(file)
		if file.uses >= minUses || file.count > 0 {
			return
		}
	}
	if file.count > 0 {
		return
	}
	file.closeFD(log)
}

// expire is ngx_expire_old_cached_files: n == 0 drops the least recently
// used entry by force and up to two inactive ones, n == 1 up to two
// inactive ones.
func (c *ofCache) expire(log *errlog.Log, n int, now int64) {
	for n < 3 {
		file := c.tail
		if file == nil {
			return
		}
		if n != 0 && now-file.accessed <= c.inactive {
			return
		}
		n++
		c.remove(file)
		if file.err == 0 && !file.isDir {
			file.close = true
			c.closeCached(log, file, 0, now)
		}
	}
}

// flush drops every entry (the configuration went away); descriptors in
// use close when their last request is done.
func (c *ofCache) flush() {
	for c.tail != nil {
		file := c.tail
		c.remove(file)
		file.close = true
		if file.count == 0 {
			file.closeFD(nil)
		}
	}
}
