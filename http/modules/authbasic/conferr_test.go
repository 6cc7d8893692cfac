package authbasic_test

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
// codes and the messages (warnings included), with the prefix masked.
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
		{"valid", "http {\n auth_basic \"r $host\";\n auth_basic_user_file conf/htpasswd;\n server { location / { limit_except GET { auth_basic off; } } }\n}\n"},
		{"realm duplicate", "http {\n auth_basic a;\n auth_basic b;\n}\n"},
		{"file duplicate", "http {\n auth_basic_user_file a;\n auth_basic_user_file b;\n}\n"},
		{"two arguments", "http {\n auth_basic a b;\n}\n"},
		{"unknown variable", "http {\n auth_basic_user_file /x/$nosuch;\n}\n"},
		{"in if", "http { server { location / {\n if ($uri) { auth_basic x; }\n} } }\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { configTest(t, tt.conf) })
	}
}
