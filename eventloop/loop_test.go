//go:build linux

package eventloop

import (
	"errors"
	"io"
	"reflect"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Functions posted from other goroutines run on the loop's thread, in
// order per poster, exactly once each.
func TestPostRunsOnLoop(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		l := g.Loops()[0]
		var loopTid int
		onLoop(t, l, func() { loopTid = unix.Gettid() })
		const posters, each = 8, 500
		count := 0 // loop-owned: the race detector flags any other access
		last := make([]int, posters)
		var wrongThread, outOfOrder int
		var wg sync.WaitGroup
		for p := 0; p < posters; p++ {
			wg.Add(1)
			go func(p int) {
				defer wg.Done()
				for i := 1; i <= each; i++ {
					i := i
					if !l.Post(func() {
						if unix.Gettid() != loopTid {
							wrongThread++
						}
						if last[p] != i-1 {
							outOfOrder++
						}
						last[p] = i
						count++
					}) {
						t.Error("Post refused on a running loop")
						return
					}
				}
			}(p)
		}
		wg.Wait()
		var got, wrong, order int
		onLoop(t, l, func() { got, wrong, order = count, wrongThread, outOfOrder })
		if got != posters*each || wrong != 0 || order != 0 {
			t.Fatalf("ran %d of %d, %d on another thread, %d out of order", got, posters*each, wrong, order)
		}
		g.Stop()
		if l.Post(func() {}) {
			t.Fatal("Post accepted after the loop stopped")
		}
	})
}

func TestTimers(t *testing.T) {
	type step struct {
		name  string
		delay time.Duration
		stop  bool          // stopped before it fires
		reset time.Duration // re-armed with this delay right away (0: not)
	}
	cases := []struct {
		name  string
		steps []step
		want  []string
	}{
		{"ordered by deadline", []step{{name: "c", delay: 30 * time.Millisecond}, {name: "a", delay: 10 * time.Millisecond}, {name: "b", delay: 20 * time.Millisecond}}, []string{"a", "b", "c"}},
		{"same deadline keeps arming order", []step{{name: "x", delay: 10 * time.Millisecond}, {name: "y", delay: 10 * time.Millisecond}, {name: "z", delay: 10 * time.Millisecond}}, []string{"x", "y", "z"}},
		{"stopped timers do not fire", []step{{name: "a", delay: 10 * time.Millisecond, stop: true}, {name: "b", delay: 20 * time.Millisecond}}, []string{"b"}},
		{"reset moves in place", []step{{name: "a", delay: 10 * time.Millisecond, reset: 40 * time.Millisecond}, {name: "b", delay: 20 * time.Millisecond}}, []string{"b", "a"}},
		{"zero delay", []step{{name: "later", delay: 15 * time.Millisecond}, {name: "now", delay: 0}}, []string{"now", "later"}},
	}
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		l := g.Loops()[0]
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var fired []string
				done := make(chan struct{})
				onLoop(t, l, func() {
					for _, s := range tc.steps {
						name := s.name
						tm := l.AfterFunc(s.delay, func() { fired = append(fired, name) })
						if s.stop && !tm.Stop() {
							t.Error("Stop of an armed timer returned false")
						}
						if s.reset > 0 && !tm.Reset(s.reset) {
							t.Error("Reset of an armed timer returned false")
						}
					}
					l.AfterFunc(80*time.Millisecond, func() { close(done) })
				})
				<-done
				var got []string
				onLoop(t, l, func() { got = fired })
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("fired %v, want %v", got, tc.want)
				}
			})
		}
	})
}

