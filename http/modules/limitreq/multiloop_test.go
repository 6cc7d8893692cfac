package limitreq_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gresty/http/modules/traffictest"
	"gresty/internal/nginxtest"
)

// TestZoneSharedByLoops runs gresty with two loops, each with its own
// listening socket (reuseport), and sends one key's requests on many
// connections at once: the zone is one for the process, so exactly the
// burst and the first request pass, whichever loops the connections
// land on.
func TestZoneSharedByLoops(t *testing.T) {
	bin := nginxtest.Gresty(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "logs"), 0o755)
	os.MkdirAll(filepath.Join(dir, "html", "f"), 0o755)
	os.WriteFile(filepath.Join(dir, "html", "f", "index.html"), []byte("f\n"), 0o644)
	port := nginxtest.FreePort(t)
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 2;
pid %[1]s/logs/nginx.pid;
error_log %[1]s/logs/error.log info;
events { worker_connections 256; }
http {
    access_log off;
    limit_req_zone $arg_k zone=shared:1m rate=1r/m;
    server {
        listen 127.0.0.1:%[2]d reuseport;
        location /f/ { limit_req zone=shared burst=2 nodelay; root %[1]s/html; }
        location = /metrics { gresty_metrics; }
    }
}
`, dir, port)
	cf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir+"/", "-c", cf, "-e", filepath.Join(dir, "logs", "error.log"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGQUIT)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("gresty did not listen: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	const n = 40
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			statuses[i] = traffictest.Send(addr, traffictest.Get("/f/?k=one"), 10*time.Second).Status
		}(i)
	}
	wg.Wait()
	passed := 0
	for _, s := range statuses {
		if s == 200 {
			passed++
		} else if s != 503 {
			t.Errorf("status %d", s)
		}
	}
	if passed != 3 {
		t.Errorf("%d requests passed, want 3 (the first and a burst of 2): %v", passed, statuses)
	}
	// both loops turned requests away (the "#N" of a log line is its
	// loop), so both used the one zone.
	log, _ := os.ReadFile(filepath.Join(dir, "logs", "error.log"))
	for _, loop := range []string{"#0: ", "#1: "} {
		if !strings.Contains(string(log), loop) {
			t.Errorf("no line of loop %q in the error log: connections did not reach both loops\n%s", loop, log)
		}
	}
	// the loops' request counters add up in the exposition.
	body := string(traffictest.Send(addr, traffictest.Get("/metrics"), 5*time.Second).Body)
	for _, want := range []string{
		`gresty_http_requests_total{server="",status="200"} 3`,
		`gresty_http_requests_total{server="",status="503"} 37`,
		`gresty_limit_req_requests_total{zone="shared",outcome="rejected"} 37`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("exposition lacks %q:\n%s", want, body)
		}
	}
}
