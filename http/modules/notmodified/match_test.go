package notmodified

import "testing"

func TestMatchList(t *testing.T) {
	const etag = `"5e0d-c"`
	tests := []struct {
		list string
		weak bool
		want bool
	}{
		{etag, false, true},
		{etag, true, true},
		{"*", false, true},
		{" *", false, false},
		{`"x", ` + etag, false, true},
		{`"x",` + etag + `,"y"`, false, true},
		{`"x" ,	` + etag + `	, "y"`, false, true},
		{"W/" + etag, false, false},
		{"W/" + etag, true, true},
		{`W/"x", W/` + etag, true, true},
		{etag + "x", false, false},
		{etag[:len(etag)-1], false, false},
		{`"5e0d-c`, true, false},
		{"", false, false},
		{",,," + etag, false, true},
		{`"5e0d-c" "x"`, false, false},
	}
	for _, tt := range tests {
		if got := matchList([]byte(etag), []byte(tt.list), tt.weak); got != tt.want {
			t.Errorf("match(%q, weak %v) = %v, want %v", tt.list, tt.weak, got, tt.want)
		}
	}
	// a weak ETag matches If-None-Match only.
	if !matchList([]byte("W/"+etag), []byte(etag), true) || matchList([]byte("W/"+etag), []byte(etag), false) {
		t.Error("weak response ETag compared wrongly")
	}
}
