package conf

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// dumpTree is the multi-file configuration of the -T test: the include
// order (glob sorting across directories, dot files, a file read twice),
// files without a final newline and a "./" in a path all show in the dump.
var dumpTree = map[string]string{
	"nginx.conf": "worker_processes 1;\n" +
		"include ./main.d/*.conf;\n" +
		"include inc/*/x.conf;\n" +
		"include common.conf;\n" +
		"events {\n    include events.conf;\n}\n" +
		"include common.conf;\n" +
		"include none/*.conf;\n",
	"main.d/b.conf":       "env B;",
	"main.d/a.conf":       "env A;\n\n",
	"main.d/.hidden.conf": "env HIDDEN;\n",
	"main.d/c.conf.bak":   "env BAK;\n",
	"main.d/A.conf":       "# upper case sorts first\nenv UPPER;\n",
	"inc/a/x.conf":        "env INC_A;\n",
	"inc/a-b/x.conf":      "env INC_A_B;\n",
	"inc/a.b/x.conf":      "env INC_A_DOT_B;\n",
	"inc/ab/x.conf":       "# relative to the directory of nginx.conf\ninclude common.conf;\n",
	"common.conf":         "env COMMON;\n",
	"events.conf":         "worker_connections 64;\n",
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDumpOrder(t *testing.T) {
	dir := writeTree(t, dumpTree)
	cfg, err := ParseFile(filepath.Join(dir, "nginx.conf"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range cfg.Files {
		got = append(got, strings.TrimPrefix(f.Path, dir+"/"))
	}
	want := []string{
		"nginx.conf",
		"./main.d/A.conf", "./main.d/a.conf", "./main.d/b.conf",
		"inc/a-b/x.conf", "inc/a.b/x.conf", "inc/a/x.conf", "inc/ab/x.conf",
		"common.conf", "events.conf",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("files\n%q\nwant\n%q", got, want)
	}
	var envs []string
	for _, d := range cfg.Main {
		if d.Name == "env" {
			envs = append(envs, d.Args[0])
		}
	}
	if e := strings.Join(envs, " "); e != "UPPER A B INC_A_B INC_A_DOT_B INC_A COMMON COMMON COMMON" {
		t.Errorf("env order %s", e)
	}
}

// TestDumpAgainstNginx compares Dump with what "nginx -T" prints.
func TestDumpAgainstNginx(t *testing.T) {
	nginx := nginxBinary(t)
	dir := writeTree(t, dumpTree)
	conf := filepath.Join(dir, "nginx.conf")
	cmd := exec.Command(nginx, "-T", "-q", "-p", dir+"/", "-e", "stderr", "-c", conf)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("nginx -T: %v\n%s", err, stderr.Bytes())
	}
	cfg, err := ParseFile(conf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := Dump(cfg); !bytes.Equal(got, stdout.Bytes()) {
		t.Errorf("dump differs\nnginx:\n%s\nours:\n%s", stdout.Bytes(), got)
	}
}
