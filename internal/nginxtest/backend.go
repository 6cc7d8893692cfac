package nginxtest

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// StartBackend runs a server program (memcached, redis-server...) on a
// free port of 127.0.0.1 until the test ends, and returns the port once
// it accepts connections. args gives the command line for the port. A
// missing program skips the test, or fails it when GRESTY_REQUIRE_NGINX=1
// asks for everything.
func StartBackend(t testing.TB, bin string, args func(port int) []string) int {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		if os.Getenv("GRESTY_REQUIRE_NGINX") == "1" {
			t.Fatalf("%s not found", bin)
		}
		t.Skipf("%s not installed", bin)
	}
	port := FreePort(t)
	cmd := exec.Command(path, args(port)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return port
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start: %v", bin, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// StartMemcached runs a memcached (TCP only, 64 MB) for the test and
// returns its port. memcached refuses to run as root without a user to
// switch to: nobody then.
func StartMemcached(t testing.TB) int {
	t.Helper()
	return StartBackend(t, "memcached", func(port int) []string {
		args := []string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0", "-m", "64"}
		if os.Geteuid() == 0 {
			args = append(args, "-u", "nobody")
		}
		return args
	})
}

// Memcached sends raw commands to the memcached at addr and waits for
// their replies (a meta no-op closes them).
func Memcached(t testing.TB, addr, cmds string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(cmds + "mn\r\n")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("memcached: %v", err)
		}
		if line == "MN\r\n" {
			return
		}
	}
}
