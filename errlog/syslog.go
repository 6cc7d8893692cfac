package errlog

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The names error_log's syslog: parameters accept, in their numeric order.
var (
	syslogFacilities = []string{"kern", "user", "mail", "daemon", "auth", "intern", "lpr", "news", "uucp",
		"clock", "authpriv", "ftp", "ntp", "audit", "alert", "cron", "local0",
		"local1", "local2", "local3", "local4", "local5", "local6", "local7"}
	// syslog severities are spelt as nginx.conf spells levels.
	syslogSeverities = []string{"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"}
)

// syslogPeer is where a "syslog:" error log sends its lines: one datagram
// per line, prefixed with an RFC 3164 header.
type syslogPeer struct {
	network, addr string
	facility      int
	// severity is the severity= parameter (info by default), which access
	// logs use; error logs send each line at its own level.
	severity   int
	tag        string
	nohostname bool
	hostname   string

	mu   sync.Mutex // one line at a time, as the socket is shared by loops
	conn net.Conn
	raw  syscall.RawConn
	// closed is set once the configuration the peer belongs to is gone:
	// a late line is dropped, not sent on a new socket nothing closes.
	closed bool
}

// OpenSyslog parses the part of an error_log argument after "syslog:"
// ("server=addr[:port],facility=...,severity=...,tag=...,nohostname") as
// nginx does and returns a File that sends each line it is given to that
// server. The error, if any, is nginx's configuration message. The socket
// is opened on the first line written.
func OpenSyslog(args string) (*File, error) {
	p := &syslogPeer{facility: -1, tag: ""}
	severity, haveTag := -1, false
	for _, a := range strings.Split(args, ",") {
		switch {
		case strings.HasPrefix(a, "server="):
			if p.addr != "" {
				return nil, fmt.Errorf("duplicate syslog \"server\"")
			}
			if err := p.parseServer(a[len("server="):]); err != nil {
				return nil, err
			}
		case strings.HasPrefix(a, "facility="):
			if p.facility >= 0 {
				return nil, fmt.Errorf("duplicate syslog \"facility\"")
			}
			p.facility = indexOf(syslogFacilities, a[len("facility="):])
			if p.facility < 0 {
				return nil, fmt.Errorf("unknown syslog facility \"%s\"", a[len("facility="):])
			}
		case strings.HasPrefix(a, "severity="):
			if severity >= 0 {
				return nil, fmt.Errorf("duplicate syslog \"severity\"")
			}
			severity = indexOf(syslogSeverities, a[len("severity="):])
			if severity < 0 {
				return nil, fmt.Errorf("unknown syslog severity \"%s\"", a[len("severity="):])
			}
		case strings.HasPrefix(a, "tag="):
			if haveTag {
				return nil, fmt.Errorf("duplicate syslog \"tag\"")
			}
			tag := a[len("tag="):]
			if len(tag) > 32 {
				return nil, fmt.Errorf("syslog tag length exceeds 32")
			}
			for i := 0; i < len(tag); i++ {
				c := tag[i] | 0x20
				if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || tag[i] == '_') {
					return nil, fmt.Errorf("syslog \"tag\" only allows alphanumeric characters and underscore")
				}
			}
			p.tag, haveTag = tag, true
		case a == "nohostname":
			p.nohostname = true
		default:
			return nil, fmt.Errorf("unknown syslog parameter \"%s\"", a)
		}
	}
	if p.addr == "" {
		return nil, fmt.Errorf("no syslog server specified")
	}
	if p.facility < 0 {
		p.facility = 23 // local7
	}
	p.severity = severity
	if p.severity < 0 {
		p.severity = 6 // info
	}
	if !haveTag {
		p.tag = "nginx"
	}
	if h, err := os.Hostname(); err == nil {
		p.hostname = strings.ToLower(h)
	}
	return &File{path: "syslog:" + args, syslog: p}, nil
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// parseServer reads server='s value: a unix socket path or an address
// with port 514 by default; a host name is resolved now, its first
// address used, as nginx does at configuration time.
func (p *syslogPeer) parseServer(s string) error {
	if path, ok := strings.CutPrefix(s, "unix:"); ok {
		if path == "" {
			return fmt.Errorf("no path in the unix domain socket in syslog server \"%s\"", s)
		}
		p.network, p.addr = "unixgram", path
		return nil
	}
	host, port := s, "514"
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return fmt.Errorf("invalid host in syslog server \"%s\"", s)
		}
		host = s[1:end]
		if rest := s[end+1:]; rest != "" {
			if rest[0] != ':' {
				return fmt.Errorf("invalid host in syslog server \"%s\"", s)
			}
			port = rest[1:]
		}
	} else if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, port = s[:i], s[i+1:]
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("invalid port in syslog server \"%s\"", s)
	}
	if host == "" {
		return fmt.Errorf("no host in syslog server \"%s\"", s)
	}
	if _, err := netip.ParseAddr(host); err != nil {
		addrs, err := net.LookupHost(host)
		if err != nil || len(addrs) == 0 {
			return fmt.Errorf("host not found in syslog server \"%s\"", s)
		}
		host = addrs[0]
	}
	p.network, p.addr = "udp", net.JoinHostPort(host, port)
	return nil
}

