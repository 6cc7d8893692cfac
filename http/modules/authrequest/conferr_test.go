package authrequest_test

import (
	"testing"

	"gresty/internal/nginxtest"
)

func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"valid", "http {\n auth_request /a;\n auth_request_set $x $upstream_status;\n server {\n  location / {\n   auth_request off;\n   auth_request_set $args a;\n  }\n }\n}\n"},
		{"duplicate", "http {\n auth_request /a;\n auth_request /b;\n}\n"},
		{"off then uri", "http {\n auth_request off;\n auth_request /b;\n}\n"},
		{"no dollar", "http {\n auth_request_set x y;\n}\n"},
		{"readonly variable", "http {\n auth_request_set $uri y;\n}\n"},
		{"unknown variable in value", "http {\n auth_request_set $x $nosuch;\n}\n"},
		{"one argument", "http {\n auth_request_set $x;\n}\n"},
		{"no argument", "http {\n auth_request;\n}\n"},
		{"in if", "http { server { location / {\n if ($uri) {\n  auth_request /a;\n }\n} } }\n"},
		{"same variable twice", "http {\n auth_request_set $x a;\n auth_request_set $x b;\n set $x c;\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { nginxtest.CheckConfig(t, tt.conf) })
	}
}
