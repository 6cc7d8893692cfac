package static_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gresty/http/modules/static/statictest"
	"gresty/internal/nginxtest"
	"gresty/modules"
)

// hotConf serves a settled 1 KiB file, as a static-file benchmark does,
// without an access log: this measures the static path.
const hotConf = `
http {
    ACCESS_LOG
    server {
        listen 127.0.0.1:PORT;
        root ROOT;
        sendfile on;
        keepalive_requests 100000000;
    }
}
`

func hotServer(t testing.TB) *statictest.Client {
	return fileServer(t, "1k.html", 1024)
}

// fileServer serves a file of size bytes of "x" at /name.
func fileServer(t testing.TB, name string, size int) *statictest.Client {
	t.Helper()
	root := t.TempDir()
	p := filepath.Join(root, name)
	if err := os.WriteFile(p, bytes.Repeat([]byte("x"), size), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	if size <= 32<<10 {
		// the small-file cache takes a file whose change time (now)
		// is two seconds old: wait until it is.
		time.Sleep(2100 * time.Millisecond)
	}
	accessLog := ""
	if modules.Registry().Known("access_log") {
		accessLog = "access_log off;"
	}
	conf := strings.NewReplacer("ROOT", root, "PORT", strconv.Itoa(nginxtest.FreePort(t)), "ACCESS_LOG", accessLog).Replace(hotConf)
	addr := statictest.Serve(t, conf)
	return statictest.Dial(t, addr, "GET /"+name+" HTTP/1.1\r\nHost: bench\r\n\r\n")
}

// A file too large for the small-file cache is opened, sent with sendfile
// and closed for every request, as nginx does, and that allocates nothing
// either: descriptors are not wrapped in os.File and their bookkeeping is
// reused.
func TestSendfileAllocs(t *testing.T) {
	cl := fileServer(t, "64k.html", 64<<10)
	body := bytes.Repeat([]byte("x"), 64<<10)
	for i := 0; i < 50; i++ {
		resp, err := cl.Do()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(resp, []byte("HTTP/1.1 200 OK\r\n")) || !bytes.HasSuffix(resp, body) {
			t.Fatalf("unexpected response:\n%.300s", resp)
		}
	}
	allocs := testing.AllocsPerRun(500, func() {
		if _, err := cl.Do(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per request, want 0", allocs)
	}
}

// A settled small file is served from the loop's cache: after warm-up a
// request allocates nothing, on the server or in this client.
func TestHotFileAllocs(t *testing.T) {
	cl := hotServer(t)
	for i := 0; i < 50; i++ {
		resp, err := cl.Do()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(resp, []byte("HTTP/1.1 200 OK\r\n")) || !bytes.HasSuffix(resp, bytes.Repeat([]byte("x"), 1024)) {
			t.Fatalf("unexpected response:\n%s", resp)
		}
	}
	allocs := testing.AllocsPerRun(500, func() {
		if _, err := cl.Do(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per request, want 0", allocs)
	}
}

// BenchmarkHotFile measures a keepalive request for a cached 1 KiB file,
// client included.
func BenchmarkHotFile(b *testing.B) {
	cl := hotServer(b)
	for i := 0; i < 50; i++ {
		cl.Do()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := cl.Do(); err != nil {
			b.Fatal(err)
		}
	}
}
