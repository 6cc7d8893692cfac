package access_test

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
		{"valid rules", "http {\n allow 127.0.0.1;\n deny 10.0.0.0/8;\n allow ::1;\n deny 2001:db8::/32;\n allow unix:;\n deny all;\n}\n"},
		{"low bits v4", "http {\n allow 127.0.0.1/8;\n}\n"},
		{"low bits v6", "http {\n deny 2001:db8::1/16;\n}\n"},
		{"invalid address", "http {\n allow 127.0.0.256;\n}\n"},
		{"invalid mask", "http {\n deny 10.0.0.0/40;\n}\n"},
		{"broadcast address", "http {\n deny 255.255.255.255;\n}\n"},
		{"hostname", "http {\n allow localhost;\n}\n"},
		{"two arguments", "http {\n allow 127.0.0.1 10.0.0.1;\n}\n"},
		{"no argument", "http {\n deny;\n}\n"},
		{"in location if", "http { server { location / {\n if ($uri) {\n  deny all;\n }\n} } }\n"},
		{"in limit_except", "http { server { location / {\n limit_except GET {\n  deny all;\n }\n} } }\n"},
		{"unix with path", "http {\n allow unix:/tmp/x;\n}\n"},
		{"ALL uppercase", "http {\n allow ALL;\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { configTest(t, tt.conf) })
	}
}
