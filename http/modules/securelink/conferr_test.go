package securelink_test

import (
	"testing"

	"gresty/internal/nginxtest"
)

func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"valid", "http {\n secure_link $arg_h;\n secure_link_md5 s$uri;\n server {\n  location / {\n   secure_link_secret s;\n  }\n }\n}\n"},
		{"mixed", "http {\n server {\n  location / {\n   secure_link_secret s;\n   secure_link_md5 s$uri;\n  }\n }\n}\n"},
		{"mixed in server", "http {\n server {\n   secure_link $arg_h;\n   secure_link_secret s;\n }\n}\n"},
		{"duplicate secure_link", "http {\n secure_link $a;\n secure_link $b;\n}\n"},
		{"duplicate md5", "http {\n secure_link_md5 $a;\n secure_link_md5 $b;\n}\n"},
		{"duplicate secret", "http {\n secure_link_secret a;\n secure_link_secret b;\n}\n"},
		{"unknown variable", "http {\n secure_link $nosuch;\n}\n"},
		{"bad variable", "http {\n secure_link_md5 \"${x\";\n}\n"},
		{"two arguments", "http {\n secure_link a b;\n}\n"},
		{"in if", "http { server { location / {\n if ($uri) {\n  secure_link_secret a;\n }\n} } }\n"},
		{"set variable", "http { server {\n set $secure_link 1;\n} }\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { nginxtest.CheckConfig(t, tt.conf) })
	}
}
