package headers_test

import (
	"testing"

	"gresty/internal/nginxtest"
)

func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"add_header one argument", "http {\n add_header X;\n}\n"},
		{"add_header four arguments", "http {\n add_header X y always z;\n}\n"},
		{"add_header bad flag", "http {\n add_header X y sometimes;\n}\n"},
		{"add_header Always case", "http {\n add_header X y Always;\n}\n"},
		{"add_header unknown variable", "http {\n add_header X $no_such_var;\n}\n"},
		{"add_header bad variable", "http {\n add_header X \"a$\";\n}\n"},
		{"add_header in limit_except", "http { server { location / {\n limit_except GET {\n  add_header X y;\n }\n} } }\n"},
		{"add_header in server if", "http { server {\n if ($uri) {\n  add_header X y;\n }\n} }\n"},
		{"add_trailer bad flag", "http {\n add_trailer X y never;\n}\n"},
		{"add_trailer one argument", "http {\n add_trailer X;\n}\n"},
		{"expires bogus", "http {\n expires soon;\n}\n"},
		{"expires empty", "http {\n expires \"\";\n}\n"},
		{"expires daily too long", "http {\n expires @25h;\n}\n"},
		{"expires daily with modified", "http {\n expires modified @1h;\n}\n"},
		{"expires two times", "http {\n expires 1h 2h;\n}\n"},
		{"expires modified epoch", "http {\n expires modified epoch;\n}\n"},
		{"expires modified off", "http {\n expires modified off;\n}\n"},
		{"expires duplicate", "http {\n expires 1h;\n expires 2h;\n}\n"},
		{"expires off then duplicate", "http {\n expires off;\n expires 1h;\n}\n"},
		{"expires three arguments", "http {\n expires modified 1h 2h;\n}\n"},
		{"expires minus daily", "http {\n expires -@1h;\n}\n"},
		{"expires bad unit", "http {\n expires 1x;\n}\n"},
		{"expires months in wrong order", "http {\n expires 1d1M;\n}\n"},
		{"expires unknown variable", "http {\n expires $nope;\n}\n"},
		{"expires in server if", "http { server {\n if ($uri) {\n  expires 1h;\n }\n} }\n"},
		{"valid configuration", "http {\n add_header X y always;\n add_trailer T v;\n expires modified +1h;\n server { location / { expires @23h59m59s; if ($uri) { expires epoch; add_header A b; } } }\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { nginxtest.CheckConfig(t, tt.conf) })
	}
}
