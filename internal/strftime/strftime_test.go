package strftime

import (
	"strings"
	"testing"
	"time"
)

// ssi is the set of quirks SSI's timefmt passes.
const ssi = LaxModifiers | RawUnknown | ExactWidth | ZoneWidthSign | ZoneSwapCase

// reading selects the quirks a case runs with: glibc's reading, SSI's, or
// both when they agree.
type reading int

const (
	both reading = iota
	glibcOnly
	ssiOnly
)

// TestAppend checks formats against what glibc's strftime gives in the C
// locale for the same times (gmtime when zone is nil), and SSI's own
// reading where its quirks depart from glibc.
func TestAppend(t *testing.T) {
	chst := time.FixedZone("ChST", 10*3600)
	nst := time.FixedZone("XYZ", -(3*3600 + 30*60))
	tests := []struct {
		reading reading
		zone    *time.Location
		unix    int64
		format  string
		want    string
	}{
		{both, nil, 0, "%A, %d-%b-%Y %H:%M:%S %Z", "Thursday, 01-Jan-1970 00:00:00 GMT"},
		{both, nil, 0, "%a %b %e %H:%M:%S %Y", "Thu Jan  1 00:00:00 1970"},
		{both, nil, 0, "%c", "Thu Jan  1 00:00:00 1970"},
		{both, nil, 0, "%C %d %D %e %F", "19 01 01/01/70  1 1970-01-01"},
		{both, nil, 0, "%g %G %V", "70 1970 01"},
		{both, nil, 0, "%H %I %j %k %l", "00 12 001  0 12"},
		{both, nil, 0, "%m %M %n %p %P %r %R", "01 00 \n AM am 12:00:00 AM 00:00"},
		{both, nil, 0, "%s %S %t %T", "0 00 \t 00:00:00"},
		{both, nil, 0, "%u %U %w %W", "4 00 4 00"},
		{both, nil, 0, "%x %X %y %Y %z", "01/01/70 00:00:00 70 1970 +0000"},
		{both, nil, 0, "%%|%Q|%E|trailing %", "%|%Q|%E|trailing %"},
		{both, nil, 0, "%Ey %OH %Od %Ob %EC %E% %O%", "70 00 01 Jan 19 % %"},
		{both, nil, 0, "%_d %-d %0e %^a %^B %#b %#p %10A %-10A %_5m %05d %3Y",
			" 1 1 01 THU JANUARY JAN am   Thursday   Thursday     1 00001 1970"},
		{both, nil, 0, "%010A|%_10A|%-5a|%^10p|%-5d|%5n|%3t", "00Thursday|  Thursday|  Thu|        AM|    1|    \n|  \t"},
		{both, nil, 0, "%08c|%_10D|%012F|%10s|%-3S", "Thu Jan  1 00:00:00 1970|  01/01/70|001970-01-01|         0|  0"},
		{both, nil, 0, "%3C|%_C|%4y|%-y|%0k|%-k|%_H|%04u|%010%|%5%|%-%", "019|19|0070|70|00|0| 0|0004|000000000%|    %|%"},
		{both, nil, 0, "%^c|%#c|%#a|%#A|%#B|%#h|%^P|%#P|%#Z|%^Z", "THU JAN  1 00:00:00 1970|Thu Jan  1 00:00:00 1970|THU|THURSDAY|JANUARY|JAN|am|am|gmt|GMT"},
		{both, nil, 0, "[%]|%^-4", "[%]|%^-4"},
		{both, nil, 1700000000, "%A, %d-%b-%Y %H:%M:%S", "Tuesday, 14-Nov-2023 22:13:20"},
		{both, nil, 1700000000, "%C %d %D %e %F", "20 14 11/14/23 14 2023-11-14"},
		{both, nil, 1700000000, "%g %G %V|%H %I %j %k %l", "23 2023 46|22 10 318 22 10"},
		{both, nil, 1700000000, "%p %P %r|%u %U %w %W|%s", "PM pm 10:13:20 PM|2 46 2 46|1700000000"},
		{both, nil, 1700000000, "%-5d|%_-5d|%-_5d", "   14|   14|   14"},
		{both, nil, 1700000000, "%-10d|%_5k|%0l|%^#p|%#^P|%#10B", "        14|   22|10|pm|pm|  NOVEMBER"},
		{both, nil, 951868799, "%A, %d-%b-%Y %H:%M:%S|%j|%U %W %V", "Tuesday, 29-Feb-2000 23:59:59|060|09 09 09"},
		{both, nil, 1230767999, "%g %G %V|%u %U %w %W|%j", "09 2009 01|3 52 3 52|366"},
		{both, nil, 1104537600, "%g %G %V|%u %U %w %W|%e", "04 2004 53|6 00 6 00| 1"},
		{both, nst, 0, "%H:%M %Z %z", "20:30 XYZ -0330"},
		{both, chst, 0, "%H %Z %#Z %^Z %z", "10 ChST chst CHST +1000"},

		// one modifier, rejected where glibc's conversion does not take it
		{glibcOnly, nil, 0, "%EEy|%Ea|%#Eb|%^Oc", "%EEy|%Ea|%#EB|%^OC"},
		{ssiOnly, nil, 0, "%EEy|%Ea|%#Eb|%^Oc", "70|Thu|JAN|THU JAN  1 00:00:00 1970"},
		// unknown conversions and cut-short directives
		{glibcOnly, nil, 0, "%5Q|%^q|%_3Ei|%Q %5 %+Y", "  %5Q|%^Q|%_3Ei|%Q   %5 %+Y"},
		{ssiOnly, nil, 0, "%5Q|%^q|%_3Ei|%Q %5 %+Y", "%5Q|%^q|%_3Ei|%Q %5 %+Y"},
		{glibcOnly, nil, 0, "%5", "   %5"},
		{ssiOnly, nil, 0, "%5", "%5"},
		// a width below the conversion's digits
		{glibcOnly, nil, 0, "%1d|%1j|%-1H|%_1m", "01|001|0| 1"},
		{ssiOnly, nil, 0, "%1d|%1j|%-1H|%_1m", "1|1|0|1"},
		// %z's width
		{glibcOnly, nil, 0, "%6z|%-6z|%_6z|%06z|%1z", "     +000000|     +     0|     +     0|00000+000000|+0000"},
		{ssiOnly, nil, 0, "%6z|%-6z|%_6z|%06z|%1z", "+00000|+    0|+    0|+00000|+0"},
		{glibcOnly, nil, 1700000000, "%030T %-5z %_z %^c", "000000000000000000000022:13:20     +    0 +   0 TUE NOV 14 22:13:20 2023"},
		{ssiOnly, nil, 1700000000, "%030T %-5z %_z %^c", "000000000000000000000022:13:20 +   0 +   0 TUE NOV 14 22:13:20 2023"},
		// '^' with '#' on a zone name holding lower-case letters
		{glibcOnly, chst, 0, "%^#Z|%#^6Z", "chst|  chst"},
		{ssiOnly, chst, 0, "%^#Z|%#^6Z", "cHst|  cHst"},
	}
	for _, tt := range tests {
		var quirks []Quirk
		switch tt.reading {
		case both:
			quirks = []Quirk{0, ssi}
		case glibcOnly:
			quirks = []Quirk{0}
		case ssiOnly:
			quirks = []Quirk{ssi}
		}
		tm := time.Unix(tt.unix, 0)
		if tt.zone != nil {
			tm = tm.In(tt.zone)
		}
		for _, q := range quirks {
			got, ok := Append(nil, []byte(tt.format), tm, Options{Size: 2048, GMT: tt.zone == nil, Quirks: q})
			if !ok || string(got) != tt.want {
				t.Errorf("quirks %b: Append(%q, %d) = %q, %v; want %q", q, tt.format, tt.unix, got, ok, tt.want)
			}
		}
	}
}

