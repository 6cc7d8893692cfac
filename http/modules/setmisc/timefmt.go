package setmisc

import (
	"time"

	"gresty/internal/strftime"
)

// localToday is the loop's current local date, "yyyy-mm-dd".
func localToday(r Env, _ [][]byte) ([]byte, int) {
	return r.Now().Local().AppendFormat(r.Alloc(10)[:0], "2006-01-02"), 0
}

func formattedGMTTime(r Env, a [][]byte) ([]byte, int) {
	return formattedTime(r, a[0], r.Now(), true)
}

func formattedLocalTime(r Env, a [][]byte) ([]byte, int) {
	return formattedTime(r, a[0], r.Now().Local(), false)
}

// fmtDateLen is the original's buffer for a formatted time: strftime
// results that do not fit fail.
const fmtDateLen = 256

// formattedTime formats t (as gmtime gives it for gmt) with the strftime
// format: empty for an empty format, a 500 for an empty or too long
// result, as strftime reports both as 0.
func formattedTime(r Env, format []byte, t time.Time, gmt bool) ([]byte, int) {
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
	out, ok := strftime.Append(r.Alloc(fmtDateLen)[:0], format, t, strftime.Options{Size: fmtDateLen, GMT: gmt})
	if !ok || len(out) == 0 {
		return nil, 500
	}
	return out, 0
}
