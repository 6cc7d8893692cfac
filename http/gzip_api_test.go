package http

import (
	"testing"
	"time"
)

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		ae   string
		want bool
	}{
		{"gzip", true},
		{"GZIP", true},
		{"gzip, deflate", true},
		{"deflate, gzip", true},
		{"deflate,gzip", true},
		{"deflate;q=0.5, gzip;q=0.8", true},
		{"xgzip", false},
		{"x-gzip", false},
		{"x-gzip, gzip", true},
		{"deflate", false},
		{"gzip;q=0", false},
		{"gzip; q=0", false},
		{"gzip;q=0.000", false},
		{"gzip;q=0.001", true},
		{"gzip;q=1", true},
		{"gzip;q=1.0", true},
		{"gzip;q=1.000", true},
		{"gzip;q=1.001", false},
		{"gzip;q=0.0001", false},
		{"gzip;q=2", false},
		{"gzip;q=", false},
		{"gzip;q", false},
		{"gzip;x=1", false},
		{"gzip ;q=0.5", true},
		{"gzip;Q=0", false},
		{"gzip;q=0, deflate", false},
		{"gzip;q=0.5 , deflate", true},
		{"gzipx", false},
		{"gzip x", false},
		{"*", false},
		{"identity", false},
		// nginx sums the digits: 0.99 is 18, accepted; 1.5 is 105, refused.
		{"gzip;q=0.99", true},
		{"gzip;q=1.5", false},
	}
	for _, tt := range tests {
		if got := AcceptsGzip([]byte(tt.ae)); got != tt.want {
			t.Errorf("AcceptsGzip(%q) = %v, want %v", tt.ae, got, tt.want)
		}
	}
}

func TestParseHTTPTime(t *testing.T) {
	ref := time.Date(1994, time.November, 6, 8, 49, 37, 0, time.UTC).Unix()
	tests := []struct {
		in   string
		want int64
	}{
		{"Sun, 06 Nov 1994 08:49:37 GMT", ref},
		{"Sunday, 06-Nov-94 08:49:37 GMT", ref},
		{"Sun Nov  6 08:49:37 1994", ref},
		{"Sun Nov 06 08:49:37 1994", ref},
		{"Thu, 01 Jan 1970 00:00:01 GMT", 1},
		{"Thu, 31 Dec 2037 23:55:55 GMT", time.Date(2037, 12, 31, 23, 55, 55, 0, time.UTC).Unix()},
		{"Sat, 29 Feb 2020 12:00:00 GMT", time.Date(2020, 2, 29, 12, 0, 0, 0, time.UTC).Unix()},
		{"Thu, 29 Feb 2019 12:00:00 GMT", -1},
		{"Mon, 01 Mar 2100 00:00:00 GMT", time.Date(2100, 3, 1, 0, 0, 0, 0, time.UTC).Unix()},
		{"Mon, 31 Apr 2000 00:00:00 GMT", -1},
		{"Mon, 01 Jan 2000 24:00:00 GMT", -1},
		{"Mon, 01 Jan 2000 23:60:00 GMT", -1},
		{"Mon, 01 Xyz 2000 00:00:00 GMT", -1},
		{"Mon, 1 Jan 2000 00:00:00 GMT", -1},
		{"garbage", -1},
		{"", -1},
		// the weekday and the zone are not checked, as in nginx.
		{"Xxx, 06 Nov 1994 08:49:37 XYZ", ref},
		{"Sun, 06 Nov 1994 08:49:37", ref},
	}
	for _, tt := range tests {
		if got := ParseHTTPTime([]byte(tt.in)); got != tt.want {
			t.Errorf("ParseHTTPTime(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestHasDirective(t *testing.T) {
	tests := []struct {
		v, name string
		want    bool
	}{
		{"no-cache", "no-cache", true},
		{"private, max-age=0", "private", true},
		{"max-age=0, private", "private", true},
		{"max-age=0,private ", "private", true},
		{"privatex", "private", false},
		{"no-cache=\"x\"", "no-cache", false},
		{"max-age=0; no-store", "no-store", true},
		{"NO-STORE", "no-store", true},
		{"", "private", false},
	}
	for _, tt := range tests {
		if got := hasDirective([]byte(tt.v), tt.name); got != tt.want {
			t.Errorf("hasDirective(%q, %q) = %v, want %v", tt.v, tt.name, got, tt.want)
		}
	}
}
