package bench

import (
	"strings"
	"testing"
	"time"
)

// wrkOutput is wrk 4.1's report of a run with --latency, errors and
// non-2xx responses.
const wrkOutput = `Running 5s test @ http://127.0.0.1:18080/r
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   658.62ms  120.01ms   1.02s    70.00%
    Req/Sec     9.05k   812.33    10.10k    68.00%
  Latency Distribution
     50%  640.00ms
     75%  700.12ms
     90%  800.50ms
     99%    1.02s
  45772 requests in 5.08s, 6.68MB read
  Socket errors: connect 1, read 2, write 3, timeout 4
  Non-2xx or 3xx responses: 5
Requests/sec:   9005.44
Transfer/sec:      1.31MB
`

const wrkClean = `Running 3s test @ http://127.0.0.1:41235/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   238.13us   51.02us   2.89ms   88.12%
    Req/Sec   135.01k     4.12k  141.20k    70.00%
  Latency Distribution
     50%  230.00us
     75%  250.00us
     90%  290.00us
     99%  450.00us
  405035 requests in 3.00s, 59.09MB read
Requests/sec: 134906.21
Transfer/sec:     19.68MB
`

func TestParseWrk(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want wrkResult
		err  string
	}{
		{"errors", wrkOutput, wrkResult{Requests: 45772, Duration: 5080 * time.Millisecond, ReqPerSec: 9005.44,
			P50: 640 * time.Millisecond, P99: 1020 * time.Millisecond, SocketErrors: 10, Non2xx: 5}, ""},
		{"clean", wrkClean, wrkResult{Requests: 405035, Duration: 3 * time.Second, ReqPerSec: 134906.21,
			P50: 230 * time.Microsecond, P99: 450 * time.Microsecond}, ""},
		{"no latency", strings.Replace(wrkClean, "  Latency Distribution\n", "", 1), wrkResult{}, "no latency distribution"},
		{"zero p99", strings.Replace(wrkClean, "99%  450.00us", "99%    0.00us", 1), wrkResult{Requests: 405035, Duration: 3 * time.Second,
			ReqPerSec: 134906.21, P50: 230 * time.Microsecond}, ""},
		{"no count", "unable to connect to 127.0.0.1:1 Connection refused\n", wrkResult{}, "no request count"},
		{"no rate", strings.Replace(wrkClean, "Requests/sec", "Reqs", 1), wrkResult{}, "no Requests/sec"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseWrk(tc.out)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseWrkTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"12.00us", 12 * time.Microsecond, true},
		{"658.62ms", 658620 * time.Microsecond, true},
		{"1.02s", 1020 * time.Millisecond, true},
		{"2.00m", 2 * time.Minute, true},
		{"1.00h", time.Hour, true},
		{"5", 0, false},
		{"5ns", 0, false},
		{"ms", 0, false},
	}
	for _, tc := range tests {
		got, err := parseWrkTime(tc.in)
		if (err == nil) != tc.ok || got.Round(time.Microsecond) != tc.want {
			t.Errorf("parseWrkTime(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestWrkArgs(t *testing.T) {
	s := &Scenario{Name: "x", Path: "/p", Headers: []string{"Connection: close", "Accept-Encoding: gzip"}}
	got := strings.Join(wrkArgs(s, "http://127.0.0.1:1/p", 16, 2500*time.Millisecond, "/s.lua"), " ")
	want := "-t1 -c16 -d3s --latency --timeout 5s -H Connection: close -H Accept-Encoding: gzip -s /s.lua http://127.0.0.1:1/p"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := wrkSeconds(100 * time.Millisecond); got != "1s" {
		t.Errorf("wrkSeconds(100ms) = %s, want 1s", got)
	}
}

func TestPipelineScript(t *testing.T) {
	dir := t.TempDir()
	p, err := writePipelineScript(dir, &Scenario{Name: "one", Path: "/", Pipeline: 1})
	if err != nil || p != "" {
		t.Fatalf("no pipelining wants no script: %q, %v", p, err)
	}
	if _, err := writePipelineScript(dir, &Scenario{Name: "bad", Path: `/a"b`, Pipeline: 4}); err == nil {
		t.Fatal("a path with a quote must be refused")
	}
	s := pipelineScript("/x?y=1", 16)
	for _, want := range []string{"for i = 1, 16 do", `wrk.format(nil, "/x?y=1")`, "request = function()"} {
		if !strings.Contains(s, want) {
			t.Errorf("script lacks %q:\n%s", want, s)
		}
	}
}

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		in        string
		user, sys int64
		ok        bool
	}{
		// the command name may hold spaces and parentheses.
		{"1234 (nginx: worker (x)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 37 0 0 20 0 1 0 100 1000 10 0", 250, 37, true},
		{"99 (gresty) R 1 99 99 0 -1 0 0 0 0 0 7 3 0 0 20 0 5 0", 7, 3, true},
		{"99 gresty R 1", 0, 0, false},
		{"99 (gresty) R 1 2 3", 0, 0, false},
	}
	for _, tc := range tests {
		u, s, err := parseProcStat([]byte(tc.in))
		if (err == nil) != tc.ok || u != tc.user || s != tc.sys {
			t.Errorf("parseProcStat(%q) = %d, %d, %v; want %d, %d, ok %v", tc.in, u, s, err, tc.user, tc.sys, tc.ok)
		}
	}
}

