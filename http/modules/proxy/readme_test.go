package proxy_test

import (
	"os"
	"strings"
	"testing"
)

// readmeExample returns the indented configuration under "## Example" in
// a README.
func readmeExample(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "## Example\n")
	if !ok {
		t.Fatalf("%s: no example", path)
	}
	var lines []string
	for _, l := range strings.Split(rest, "\n") {
		if strings.HasPrefix(l, "##") {
			break
		}
		if strings.HasPrefix(l, "    ") || l == "" {
			lines = append(lines, strings.TrimPrefix(l, "    "))
		}
	}
	return strings.Join(lines, "\n")
}

// TestReadmeExamples checks that nginx and gresty accept the examples of
// the proxy and upstream READMEs alike.
func TestReadmeExamples(t *testing.T) {
	for _, path := range []string{"README.md", "../upstream/README.md"} {
		ex := readmeExample(t, path)
		// the example's addresses need not exist: the check is -t
		configTest(t, path, "http {\n"+ex+"\n}\n")
	}
}
