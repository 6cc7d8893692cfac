package proxy_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gresty/http/modules/proxy/proxytest"
	"gresty/internal/nginxtest"
)

// bigBody answers with n bytes (the "n" argument) as fast as the proxy
// takes them.
func bigBody(req *proxytest.Request, c net.Conn) bool {
	n, _ := strconv.ParseInt(strings.TrimPrefix(req.Target[strings.IndexByte(req.Target, '?')+1:], "n="), 10, 64)
	fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", n)
	buf := make([]byte, 64<<10)
	for i := range buf {
		buf[i] = byte('a' + i%26)
	}
	for n > 0 {
		k := int64(len(buf))
		if k > n {
			k = n
		}
		if _, err := c.Write(buf[:k]); err != nil {
			return false
		}
		n -= k
	}
	return false
}

// heapInUse returns the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestSlowClientMemory proxies 64 MiB from an upstream that sends as fast
// as it can to a client that reads slowly, and checks that the server's
// live heap grows by less than 4 MiB meanwhile: buffered, the body waits
// in the temporary file; unbuffered, the upstream is not read while the
// client holds more than proxy_buffer_size unsent.
func TestSlowClientMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 128 MiB")
	}
	b := proxytest.Start(t, "big")
	b.Handle("/big", bigBody)
	tmp := t.TempDir()
	addr, prefix := proxytest.Serve(t, fmt.Sprintf(`
http {
  proxy_temp_path %[2]s/proxy_temp 1 2;
  server {
    listen 127.0.0.1:%[3]d;
    location /buffered/ { proxy_pass http://%[1]s/; }
    location /unbuffered/ { proxy_buffering off; proxy_pass http://%[1]s/; }
  }
}
`, b.Addr, tmp, nginxtest.FreePort(t)), 1)
	const size = 64 << 20
	for _, loc := range []string{"/buffered/", "/unbuffered/"} {
		base := heapInUse()
		var peak uint64
		var mu sync.Mutex
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				case <-time.After(25 * time.Millisecond):
				}
				h := heapInUse()
				mu.Lock()
				if h > peak {
					peak = h
				}
				mu.Unlock()
			}
		}()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(60 * time.Second))
		fmt.Fprintf(c, "GET %sbig?n=%d HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", loc, size)
		br := bufio.NewReaderSize(c, 16<<10)
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				log, _ := os.ReadFile(filepath.Join(prefix, "logs", "error.log"))
				t.Fatalf("%s: reading head: %v\n%s", loc, err, log)
			}
			if l == "\r\n" {
				break
			}
		}
		buf := make([]byte, 256<<10)
		var got int64
		for got < size {
			n, err := io.ReadFull(br, buf[:min(int64(len(buf)), size-got)])
			got += int64(n)
			if err != nil {
				lg, _ := os.ReadFile(filepath.Join(prefix, "logs", "error.log"))
				t.Fatalf("%s: read %d bytes: %v\n%s", loc, got, err, lg)
			}
			// a slow client: about 64 MiB/s, far below what the
			// upstream sends
			time.Sleep(4 * time.Millisecond)
		}
		c.Close()
		close(stop)
		<-done
		mu.Lock()
		grew := int64(peak) - int64(base)
		mu.Unlock()
		t.Logf("%s: live heap grew by at most %d KiB", loc, grew>>10)
		if grew > 4<<20 {
			t.Errorf("%s: live heap grew by %d bytes while proxying %d bytes to a slow client", loc, grew, size)
		}
	}
}

// TestSlowUpstreamUpload streams a 64 MiB request body
// (proxy_request_buffering off) to an upstream that reads it slowly and
// checks that the server's live heap grows by less than 4 MiB: reading
// from the client stops while the upstream holds more than
// client_body_buffer_size unsent.
func TestSlowUpstreamUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 64 MiB")
	}
	b := proxytest.Start(t, "sink")
	b.Handle("/count", func(req *proxytest.Request, c net.Conn) bool {
		// read at about 64 MiB/s, far below what the client sends
		buf := make([]byte, 64<<10)
		n := 0
		for {
			k, err := req.BodyReader.Read(buf)
			n += k
			if err != nil {
				break
			}
			time.Sleep(time.Millisecond)
		}
		return proxytest.Respond(c, req, 200, nil, strconv.Itoa(n))
	})
	addr, _ := proxytest.Serve(t, fmt.Sprintf(`
http {
  client_max_body_size 0;
  server {
    listen 127.0.0.1:%[2]d;
    location / { proxy_request_buffering off; proxy_pass http://%[1]s; }
  }
}
`, b.Addr, nginxtest.FreePort(t)), 1)
	const size = 64 << 20
	base := heapInUse()
	var peak uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(25 * time.Millisecond):
			}
			if h := heapInUse(); h > peak {
				peak = h
			}
		}
	}()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	fmt.Fprintf(c, "POST /count HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n", size)
	chunk := make([]byte, 256<<10)
	for sent := 0; sent < size; sent += len(chunk) {
		if _, err := c.Write(chunk); err != nil {
			t.Fatalf("upload: %v", err)
		}
	}
	err = readResponse(bufio.NewReader(c), strconv.Itoa(size))
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	grew := int64(peak) - int64(base)
	t.Logf("live heap grew by at most %d KiB", grew>>10)
	if grew > 4<<20 {
		t.Errorf("live heap grew by %d bytes while streaming %d bytes to the upstream", grew, size)
	}
}