// ResetLazy keeps an armed timer's deadline when the new one is within
// the slack, and moves it otherwise; an unarmed timer is armed.
func TestTimerResetLazy(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		l := g.Loops()[0]
		var fired []string
		done := make(chan struct{})
		onLoop(t, l, func() {
			a := l.AfterFunc(30*time.Millisecond, func() { fired = append(fired, "a") })
			b := l.AfterFunc(20*time.Millisecond, func() { fired = append(fired, "b") })
			c := l.NewTimer(func() { fired = append(fired, "c") })
			d0 := a.Deadline()
			if !a.ResetLazy(35*time.Millisecond, 10*time.Millisecond) || a.Deadline() != d0 {
				t.Error("a deadline within the slack moved")
			}
			if !b.ResetLazy(50*time.Millisecond, 10*time.Millisecond) || b.Deadline().Sub(d0) < 15*time.Millisecond {
				t.Error("a deadline past the slack stayed")
			}
			if c.ResetLazy(40*time.Millisecond, time.Second) || !c.Active() {
				t.Error("an unarmed timer was not armed")
			}
			l.AfterFunc(90*time.Millisecond, func() { close(done) })
		})
		<-done
		var got []string
		onLoop(t, l, func() { got = fired })
		if !reflect.DeepEqual(got, []string{"a", "c", "b"}) {
			t.Fatalf("fired %v, want [a c b]", got)
		}
	})
}

// A timer that keeps re-arming itself with zero delay must not starve I/O.
func TestZeroDelayTimerDoesNotStarveIO(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		l := g.Loops()[0]
		stop := false
		var spin *Timer
		onLoop(t, l, func() {
			spin = l.AfterFunc(0, func() {
				if !stop {
					spin.Reset(0)
				}
			})
		})
		s := listenTCP(t, g, lineAccepter)
		ask(t, dialClient(t, "tcp", s.Addr().String()), "still served")
		onLoop(t, l, func() { stop = true })
	})
}

// The cached clock moves between iterations, not within a dispatch.
func TestCachedClock(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		l := g.Loops()[0]
		var first, second, after time.Time
		var ms int64
		onLoop(t, l, func() {
			first = l.Now()
			time.Sleep(5 * time.Millisecond)
			second = l.Now()
			l.UpdateTime()
			after = l.Now()
			ms = l.NowMs()
		})
		if !first.Equal(second) {
			t.Fatal("clock moved inside one dispatch")
		}
		if after.Sub(first) < 5*time.Millisecond {
			t.Fatal("UpdateTime did not refresh the clock")
		}
		if ms != after.UnixMilli() {
			t.Fatalf("NowMs %d, want %d", ms, after.UnixMilli())
		}
	})
}

// Graceful shutdown: listeners close, idle connections close at once, busy
// ones finish their answer, then the loops stop.
func TestGroupGracefulShutdown(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 2, nil)
		s := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler {
			c.SetIdle(true)
			return &HandlerFuncs{
				Data: func(c *Conn, b []byte) {
					c.SetIdle(false)
					c.Loop().AfterFunc(150*time.Millisecond, func() {
						c.WriteString("late answer")
						if c.Loop().Exiting() {
							c.CloseAfterDrain()
						} else {
							c.SetIdle(true)
						}
					})
				},
			}
		}))
		idle := dialClient(t, "tcp", s.Addr().String())
		busy := dialClient(t, "tcp", s.Addr().String())
		busy.Write([]byte("request"))
		time.Sleep(30 * time.Millisecond)
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- g.Shutdown(5 * time.Second) }()
		if _, err := idle.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("idle connection: %v, want EOF", err)
		}
		got, err := io.ReadAll(busy)
		if err != nil || string(got) != "late answer" {
			t.Fatalf("busy connection read %q, %v", got, err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("shutdown took %v", d)
		}
	})
}

// A graceful shutdown that outlives its timeout turns into a fast stop, and
// a fast stop closes connections with ErrLoopStopped.
func TestShutdownTimeoutAndStop(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		closed := make(chan error, 1)
		s := listenTCP(t, g, AccepterFunc(func(c *Conn) Handler {
			return &HandlerFuncs{Close: func(c *Conn, err error) { closed <- err }}
		}))
		cl := dialClient(t, "tcp", s.Addr().String())
		time.Sleep(20 * time.Millisecond)
		start := time.Now()
		if err := g.Shutdown(100 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 100*time.Millisecond || d > 3*time.Second {
			t.Fatalf("shutdown returned after %v", d)
		}
		if err := <-closed; !errors.Is(err, ErrLoopStopped) {
			t.Fatalf("OnClose error %v, want ErrLoopStopped", err)
		}
		if _, err := cl.Read(make([]byte, 1)); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("client read %v", err)
		}
	})
}

