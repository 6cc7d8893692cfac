package nginxtest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
	buildOut  []byte
)

// Gresty returns the path of a gresty binary for end-to-end tests: the
// one named by the GRESTY_BINARY environment variable (make test builds
// bin/gresty and sets it), else one built once per test process from this
// module's source.
func Gresty(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("GRESTY_BINARY"); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatalf("nginxtest: GRESTY_BINARY: %v", err)
		}
		return abs
	}
	buildOnce.Do(func() {
		mod, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			buildErr = err
			return
		}
		root := filepath.Dir(strings.TrimSpace(string(mod)))
		dir, err := os.MkdirTemp("", "gresty-test-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "gresty")
		cmd := exec.Command("go", "build", "-o", buildPath, "./cmd/gresty")
		cmd.Dir = root
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("nginxtest: building gresty: %v\n%s", buildErr, buildOut)
	}
	return buildPath
}

// StartGresty is Start with the gresty binary.
func StartGresty(t testing.TB, conf string, modules ...string) *Server {
	t.Helper()
	return StartBinary(t, Gresty(t), conf, modules...)
}

// Serve listens on a free 127.0.0.1 port until the test ends and runs
// handle on its own goroutine for each connection accepted: the raw
// backends tests write to see exactly what a proxy sends. It returns
// "127.0.0.1:port".
func Serve(t testing.TB, handle func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return ln.Addr().String()
}
