package mirror_test

import (
	"testing"

	"gresty/internal/nginxtest"
)

func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"valid", "http {\n mirror /a;\n mirror /b;\n mirror_request_body off;\n server {\n  location / {\n   mirror off;\n  }\n }\n}\n"},
		{"off twice", "http {\n mirror off;\n mirror off;\n}\n"},
		{"uri then off", "http {\n mirror /a;\n mirror off;\n}\n"},
		{"off then uri", "http {\n mirror off;\n mirror /a;\n}\n"},
		{"body flag", "http {\n mirror_request_body maybe;\n}\n"},
		{"body flag twice", "http {\n mirror_request_body on;\n mirror_request_body off;\n}\n"},
		{"two uris", "http {\n mirror /a /b;\n}\n"},
		{"in if", "http { server { location / {\n if ($uri) {\n  mirror /a;\n }\n} } }\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { nginxtest.CheckConfig(t, tt.conf) })
	}
}
