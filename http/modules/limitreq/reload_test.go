package limitreq_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gresty/http/modules/traffictest"
	"gresty/internal/nginxtest"
)

const reloadConf = `
http {
    limit_req_zone $arg_KEY zone=kept:1m rate=1r/m;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { limit_req zone=kept nodelay; return 204; }
        location /f/ { limit_req zone=kept nodelay; root %%PREFIX%%; }
    }
}
`

// TestZoneSurvivesReload exhausts a key, reloads the same configuration
// and expects the key still limited, as nginx's new workers find the
// zone's shared memory; then a configuration whose zone has another key
// must be refused with nginx's message, the running one staying in
// force. (nginx in its single-process mode stops listening after a
// reload, so only gresty is run; the expected answers are those of
// nginx's master and workers.)
func TestZoneSurvivesReload(t *testing.T) {
	conf := strings.ReplaceAll(reloadConf, "KEY", "k")
	steps := func(s *nginxtest.Server) string {
		os.MkdirAll(filepath.Join(s.Prefix, "f"), 0o755)
		os.WriteFile(filepath.Join(s.Prefix, "f", "index.html"), []byte("f\n"), 0o644)
		get := func() string {
			r := traffictest.Send(s.Addr, traffictest.Get("/f/?k=a"), 5*time.Second)
			return strconv.Itoa(r.Status)
		}
		out := []string{get(), get()}
		reload := func(conf string) {
			cf := filepath.Join(s.Prefix, "conf", "nginx.conf")
			b, err := os.ReadFile(cf)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Replace(string(b), "$arg_k zone", "$arg_"+conf+" zone", 1)
			if err := os.WriteFile(cf, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			pid, err := os.ReadFile(filepath.Join(s.Prefix, "logs", "nginx.pid"))
			if err != nil {
				t.Fatal(err)
			}
			n, _ := strconv.Atoi(strings.TrimSpace(string(pid)))
			syscall.Kill(n, syscall.SIGHUP)
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) && !strings.Contains(s.ErrorLog(), "reconfiguring") {
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(300 * time.Millisecond)
		}
		reload("k")
		out = append(out, get())
		reload("j")
		out = append(out, get())
		if strings.Contains(s.ErrorLog(), `limit_req "kept" uses the "$arg_j" key while previously it used the "$arg_k" key`) {
			out = append(out, "refused")
		}
		return strings.Join(out, " ")
	}
	if got := steps(nginxtest.StartGresty(t, conf)); got != "200 503 503 503 refused" {
		t.Errorf("got %s, want 200 503 503 503 refused", got)
	}
}
