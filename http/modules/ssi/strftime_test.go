package ssi

import (
	"strings"
	"testing"
	"time"
)

// TestStrftimeMatchesGlibc checks formats against what glibc's strftime
// gives in the C locale for the same UTC times.
func TestStrftimeMatchesGlibc(t *testing.T) {
	tests := []struct {
		unix   int64
		format string
		want   string
	}{
		{0, "%A, %d-%b-%Y %H:%M:%S %Z", "Thursday, 01-Jan-1970 00:00:00 GMT"},
		{0, "%a %b %e %H:%M:%S %Y", "Thu Jan  1 00:00:00 1970"},
		{0, "%c", "Thu Jan  1 00:00:00 1970"},
		{0, "%C %d %D %e %F", "19 01 01/01/70  1 1970-01-01"},
		{0, "%g %G %V", "70 1970 01"},
		{0, "%H %I %j %k %l", "00 12 001  0 12"},
		{0, "%m %M %n %p %P %r %R", "01 00 \n AM am 12:00:00 AM 00:00"},
		{0, "%s %S %t %T", "0 00 \t 00:00:00"},
		{0, "%u %U %w %W", "4 00 4 00"},
		{0, "%x %X %y %Y %z", "01/01/70 00:00:00 70 1970 +0000"},
		{0, "%%|%Q|%E|trailing %", "%|%Q|%E|trailing %"},
		{0, "%Ey %OH %Od", "70 00 01"},
		{0, "%_d %-d %0e %^a %^B %#b %#p %10A %-10A %_5m %05d %3Y",
			" 1 1 01 THU JANUARY JAN am   Thursday   Thursday     1 00001 1970"},
		{0, "%010A|%_10A|%-5a|%^10p|%-5d|%5n|%3t", "00Thursday|  Thursday|  Thu|        AM|    1|    \n|  \t"},
		{0, "%08c|%_10D|%012F|%10s|%-3S", "Thu Jan  1 00:00:00 1970|  01/01/70|001970-01-01|         0|  0"},
		{0, "%3C|%_C|%4y|%-y|%0k|%-k|%_H|%04u|%010%|%5%|%-%", "019|19|0070|70|00|0| 0|0004|000000000%|    %|%"},
		{0, "%^c|%#c|%#a|%#A|%#B|%#h|%^P|%#P|%#Z|%^Z", "THU JAN  1 00:00:00 1970|Thu Jan  1 00:00:00 1970|THU|THURSDAY|JANUARY|JAN|am|am|gmt|GMT"},
		{1700000000, "%A, %d-%b-%Y %H:%M:%S", "Tuesday, 14-Nov-2023 22:13:20"},
		{1700000000, "%C %d %D %e %F", "20 14 11/14/23 14 2023-11-14"},
		{1700000000, "%g %G %V|%H %I %j %k %l", "23 2023 46|22 10 318 22 10"},
		{1700000000, "%p %P %r|%u %U %w %W|%s", "PM pm 10:13:20 PM|2 46 2 46|1700000000"},
		{1700000000, "%-5d|%_-5d|%-_5d", "   14|   14|   14"},
		{951868799, "%A, %d-%b-%Y %H:%M:%S|%j|%U %W %V", "Tuesday, 29-Feb-2000 23:59:59|060|09 09 09"},
		{1230767999, "%g %G %V|%u %U %w %W|%j", "09 2009 01|3 52 3 52|366"},
		{1104537600, "%g %G %V|%u %U %w %W|%e", "04 2004 53|6 00 6 00| 1"},
	}
	for _, tt := range tests {
		got, ok := strftime(nil, []byte(tt.format), time.Unix(tt.unix, 0).UTC(), true)
		if !ok || string(got) != tt.want {
			t.Errorf("strftime(%q, %d) = %q, %v; want %q", tt.format, tt.unix, got, ok, tt.want)
		}
	}
}

// TestStrftimeLimits checks nginx's buffer: a result of 2048 bytes or
// more fails, as strftime does then.
func TestStrftimeLimits(t *testing.T) {
	tests := []struct {
		format string
		ok     bool
	}{
		{strings.Repeat("x", 2047), true},
		{strings.Repeat("x", 2048), false},
		{strings.Repeat("%A", 300), false},
		{"%2047Y", true},
		{"%2048Y", false},
	}
	for _, tt := range tests {
		if _, ok := strftime(nil, []byte(tt.format), time.Unix(0, 0).UTC(), true); ok != tt.ok {
			t.Errorf("strftime(%.10q... len %d) ok = %v, want %v", tt.format, len(tt.format), ok, tt.ok)
		}
	}
}

// TestStrftimeLocalZone checks that the local variant names t's zone and
// offset.
func TestStrftimeLocalZone(t *testing.T) {
	loc := time.FixedZone("XYZ", -(3*3600 + 30*60))
	got, ok := strftime(nil, []byte("%H:%M %Z %z"), time.Unix(0, 0).In(loc), false)
	if !ok || string(got) != "20:30 XYZ -0330" {
		t.Errorf("got %q, %v", got, ok)
	}
}
