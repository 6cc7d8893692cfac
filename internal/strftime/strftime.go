// Package strftime formats times as glibc's strftime(3) does in the "C"
// locale, which is what nginx and its modules hand their time formats to.
//
// Reproduced from glibc: every conversion of the C locale (%a ... %Z and
// %%), composite conversions (%c, %D, %F, %r, %R, %T, %x, %X) padded and
// cased as a whole; the flags '_' (pad with blanks), '-' (no padding),
// '0' (pad with zeros), '^' (upper case) and '#' (swap case: names upper,
// %p and %Z lower); a field width, which is a minimum for numbers and pads
// names, composites and copied text with blanks (zeros for '0'); %z
// padding its sign and its digits each to the width; one E or O modifier,
// without effect in the C locale, a directive whose conversion does not
// take it being copied as written (with '#', glibc has already upper-cased
// %b, %B and %h before it rejects E); an unknown conversion, or a
// directive cut short by the end of the format, copied as written, padded
// to the width and upper-cased by '^'; and failure when the result and
// its terminating NUL do not fit the caller's buffer.
//
// Not reproduced: glibc computes %s of a gmtime result with mktime, which
// reads the broken-down GMT time as local time; here %s is always t's
// Unix time.
//
// The two users of the package read some formats differently, and each
// keeps its own reading through the Quirk bits. set_formatted_gmt_time
// and set_formatted_local_time of set-misc pass no quirks and so follow
// glibc everywhere. SSI's "config timefmt" ($date_local, $date_gmt)
// passes all of them (LaxModifiers, RawUnknown, ExactWidth, ZoneWidthSign
// and ZoneSwapCase), the reading its formats have always had. Both pass
// their buffer size (2048 for SSI, 256 for set-misc) and GMT for their
// gmtime variants.
package strftime

import (
	"strconv"
	"time"
)

// Quirk selects, bit by bit, a reading of a format that departs from
// glibc's, kept for a caller whose output must not change.
type Quirk uint

const (
	// LaxModifiers skips any run of E and O modifiers and accepts them
	// before every conversion: "%EEy" is "%y", "%Ea" is "%a".
	LaxModifiers Quirk = 1 << iota
	// RawUnknown copies an unknown conversion, or a directive cut short
	// by the end of the format, exactly as written: no padding to the
	// width and no upper-casing by '^' ("%5Q" stays "%5Q").
	RawUnknown
	// ExactWidth makes a width the exact padded size of a number, even
	// below the conversion's own digit count: "%1d" of the 1st is "1"
	// instead of "01".
	ExactWidth
	// ZoneWidthSign counts %z's sign in the width and never pads the
	// sign itself: "%6z" is "+00000" instead of "     +000000".
	ZoneWidthSign
	// ZoneSwapCase makes "%^#Z" swap the case of each letter of the zone
	// name ("ChST" gives "cHst") where glibc lower-cases it all.
	ZoneSwapCase
)

// Options describe a caller's strftime call.
type Options struct {
	// Size is the caller's buffer, the terminating NUL included: a
	// result of Size bytes or more fails, as strftime returns 0 then.
	// Size must be positive.
	Size int
	// GMT formats t as gmtime gives it: in UTC, with the zone named
	// "GMT". Otherwise t is formatted in its own location.
	GMT bool
	// Quirks are the departures from glibc this caller keeps.
	Quirks Quirk
}

// maxWidth bounds the width read from a format: glibc saturates it at
// INT_MAX, and any width of Size or more fails anyway, so the exact value
// beyond it cannot be seen.
const maxWidth = 1 << 20

// Append appends the formatted time to dst and returns the extended
// slice, as append does (it aliases dst when dst has room). ok is false
// when the result does not fit o.Size; the bytes appended then are a
// truncated result and must not be used.
func Append(dst, format []byte, t time.Time, o Options) (_ []byte, ok bool) {
	if o.GMT {
		t = t.UTC()
	}
	w := writer{dst: dst, start: len(dst), size: o.Size, quirks: o.Quirks, gmt: o.GMT}
	w.format(format, t)
	return w.dst, !w.full && len(w.dst)-w.start < w.size
}

// writer is one Append call's state.
type writer struct {
	dst    []byte
	start  int
	size   int
	quirks Quirk
	gmt    bool
	// full is set once the result has reached size: from then on the
	// rest is not written.
	full bool
}

