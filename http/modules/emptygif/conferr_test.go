package emptygif_test

import (
	"testing"

	"gresty/internal/nginxtest"
)

func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"in location", "http { server { location / {\n empty_gif;\n} } }\n"},
		{"argument", "http { server { location / {\n empty_gif on;\n} } }\n"},
		{"in server", "http { server {\n empty_gif;\n} }\n"},
		{"in http", "http {\n empty_gif;\n}\n"},
		{"in if", "http { server { location / {\n if ($uri) {\n  empty_gif;\n }\n} } }\n"},
		{"twice", "http { server { location / {\n empty_gif;\n empty_gif;\n} } }\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { nginxtest.CheckConfig(t, tt.conf) })
	}
}