// TestAppendGMT checks that GMT formats the instant in UTC whatever t's
// location, with the zone gmtime names.
func TestAppendGMT(t *testing.T) {
	tm := time.Unix(1700000000, 0).In(time.FixedZone("CET", 3600))
	for _, q := range []Quirk{0, ssi} {
		got, ok := Append([]byte("at "), []byte("%H:%M %Z %z %s"), tm, Options{Size: 256, GMT: true, Quirks: q})
		if want := "at 22:13 GMT +0000 1700000000"; !ok || string(got) != want {
			t.Errorf("quirks %b: got %q, %v; want %q", q, got, ok, want)
		}
		got, _ = Append(nil, []byte("%H:%M %Z %z"), tm, Options{Size: 256, Quirks: q})
		if want := "23:13 CET +0100"; string(got) != want {
			t.Errorf("quirks %b: local got %q; want %q", q, got, want)
		}
	}
}

// TestAppendSize checks the caller's buffer: a result of Size bytes or
// more fails, as strftime does then, widths included, however large.
func TestAppendSize(t *testing.T) {
	tests := []struct {
		quirks Quirk
		size   int
		format string
		ok     bool
	}{
		{ssi, 2048, strings.Repeat("x", 2047), true},
		{ssi, 2048, strings.Repeat("x", 2048), false},
		{ssi, 2048, strings.Repeat("%A", 300), false},
		{ssi, 2048, "%2047Y", true},
		{ssi, 2048, "%2048Y", false},
		{ssi, 2048, "%99999999999999999999Y", false},
		{ssi, 2048, "%2048Q", true}, // copied as written
		{0, 2048, "%2047Q", true},
		{0, 2048, "%2048Q", false},
		{0, 256, strings.Repeat("x", 255), true},
		{0, 256, strings.Repeat("x", 256), false},
		{0, 256, "%255Y", true},
		{0, 256, "%256Y", false},
		{0, 256, strings.Repeat("x", 254) + "%5", false},
		{0, 256, "%99999999999999999999Y", false},
		{0, 256, "%18446744073709551621z", false},
		{0, 256, strings.Repeat("%c", 20), false},
	}
	for _, tt := range tests {
		got, ok := Append(nil, []byte(tt.format), time.Unix(0, 0), Options{Size: tt.size, GMT: true, Quirks: tt.quirks})
		if ok != tt.ok {
			t.Errorf("quirks %b size %d: Append(%.12q... len %d) ok = %v, want %v", tt.quirks, tt.size, tt.format, len(tt.format), ok, tt.ok)
		}
		if ok && len(got) >= tt.size {
			t.Errorf("quirks %b size %d: %d bytes reported as fitting", tt.quirks, tt.size, len(got))
		}
	}
}

func BenchmarkAppend(b *testing.B) {
	format := []byte("%A, %d-%b-%Y %H:%M:%S %Z")
	tm := time.Unix(1700000000, 0)
	buf := make([]byte, 0, 64)
	for b.Loop() {
		buf, _ = Append(buf[:0], format, tm, Options{Size: 2048, GMT: true})
	}
}
