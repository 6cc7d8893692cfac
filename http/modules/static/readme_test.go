package static_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gresty/http/modules/static"
	"gresty/internal/nginxtest"
	"gresty/modules"
)

// readmeExample returns the indented block under "## Example" of a
// README.
func readmeExample(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "## Example\n")
	if !ok {
		t.Fatalf("%s has no example", path)
	}
	var lines []string
	for _, l := range strings.Split(rest, "\n") {
		if strings.HasPrefix(l, "## ") {
			break
		}
		if strings.HasPrefix(l, "    ") {
			lines = append(lines, l[4:])
		} else if l == "" && len(lines) > 0 {
			lines = append(lines, "")
		}
	}
	return strings.Join(lines, "\n")
}

// The README examples of the static file modules pass "-t" with nginx and
// with gresty.
func TestReadmeExamples(t *testing.T) {
	ngx := nginxtest.Binary(t)
	gr := nginxtest.Gresty(t)
	for _, pkg := range []string{"static", "index", "autoindex", "notmodified", "rangefilter"} {
		t.Run(pkg, func(t *testing.T) {
			ex := readmeExample(t, filepath.Join("..", pkg, "README.md"))
			if !strings.HasPrefix(ex, "http {") {
				ex = "http {\n    server {\n        listen 127.0.0.1:8080;\n" + ex + "\n    }\n}\n"
			}
			if modules.Registry().Known("access_log") {
				// not the build's default, which only root may open.
				ex = strings.Replace(ex, "http {", "http {\n    access_log access.log;", 1)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "mime.types"), []byte(static.MimeTypesConf), 0o644); err != nil {
				t.Fatal(err)
			}
			cf := filepath.Join(dir, "nginx.conf")
			if err := os.WriteFile(cf, []byte("pid nginx.pid;\nevents {}\n"+ex), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, bin := range []string{ngx, gr} {
				out, err := exec.Command(bin, "-t", "-q", "-p", dir+"/", "-c", cf, "-e", "stderr").CombinedOutput()
				if err != nil {
					t.Errorf("%s -t: %v\n%s\n%s", filepath.Base(bin), err, out, ex)
				}
			}
		})
	}
}