// spec is one directive's flags: the padding ('_', '-', '0' or none),
// '^', '#', the width (-1 when none) and the E or O modifier (0 when
// none).
type spec struct {
	pad      byte
	upper    bool
	swap     bool
	width    int
	modifier byte
}

func (w *writer) format(format []byte, t time.Time) {
	for i := 0; i < len(format); i++ {
		if w.full {
			return
		}
		c := format[i]
		if c != '%' {
			w.dst = append(w.dst, c)
			continue
		}
		begin := i
		sp := spec{width: -1}
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
			if sp.width < maxWidth {
				sp.width = sp.width*10 + int(format[i]-'0')
			}
		}
		if w.quirks&LaxModifiers != 0 {
			for i < len(format) && (format[i] == 'E' || format[i] == 'O') {
				i++
			}
		} else if i < len(format) && (format[i] == 'E' || format[i] == 'O') {
			sp.modifier = format[i]
			i++
		}
		if i == len(format) {
			w.unknown(&sp, format[begin:], sp.upper)
			break
		}
		w.convert(&sp, format[begin:i+1], t)
		w.check()
	}
	w.check()
}

// check notes a result that no longer fits.
func (w *writer) check() {
	if len(w.dst)-w.start >= w.size {
		w.full = true
	}
}

// modifierOK lists the conversions glibc takes with E and with O.
func modifierOK(modifier, conv byte) bool {
	set := "cCxXyYntzZpPsrRTu%"
	if modifier == 'O' {
		set = "bBhCdeHIjklmMSuUVwWyGgntzZpPsrRT%"
	}
	for i := 0; i < len(set); i++ {
		if set[i] == conv {
			return true
		}
	}
	return false
}

var (
	days   = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	months = [...]string{"January", "February", "March", "April", "May", "June", "July", "August",
		"September", "October", "November", "December"}
)

// convert writes the directive raw, whose last byte is the conversion.
func (w *writer) convert(sp *spec, raw []byte, t time.Time) {
	conv := raw[len(raw)-1]
	if sp.modifier != 0 && !modifierOK(sp.modifier, conv) {
		// glibc takes '#' for the month names before it rejects the
		// modifier, and upper-cases the copy then.
		w.unknown(sp, raw, sp.upper || sp.swap && (conv == 'b' || conv == 'B' || conv == 'h'))
		return
	}
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	wday := int(t.Weekday())
	yday := t.YearDay() - 1
	switch conv {
	case 'a':
		w.text(sp, days[wday][:3], sp.upper || sp.swap, false)
	case 'A':
		w.text(sp, days[wday], sp.upper || sp.swap, false)
	case 'b', 'h':
		w.text(sp, months[mo-1][:3], sp.upper || sp.swap, false)
	case 'B':
		w.text(sp, months[mo-1], sp.upper || sp.swap, false)
	case 'c':
		w.sub(sp, "%a %b %e %H:%M:%S %Y", t)
	case 'C':
		w.number(sp, floorDiv(y, 100), 2, '0')
	case 'd':
		w.number(sp, d, 2, '0')
	case 'D', 'x':
		w.sub(sp, "%m/%d/%y", t)
	case 'e':
		w.number(sp, d, 2, '_')
	case 'F':
		w.sub(sp, "%Y-%m-%d", t)
	case 'g':
		iy, _ := t.ISOWeek()
		w.number(sp, mod(iy, 100), 2, '0')
	case 'G':
		iy, _ := t.ISOWeek()
		w.number(sp, iy, 1, '0')
	case 'H':
		w.number(sp, h, 2, '0')
	case 'I':
		w.number(sp, hour12(h), 2, '0')
	case 'j':
		w.number(sp, yday+1, 3, '0')
	case 'k':
		w.number(sp, h, 2, '_')
	case 'l':
		w.number(sp, hour12(h), 2, '_')
	case 'm':
		w.number(sp, int(mo), 2, '0')
	case 'M':
		w.number(sp, mi, 2, '0')
	case 'n':
		w.text(sp, "\n", false, false)
	case 't':
		w.text(sp, "\t", false, false)
	case '%':
		w.text(sp, "%", false, false)
	case 'p', 'P':
		ampm := "AM"
		if h >= 12 {
			ampm = "PM"
		}
		w.text(sp, ampm, sp.upper, sp.swap || conv == 'P')
	case 'r':
		w.sub(sp, "%I:%M:%S %p", t)
	case 'R':
		w.sub(sp, "%H:%M", t)
	case 's':
		w.number(sp, int(t.Unix()), 1, '_')
	case 'S':
		w.number(sp, s, 2, '0')
	case 'T', 'X':
		w.sub(sp, "%H:%M:%S", t)
	case 'u':
		w.number(sp, (wday+6)%7+1, 1, '0')
	case 'U':
		w.number(sp, (yday+7-wday)/7, 2, '0')
	case 'V':
		_, wk := t.ISOWeek()
		w.number(sp, wk, 2, '0')
	case 'w':
		w.number(sp, wday, 1, '0')
	case 'W':
		w.number(sp, (yday+7-(wday+6)%7)/7, 2, '0')
	case 'y':
		w.number(sp, mod(y, 100), 2, '0')
	case 'Y':
		w.number(sp, y, 1, '0')
	case 'z':
		w.zone(sp, t)
	case 'Z':
		name := "GMT"
		if !w.gmt {
			name, _ = t.Zone()
		}
		if sp.upper && sp.swap && w.quirks&ZoneSwapCase != 0 {
			w.swapCase(sp, name)
			return
		}
		w.text(sp, name, sp.upper, sp.swap)
	default:
		w.unknown(sp, raw, sp.upper)
	}
}

