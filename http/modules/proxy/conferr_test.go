package proxy_test

import (
	"regexp"
	"testing"

	"gresty/internal/nginxtest"
)

// logLine finds error-log lines of level warn and above (bodyerr_test.go
// reads them).
var logLine = regexp.MustCompile(`(?m)\[(emerg|alert|crit|error|warn)\] (?:\d+#\d+: )?(.*)$`)

// configTest runs the -t comparison on conf as the subtest name
// (readme_test.go uses it too).
func configTest(t *testing.T, name, conf string) {
	t.Helper()
	t.Run(name, func(t *testing.T) { nginxtest.CheckConfig(t, conf) })
}

// TestConfigErrors compares nginx -t and gresty -t on misuses of the
// proxy and upstream directives.
func TestConfigErrors(t *testing.T) {
	srv := func(body string) string {
		return "http {\n server {\n  listen 127.0.0.1:1;\n" + body + "\n }\n}\n"
	}
	for _, tc := range []struct{ name, conf string }{
		{"valid", srv("location / { proxy_pass http://127.0.0.1:2; }")},
		{"duplicate proxy_pass", srv("location / {\n proxy_pass http://127.0.0.1:2;\n proxy_pass http://127.0.0.1:3;\n}")},
		{"invalid prefix", srv("location / { proxy_pass ftp://127.0.0.1; }")},
		{"uri in regex location", srv("location ~ /x { proxy_pass http://127.0.0.1:2/y; }")},
		{"uri in named location", srv("location @n { proxy_pass http://127.0.0.1:2/; }")},
		{"uri in if", srv("location / { if ($arg_a) { proxy_pass http://127.0.0.1:2/x; } }")},
		{"no uri in if", srv("location / { if ($arg_a) { proxy_pass http://127.0.0.1:2; } }")},
		{"invalid port", srv("location / { proxy_pass http://127.0.0.1:99999; }")},
		{"no host", srv("location / { proxy_pass http:///x; }")},
		{"bad ipv6", srv("location / { proxy_pass http://[::1; }")},
		{"not in server", "http {\n proxy_pass http://127.0.0.1:2;\n}\n"},
		{"one buffer", srv("proxy_buffers 1 4k;\nlocation / { proxy_pass http://127.0.0.1:2; }")},
		{"busy too small", srv("proxy_busy_buffers_size 1k;\nlocation / { proxy_pass http://127.0.0.1:2; }")},
		{"busy too big", srv("proxy_busy_buffers_size 64k;\nlocation / { proxy_pass http://127.0.0.1:2; }")},
		{"temp write size", srv("proxy_temp_file_write_size 1k;")},
		{"max temp size", srv("proxy_max_temp_file_size 1k;")},
		{"max temp zero", srv("proxy_max_temp_file_size 0;")},
		{"redirect default first", srv("location / {\n proxy_redirect default;\n proxy_pass http://127.0.0.1:2;\n}")},
		{"redirect default variables", srv("location / {\n proxy_pass http://$host;\n proxy_redirect default;\n}")},
		{"redirect bad parameter", srv("proxy_redirect foo;")},
		{"redirect off twice", srv("proxy_redirect off;\nproxy_redirect off;")},
		{"redirect after off", srv("proxy_redirect off;\nproxy_redirect / /x/;")},
		{"redirect bad regex", srv("proxy_redirect ~(x /y;")},
		{"cookie domain bad", srv("proxy_cookie_domain foo;")},
		{"cookie path off twice", srv("proxy_cookie_path off;\nproxy_cookie_path off;")},
		{"cookie path after off", srv("proxy_cookie_path off;\nproxy_cookie_path / /x;")},
		{"cookie flags bad", srv("proxy_cookie_flags secure;")},
		{"cookie flags off twice", srv("proxy_cookie_flags off;\nproxy_cookie_flags off;")},
		{"cookie flags after off", srv("proxy_cookie_flags off;\nproxy_cookie_flags a secure;")},
		{"cookie flags bad regex", srv("proxy_cookie_flags ~(a secure;")},
		{"next upstream bad", srv("proxy_next_upstream error http_418;")},
		{"next upstream duplicate word", srv("proxy_next_upstream error error;")},
		{"http version", srv("proxy_http_version 2.0;")},
		{"temp path level", srv("proxy_temp_path DIR/t 3;")},
		{"temp path levels too long", srv("proxy_temp_path DIR/t 2 2 2 2;")},
		{"temp path duplicate", srv("proxy_temp_path DIR/t;\nproxy_temp_path DIR/u;")},
		{"ignore headers bad", srv("proxy_ignore_headers Foo;")},
		{"set header one arg", srv("proxy_set_header Host;")},
		{"unknown variable in header", srv("proxy_set_header X $no_such;")},
		{"bind bad", srv("proxy_bind 1.2.3;")},
		{"bind bad parameter", srv("proxy_bind 127.0.0.1 always;")},
		{"send lowat", srv("proxy_send_lowat 1k;")},
		{"timeout bad", srv("proxy_read_timeout 1x;")},
		{"upstream duplicate", "http {\n upstream u { server 127.0.0.1; }\n upstream u { server 127.0.0.2; }\n}\n"},
		{"upstream empty", "http {\n upstream u {\n }\n}\n"},
		{"upstream server weight zero", "http {\n upstream u { server 127.0.0.1 weight=0; }\n}\n"},
		{"upstream server bad param", "http {\n upstream u { server 127.0.0.1 heavy; }\n}\n"},
		{"upstream server bad fail_timeout", "http {\n upstream u { server 127.0.0.1 fail_timeout=x; }\n}\n"},
		{"upstream server uri", "http {\n upstream u { server 127.0.0.1/x; }\n}\n"},
		{"upstream server unknown host", "http {\n upstream u { server no-such-host.invalid; }\n}\n"},
		{"ip_hash backup", "http {\n upstream u { ip_hash; server 127.0.0.1 backup; }\n}\n"},
		{"hash backup", "http {\n upstream u { hash $uri; server 127.0.0.1; server 127.0.0.2 backup; }\n}\n"},
		{"method redefined", "http {\n upstream u { least_conn; ip_hash; server 127.0.0.1; }\n}\n"},
		{"hash bad parameter", "http {\n upstream u { hash $uri round; server 127.0.0.1; }\n}\n"},
		{"random bad parameter", "http {\n upstream u { random three; server 127.0.0.1; }\n}\n"},
		{"random two bad method", "http {\n upstream u { random two fastest; server 127.0.0.1; }\n}\n"},
		{"keepalive zero", "http {\n upstream u { server 127.0.0.1; keepalive 0; }\n}\n"},
		{"keepalive duplicate", "http {\n upstream u { server 127.0.0.1; keepalive 2; keepalive 3; }\n}\n"},
		{"keepalive_timeout bad", "http {\n upstream u { server 127.0.0.1; keepalive 2; keepalive_timeout x; }\n}\n"},
		{"zone too small", "http {\n upstream u { zone z 4k; server 127.0.0.1; }\n}\n"},
		{"zone bad size", "http {\n upstream u { zone z big; server 127.0.0.1; }\n}\n"},
		{"server outside upstream", "http {\n server 127.0.0.1;\n}\n"},
		{"upstream port", "http {\n upstream u { server 127.0.0.1; }\n server { listen 127.0.0.1:1; location / { proxy_pass http://u:8080; } }\n}\n"},
		{"upstream after implicit with port", "http {\n server { listen 127.0.0.1:1; location / { proxy_pass http://u:8080; } }\n upstream u { server 127.0.0.1; }\n}\n"},
		{"implicit unknown host", srv("location / { proxy_pass http://no-such-host.invalid:8080; }")},
		{"implicit no port unix", srv("location / { proxy_pass http://unix:; }")},
	} {
		configTest(t, tc.name, tc.conf)
	}
}
