package ssi

import (
	"strconv"
	"time"
)

// strftime formats t as the C library's strftime does in the "C" locale
// (glibc's conversions, flags and field widths), which is what nginx
// hands "config timefmt" to. gmt selects the zone name "GMT" that
// gmtime gives; otherwise the zone is t's own. ok is false when the
// result does not fit nginx's 2048-byte buffer, where strftime fails.
func strftime(dst, format []byte, t time.Time, gmt bool) ([]byte, bool) {
	start := len(dst)
	for i := 0; i < len(format); i++ {
		ch := format[i]
		if ch != '%' {
			dst = append(dst, ch)
			continue
		}
		begin := i
		// flags, width and the E/O modifiers.
		pad := byte(0)
		upper, swap := false, false
		i++
		for ; i < len(format); i++ {
			switch format[i] {
			case '_', '-', '0':
				pad = format[i]
				continue
			case '^':
				upper = true
				continue
			case '#':
				swap = true
				continue
			}
			break
		}
		width := -1
		for ; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
			if width < 0 {
				width = 0
			}
			if width < 1<<20 {
				width = width*10 + int(format[i]-'0')
			}
		}
		for ; i < len(format) && (format[i] == 'E' || format[i] == 'O'); i++ {
		}
		if i == len(format) {
			// a '%' ending the format is written as it is.
			dst = append(dst, format[begin:]...)
			break
		}
		f := fmtField{pad: pad, width: width, upper: upper, swap: swap}
		dst = f.conv(dst, format[i], format[begin:i+1], t, gmt)
		if len(dst)-start >= dateBufSize {
			return dst, false
		}
	}
	if len(dst)-start >= dateBufSize {
		return dst, false
	}
	return dst, true
}

// dateBufSize is nginx's buffer for a formatted date (the NUL included).
const dateBufSize = 2048