// header appends the syslog PRI and HEADER of a message at severity sev
// (ngx_syslog_add_header).
func (p *syslogPeer) header(b []byte, sev int) []byte {
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(p.facility*8+sev), 10)
	b = append(b, '>')
	b = time.Now().AppendFormat(b, "Jan _2 15:04:05")
	b = append(b, ' ')
	if !p.nohostname {
		b = append(b, p.hostname...)
		b = append(b, ' ')
	}
	b = append(b, p.tag...)
	return append(b, ": "...)
}

// send writes one error log line (with its trailing newline) as a syslog
// datagram.
func (p *syslogPeer) send(level Level, line []byte) {
	if len(line) > 0 && line[len(line)-1] == '\n' {
		line = line[:len(line)-1]
	}
	sev := int(level) - 1
	if sev < 0 {
		sev = 0
	}
	b := p.header(make([]byte, 0, len(line)+64), sev)
	// nginx's syslog messages are at most 4096 bytes, header included.
	if room := 4096 - len(b); len(line) > room {
		line = line[:room]
	}
	b = append(b, line...)
	p.write(b)
}

// cycleLog is the running configuration's error log, where failed
// syslog sends are told (nginx's ngx_cycle->log).
var cycleLog atomic.Pointer[Log]

// SetCycleLog names the error log of the configuration that now serves.
func SetCycleLog(l *Log) { cycleLog.Store(l) }

// sendFailed logs a failed socket call of a syslog peer on the cycle's
// error log, at the level nginx's ngx_connection_error gives the error,
// to every sink but the syslog ones.
func sendFailed(call string, err error) {
	l := cycleLog.Load()
	if l == nil {
		return
	}
	level := Alert
	var en syscall.Errno
	if errors.As(err, &en) {
		switch en {
		case syscall.ECONNRESET, syscall.EPIPE, syscall.ENOTCONN, syscall.ETIMEDOUT, syscall.ECONNREFUSED,
			syscall.ENETDOWN, syscall.ENETUNREACH, syscall.EHOSTDOWN, syscall.EHOSTUNREACH:
			if call == "send()" {
				level = Error
			}
		}
	}
	if !l.Enabled(level) {
		return
	}
	l.Write(level, Entry{noSyslog: true}, func(b []byte) []byte {
		return append(append(append(b, call...), " failed "...), Errno(err)...)
	})
}

// write sends a datagram without waiting, as nginx's non-blocking
// socket does: a receiver whose queue is full (EAGAIN) loses the line
// rather than stall the loops. A failed send drops the socket so the
// next message reconnects.
func (p *syslogPeer) write(b []byte) (int, error) {
	n, call, err := p.writeLocked(b)
	if err != nil && call != "" {
		sendFailed(call, err)
	}
	return n, err
}

// writeLocked is write under the peer's lock; call names the socket call
// that failed, for the log.
func (p *syslogPeer) writeLocked(b []byte) (int, string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, "", net.ErrClosed
	}
	if p.conn == nil {
		c, err := net.Dial(p.network, p.addr)
		if err != nil {
			return 0, "connect()", err
		}
		raw, err := c.(syscall.Conn).SyscallConn()
		if err != nil {
			c.Close()
			return 0, "", err
		}
		p.conn, p.raw = c, raw
	}
	var n int
	var werr error
	err := p.raw.Write(func(fd uintptr) bool {
		n, werr = syscall.Write(int(fd), b)
		return true // never wait for the socket
	})
	if err == nil {
		err = werr
	}
	if n < 0 {
		n = 0
	}
	if err != nil && err != syscall.EAGAIN {
		p.conn.Close()
		p.conn, p.raw = nil, nil
		return n, "send()", err
	}
	return n, "", err
}

// SendSyslog sends msg, an access log line without its newline, as one
// datagram at the severity= of the "syslog:" log f, whole (nginx does
// not cut access log lines). It returns the bytes sent of the datagram's
// length.
func (f *File) SendSyslog(msg []byte) (n, size int, err error) {
	p := f.syslog
	b := p.header(make([]byte, 0, len(msg)+64), p.severity)
	b = append(b, msg...)
	n, err = p.write(b)
	return n, len(b), err
}

func (p *syslogPeer) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.conn != nil {
		p.conn.Close()
		p.conn, p.raw = nil, nil
	}
}
