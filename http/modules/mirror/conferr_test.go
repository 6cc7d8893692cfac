package mirror_test

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
		{"valid", "http {\n mirror /a;\n mirror /b;\n mirror_request_body off;\n server {\n  location / {\n   mirror off;\n  }\n }\n}\n"},
		{"off twice", "http {\n mirror off;\n mirror off;\n}\n"},
		{"uri then off", "http {\n mirror /a;\n mirror off;\n}\n"},
		{"off then uri", "http {\n mirror off;\n mirror /a;\n}\n"},
		{"body flag", "http {\n mirror_request_body maybe;\n}\n"},
		{"body flag twice", "http {\n mirror_request_body on;\n mirror_request_body off;\n}\n"},
		{"two uris", "http {\n mirror /a /b;\n}\n"},
		{"in if", "http { server { location / {\n if ($uri) {\n  mirror /a;\n }\n} } }\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { configTest(t, tt.conf) })
	}
}
