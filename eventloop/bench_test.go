//go:build linux

package eventloop

import (
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"sort"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var (
	helloRequest  = []byte("GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
	helloResponse = []byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello")
)

// helloHandler answers every complete fixed-size request with a fixed
// response, without allocating.
type helloHandler struct{ partial int }

func (h *helloHandler) OnData(c *Conn, b []byte) {
	n := h.partial + len(b)
	for ; n >= len(helloRequest); n -= len(helloRequest) {
		c.WriteRef(helloResponse)
	}
	h.partial = n
}
func (h *helloHandler) OnReadEOF(c *Conn)          { c.CloseAfterDrain() }
func (h *helloHandler) OnDrain(c *Conn)            {}
func (h *helloHandler) OnClose(c *Conn, err error) {}

// BenchmarkHello serves keep-alive request/response traffic on one loop to
// real clients over loopback (the clients share the machine's CPUs).
func BenchmarkHello(b *testing.B) {
	for _, backend := range testBackends {
		for _, conns := range []int{1, 32} {
			b.Run(fmt.Sprintf("%s/conns=%d", backend, conns), func(b *testing.B) {
				g := startGroup(b, backend, 1, nil)
				s := listenTCP(b, g, AccepterFunc(func(c *Conn) Handler { return &helloHandler{} }))
				clients := make([]net.Conn, conns)
				for i := range clients {
					clients[i] = dialClient(b, "tcp", s.Addr().String())
				}
				l := g.Loops()[0]
				cpu0 := loopCPU(b, l)
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				var wg sync.WaitGroup
				for i, cl := range clients {
					n := b.N / conns
					if i < b.N%conns {
						n++
					}
					wg.Add(1)
					go func(cl net.Conn, n int) {
						defer wg.Done()
						buf := make([]byte, len(helloResponse))
						for j := 0; j < n; j++ {
							if _, err := cl.Write(helloRequest); err != nil {
								b.Error(err)
								return
							}
							for got := 0; got < len(buf); {
								k, err := cl.Read(buf[got:])
								if err != nil {
									b.Error(err)
									return
								}
								got += k
							}
						}
					}(cl, n)
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				cpu := loopCPU(b, l) - cpu0
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
				b.ReportMetric(float64(b.N)/cpu.Seconds(), "req/loop-cpu-s")
			})
		}
	}
}

// loopCPU returns the CPU time (user and system) the loop's thread has
// used: requests per loop CPU-second is the figure that compares with
// nginx's requests per worker CPU-second, and it is far less disturbed by
// the clients sharing the machine than requests per second.
func loopCPU(b *testing.B, l *Loop) time.Duration {
	var ru unix.Rusage
	onLoop(b, l, func() { unix.Getrusage(unix.RUSAGE_THREAD, &ru) })
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTimerLateness arms 2,000 timers of 1 to 50 ms per iteration and
// reports how late they fire (p50, p99, max) by the real clock.
func BenchmarkTimerLateness(b *testing.B) {
	const timers = 2000
	for _, backend := range testBackends {
		b.Run(backend.String(), func(b *testing.B) {
			g := startGroup(b, backend, 1, nil)
			l := g.Loops()[0]
			rng := rand.New(rand.NewSource(1))
			var late []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var wg sync.WaitGroup
				wg.Add(timers)
				delays := make([]time.Duration, timers)
				for j := range delays {
					delays[j] = time.Millisecond + time.Duration(rng.Int63n(int64(49*time.Millisecond)))
				}
				onLoop(b, l, func() {
					// Deadlines count from the cached clock, as nginx's do;
					// lateness is measured against the same base.
					l.UpdateTime()
					for _, d := range delays {
						due := l.Now().Add(d)
						l.AfterFunc(d, func() {
							late = append(late, time.Since(due))
							wg.Done()
						})
					}
				})
				wg.Wait()
			}
			b.StopTimer()
			var sorted []time.Duration
			onLoop(b, l, func() { sorted = append(sorted, late...) })
			sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
			q := func(p float64) float64 {
				return float64(sorted[int(p*float64(len(sorted)-1))]) / float64(time.Millisecond)
			}
			b.ReportMetric(q(0.5), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(q(1), "max-ms")
		})
	}
}

// BenchmarkPost measures a Post round trip from another goroutine.
func BenchmarkPost(b *testing.B) {
	for _, backend := range testBackends {
		b.Run(backend.String(), func(b *testing.B) {
			g := startGroup(b, backend, 1, nil)
			l := g.Loops()[0]
			done := make(chan struct{})
			f := func() { done <- struct{}{} }
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				l.Post(f)
				<-done
			}
		})
	}
}

// BenchmarkTimerResetStop measures re-arming and disarming among 10,000
// armed timers, the pattern of per-connection deadlines.
func BenchmarkTimerResetStop(b *testing.B) {
	g := startGroup(b, BackendEpoll, 1, nil)
	l := g.Loops()[0]
	onLoop(b, l, func() {
		ts := make([]*Timer, 10000)
		for i := range ts {
			ts[i] = l.AfterFunc(time.Hour+time.Duration(i)*time.Millisecond, func() {})
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t := ts[i%len(ts)]
			t.Reset(time.Hour + time.Duration(i%997)*time.Millisecond)
			if i%4 == 0 {
				t.Stop()
				t.Reset(2 * time.Hour)
			}
		}
		b.StopTimer()
		for _, t := range ts {
			t.Stop()
		}
	})
}

// loadEnv, when set to "addr conns requests", turns this test binary into
// the load generator of BenchmarkHelloExternal (see TestLoadGenerator).
const loadEnv = "GRESTY_EVENTLOOP_LOADGEN"

// TestLoadGenerator is not a test: BenchmarkHelloExternal runs the test
// binary with it selected and loadEnv set, so that the clients run in
// another process, as they would against a real server.
func TestLoadGenerator(t *testing.T) {
	spec := os.Getenv(loadEnv)
	if spec == "" {
		t.Skip("load generator for BenchmarkHelloExternal; runs only in its child process")
	}
	var addr string
	var conns, requests int
	if _, err := fmt.Sscan(spec, &addr, &conns, &requests); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		n := requests / conns
		if i < requests%conns {
			n++
		}
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			cl, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer cl.Close()
			buf := make([]byte, len(helloResponse))
			for j := 0; j < n; j++ {
				if _, err := cl.Write(helloRequest); err != nil {
					t.Error(err)
					return
				}
				if _, err := io.ReadFull(cl, buf); err != nil {
					t.Error(err)
					return
				}
			}
		}(n)
	}
	wg.Wait()
}

// BenchmarkHelloExternal is BenchmarkHello with the clients in a child
// process, which is how a server meets its clients: the loop does not share
// Go's scheduler with them.
func BenchmarkHelloExternal(b *testing.B) {
	for _, backend := range testBackends {
		for _, conns := range []int{1, 32} {
			b.Run(fmt.Sprintf("%s/conns=%d", backend, conns), func(b *testing.B) {
				g := startGroup(b, backend, 1, nil)
				s := listenTCP(b, g, AccepterFunc(func(c *Conn) Handler { return &helloHandler{} }))
				l := g.Loops()[0]
				cmd := exec.Command(os.Args[0], "-test.run=^TestLoadGenerator$", "-test.count=1")
				cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d", loadEnv, s.Addr(), conns, b.N))
				cpu0 := loopCPU(b, l)
				b.ResetTimer()
				start := time.Now()
				out, err := cmd.CombinedOutput()
				elapsed := time.Since(start)
				b.StopTimer()
				if err != nil {
					b.Fatalf("load generator: %v\n%s", err, out)
				}
				cpu := loopCPU(b, l) - cpu0
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
				b.ReportMetric(float64(b.N)/cpu.Seconds(), "req/loop-cpu-s")
			})
		}
	}
}
