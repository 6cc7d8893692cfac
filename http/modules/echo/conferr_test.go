package echo_test

import (
	"testing"

	"gresty/internal/nginxtest"
)

func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"echo at server level", "http { server {\n echo a;\n} }\n"},
		{"echo at http level", "http {\n echo a;\n}\n"},
		{"echo in server if", "http { server {\n if ($uri) {\n  echo a;\n }\n} }\n"},
		{"echo_status bad", "http { server { location / {\n echo_status abc;\n} } }\n"},
		{"echo_status duplicate", "http { server { location / {\n echo_status 200;\n echo_status 201;\n} } }\n"},
		{"echo_sleep two arguments", "http { server { location / {\n echo_sleep 1 2;\n} } }\n"},
		{"echo_flush argument", "http { server { location / {\n echo_flush now;\n} } }\n"},
		{"echo_location three arguments", "http { server { location / {\n echo_location /a b c;\n} } }\n"},
		{"echo_subrequest one argument", "http { server { location / {\n echo_subrequest GET;\n} } }\n"},
		{"echo_duplicate one argument", "http { server { location / {\n echo_duplicate 1;\n} } }\n"},
		{"echo_foreach_split one argument", "http { server { location / {\n echo_foreach_split ,;\n} } }\n"},
		{"echo unknown variable", "http { server { location / {\n echo $nope;\n} } }\n"},
		{"echo bad variable", "http { server { location / {\n echo \"a${\";\n} } }\n"},
		{"echo_exec three arguments", "http { server { location / {\n echo_exec /a b c;\n} } }\n"},
		{"valid", "http { server { location / {\n echo_before_body a; echo_after_body; echo_status 404; echo -n $echo_incr; if ($arg_a) { echo b; } echo_location /x; echo_end;\n} } }\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { nginxtest.CheckConfig(t, tc.conf, "echo") })
	}
}