func TestParseSchedstat(t *testing.T) {
	got, err := parseSchedstat([]byte("2400170 140021 30\n"))
	if err != nil || got != (schedTimes{run: 2400170, wait: 140021}) {
		t.Errorf("got %+v, %v", got, err)
	}
	if _, err := parseSchedstat([]byte("12\n")); err == nil {
		t.Error("a one-field schedstat must be refused")
	}
}

func TestBetween(t *testing.T) {
	ms := int64(time.Millisecond)
	a := procSnap{utime: 100 - 20, stime: 20, threads: map[int]schedTimes{1: {run: 1000 * ms, wait: 10 * ms}, 2: {run: 5 * ms, wait: 1 * ms}}}
	tests := []struct {
		name     string
		b        procSnap
		cpu, wat time.Duration
	}{
		{"same threads", procSnap{utime: 160 - 20, stime: 20, threads: map[int]schedTimes{1: {run: 1590 * ms, wait: 30 * ms}, 2: {run: 15 * ms, wait: 9 * ms}}},
			600 * time.Millisecond, 20 * time.Millisecond},
		// a thread born in between counts whole; the loop thread is the
		// busiest, so its wait is the one reported.
		{"new thread", procSnap{utime: 170 - 20, stime: 20, threads: map[int]schedTimes{1: {run: 1500 * ms, wait: 12 * ms}, 2: {run: 5 * ms, wait: 1 * ms}, 3: {run: 200 * ms, wait: 50 * ms}}},
			700 * time.Millisecond, 2 * time.Millisecond},
		// a thread that exited took its nanoseconds along: the ticks,
		// which keep dead threads' time, are used.
		{"thread exited", procSnap{utime: 150 - 20, stime: 20, threads: map[int]schedTimes{1: {run: 1400 * ms, wait: 10 * ms}}},
			500 * time.Millisecond, 0},
	}
	for _, tc := range tests {
		cpu, wait := between(a, tc.b)
		if cpu != tc.cpu || wait != tc.wat {
			t.Errorf("%s: cpu %v wait %v, want %v %v", tc.name, cpu, wait, tc.cpu, tc.wat)
		}
	}
}

func TestSplitUser(t *testing.T) {
	a := procSnap{utime: 100, stime: 50}
	// 30 user and 10 system ticks: three quarters of the precise CPU time
	// is the server's own.
	user, sys := splitUser(a, procSnap{utime: 130, stime: 60}, 400*time.Millisecond)
	if user != 300*time.Millisecond || sys != 100*time.Millisecond {
		t.Errorf("user %v sys %v, want 300ms 100ms", user, sys)
	}
	// no tick in between: too short to tell.
	if user, sys := splitUser(a, a, time.Millisecond); user != 0 || sys != 0 {
		t.Errorf("no ticks: user %v sys %v, want zeros", user, sys)
	}
}

func TestParseCPUStat(t *testing.T) {
	stat := "cpu  323343 1242 89476 197137 1685 0 5752 170 0 0\n" +
		"cpu0 162098 766 44728 98366 361 0 2899 86 0 0\n" +
		"cpu1 161244 476 44748 98770 1324 7 2853 83 0 0\n" +
		"intr 1 2 3\n"
	got, err := parseCPUStat([]byte(stat), 1)
	if err != nil {
		t.Fatal(err)
	}
	want := cpuTimes{busy: 161244 + 476 + 44748, idle: 98770 + 1324, irq: 7 + 2853, steal: 83}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := parseCPUStat([]byte(stat), 2); err == nil {
		t.Error("cpu2 does not exist")
	}
	if d := want.sub(cpuTimes{busy: 1, idle: 2, irq: 3, steal: 4}); d.steal != 79 || d.busy != want.busy-1 {
		t.Errorf("sub: %+v", d)
	}
}

func TestParseBench(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: gresty/http
cpu: AMD EPYC
BenchmarkRequest/return/depth=1         	    8778	     96157 ns/op	     328 B/op	       3 allocs/op
BenchmarkParseMinimal-2   	12345678	        95.21 ns/op	 283.58 MB/s	       0 B/op	       0 allocs/op	       101.0 cpu-ns/op
--- FAIL: BenchmarkBroken
PASS
ok  	gresty/http	4.748s
`
	got := parseBench(out)
	if len(got) != 2 {
		t.Fatalf("%d results, want 2: %+v", len(got), got)
	}
	if got[0].Name != "BenchmarkRequest/return/depth=1" || got[0].N != 8778 {
		t.Errorf("first: %+v", got[0])
	}
	if v, ok := got[0].Get("allocs/op"); !ok || v != 3 {
		t.Errorf("allocs/op = %v, %v", v, ok)
	}
	if got[1].Name != "BenchmarkParseMinimal" {
		t.Errorf("the -2 GOMAXPROCS suffix must go: %q", got[1].Name)
	}
	for unit, want := range map[string]float64{"ns/op": 95.21, "MB/s": 283.58, "cpu-ns/op": 101} {
		if v, ok := got[1].Get(unit); !ok || v != want {
			t.Errorf("%s = %v, %v; want %v", unit, v, ok, want)
		}
	}
	if _, ok := got[1].Get("furlongs"); ok {
		t.Error("an absent unit was found")
	}
}

func TestCPUModel(t *testing.T) {
	info := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu\n"
	if got := cpuModel(info); got != "AMD EPYC 7B13" {
		t.Errorf("cpuModel = %q", got)
	}
	if got := cpuModel("processor: 0\n"); got != "unknown" {
		t.Errorf("cpuModel without a model = %q", got)
	}
}
