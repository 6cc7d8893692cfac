package http

import (
	"testing"
	"time"
)

func TestParseHTTPTimeEdges(t *testing.T) {
	unix := func(y int, m time.Month, d, hh, mm, ss int) int64 {
		return time.Date(y, m, d, hh, mm, ss, 0, time.UTC).Unix()
	}
	tests := []struct {
		in   string
		want int64
	}{
		{"Thu, 01 Jan 1970 00:00:00 GMT", 0},
		{"Wed, 31 Dec 1969 23:59:58 GMT", -2},
		{"Monday, 01-Jan-69 00:00:00 GMT", unix(2069, 1, 1, 0, 0, 0)},
		{"Thursday, 01-Jan-70 00:00:00 GMT", 0},
		{"Thu Jan  1 00:00:09 1970", 9},
		{"Thu Jan 1 00:00:09 1970", 9},
		{"Tue, 29 Feb 2000 10:00:00 GMT", unix(2000, 2, 29, 10, 0, 0)},
		{"Fri, 29 Feb 1900 10:00:00 GMT", -1},
		{"Sun, 06 Nov 1994 08:49:37 GMT; length=5", unix(1994, 11, 6, 8, 49, 37)},
		{"Sun,   06 Nov 1994 08:49:37", unix(1994, 11, 6, 8, 49, 37)},
		{"Sun, 06 Nov 1994 08:49", -1},
		{"Sun, 06 Nov 1994 08:49:3", -1},
		{"Sun, 06-Nov-1994 08:49:37 GMT", -1},
		{"Sunday, 06 Nov 94 08:49:37 GMT", -1},
		{"Sun Nov  6 08:49:37", -1},
		{"Jun, 06 Jun 1994 08:49:37 GMT", unix(1994, 6, 6, 8, 49, 37)},
		{"Jul, 06 Jul 1994 08:49:37 GMT", unix(1994, 7, 6, 8, 49, 37)},
		{"Aug, 06 Aug 1994 08:49:37 GMT", unix(1994, 8, 6, 8, 49, 37)},
		{",", -1},
	}
	for _, tt := range tests {
		if got := ParseHTTPTime([]byte(tt.in)); got != tt.want {
			t.Errorf("ParseHTTPTime(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func FuzzParseHTTPTime(f *testing.F) {
	for _, s := range []string{"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := ParseHTTPTime([]byte(s))
		if got == -1 {
			return
		}
		// what parses formats back to the same second.
		tm := time.Unix(got, 0).UTC()
		again := ParseHTTPTime(tm.AppendFormat(nil, "Mon, 02 Jan 2006 15:04:05 GMT"))
		if tm.Year() >= 1000 && tm.Year() <= 9999 && again != got {
			t.Fatalf("%q parsed as %d, its formatting as %d", s, got, again)
		}
	})
}

func TestAppendHTTPDate(t *testing.T) {
	secs := []int64{0, -1, -86400, -86401, 1, 86399, 86400, 951782400, 951868800, 4102444800, 253402300799, -62135596800, 1 << 40, -(1 << 40)}
	for i := int64(0); i < 2000; i++ {
		secs = append(secs, i*987654321%253402300799-i*12345678)
	}
	for _, s := range secs {
		want := time.Unix(s, 0).UTC().AppendFormat(nil, "Mon, 02 Jan 2006 15:04:05 GMT")
		if got := AppendHTTPDate(nil, s); string(got) != string(want) {
			t.Fatalf("AppendHTTPDate(%d) = %s, want %s", s, got, want)
		}
	}
}
