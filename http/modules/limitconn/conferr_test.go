package limitconn_test

import (
	"testing"

	"gresty/http/modules/traffictest"
)

func TestConfigMessagesMatchNginx(t *testing.T) {
	z := "limit_conn_zone $binary_remote_addr zone=addr:1m;\n"
	tests := []struct{ name, conf string }{
		{"valid", "http {\n " + z + " server {\n  limit_conn addr 10;\n  location / { limit_conn addr 1; limit_conn_status 429; limit_conn_log_level info; limit_conn_dry_run on; }\n }\n}\n"},
		{"zone without size", "http {\n limit_conn_zone $uri zone=addr;\n}\n"},
		{"bad size", "http {\n limit_conn_zone $uri zone=addr:1x;\n}\n"},
		{"small zone", "http {\n limit_conn_zone $uri zone=addr:8k;\n}\n"},
		{"bad parameter", "http {\n limit_conn_zone $uri size=1m;\n}\n"},
		{"one argument", "http {\n limit_conn_zone $uri;\n}\n"},
		{"bound twice", "http {\n limit_conn_zone $uri zone=addr:1m;\n limit_conn_zone $host zone=addr:1m;\n}\n"},
		{"size conflict", "http {\n limit_conn_zone $uri zone=addr:1m;\n limit_conn_zone $uri zone=addr:2m;\n}\n"},
		{"used by limit_req", "http {\n limit_req_zone $uri zone=addr:1m rate=1r/s;\n limit_conn_zone $uri zone=addr:1m;\n}\n"},
		{"limit_req on a limit_conn zone", "http {\n " + z + " server {\n  limit_req zone=addr;\n }\n}\n"},
		{"undefined zone", "http {\n server {\n  limit_conn nosuch 1;\n }\n}\n"},
		{"referenced first", "http {\n server {\n  limit_conn addr 1;\n }\n " + z + "}\n"},
		{"zero connections", "http {\n " + z + " server {\n  limit_conn addr 0;\n }\n}\n"},
		{"bad connections", "http {\n " + z + " server {\n  limit_conn addr x;\n }\n}\n"},
		{"too many connections", "http {\n " + z + " server {\n  limit_conn addr 65536;\n }\n}\n"},
		{"duplicate", "http {\n " + z + " server {\n  limit_conn addr 1;\n  limit_conn addr 2;\n }\n}\n"},
		{"duplicate before number check", "http {\n " + z + " server {\n  limit_conn addr 1;\n  limit_conn addr x;\n }\n}\n"},
		{"one argument limit", "http {\n " + z + " server {\n  limit_conn addr;\n }\n}\n"},
		{"status too high", "http {\n limit_conn_status 600;\n}\n"},
		{"bad log level", "http {\n limit_conn_log_level debug;\n}\n"},
		{"zone in location", "http {\n server {\n  location / {\n   " + z + "  }\n }\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { traffictest.ConfigTest(t, tt.conf) })
	}
}
