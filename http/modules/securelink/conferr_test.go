package securelink_test

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
		t.Run(tt.name, func(t *testing.T) { configTest(t, tt.conf) })
	}
}
