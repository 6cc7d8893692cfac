package log

import (
	"time"

	"golang.org/x/sys/unix"
)

// Without open_log_file_cache nginx opens a log named with variables for
// every request. A loop keeps such descriptors for a second instead, and
// checks after that that the name still leads to the same file, so a
// rotated log is reopened within a second.
var noCacheConf = fileCacheConf{max: 16, inactive: time.Second, valid: time.Second, minUses: 1}

// fdCache is a loop's descriptors of logs named with variables, by path.
type fdCache struct {
	entries   map[string]*cachedFD
	lastSweep time.Time
}

// cachedFD is a log name's entry; fd is -1 while the name was used fewer
// than min_uses times (nginx's cache keeps such an entry, counted against
// max, without a descriptor).
type cachedFD struct {
	fd       int
	dev, ino uint64
	checked  time.Time
	used     time.Time
	uses     int
}

// open returns a descriptor for appending to path, from the cache while
// it is valid (open_log_file_cache valid=) and the name still leads to it.
// keep is false for a descriptor the caller closes after its write: the
// name was not used min_uses times yet.
func (c *fdCache) open(path string, cc *fileCacheConf, now time.Time) (fd int, keep bool, err error) {
	if cc == nil {
		cc = &noCacheConf
	}
	if now.Sub(c.lastSweep) >= time.Second {
		c.lastSweep = now
		for p, e := range c.entries {
			if now.Sub(e.used) > cc.inactive {
				c.drop(p, e)
			}
		}
	}
	uses := 1
	if e := c.entries[path]; e != nil && e.fd >= 0 {
		if now.Sub(e.checked) < cc.valid {
			e.used = now
			return e.fd, true, nil
		}
		var st unix.Stat_t
		if unix.Stat(path, &st) == nil && st.Dev == e.dev && st.Ino == e.ino {
			e.checked, e.used = now, now
			return e.fd, true, nil
		}
		c.drop(path, e)
	} else if e != nil {
		uses = e.uses + 1
		delete(c.entries, path)
	}
	fd, err = unix.Open(path, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return -1, false, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, false, err
	}
	for len(c.entries) >= cc.max {
		var oldest string
		var oe *cachedFD
		for p, e := range c.entries {
			if oe == nil || e.used.Before(oe.used) {
				oldest, oe = p, e
			}
		}
		c.drop(oldest, oe)
	}
	keep = uses >= cc.minUses
	e := &cachedFD{fd: -1, dev: st.Dev, ino: st.Ino, checked: now, used: now, uses: uses}
	if keep {
		e.fd = fd
	}
	c.entries[path] = e
	return fd, keep, nil
}

func (c *fdCache) drop(path string, e *cachedFD) {
	if e.fd >= 0 {
		unix.Close(e.fd)
	}
	delete(c.entries, path)
}

// closeAll closes every cached descriptor.
func (c *fdCache) closeAll() {
	for p, e := range c.entries {
		c.drop(p, e)
	}
}
