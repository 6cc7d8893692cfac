package stubstatus

import (
	"testing"

	"gresty/http"
)

func TestReportFormat(t *testing.T) {
	tests := []struct {
		s    http.ConnStats
		want string
	}{
		{http.ConnStats{}, "Active connections: 0 \nserver accepts handled requests\n 0 0 0 \nReading: 0 Writing: 0 Waiting: 0 \n"},
		{http.ConnStats{Accepted: 12, Handled: 11, Requests: 40, Active: 3, Reading: 1, Writing: 1, Waiting: 1},
			"Active connections: 3 \nserver accepts handled requests\n 12 11 40 \nReading: 1 Writing: 1 Waiting: 1 \n"},
	}
	for _, tt := range tests {
		if got := string(report(tt.s)); got != tt.want {
			t.Errorf("report(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}
