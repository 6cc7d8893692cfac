package authrequest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gresty/internal/nginxtest"
)

var logLine = regexp.MustCompile(`(?m)\[(emerg|alert|crit|error|warn)\] (?:\d+#\d+: )?(.*)$`)

// configTest runs "-t" on conf with nginx and gresty and compares exit
// codes and messages, the prefix masked.
func configTest(t *testing.T, conf string) {
	t.Helper()
	ngx := nginxtest.Binary(t)
	gr := nginxtest.Gresty(t)
	dir := t.TempDir()
	cf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cf, []byte("events {}\n"+conf), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(bin string) (string, int) {
		cmd := exec.Command(bin, "-t", "-q", "-p", dir+"/", "-c", cf, "-e", "stderr")
		out, _ := cmd.CombinedOutput()
		var m []string
		for _, s := range logLine.FindAllStringSubmatch(string(out), -1) {
			m = append(m, s[1]+": "+strings.ReplaceAll(s[2], dir, "DIR"))
		}
		return strings.Join(m, "\n"), cmd.ProcessState.ExitCode()
	}
	nOut, nCode := run(ngx)
	gOut, gCode := run(gr)
	if nCode != gCode || nOut != gOut {
		t.Errorf("nginx (exit %d):\n%s\ngresty (exit %d):\n%s", nCode, nOut, gCode, gOut)
	}
}

func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"valid", "http {\n auth_request /a;\n auth_request_set $x $upstream_status;\n server {\n  location / {\n   auth_request off;\n   auth_request_set $args a;\n  }\n }\n}\n"},
		{"duplicate", "http {\n auth_request /a;\n auth_request /b;\n}\n"},
		{"off then uri", "http {\n auth_request off;\n auth_request /b;\n}\n"},
		{"no dollar", "http {\n auth_request_set x y;\n}\n"},
		{"readonly variable", "http {\n auth_request_set $uri y;\n}\n"},
		{"unknown variable in value", "http {\n auth_request_set $x $nosuch;\n}\n"},
		{"one argument", "http {\n auth_request_set $x;\n}\n"},
		{"no argument", "http {\n auth_request;\n}\n"},
		{"in if", "http { server { location / {\n if ($uri) {\n  auth_request /a;\n }\n} } }\n"},
		{"same variable twice", "http {\n auth_request_set $x a;\n auth_request_set $x b;\n set $x c;\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { configTest(t, tt.conf) })
	}
}