// TestKeepaliveReuse sends 10,000 requests through an upstream with
// "keepalive 4" (and keepalive_requests above that count) on two loops
// and checks that the backend accepted no more connections than the
// caches may hold: four per loop.
func TestKeepaliveReuse(t *testing.T) {
	b := proxytest.Start(t, "ka")
	addr, _ := proxytest.Serve(t, fmt.Sprintf(`
http {
  upstream ka { server %[1]s; keepalive 4; keepalive_requests 100000; }
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:%[2]d;
    location / { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://ka; }
  }
}
`, b.Addr, nginxtest.FreePort(t)), 2)
	const clients, perClient = 4, 2500
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(60 * time.Second))
			br := bufio.NewReader(c)
			req := []byte("GET /id HTTP/1.1\r\nHost: localhost\r\n\r\n")
			for j := 0; j < perClient; j++ {
				if _, err := c.Write(req); err != nil {
					errs <- err
					return
				}
				if err := readResponse(br, "ka"); err != nil {
					errs <- fmt.Errorf("request %d: %v", j, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := b.Requests(); got != clients*perClient {
		t.Errorf("backend saw %d requests, want %d", got, clients*perClient)
	}
	if got := b.Accepted(); got > 4*2 {
		t.Errorf("backend accepted %d connections for %d keepalive requests, want at most 8", got, clients*perClient)
	}
	t.Logf("%d requests over %d upstream connections", b.Requests(), b.Accepted())
}

// readResponse reads one Content-Length response and checks its body.
func readResponse(br *bufio.Reader, want string) error {
	n := -1
	status := ""
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if status == "" {
			status = l
		}
		if l == "\r\n" {
			break
		}
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "Content-Length") {
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if !strings.Contains(status, " 200 ") || n < 0 {
		return fmt.Errorf("response %q with length %d", status, n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return err
	}
	if string(body) != want {
		return fmt.Errorf("body %q", body)
	}
	return nil
}

// TestKeepaliveTimeout checks that an idle cached upstream connection is
// closed after the upstream's keepalive_timeout, and that a connection
// the upstream closes while idle is not reused.
func TestKeepaliveTimeout(t *testing.T) {
	b := proxytest.Start(t, "ka")
	b2 := proxytest.Start(t, "ka2")
	addr, _ := proxytest.Serve(t, fmt.Sprintf(`
http {
  upstream short { server %[1]s; keepalive 2; keepalive_timeout 200ms; }
  upstream long { server %[2]s; keepalive 2; }
  server {
    listen 127.0.0.1:%[3]d;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    location /short/ { proxy_pass http://short/; }
    location /long/ { proxy_pass http://long/; }
  }
}
`, b.Addr, b2.Addr, nginxtest.FreePort(t)), 1)
	get := func(target, want string) {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", target)
		if err := readResponse(bufio.NewReader(c), want); err != nil {
			t.Fatalf("%s: %v", target, err)
		}
	}
	get("/short/id", "ka")
	if n := b.Open(); n != 1 {
		t.Fatalf("backend has %d connections open after one request, want the cached one", n)
	}
	deadline := time.Now().Add(3 * time.Second)
	for b.Open() != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := b.Open(); n != 0 {
		t.Errorf("cached connection still open %d after keepalive_timeout", n)
	}
	get("/long/id", "ka2")
	b2.Close()
	// the upstream went away: the cache must notice rather than hand the
	// dead connection to the next request, which then connects anew (and
	// fails, the backend being gone)
	time.Sleep(50 * time.Millisecond)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET /long/id HTTP/1.1\r\nHost: localhost\r\n\r\n")
	status, _ := bufio.NewReader(c).ReadString('\n')
	if !strings.Contains(status, " 502 ") {
		t.Errorf("after the upstream closed its idle connection: %q, want 502", status)
	}
}

// TestBufferedUpstreamReadAhead: with proxy_buffering on, the upstream is
// read to its end while the client reads nothing, the body going to the
// temporary file (up to proxy_max_temp_file_size), as nginx's event pipe
// does; the client then gets every byte.
func TestBufferedUpstreamReadAhead(t *testing.T) {
	const size = 16 << 20
	sent := make(chan struct{}, 1)
	b := proxytest.Start(t, "big")
	b.Handle("/big", func(req *proxytest.Request, c net.Conn) bool {
		bigBody(req, c)
		sent <- struct{}{}
		return false
	})
	tmp := t.TempDir()
	addr, _ := proxytest.Serve(t, fmt.Sprintf(`
http {
  proxy_temp_path %[2]s/proxy_temp;
  server {
    listen 127.0.0.1:%[3]d;
    location / { proxy_pass http://%[1]s; }
  }
}
`, b.Addr, tmp, nginxtest.FreePort(t)), 1)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /big?n=%d HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", size)
	select {
	case <-sent:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream could not send its response while the client read nothing")
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n != size {
		t.Fatalf("got %d bytes (%v), want %d", n, err, size)
	}
}
