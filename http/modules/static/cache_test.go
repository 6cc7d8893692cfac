package static_test

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gresty/http/modules/static/statictest"
	"gresty/internal/nginxtest"
)

const freshConf = `
http {
    server {
        listen 127.0.0.1:PORT;
        root ROOT;
        location /ofc/ {
            alias ROOT/;
            open_file_cache max=2;
            open_file_cache_valid 1h;
        }
        location /sf/ {
            alias ROOT/;
            sendfile on;
        }
    }
}
`

func serveDir(t *testing.T) (root, addr string) {
	t.Helper()
	root = t.TempDir()
	conf := strings.NewReplacer("ROOT", root, "PORT", strconv.Itoa(nginxtest.FreePort(t))).Replace(freshConf)
	return root, statictest.Serve(t, conf)
}

func body(t *testing.T, addr, uri string) string {
	t.Helper()
	b, err := nginxtest.Exchange(addr, []byte("GET "+uri+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("\r\n\r\n"))
	if i < 0 {
		t.Fatalf("no response head: %q", b)
	}
	return strings.SplitN(string(b), " ", 3)[1] + " " + string(b[i+4:])
}

// writeAged writes a file and dates it an hour back, so that the loop may
// cache its bytes.
func writeAged(t *testing.T, p, data string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
}

// A file the loop holds in memory is served changed at once, however it
// changed: in place with the same size and its old mtime put back,
// replaced by a rename, removed, turned into a directory.
func TestChangedFilesServedAtOnce(t *testing.T) {
	root, addr := serveDir(t)
	p := filepath.Join(root, "f.txt")
	steps := []struct {
		name   string
		change func()
		want   string
	}{
		{"first", func() { writeAged(t, p, "version 1") }, "200 version 1"},
		{"cached", func() {}, "200 version 1"},
		{"same size, same mtime", func() {
			st, _ := os.Stat(p)
			os.WriteFile(p, []byte("version 2"), 0o644)
			os.Chtimes(p, st.ModTime(), st.ModTime())
		}, "200 version 2"},
		{"renamed over", func() {
			tmp := filepath.Join(root, "tmp")
			writeAged(t, tmp, "version 3")
			os.Rename(tmp, p)
		}, "200 version 3"},
		{"young and rewritten", func() {
			os.WriteFile(p, []byte("version 4"), 0o644)
		}, "200 version 4"},
		{"rewritten again at once", func() {
			os.WriteFile(p, []byte("version 5"), 0o644)
		}, "200 version 5"},
		{"truncated", func() {
			writeAged(t, p, "v6")
		}, "200 v6"},
		{"removed", func() { os.Remove(p) }, "404 "},
		{"back", func() { writeAged(t, p, "version 7") }, "200 version 7"},
		{"now a directory", func() {
			os.Remove(p)
			os.Mkdir(p, 0o755)
		}, "301 "},
	}
	for _, s := range steps {
		s.change()
		got := body(t, addr, "/f.txt")
		if s.want[:4] == "301 " || s.want[:4] == "404 " {
			got = got[:4]
		}
		if got != s.want {
			t.Errorf("%s: got %q, want %q", s.name, got, s.want)
		}
	}
}

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(es)
}

// Descriptors opened for responses are closed once the response is sent,
// also when the client goes away in the middle; an open_file_cache keeps
// at most its max.
func TestDescriptorsReleased(t *testing.T) {
	root, addr := serveDir(t)
	big := strings.Repeat("b", 1<<20)
	for i := 0; i < 6; i++ {
		writeAged(t, filepath.Join(root, "big"+strconv.Itoa(i)), big)
	}
	body(t, addr, "/big0") // warm the loop up
	base := openFDs(t)
	for round := 0; round < 3; round++ {
		for i := 0; i < 6; i++ {
			for _, prefix := range []string{"/", "/sf/", "/ofc/"} {
				if got := body(t, addr, prefix+"big"+strconv.Itoa(i)); len(got) != 4+len(big) {
					t.Fatalf("%sbig%d: %d bytes", prefix, i, len(got))
				}
			}
		}
	}
	// clients that read nothing and leave.
	for i := 0; i < 20; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("GET /sf/big" + strconv.Itoa(i%6) + " HTTP/1.1\r\nHost: x\r\n\r\n"))
		time.Sleep(5 * time.Millisecond)
		c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := openFDs(t)
		// the cache keeps up to two files open (max=2).
		if n <= base+2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d descriptors open, %d before the requests (open_file_cache max=2)", n, base)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A large file goes out whole to a slow reader: with sendfile off the copy
// filter waits for the connection to drain between reads, with sendfile
// on the queue holds the file range; a reader that leaves halfway releases
// everything.
func TestLargeFileSlowReader(t *testing.T) {
	root, addr := serveDir(t)
	const size = 6 << 20
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*7 + i>>12)
	}
	p := filepath.Join(root, "large.bin")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	base := openFDs(t)
	for _, uri := range []string{"/large.bin", "/sf/large.bin", "/ofc/large.bin"} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.(*net.TCPConn).SetReadBuffer(16 << 10)
		c.Write([]byte("GET " + uri + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
		var got []byte
		buf := make([]byte, 64<<10)
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		for i := 0; ; i++ {
			n, err := c.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				break
			}
			if i%16 == 0 {
				time.Sleep(2 * time.Millisecond)
			}
		}
		c.Close()
		i := bytes.Index(got, []byte("\r\n\r\n"))
		if i < 0 || !bytes.Equal(got[i+4:], data) {
			t.Errorf("%s: body of %d bytes differs from the file (%d)", uri, len(got)-i-4, size)
		}
		// one that reads a little and leaves.
		c, err = net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("GET " + uri + " HTTP/1.1\r\nHost: x\r\n\r\n"))
		c.Read(buf)
		c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for openFDs(t) > base+2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d descriptors open, %d before", openFDs(t), base)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := body(t, addr, "/large.bin"); len(got) != 4+size {
		t.Errorf("server unwell after the departures: %d bytes", len(got))
	}
}