// unknown copies a directive glibc does not convert.
func (w *writer) unknown(sp *spec, raw []byte, upper bool) {
	if w.quirks&RawUnknown != 0 {
		w.dst = append(w.dst, raw...)
		return
	}
	w.text(sp, string(raw), upper, false)
}

// zone writes %z: the sign, then hours and minutes of the offset.
func (w *writer) zone(sp *spec, t time.Time) {
	_, off := t.Zone()
	if w.gmt {
		off = 0
	}
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	hhmm := off/3600*100 + off%3600/60
	if w.quirks&ZoneWidthSign != 0 {
		w.dst = append(w.dst, sign...)
		digits := *sp
		if digits.width > 0 {
			digits.width--
		}
		w.number(&digits, hhmm, 4, '0')
		return
	}
	w.text(sp, sign, false, false)
	w.number(sp, hhmm, 4, '0')
}

// fill appends n bytes of padding, zeros for the '0' pad and blanks
// otherwise, stopping once the result no longer fits.
func (w *writer) fill(n int, pad byte) {
	if room := w.size - (len(w.dst) - w.start); n >= room {
		n = room
		w.full = true
	}
	c := byte(' ')
	if pad == '0' {
		c = '0'
	}
	for ; n > 0; n-- {
		w.dst = append(w.dst, c)
	}
}

// text writes s right-aligned in the width; lower wins over upper.
func (w *writer) text(sp *spec, s string, upper, lower bool) {
	w.fill(sp.width-len(s), sp.pad)
	if w.full {
		return
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case lower && c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case upper && !lower && c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		w.dst = append(w.dst, c)
	}
}

// swapCase writes s right-aligned in the width with the case of its
// letters swapped.
func (w *writer) swapCase(sp *spec, s string) {
	w.fill(sp.width-len(s), sp.pad)
	if w.full {
		return
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		w.dst = append(w.dst, c)
	}
}

// sub writes a composite conversion: the sub-format's result, padded and
// upper-cased as a whole.
func (w *writer) sub(sp *spec, format string, t time.Time) {
	var buf [64]byte
	inner := writer{dst: buf[:0], size: len(buf), quirks: w.quirks, gmt: w.gmt}
	inner.format([]byte(format), t)
	w.text(sp, string(inner.dst), sp.upper, false)
}

// number writes v at least digits wide (exactly the width for
// ExactWidth) unless the '-' flag or a width says otherwise; the fill is
// the conversion's own (defPad: '0' zeros, '_' blanks) unless a flag
// changes it, and goes before a minus sign, zeros included, as glibc's.
func (w *writer) number(sp *spec, v, digits int, defPad byte) {
	pad := sp.pad
	if pad == 0 {
		pad = defPad
	}
	width := max(sp.width, digits)
	switch {
	case sp.width >= 0 && w.quirks&ExactWidth != 0:
		width = sp.width
	case pad == '-':
		width = max(sp.width, 0)
	}
	var buf [24]byte
	s := strconv.AppendInt(buf[:0], int64(v), 10)
	w.fill(width-len(s), pad)
	if !w.full {
		w.dst = append(w.dst, s...)
	}
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
