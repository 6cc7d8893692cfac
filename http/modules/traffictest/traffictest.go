// Package traffictest holds what the tests of the traffic modules (map,
// geo, split_clients, realip, limit_req, limit_conn, metrics) share:
// "-t" runs compared between nginx and gresty, and a client that keeps
// its side of the connection open while it waits, so that a request
// nginx delays is not taken for an aborted one.
//
// Everything here may be called from any test goroutine.
package traffictest

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gresty/internal/nginxtest"
)

var logLine = regexp.MustCompile(`(?m)\[(emerg|alert|crit|error|warn)\] (?:\d+#\d+: )?(.*)$`)

// ConfigTest runs "-t" on conf (after an events block) with nginx and
// gresty and reports any difference in exit code or in the messages,
// warnings included, with the directory masked. Files the configuration
// needs can be put in dir beforehand; %%DIR%% in conf is replaced by it.
func ConfigTest(t *testing.T, conf string) {
	t.Helper()
	ConfigTestIn(t, t.TempDir(), conf)
}

// ConfigTestIn is ConfigTest in a given directory.
func ConfigTestIn(t *testing.T, dir, conf string) {
	t.Helper()
	ngx := nginxtest.Binary(t)
	gr := nginxtest.Gresty(t)
	conf = strings.ReplaceAll(conf, "%%DIR%%", dir)
	cf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cf, []byte("events {}\n"+conf), 0o644); err != nil {
		t.Fatal(err)
	}
	nOut, nCode := runTest(ngx, dir, cf)
	gOut, gCode := runTest(gr, dir, cf)
	if nCode != gCode || nOut != gOut {
		t.Errorf("nginx (exit %d):\n%s\ngresty (exit %d):\n%s", nCode, nOut, gCode, gOut)
	}
}

func runTest(bin, dir, cf string) (string, int) {
	cmd := exec.Command(bin, "-t", "-q", "-p", dir+"/", "-c", cf, "-e", "stderr",
		"-g", "pid "+filepath.Join(dir, "nginx.pid")+";")
	out, _ := cmd.CombinedOutput()
	var m []string
	for _, s := range logLine.FindAllStringSubmatch(string(out), -1) {
		m = append(m, s[1]+": "+strings.ReplaceAll(s[2], dir, "DIR"))
	}
	return strings.Join(m, "\n"), cmd.ProcessState.ExitCode()
}

// Result is an answer of Send.
type Result struct {
	Status int
	Header http.Header
	Body   []byte
	// Latency is the time from the request's last byte to the end of
	// the response.
	Latency time.Duration
	Err     error
}

// SendRaw writes raw to addr and reads until the server closes, keeping
// the writing side open (raw should ask for Connection: close). It
// returns what was read and how long the answer took after the request's
// last byte.
func SendRaw(addr, raw string, timeout time.Duration) ([]byte, time.Duration, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, raw); err != nil {
		return nil, 0, err
	}
	start := time.Now()
	b, err := io.ReadAll(c)
	return b, time.Since(start), err
}

// Send is SendRaw with the response parsed.
func Send(addr, raw string, timeout time.Duration) Result {
	b, lat, err := SendRaw(addr, raw, timeout)
	if len(b) == 0 {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return Result{Err: err, Latency: lat}
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(b)), nil)
	if err != nil {
		return Result{Err: err, Latency: lat}
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return Result{Status: resp.StatusCode, Header: resp.Header, Body: body, Latency: lat}
}

// Get is a GET of path with Host localhost and Connection: close, plus
// the given header lines ("Name: value").
func Get(path string, headers ...string) string {
	var b strings.Builder
	b.WriteString("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}
