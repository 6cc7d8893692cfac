package limitreq_test

import (
	"testing"

	"gresty/http/modules/traffictest"
)

func TestConfigMessagesMatchNginx(t *testing.T) {
	z := "limit_req_zone $binary_remote_addr zone=one:1m rate=10r/s;\n"
	tests := []struct{ name, conf string }{
		{"valid", "http {\n " + z + " server {\n  limit_req zone=one burst=5 nodelay;\n  location / { limit_req zone=one burst=2 delay=1; limit_req_status 429; limit_req_log_level warn; limit_req_dry_run on; }\n }\n}\n"},
		{"sync", "http {\n limit_req_zone $uri zone=one:1m rate=1r/s sync;\n}\n"},
		{"rate per minute", "http {\n limit_req_zone $uri zone=one:1m rate=30r/m;\n}\n"},
		{"rate without unit", "http {\n limit_req_zone $uri zone=one:1m rate=30;\n}\n"},
		{"zone without size", "http {\n limit_req_zone $uri zone=one rate=1r/s;\n}\n"},
		{"bad size", "http {\n limit_req_zone $uri zone=one:big rate=1r/s;\n}\n"},
		{"small zone", "http {\n limit_req_zone $uri zone=one:16k rate=1r/s;\n}\n"},
		{"zero rate", "http {\n limit_req_zone $uri zone=one:1m rate=0r/s;\n}\n"},
		{"rate per hour", "http {\n limit_req_zone $uri zone=one:1m rate=1r/h;\n}\n"},
		{"bad parameter", "http {\n limit_req_zone $uri zone=one:1m burst=1;\n}\n"},
		{"no zone", "http {\n limit_req_zone $uri rate=1r/s;\n}\n"},
		{"bad key", "http {\n limit_req_zone $ zone=one:1m rate=1r/s;\n}\n"},
		{"two arguments", "http {\n limit_req_zone $uri zone=one:1m;\n}\n"},
		{"bound twice", "http {\n limit_req_zone $uri zone=one:1m rate=1r/s;\n limit_req_zone $host zone=one:1m rate=1r/s;\n}\n"},
		{"size conflict", "http {\n limit_req_zone $uri zone=one:1m rate=1r/s;\n limit_req_zone $uri zone=one:2m rate=1r/s;\n}\n"},
		{"used by limit_conn", "http {\n limit_conn_zone $uri zone=one:1m;\n limit_req_zone $uri zone=one:1m rate=1r/s;\n}\n"},
		{"referenced first", "http {\n server {\n  limit_req zone=one;\n }\n limit_req_zone $uri zone=one:1m rate=1r/s;\n}\n"},
		{"undefined zone", "http {\n server {\n  limit_req zone=nosuch;\n }\n}\n"},
		{"no zone parameter", "http {\n " + z + " server {\n  limit_req burst=5;\n }\n}\n"},
		{"zero burst", "http {\n " + z + " server {\n  limit_req zone=one burst=0;\n }\n}\n"},
		{"bad burst", "http {\n " + z + " server {\n  limit_req zone=one burst=x;\n }\n}\n"},
		{"zero delay", "http {\n " + z + " server {\n  limit_req zone=one delay=0;\n }\n}\n"},
		{"bad parameter in limit", "http {\n " + z + " server {\n  limit_req zone=one fast;\n }\n}\n"},
		{"duplicate", "http {\n " + z + " server {\n  limit_req zone=one;\n  limit_req zone=one burst=1;\n }\n}\n"},
		{"four arguments", "http {\n " + z + " server {\n  limit_req zone=one burst=1 nodelay delay=1;\n }\n}\n"},
		{"status too high", "http {\n limit_req_status 600;\n}\n"},
		{"status too low", "http {\n limit_req_status 399;\n}\n"},
		{"status not a number", "http {\n limit_req_status abc;\n}\n"},
		{"status duplicate", "http {\n limit_req_status 429;\n limit_req_status 503;\n}\n"},
		{"bad log level", "http {\n limit_req_log_level crit;\n}\n"},
		{"bad dry run", "http {\n limit_req_dry_run maybe;\n}\n"},
		{"zone in server", "http {\n server {\n  " + z + " }\n}\n"},
		{"limit in if", "http {\n " + z + " server {\n  location / {\n   if ($uri) { limit_req zone=one; }\n  }\n }\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { traffictest.ConfigTest(t, tt.conf) })
	}
}