var (
	weekdays = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	months   = [...]string{"January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
)

// fmtField is one conversion's flags: the padding flag ('_' spaces, '-'
// none, '0' zeros), the field width, '^' (upper case) and '#' (swap case
// of names).
type fmtField struct {
	pad   byte
	width int
	upper bool
	swap  bool
}

// num writes n as glibc does: without a width, padded to digits with
// defPad ('0' zeros, '_' spaces) unless a flag picks another padding
// ('-' none); with a width, padded to it with zeros for the '0' flag or
// a zero-padded conversion without flag, with spaces otherwise.
func (f fmtField) num(dst []byte, n int, digits int, defPad byte) []byte {
	var tmp [24]byte
	s := strconv.AppendInt(tmp[:0], int64(n), 10)
	p := defPad
	if f.pad != 0 {
		p = f.pad
	}
	w := digits
	if f.width >= 0 {
		w = f.width
		if p == '-' {
			p = '_'
		}
	} else if p == '-' {
		w = 0
	}
	for k := len(s); k < w; k++ {
		if p == '0' {
			dst = append(dst, '0')
		} else {
			dst = append(dst, ' ')
		}
	}
	return append(dst, s...)
}

// str writes a name, upper-cased by '^' (or by '#' when swap allows it,
// lower-cased by '#' when lower is set), padded to the field width with
// spaces, or zeros for the '0' flag.
func (f fmtField) str(dst []byte, s string, swap, lower bool) []byte {
	for k := len(s); k < f.width; k++ {
		if f.pad == '0' {
			dst = append(dst, '0')
		} else {
			dst = append(dst, ' ')
		}
	}
	up := f.upper || (f.swap && swap && !lower)
	down := f.swap && swap && lower
	for k := 0; k < len(s); k++ {
		ch := s[k]
		switch {
		case down && ch >= 'A' && ch <= 'Z':
			ch += 'a' - 'A'
		case up && ch >= 'a' && ch <= 'z':
			ch -= 'a' - 'A'
		}
		dst = append(dst, ch)
	}
	return dst
}

// sub formats a composite conversion (%c, %D, %T ...) and pads it as a
// string; '#' leaves it as it is.
func (f fmtField) sub(dst []byte, layout string, t time.Time, gmt bool) []byte {
	s, _ := strftime(nil, []byte(layout), t, gmt)
	return f.str(dst, string(s), false, false)
}

func (f fmtField) conv(dst []byte, c byte, spec []byte, t time.Time, gmt bool) []byte {
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	wday := int(t.Weekday())
	yday := t.YearDay() - 1
	switch c {
	case '%':
		return f.str(dst, "%", false, false)
	case 'a':
		return f.str(dst, weekdays[wday][:3], true, false)
	case 'A':
		return f.str(dst, weekdays[wday], true, false)
	case 'b', 'h':
		return f.str(dst, months[month-1][:3], true, false)
	case 'B':
		return f.str(dst, months[month-1], true, false)
	case 'c':
		return f.sub(dst, "%a %b %e %H:%M:%S %Y", t, gmt)
	case 'C':
		return f.num(dst, floorDiv(year, 100), 2, '0')
	case 'd':
		return f.num(dst, day, 2, '0')
	case 'D', 'x':
		return f.sub(dst, "%m/%d/%y", t, gmt)
	case 'e':
		return f.num(dst, day, 2, '_')
	case 'F':
		return f.sub(dst, "%Y-%m-%d", t, gmt)
	case 'g':
		y, _ := t.ISOWeek()
		return f.num(dst, mod(y, 100), 2, '0')
	case 'G':
		y, _ := t.ISOWeek()
		return f.num(dst, y, 1, '0')
	case 'H':
		return f.num(dst, hour, 2, '0')
	case 'I':
		return f.num(dst, hour12(hour), 2, '0')
	case 'j':
		return f.num(dst, yday+1, 3, '0')
	case 'k':
		return f.num(dst, hour, 2, '_')
	case 'l':
		return f.num(dst, hour12(hour), 2, '_')
	case 'm':
		return f.num(dst, int(month), 2, '0')
	case 'M':
		return f.num(dst, minute, 2, '0')
	case 'n':
		return f.str(dst, "\n", false, false)
	case 'p':
		if hour < 12 {
			return f.str(dst, "AM", true, true)
		}
		return f.str(dst, "PM", true, true)
	case 'P':
		// glibc changes the case of neither.
		g := f
		g.upper = false
		if hour < 12 {
			return g.str(dst, "am", false, false)
		}
		return g.str(dst, "pm", false, false)
	case 'r':
		return f.sub(dst, "%I:%M:%S %p", t, gmt)
	case 'R':
		return f.sub(dst, "%H:%M", t, gmt)
	case 's':
		return f.num(dst, int(t.Unix()), 1, '_')
	case 'S':
		return f.num(dst, sec, 2, '0')
	case 't':
		return f.str(dst, "\t", false, false)
	case 'T', 'X':
		return f.sub(dst, "%H:%M:%S", t, gmt)
	case 'u':
		return f.num(dst, (wday+6)%7+1, 1, '0')
	case 'U':
		return f.num(dst, (yday+7-wday)/7, 2, '0')
	case 'V':
		_, w := t.ISOWeek()
		return f.num(dst, w, 2, '0')
	case 'w':
		return f.num(dst, wday, 1, '0')
	case 'W':
		return f.num(dst, (yday+7-(wday+6)%7)/7, 2, '0')
	case 'y':
		return f.num(dst, mod(year, 100), 2, '0')
	case 'Y':
		return f.num(dst, year, 1, '0')
	case 'z':
		_, off := t.Zone()
		if gmt {
			off = 0
		}
		sign := byte('+')
		if off < 0 {
			sign = '-'
			off = -off
		}
		dst = append(dst, sign)
		g := f
		if g.width > 0 {
			g.width--
		}
		return g.num(dst, off/3600*100+off/60%60, 4, '0')
	case 'Z':
		if gmt {
			return f.str(dst, "GMT", true, true)
		}
		name, _ := t.Zone()
		return f.str(dst, name, true, true)
	}
	// an unknown conversion is written out as it stands.
	return append(dst, spec...)
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

func mod(a, b int) int {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
