package log

import (
	"strconv"

	"gresty/conf"
	"gresty/core"
	"gresty/http"
)

// Escaping modes of a log_format (escape=).
const (
	escapeDefault = iota
	escapeJSON
	escapeNone
)

// opKind is what one piece of a format writes.
type opKind uint8

const (
	opLiteral opKind = iota
	opVariable
	// the variables the log module computes itself, as nginx's log ops
	// do (these bypass the variable machinery and its caching).
	opPipe
	opTimeLocal
	opTimeISO8601
	opMsec
	opRequestTime
	opStatus
	opBytesSent
	opBodyBytesSent
	opRequestLength
)

var builtinOps = map[string]opKind{
	"pipe":            opPipe,
	"time_local":      opTimeLocal,
	"time_iso8601":    opTimeISO8601,
	"msec":            opMsec,
	"request_time":    opRequestTime,
	"status":          opStatus,
	"bytes_sent":      opBytesSent,
	"body_bytes_sent": opBodyBytesSent,
	"request_length":  opRequestLength,
}

type op struct {
	kind   opKind
	lit    string
	varIdx int
}

// Format is one log_format: its name, escaping and compiled pieces.
type Format struct {
	Name   string
	escape int
	ops    []op
	// compiled is false for the predefined combined format until an
	// access_log uses it (nginx compiles it only then).
	compiled bool
}

// combinedText is the predefined "combined" format.
const combinedText = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`

// compileFormat parses the format strings args, as
// ngx_http_log_compile_format: an optional leading escape=, then literal
// text and $name or ${name} variables. Errors are reported at d.
func compileFormat(p *core.Parser, cf *http.Conf, d *conf.Directive, f *Format, args []string) error {
	if len(args) > 0 && len(args[0]) >= 7 && args[0][:7] == "escape=" {
		switch v := args[0][7:]; v {
		case "json":
			f.escape = escapeJSON
		case "none":
			f.escape = escapeNone
		case "default":
		default:
			return p.Errorf(d, "unknown log format escaping \"%s\"", v)
		}
		args = args[1:]
	}
	for _, s := range args {
		i := 0
		for i < len(s) {
			start := i
			if s[i] == '$' {
				i++
				if i == len(s) {
					return p.Errorf(d, "invalid parameter \"%s\"", s[start:])
				}
				bracket := false
				if s[i] == '{' {
					bracket = true
					i++
					if i == len(s) {
						return p.Errorf(d, "invalid parameter \"%s\"", s[start:])
					}
				}
				nameStart := i
				for ; i < len(s); i++ {
					ch := s[i]
					if ch == '}' && bracket {
						bracket = false
						break
					}
					if ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '_' {
						continue
					}
					break
				}
				name := s[nameStart:i]
				if i < len(s) && s[i] == '}' && nameStart > 0 && s[nameStart-1] == '{' {
					i++
				}
				if bracket {
					return p.Errorf(d, "the closing bracket in \"%s\" variable is missing", name)
				}
				if name == "" {
					return p.Errorf(d, "invalid parameter \"%s\"", s[start:])
				}
				if k, ok := builtinOps[name]; ok {
					f.ops = append(f.ops, op{kind: k})
					continue
				}
				idx, err := cf.VariableIndex(name)
				if err != nil {
					return err
				}
				f.ops = append(f.ops, op{kind: opVariable, varIdx: idx})
				continue
			}
			i++
			for i < len(s) && s[i] != '$' {
				i++
			}
			f.ops = append(f.ops, op{kind: opLiteral, lit: s[start:i]})
		}
	}
	f.compiled = true
	return nil
}

// appendLine appends the line f makes for r (without the newline) to dst.
func (f *Format) appendLine(dst []byte, r *http.Request, ls *loopState) []byte {
	for i := range f.ops {
		o := &f.ops[i]
		switch o.kind {
		case opLiteral:
			dst = append(dst, o.lit...)
		case opVariable:
			v, ok := r.IndexedVar(o.varIdx)
			switch f.escape {
			case escapeDefault:
				if !ok {
					dst = append(dst, '-')
				} else {
					dst = appendEscaped(dst, v)
				}
			case escapeJSON:
				if ok {
					dst = appendJSON(dst, v)
				}
			default:
				if ok {
					dst = append(dst, v...)
				}
			}
		case opPipe:
			if r.Pipelined() {
				dst = append(dst, 'p')
			} else {
				dst = append(dst, '.')
			}
		case opTimeLocal:
			dst = append(dst, ls.times(r).local...)
		case opTimeISO8601:
			dst = append(dst, ls.times(r).iso...)
		case opMsec:
			dst = appendMsec(dst, r.Conn.Loop().Now().UnixMilli())
		case opRequestTime:
			ms := r.Conn.Loop().Now().UnixMilli() - r.StartTime.UnixMilli()
			dst = appendMsec(dst, max(ms, 0))
		case opStatus:
			st := r.LogStatus()
			if st < 100 {
				dst = append(dst, '0')
				if st < 10 {
					dst = append(dst, '0')
				}
			}
			dst = strconv.AppendInt(dst, int64(st), 10)
		case opBytesSent:
			dst = strconv.AppendInt(dst, r.BytesSent, 10)
		case opBodyBytesSent:
			dst = strconv.AppendInt(dst, max(r.BodyBytesSent, 0), 10)
		case opRequestLength:
			dst = strconv.AppendInt(dst, r.RequestLength, 10)
		}
	}
	return dst
}

// appendMsec formats milliseconds as seconds with three decimals, as
// nginx's "%T.%03M".
func appendMsec(dst []byte, ms int64) []byte {
	dst = strconv.AppendInt(dst, ms/1000, 10)
	f := ms % 1000
	return append(dst, '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
}

const hexUpper = "0123456789ABCDEF"

// needsEscape tells which bytes the default escaping writes as \xXX:
// control characters, '"', '\' and everything from DEL up.
func needsEscape(c byte) bool {
	return c < 0x20 || c == '"' || c == '\\' || c >= 0x7f
}

func appendEscaped(dst, v []byte) []byte {
	for _, c := range v {
		if needsEscape(c) {
			dst = append(dst, '\\', 'x', hexUpper[c>>4], hexUpper[c&15])
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

// appendJSON is ngx_escape_json: '"' and '\' get a backslash, the usual
// control characters their short escapes, other control characters
// \u00XX; bytes from 0x80 up pass unchanged.
func appendJSON(dst, v []byte) []byte {
	for _, c := range v {
		if c > 0x1f {
			if c == '\\' || c == '"' {
				dst = append(dst, '\\')
			}
			dst = append(dst, c)
			continue
		}
		switch c {
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', '0'+c>>4, hexUpper[c&15])
		}
	}
	return dst
}

// logTimes are the loop's cached $time_local and $time_iso8601 for one
// second, as nginx caches them per second.
type logTimes struct {
	sec        int64
	local, iso []byte
}

func (ls *loopState) times(r *http.Request) *logTimes {
	now := r.Conn.Loop().Now()
	if sec := now.Unix(); sec != ls.t.sec || ls.t.local == nil {
		ls.t.sec = sec
		ls.t.local = now.AppendFormat(ls.t.local[:0], "02/Jan/2006:15:04:05 -0700")
		ls.t.iso = now.AppendFormat(ls.t.iso[:0], "2006-01-02T15:04:05-07:00")
	}
	return &ls.t
}