// Hold keeps a gracefully stopping loop alive until Release.
func TestHoldDelaysExit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		l := g.Loops()[0]
		onLoop(t, l, func() {
			l.Hold()
			l.AfterFunc(100*time.Millisecond, l.Release)
		})
		start := time.Now()
		l.Shutdown(0)
		<-l.Done()
		if d := time.Since(start); d < 100*time.Millisecond {
			t.Fatalf("loop exited after %v, before Release", d)
		}
	})
}

func TestCPUAffinity(t *testing.T) {
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil || allowed.Count() < 1 {
		t.Skip("cannot read CPU affinity")
	}
	cpu := -1
	for i := 0; i < 1024; i++ {
		if allowed.IsSet(i) {
			cpu = i
			break
		}
	}
	forEachBackend(t, func(t *testing.T, b Backend) {
		var log logRecorder
		g := startGroup(t, b, 1, func(c *GroupConfig) {
			c.Affinity = [][]int{{cpu}}
			c.Loop.Logf = log.logf
		})
		var set unix.CPUSet
		onLoop(t, g.Loops()[0], func() { unix.SchedGetaffinity(0, &set) })
		if set.Count() != 1 || !set.IsSet(cpu) {
			t.Fatalf("loop thread affinity has %d CPUs, want only #%d", set.Count(), cpu)
		}
		if !log.contains("6 sched_setaffinity(): using cpu #" + itoa(cpu)) {
			t.Fatalf("log: %q", log.String())
		}
	})
}

func TestCPUsFor(t *testing.T) {
	cases := []struct {
		name string
		cfg  GroupConfig
		loop int
		want []int
	}{
		{"none", GroupConfig{}, 3, nil},
		{"explicit", GroupConfig{Affinity: [][]int{{0}, {1, 2}}}, 1, []int{1, 2}},
		{"explicit, last repeats", GroupConfig{Affinity: [][]int{{0}, {3}}}, 5, []int{3}},
		{"auto with mask", GroupConfig{AffinityAuto: true, AutoCPUs: []int{6, 2, 4}}, 0, []int{2}},
		{"auto with mask wraps", GroupConfig{AffinityAuto: true, AutoCPUs: []int{6, 2, 4}}, 4, []int{4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := cpusFor(&tc.cfg, tc.loop); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestErrnoText(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{syscall.ECONNREFUSED, "(111: Connection refused)"},
		{syscall.ETIMEDOUT, "(110: Connection timed out)"},
		{syscall.ECONNRESET, "(104: Connection reset by peer)"},
		{syscall.ENOENT, "(2: No such file or directory)"},
		{syscall.EADDRINUSE, "(98: Address already in use)"},
		{syscall.EMFILE, "(24: Too many open files)"},
		{syscall.Errno(41), "(41: Unknown error 41)"},
		{&OpError{Op: "recv", Err: syscall.EPIPE}, "(32: Broken pipe)"},
		{errors.New("plain"), "(0: plain)"},
		{nil, ""},
	}
	for _, tc := range cases {
		if got := ErrnoText(tc.err); got != tc.want {
			t.Errorf("ErrnoText(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
	if s := (&OpError{Op: "connect", Err: syscall.ECONNREFUSED}).Error(); s != "connect() failed (111: Connection refused)" {
		t.Errorf("OpError %q", s)
	}
}

// Steady-state request/response traffic allocates nothing on the loop.
func TestNoAllocsPerRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		g := startGroup(t, b, 1, nil)
		s := listenTCP(t, g, echoAccepter)
		cl := dialClient(t, "tcp", s.Addr().String())
		req := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		buf := make([]byte, 256)
		roundTrip := func() {
			cl.Write(req)
			n := 0
			for n < len(req) {
				k, err := cl.Read(buf[n:])
				if err != nil {
					t.Fatal(err)
				}
				n += k
			}
		}
		for i := 0; i < 100; i++ {
			roundTrip()
		}
		avg := testing.AllocsPerRun(500, roundTrip)
		t.Logf("%.3f allocs per round trip", avg)
		if avg > 0.05 {
			t.Fatalf("%.2f allocations per round trip", avg)
		}
	})
}
