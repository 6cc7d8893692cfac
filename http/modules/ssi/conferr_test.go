package ssi_test

import (
	"testing"

	"gresty/http/modules/traffictest"
)

// TestConfigMessagesMatchNginx compares "-t" on misuses of the
// directives with nginx: exit code and messages.
func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"all directives", "http {\n ssi on;\n ssi_silent_errors on;\n ssi_ignore_recycled_buffers on;\n" +
			" ssi_min_file_chunk 2k;\n ssi_value_length 1k;\n ssi_types text/plain text/css;\n ssi_last_modified on;\n" +
			" server { location / { if ($uri) { ssi off; } } }\n}\n"},
		{"ssi invalid", "http {\n ssi maybe;\n}\n"},
		{"ssi duplicate", "http {\n ssi on;\n ssi off;\n}\n"},
		{"ssi no argument", "http {\n ssi;\n}\n"},
		{"ssi in server if", "http { server {\n if ($uri) {\n  ssi on;\n }\n} }\n"},
		{"ssi outside http", "ssi on;\nhttp {}\n"},
		{"ssi_silent_errors in if", "http { server { location / {\n if ($uri) {\n  ssi_silent_errors on;\n }\n} } }\n"},
		{"ssi_silent_errors invalid", "http {\n ssi_silent_errors 1;\n}\n"},
		{"ssi_ignore_recycled_buffers invalid", "http {\n ssi_ignore_recycled_buffers yes;\n}\n"},
		{"ssi_min_file_chunk invalid", "http {\n ssi_min_file_chunk 1x;\n}\n"},
		{"ssi_min_file_chunk duplicate", "http {\n ssi_min_file_chunk 1k;\n ssi_min_file_chunk 2k;\n}\n"},
		{"ssi_value_length invalid", "http {\n ssi_value_length big;\n}\n"},
		{"ssi_value_length two arguments", "http {\n ssi_value_length 1 2;\n}\n"},
		{"ssi_types no argument", "http {\n ssi_types;\n}\n"},
		{"ssi_types duplicates warn", "http {\n ssi_types text/css text/CSS text/html;\n}\n"},
		{"ssi_types star then more", "http {\n ssi_types * text/css;\n ssi_types text/css text/css;\n}\n"},
		{"ssi_last_modified invalid", "http {\n ssi_last_modified always;\n}\n"},
		{"ssi_last_modified duplicate", "http {\n server {\n  ssi_last_modified on;\n  ssi_last_modified on;\n }\n}\n"},
		{"date variables in a script", "http {\n server {\n  location / {\n   set $x \"$date_local $date_gmt\";\n  }\n }\n}\n"},
		{"date variable assigned", "http {\n server {\n  location / {\n   set $date_gmt x;\n  }\n }\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { traffictest.ConfigTest(t, tt.conf) })
	}
}
