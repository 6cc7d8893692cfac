package access_test

import (
	"testing"

	"gresty/internal/nginxtest"
)

func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"valid rules", "http {\n allow 127.0.0.1;\n deny 10.0.0.0/8;\n allow ::1;\n deny 2001:db8::/32;\n allow unix:;\n deny all;\n}\n"},
		{"low bits v4", "http {\n allow 127.0.0.1/8;\n}\n"},
		{"low bits v6", "http {\n deny 2001:db8::1/16;\n}\n"},
		{"invalid address", "http {\n allow 127.0.0.256;\n}\n"},
		{"invalid mask", "http {\n deny 10.0.0.0/40;\n}\n"},
		{"broadcast address", "http {\n deny 255.255.255.255;\n}\n"},
		{"hostname", "http {\n allow localhost;\n}\n"},
		{"two arguments", "http {\n allow 127.0.0.1 10.0.0.1;\n}\n"},
		{"no argument", "http {\n deny;\n}\n"},
		{"in location if", "http { server { location / {\n if ($uri) {\n  deny all;\n }\n} } }\n"},
		{"in limit_except", "http { server { location / {\n limit_except GET {\n  deny all;\n }\n} } }\n"},
		{"unix with path", "http {\n allow unix:/tmp/x;\n}\n"},
		{"ALL uppercase", "http {\n allow ALL;\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { nginxtest.CheckConfig(t, tt.conf) })
	}
}
