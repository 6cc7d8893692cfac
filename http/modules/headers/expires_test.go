package headers

import (
	"testing"
	"time"
)

func TestParseExpires(t *testing.T) {
	tests := []struct {
		in      string
		mode    int
		want    int
		secs    int64
		wantErr string
	}{
		{"1h", expiresAccess, expiresAccess, 3600, ""},
		{"+1h", expiresAccess, expiresAccess, 3600, ""},
		{"-1h", expiresAccess, expiresAccess, -3600, ""},
		{"0", expiresAccess, expiresAccess, 0, ""},
		{"1d 2h", expiresAccess, expiresAccess, 26 * 3600, ""},
		{"epoch", expiresAccess, expiresEpoch, 0, ""},
		{"max", expiresAccess, expiresMax, 0, ""},
		{"off", expiresAccess, expiresOff, 0, ""},
		{"Off", expiresAccess, expiresAccess, 0, "invalid value"},
		{"@15h30m", expiresAccess, expiresDaily, 15*3600 + 30*60, ""},
		{"@24h", expiresAccess, expiresDaily, 24 * 3600, ""},
		{"@24h1s", expiresAccess, expiresDaily, 0, "daily time value must be less than 24 hours"},
		{"@1h", expiresModified, expiresModified, 0, "daily time cannot be used with \"modified\" parameter"},
		{"epoch", expiresModified, expiresModified, 0, "invalid value"},
		{"1h", expiresModified, expiresModified, 3600, ""},
		{"-1d", expiresModified, expiresModified, -86400, ""},
		{"", expiresAccess, expiresAccess, 0, "invalid value"},
		{"-", expiresAccess, expiresAccess, 0, "invalid value"},
		{"1x", expiresAccess, expiresAccess, 0, "invalid value"},
	}
	for _, tt := range tests {
		mode, secs, err := parseExpires(tt.in, tt.mode)
		if err != tt.wantErr || (err == "" && (mode != tt.want || secs != tt.secs)) {
			t.Errorf("parseExpires(%q, %d) = %d, %d, %q; want %d, %d, %q", tt.in, tt.mode, mode, secs, err, tt.want, tt.secs, tt.wantErr)
		}
	}
}

func TestNextTime(t *testing.T) {
	loc := time.Local
	base := time.Date(2024, 3, 10, 12, 0, 0, 0, loc)
	tests := []struct {
		now  time.Time
		secs int64
		want time.Time
	}{
		{base, 15 * 3600, time.Date(2024, 3, 10, 15, 0, 0, 0, loc)},
		{base, 12 * 3600, time.Date(2024, 3, 11, 12, 0, 0, 0, loc)},
		{base, 11 * 3600, time.Date(2024, 3, 11, 11, 0, 0, 0, loc)},
		{time.Date(2024, 12, 31, 23, 0, 0, 0, loc), 3600, time.Date(2025, 1, 1, 1, 0, 0, 0, loc)},
	}
	for _, tt := range tests {
		if got := nextTime(tt.now, tt.secs); got != tt.want.Unix() {
			t.Errorf("nextTime(%v, %d) = %v, want %v", tt.now, tt.secs, time.Unix(got, 0), tt.want)
		}
	}
}
