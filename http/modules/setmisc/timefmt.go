package setmisc

import (
	"strconv"
	"time"

	"gresty/http"
)

// localToday is the loop's current local date, "yyyy-mm-dd".
func localToday(r *http.Request, _ [][]byte) ([]byte, int) {
	return r.Conn.Loop().Now().Local().AppendFormat(r.Alloc(10)[:0], "2006-01-02"), 0
}

// gmt is the zone gmtime gives, named as glibc names it.
var gmt = time.FixedZone("GMT", 0)

func formattedGMTTime(r *http.Request, a [][]byte) ([]byte, int) {
	return formattedTime(r, a[0], r.Conn.Loop().Now().In(gmt))
}

func formattedLocalTime(r *http.Request, a [][]byte) ([]byte, int) {
	return formattedTime(r, a[0], r.Conn.Loop().Now().Local())
}

// fmtDateLen is the original's buffer for a formatted time: strftime
// results that do not fit fail.
const fmtDateLen = 256

// formattedTime formats t with the strftime format: empty for an empty
// format, a 500 for an empty or too long result, as strftime reports
// both as 0.
func formattedTime(r *http.Request, format []byte, t time.Time) ([]byte, int) {
	if len(format) == 0 {
		return nil, 0
	}
	// the format is a C string there: it ends at a NUL.
	for i, c := range format {
		if c == 0 {
			format = format[:i]
			break
		}
	}
	out := strftime(r.Alloc(fmtDateLen)[:0], format, t)
	if len(out) == 0 || len(out) >= fmtDateLen {
		return nil, 500
	}
	return out, 0
}

var (
	shortDays   = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	longDays    = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	shortMonths = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	longMonths  = [...]string{"January", "February", "March", "April", "May", "June", "July", "August",
		"September", "October", "November", "December"}
)

// strftime is glibc's strftime in the C locale, as nginx's libc runs it:
// the conversions, the '_', '-', '0', '^' and '#' flags, a field width,
// and the E and O modifiers where glibc takes them (no effect in that
// locale). A conversion glibc does not know is copied as written.
func strftime(dst, format []byte, t time.Time) []byte {
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			dst = append(dst, c)
			continue
		}
		sp := spec{start: i, width: -1}
		i++
	flags:
		for ; i < len(format); i++ {
			switch format[i] {
			case '_', '-', '0':
				sp.pad = format[i]
			case '^':
				sp.upper = true
			case '#':
				sp.swap = true
			default:
				break flags
			}
		}
		for ; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
			if sp.width < 0 {
				sp.width = 0
			}
			sp.width = sp.width*10 + int(format[i]-'0')
		}
		if i < len(format) && (format[i] == 'E' || format[i] == 'O') {
			sp.modifier = format[i]
			i++
		}
		if i == len(format) {
			// a directive cut short is copied as it is.
			return sp.text(dst, string(format[sp.start:]), sp.upper, false)
		}
		dst = sp.convert(dst, format[sp.start:i+1], t)
	}
	return dst
}

// spec is one parsed conversion.
type spec struct {
	start    int
	pad      byte // '_', '-', '0' or 0
	upper    bool // '^'
	swap     bool // '#'
	width    int  // -1 when none
	modifier byte // 'E', 'O' or 0
}

// modifierOK lists the conversions glibc accepts with E and with O.
var modifierOK = map[byte]string{
	'E': "cCxXyYntzZpPsrRTu%",
	'O': "bBhCdeHIjklmMSuUVwWyGgntzZpPsrRT%",
}

