package headersmore_test

import (
	"testing"

	"gresty/internal/nginxtest"
)

func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"no arguments", "http {\n more_set_headers;\n}\n"},
		{"bad option", "http {\n more_set_headers -x \"A: b\";\n}\n"},
		{"long option", "http {\n more_set_headers -ss 200 \"A: b\";\n}\n"},
		{"-s without argument", "http {\n more_set_headers \"A: b\" -s;\n}\n"},
		{"-t without argument", "http {\n more_clear_headers A -t;\n}\n"},
		{"bad status digit", "http {\n more_set_headers -s \"200,404\" \"A: b\";\n}\n"},
		{"bad first status digit", "http {\n more_set_headers -s \" x1\" \"A: b\";\n}\n"},
		{"blank header", "http {\n more_set_headers \" \";\n}\n"},
		{"short wildcard", "http {\n more_clear_headers \"*\";\n}\n"},
		{"input -s", "http {\n more_set_input_headers -s 200 \"A: b\";\n}\n"},
		{"input -t without argument", "http {\n more_set_input_headers \"A: b\" -t;\n}\n"},
		{"unknown variable", "http {\n more_set_headers \"A: $no_such_var\";\n}\n"},
		{"bad variable", "http {\n more_set_input_headers \"A: a$\";\n}\n"},
		{"in limit_except", "http { server { location / {\n limit_except GET {\n  more_set_headers \"A: b\";\n }\n} } }\n"},
		{"in server if", "http { server {\n if ($uri) {\n  more_set_headers \"A: b\";\n }\n} }\n"},
		{"at main level", "more_set_headers \"A: b\";\nhttp {}\n"},
		{"colon only", "http {\n more_set_headers \":\";\n}\n"},
		{"valid", "http {\n more_set_headers -s '200 404' -t 'text/html; text/plain' 'X-A: $uri' X-B:;\n more_clear_input_headers -r X-*;\n server { location / { if ($uri) { more_clear_headers Server; } } }\n}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { nginxtest.CheckConfig(t, tc.conf, "headers-more") })
	}
}
