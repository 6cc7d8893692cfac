package log_test

import (
	"testing"

	"gresty/internal/nginxtest"
)

func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"valid", "http {\n log_format f escape=json '$status' \"${uri}x\";\n access_log logs/a.log f buffer=8k flush=2s;\n access_log logs/a.log f buffer=8k flush=2s;\n access_log logs/b.log combined gzip=5 if=$arg_x;\n open_log_file_cache max=10 inactive=5s valid=30s min_uses=2;\n server { access_log off; location / { access_log logs/$uri.log; } }\n}\n"},
		{"duplicate format", "http {\n log_format a '$status';\n log_format a '$uri';\n}\n"},
		{"combined redefined", "http {\n log_format combined '$status';\n}\n"},
		{"unknown escaping", "http {\n log_format a escape=xml '$status';\n}\n"},
		{"dollar at end", "http {\n log_format a '$status $';\n}\n"},
		{"empty braces", "http {\n log_format a '${}';\n}\n"},
		{"unclosed brace", "http {\n log_format a '${status';\n}\n"},
		{"unknown variable", "http {\n log_format a '$no_such_thing';\n}\n"},
		{"format one argument", "http {\n log_format a;\n}\n"},
		{"format in server", "http { server {\n log_format a '$status';\n} }\n"},
		{"unknown format", "http {\n access_log logs/a.log nosuch;\n}\n"},
		{"format name case", "http {\n log_format Main '$status';\n access_log logs/a.log main;\n}\n"},
		{"off with format", "http {\n access_log off combined;\n}\n"},
		{"bad buffer", "http {\n access_log logs/a.log combined buffer=0;\n}\n"},
		{"bad buffer unit", "http {\n access_log logs/a.log combined buffer=1x;\n}\n"},
		{"bad flush", "http {\n access_log logs/a.log combined buffer=4k flush=0;\n}\n"},
		{"flush without buffer", "http {\n access_log logs/a.log combined flush=1s;\n}\n"},
		{"bad gzip level", "http {\n access_log logs/a.log combined gzip=10;\n}\n"},
		{"bad parameter", "http {\n access_log logs/a.log combined sometimes;\n}\n"},
		{"buffered variable path", "http {\n access_log logs/$host.log combined buffer=4k;\n}\n"},
		{"conflicting buffers", "http {\n access_log logs/a.log combined buffer=4k;\n access_log logs/a.log combined buffer=8k;\n}\n"},
		{"unwritable path", "http {\n access_log /nonexistent/dir/a.log;\n}\n"},
		{"open_log_file_cache without max", "http {\n open_log_file_cache inactive=10s;\n}\n"},
		{"open_log_file_cache bad", "http {\n open_log_file_cache max=x;\n}\n"},
		{"open_log_file_cache duplicate", "http {\n open_log_file_cache off;\n open_log_file_cache max=1;\n}\n"},
		{"syslog", "http {\n access_log syslog:server=127.0.0.1:5140,facility=user,severity=alert,tag=T_1,nohostname combined if=$arg_x;\n}\n"},
		{"syslog buffered", "http {\n access_log syslog:server=127.0.0.1:5140 combined buffer=4k;\n}\n"},
		{"syslog no server", "http {\n access_log syslog:tag=x;\n}\n"},
		{"syslog bad facility", "http {\n access_log syslog:server=127.0.0.1,facility=nope;\n}\n"},
		{"syslog bad tag", "http {\n access_log syslog:server=127.0.0.1,tag=a-b;\n}\n"},
		{"syslog unknown parameter", "http {\n access_log syslog:server=127.0.0.1,foo=1;\n}\n"},
		{"access_log in if", "http { server { location / {\n if ($uri) { access_log logs/i.log; }\n} } }\n"},
		{"access_log in limit_except", "http { server { location / {\n limit_except GET { access_log off; }\n} } }\n"},
		{"open_log_file_cache in if", "http { server { location / {\n if ($uri) { open_log_file_cache off; }\n} } }\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { nginxtest.ConfigTest{LogsDir: true}.Check(t, tt.conf) })
	}
}