func (sp *spec) convert(dst, raw []byte, t time.Time) []byte {
	conv := raw[len(raw)-1]
	if sp.modifier != 0 && !containsByte(modifierOK[sp.modifier], conv) {
		// glibc takes '#' for the month names before it rejects the
		// modifier, and upper-cases the copy then.
		upper := sp.upper || sp.swap && (conv == 'b' || conv == 'B' || conv == 'h')
		return sp.text(dst, string(raw), upper, false)
	}
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	switch conv {
	case 'a':
		return sp.text(dst, shortDays[t.Weekday()], sp.upper || sp.swap, false)
	case 'A':
		return sp.text(dst, longDays[t.Weekday()], sp.upper || sp.swap, false)
	case 'b', 'h':
		return sp.text(dst, shortMonths[mo-1], sp.upper || sp.swap, false)
	case 'B':
		return sp.text(dst, longMonths[mo-1], sp.upper || sp.swap, false)
	case 'c':
		return sp.sub(dst, "%a %b %e %H:%M:%S %Y", t)
	case 'C':
		return sp.number(dst, floorDiv(y, 100), 2, '0')
	case 'd':
		return sp.number(dst, d, 2, '0')
	case 'D', 'x':
		return sp.sub(dst, "%m/%d/%y", t)
	case 'e':
		return sp.number(dst, d, 2, '_')
	case 'F':
		return sp.sub(dst, "%Y-%m-%d", t)
	case 'g':
		iy, _ := t.ISOWeek()
		return sp.number(dst, ((iy%100)+100)%100, 2, '0')
	case 'G':
		iy, _ := t.ISOWeek()
		return sp.number(dst, iy, 1, '0')
	case 'H':
		return sp.number(dst, h, 2, '0')
	case 'I':
		return sp.number(dst, hour12(h), 2, '0')
	case 'j':
		return sp.number(dst, t.YearDay(), 3, '0')
	case 'k':
		return sp.number(dst, h, 2, '_')
	case 'l':
		return sp.number(dst, hour12(h), 2, '_')
	case 'm':
		return sp.number(dst, int(mo), 2, '0')
	case 'M':
		return sp.number(dst, mi, 2, '0')
	case 'n':
		return sp.text(dst, "\n", false, false)
	case 't':
		return sp.text(dst, "\t", false, false)
	case '%':
		return sp.text(dst, "%", false, false)
	case 'p', 'P':
		ampm := "AM"
		if h >= 12 {
			ampm = "PM"
		}
		return sp.text(dst, ampm, sp.upper, sp.swap || conv == 'P')
	case 'r':
		return sp.sub(dst, "%I:%M:%S %p", t)
	case 'R':
		return sp.sub(dst, "%H:%M", t)
	case 's':
		return sp.number(dst, int(t.Unix()), 1, '_')
	case 'S':
		return sp.number(dst, s, 2, '0')
	case 'T', 'X':
		return sp.sub(dst, "%H:%M:%S", t)
	case 'u':
		wd := int(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		return sp.number(dst, wd, 1, '0')
	case 'U':
		return sp.number(dst, (t.YearDay()+6-int(t.Weekday()))/7, 2, '0')
	case 'V':
		_, w := t.ISOWeek()
		return sp.number(dst, w, 2, '0')
	case 'w':
		return sp.number(dst, int(t.Weekday()), 1, '0')
	case 'W':
		return sp.number(dst, (t.YearDay()+6-(int(t.Weekday())+6)%7)/7, 2, '0')
	case 'y':
		return sp.number(dst, ((y%100)+100)%100, 2, '0')
	case 'Y':
		return sp.number(dst, y, 1, '0')
	case 'z':
		_, off := t.Zone()
		sign := "+"
		if off < 0 {
			sign, off = "-", -off
		}
		dst = sp.text(dst, sign, false, false)
		return sp.number(dst, off/3600*100+off%3600/60, 4, '0')
	case 'Z':
		name, _ := t.Zone()
		return sp.text(dst, name, sp.upper, sp.swap)
	}
	return sp.text(dst, string(raw), sp.upper, false)
}

// text writes s right-aligned in the width, zero-filled with the '0'
// flag and blank-filled otherwise; lower wins over upper.
func (sp *spec) text(dst []byte, s string, upper, lower bool) []byte {
	fill := byte(' ')
	if sp.pad == '0' {
		fill = '0'
	}
	for n := len(s); n < sp.width; n++ {
		dst = append(dst, fill)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case lower && c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case upper && !lower && c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// sub writes a composite conversion: the sub-format's result, padded
// and upper-cased as a whole.
func (sp *spec) sub(dst []byte, format string, t time.Time) []byte {
	return sp.text(dst, string(strftime(nil, []byte(format), t)), sp.upper, false)
}

// number writes v at least digits wide unless the '-' flag or a width
// says otherwise; the fill is the conversion's own (defPad: '0' for
// zeros, '_' for blanks) unless a flag changes it.
func (sp *spec) number(dst []byte, v, digits int, defPad byte) []byte {
	pad := sp.pad
	if pad == 0 {
		pad = defPad
	}
	w := max(sp.width, digits)
	if pad == '-' {
		w = max(sp.width, 0)
	}
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.Itoa(v)
	n := len(s)
	if neg {
		n++
	}
	fill := byte(' ')
	if pad == '0' {
		fill = '0'
	}
	// glibc fills before the sign, zeros included.
	for ; n < w; n++ {
		dst = append(dst, fill)
	}
	if neg {
		dst = append(dst, '-')
	}
	return append(dst, s...)
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

func hour12(h int) int {
	h %= 12
	if h == 0 {
		return 12
	}
	return h
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
