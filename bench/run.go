package bench

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Options configure a run.
type Options struct {
	// Gresty, Nginx and Wrk are the binaries.
	Gresty, Nginx, Wrk string
	// Pollers are the event loop backends gresty is measured with, as
	// GRESTY_EVENTLOOP_POLLER values; the first is the one held to the
	// targets.
	Pollers []string
	// Peers are the Go peer servers by name (binaries taking -addr and
	// -body); scenarios with Peers set run them too.
	Peers []Peer
	// AA measures nginx against itself instead, to show the harness is
	// fair: every ratio should be near 1.
	AA bool

	Rounds           int
	Duration, Warmup time.Duration
	// Conns is the number of wrk connections (a scenario may override).
	Conns int
	// ServerCPU runs the server under test; LoadCPU runs wrk and backends.
	ServerCPU, LoadCPU int
	// Nice is the nice value of the servers, wrk and backends (0: the
	// harness's own); negative values need root or CAP_SYS_NICE.
	Nice int
	// RT runs them in the real-time class instead (SCHED_FIFO 1; root).
	RT bool
	// Retries is how many more times a disturbed sample is measured.
	Retries int
	// Budget, when not 0, bounds the time of the load runs: a disturbed
	// sample is measured again only while the samples still to take fit
	// in what remains of it.
	Budget time.Duration
	// DisturbedAt is the share of the server CPU's time taken by others
	// above which a sample counts as disturbed.
	DisturbedAt float64

	// LuaModules are the load_module paths nginx needs for Lua scenarios.
	LuaModules []string
	// Work is a scratch directory for prefixes and files.
	Work string
	// ProfileDir, when set, makes gresty write a CPU profile of each run
	// there (GRESTY_CPUPROFILE).
	ProfileDir string
	// Progress receives a line per sample.
	Progress io.Writer
}

// Peer is a Go server measured for context.
type Peer struct {
	Name, Bin string
}

// DefaultLuaModules are Debian's NDK and ngx_lua dynamic modules.
var DefaultLuaModules = []string{
	"/usr/lib/nginx/modules/ndk_http_module.so",
	"/usr/lib/nginx/modules/ngx_http_lua_module.so",
}

// contender is one server in a scenario's rounds.
type contender struct {
	name string
	bin  string
	env  []string
	peer bool
	// ref is the server the others are divided by; judged is the one
	// held to the scenario's target.
	ref, judged bool
	gresty      bool
}

func (o *Options) contenders(s *Scenario) []contender {
	if o.AA {
		return []contender{
			{name: "nginx (A)", bin: o.Nginx, ref: true},
			{name: "nginx (B)", bin: o.Nginx, judged: true},
		}
	}
	cs := []contender{{name: "nginx", bin: o.Nginx, ref: true}}
	for i, p := range o.Pollers {
		cs = append(cs, contender{name: "gresty/" + p, bin: o.Gresty, gresty: true, judged: i == 0,
			env: []string{"GRESTY_EVENTLOOP_POLLER=" + p}})
	}
	if s.Peers {
		for _, p := range o.Peers {
			// a peer gets one CPU's worth of Go runtime, as a server
			// with one worker.
			cs = append(cs, contender{name: p.Name, bin: p.Bin, peer: true, env: []string{"GOMAXPROCS=1"}})
		}
	}
	return cs
}

// ServerResult is one server's samples and summary in one scenario.
type ServerResult struct {
	Name    string
	Ref     bool
	Judged  bool
	Samples []Sample
	Summary Summary
}

// ScenarioResult is the outcome of one scenario.
type ScenarioResult struct {
	Scenario *Scenario
	// Skipped says why the scenario did not run (something missing on
	// the machine); Err says why it failed.
	Skipped string
	Err     error
	Notes   []string
	Servers []*ServerResult
}

// Ref returns the reference server's result.
func (r *ScenarioResult) Ref() *ServerResult {
	for _, s := range r.Servers {
		if s.Ref {
			return s
		}
	}
	return nil
}

// Server returns the result of the server named, or nil.
func (r *ScenarioResult) Server(name string) *ServerResult {
	for _, s := range r.Servers {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// runner carries what scenarios of one run share.
type runner struct {
	o *Options
	// known and refused cache which plumbing lines each binary accepts.
	known, refused map[string][]string
	// start, left and took pace the retries against the budget: left
	// counts the samples still to take, took the load runs done and the
	// time they took.
	start time.Time
	left  int
	took  int
	spent time.Duration
}

// Run measures the scenarios one after the other.
func Run(o *Options, list []*Scenario) []*ScenarioResult {
	r := &runner{o: o, known: map[string][]string{}, refused: map[string][]string{}, start: time.Now()}
	for _, s := range list {
		r.left += o.Rounds * len(o.contenders(s))
	}
	var out []*ScenarioResult
	for _, s := range list {
		out = append(out, r.scenario(s))
	}
	return out
}

func (r *runner) server() placement { return placement{CPU: r.o.ServerCPU, Nice: r.o.Nice, RT: r.o.RT} }
func (r *runner) load() placement   { return placement{CPU: r.o.LoadCPU, Nice: r.o.Nice, RT: r.o.RT} }

func (r *runner) progress(format string, args ...any) {
	if r.o.Progress != nil {
		fmt.Fprintf(r.o.Progress, format+"\n", args...)
	}
}

// plumbingFor returns the plumbing lines bin accepts.
func (r *runner) plumbingFor(bin string) ([]string, []string) {
	if k, ok := r.known[bin]; ok {
		return k, r.refused[bin]
	}
	k, ref := knownLines(bin, filepath.Join(r.o.Work, "probe", strconv.Itoa(len(r.known))), plumbing)
	r.known[bin], r.refused[bin] = k, ref
	return k, ref
}

// scenario runs one scenario's rounds.
func (r *runner) scenario(s *Scenario) *ScenarioResult {
	res := &ScenarioResult{Scenario: s}
	o := r.o
	// a scenario that stops early gives its samples' time back.
	planned := o.Rounds * len(o.contenders(s))
	leftAfter := r.left - planned
	defer func() { r.left = leftAfter }()
	if s.Lua {
		for _, m := range o.LuaModules {
			if _, err := os.Stat(m); err != nil {
				res.Skipped = "nginx's Lua module is missing (" + m + "): install libnginx-mod-http-lua"
				return res
			}
		}
	}
	if s.Requires != nil {
		if why := s.Requires(); why != "" {
			res.Skipped = why
			return res
		}
	}
	dir := filepath.Join(o.Work, s.Name)
	root := filepath.Join(dir, "html")
	if err := prepareDir(dir, root, s.Files); err != nil {
		res.Err = err
		return res
	}
	port, err := freePort()
	if err != nil {
		res.Err = err
		return res
	}
	v := confVars{Port: port, Root: root, Prefix: dir}
	if s.Backend != nil {
		be, bport, err := r.startBackend(s, dir)
		if err != nil {
			res.Err = fmt.Errorf("backend: %v", err)
			return res
		}
		defer be.stop(syscall.SIGTERM)
		v.BackendPort = bport
	}
	cs := o.contenders(s)
	confs, err := r.writeConfs(s, cs, v, dir, res)
	if err != nil {
		res.Err = err
		return res
	}
	script, err := writePipelineScript(dir, s)
	if err != nil {
		res.Err = err
		return res
	}
	for _, c := range cs {
		res.Servers = append(res.Servers, &ServerResult{Name: c.name, Ref: c.ref, Judged: c.judged})
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for round := 1; round <= o.Rounds; round++ {
		for _, i := range roundOrder(len(cs), round) {
			c := cs[i]
			smp, err := r.measure(s, c, round, addr, dir, confs[c.bin], script)
			if err != nil {
				res.Err = fmt.Errorf("%s, round %d: %v", c.name, round, err)
				return res
			}
			res.Servers[i].Samples = append(res.Servers[i].Samples, smp)
			r.progress("%-11s round %d/%d  %-15s %8.0f req/s %8.0f req/CPU-s  p99 %-9v cpu %3.0f%%  wrk %3.0f%%  waited %3.0f%%  tries %d",
				s.Name, round, o.Rounds, c.name, smp.ReqPerSec, smp.PerCPU(), smp.P99.Round(10*time.Microsecond),
				100*smp.CPUShare(), 100*smp.WrkShare(), 100*smp.Disturbance(), smp.Tries)
		}
	}
	ref := res.Ref()
	for _, sr := range res.Servers {
		sr.Summary = summarize(sr.Samples, ref.Samples, o.DisturbedAt)
	}
	return res
}

// roundOrder is the order the servers run in a round: as listed in odd
// rounds, reversed in even ones (A B, B A, A B...), so that a steady drift
// of the machine favours no server over an even number of rounds.
func roundOrder(n, round int) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
		if round%2 == 0 {
			order[i] = n - 1 - i
		}
	}
	return order
}

// prepareDir makes the prefix and writes the document root's files.
func prepareDir(dir, root string, files map[string][]byte) error {
	for _, d := range []string{root, filepath.Join(dir, "logs"), filepath.Join(dir, "conf")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	old := time.Now().Add(-time.Hour)
	for name, b := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
		if err := os.Chtimes(p, old, old); err != nil {
			return err
		}
	}
	return nil
}

// writeConfs writes the scenario's configuration for each binary and
// tests it with that binary (-t). Binaries that accept the same plumbing
// share one file; a line a binary refuses is noted in the result.
func (r *runner) writeConfs(s *Scenario, cs []contender, v confVars, dir string, res *ScenarioResult) (map[string]string, error) {
	confs := map[string]string{}
	byText := map[string]string{}
	for _, c := range cs {
		if c.peer {
			continue
		}
		if _, done := confs[c.bin]; done {
			continue
		}
		known, refused := r.plumbingFor(c.bin)
		if len(refused) > 0 {
			who := c.name
			if c.gresty {
				who = "gresty"
			}
			var lines []string
			for _, l := range refused {
				lines = append(lines, "`"+confVars{Prefix: "PREFIX"}.replace(l)+"`")
			}
			res.Notes = appendOnce(res.Notes, fmt.Sprintf("%s runs without %s (directives it does not know).", who, strings.Join(lines, ", ")))
		}
		text := renderConf(s, v, known, r.o.LuaModules)
		path, ok := byText[text]
		if !ok {
			path = filepath.Join(dir, "conf", "nginx.conf")
			if len(byText) > 0 {
				path = filepath.Join(dir, "conf", fmt.Sprintf("nginx-%d.conf", len(byText)+1))
			}
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				return nil, err
			}
			byText[text] = path
		}
		out, err := exec.Command(c.bin, "-t", "-p", dir+"/", "-c", path, "-e", filepath.Join(dir, "logs", "error.log")).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("%s -t refuses the configuration %s: %s", c.name, path, strings.TrimSpace(string(out)))
		}
		confs[c.bin] = path
	}
	return confs, nil
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// startBackend starts the scenario's backend on the load CPU and returns
// it with its port.
func (r *runner) startBackend(s *Scenario, dir string) (*proc, int, error) {
	port, err := freePort()
	if err != nil {
		return nil, 0, err
	}
	bdir := filepath.Join(dir, "backend")
	if err := os.MkdirAll(filepath.Join(bdir, "logs"), 0o755); err != nil {
		return nil, 0, err
	}
	v := confVars{Port: port, Prefix: bdir, Root: filepath.Join(dir, "html")}
	var argv []string
	if s.Backend.HTTP != "" {
		conf := filepath.Join(bdir, "nginx.conf")
		if err := os.WriteFile(conf, []byte(renderBackendConf(s.Backend, v)), 0o644); err != nil {
			return nil, 0, err
		}
		argv = []string{r.o.Nginx, "-p", bdir + "/", "-c", conf, "-e", filepath.Join(bdir, "logs", "error.log")}
	} else {
		for _, a := range s.Backend.Command {
			argv = append(argv, strings.ReplaceAll(v.replace(a), "%%DIR%%", bdir))
		}
	}
	if len(argv) == 0 {
		return nil, 0, errors.New("the backend has neither HTTP nor Command")
	}
	p, err := startPinned("backend", r.load(), "", nil, argv...)
	if err != nil {
		return nil, 0, err
	}
	if err := p.waitListen(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 10*time.Second); err != nil {
		p.stop(syscall.SIGKILL)
		return nil, 0, err
	}
	return p, port, nil
}

// retryFits reports whether one more load run leaves time, within the
// budget, for the samples still to take, at the pace so far.
func (r *runner) retryFits() bool {
	if r.o.Budget <= 0 || r.took == 0 {
		return true
	}
	per := r.spent / time.Duration(r.took)
	return time.Since(r.start)+per*time.Duration(r.left) <= r.o.Budget
}

// measure takes one sample of a server, measuring again while the
// sample is disturbed and retries (and the budget) remain; the least
// disturbed one counts.
func (r *runner) measure(s *Scenario, c contender, round int, addr, dir, conf, script string) (Sample, error) {
	var best Sample
	defer func() { r.left-- }()
	for try := 1; try <= 1+r.o.Retries; try++ {
		if try > 1 && !r.retryFits() {
			break
		}
		t0 := time.Now()
		smp, err := r.measureOnce(s, c, round, addr, dir, conf, script)
		r.took++
		r.spent += time.Since(t0)
		if err != nil {
			return smp, err
		}
		if try == 1 || smp.Disturbance() < best.Disturbance() {
			best = smp
		}
		best.Tries = try
		if best.Disturbance() <= r.o.DisturbedAt {
			break
		}
	}
	return best, nil
}

// measureOnce starts the server, checks it, warms it up, loads it and
// stops it.
func (r *runner) measureOnce(s *Scenario, c contender, round int, addr, dir, conf, script string) (Sample, error) {
	o := r.o
	smp := Sample{Round: round}
	env := append([]string(nil), c.env...)
	var argv []string
	if c.peer {
		argv = []string{c.bin, "-addr", addr, "-body", s.PeerBody}
	} else {
		argv = []string{c.bin, "-p", dir + "/", "-c", conf, "-e", filepath.Join(dir, "logs", "error.log")}
	}
	if c.gresty && o.ProfileDir != "" {
		name := fmt.Sprintf("%s-%s-%d.pprof", s.Name, strings.ReplaceAll(c.name, "/", "-"), round)
		env = append(env, "GRESTY_CPUPROFILE="+filepath.Join(o.ProfileDir, name))
	}
	p, err := startPinned(c.name, r.server(), "", env, argv...)
	if err != nil {
		return smp, err
	}
	stopped := false
	defer func() {
		if !stopped {
			p.stop(syscall.SIGKILL)
		}
	}()
	fail := func(err error) (Sample, error) {
		if !c.peer {
			err = fmt.Errorf("%v%s", err, errorLogTail(dir))
		}
		return smp, err
	}
	dropped, err := p.waitReady(addr, 10*time.Second)
	smp.Dropped = dropped
	if err != nil {
		return fail(err)
	}
	if err := checkServer(s, addr); err != nil {
		return fail(fmt.Errorf("wrong response to GET %s: %v", s.Path, err))
	}
	conns := o.Conns
	if s.Conns > 0 {
		conns = s.Conns
	}
	url := "http://" + addr + s.Path
	if o.Warmup > 0 {
		if _, _, err := r.wrk(wrkArgs(s, url, conns, o.Warmup, script)); err != nil {
			return fail(err)
		}
	}
	pa, err := readProc(p.pid())
	if err != nil {
		return fail(err)
	}
	ca, err := readCPU(o.ServerCPU)
	if err != nil {
		return fail(err)
	}
	out, wrkCPU, err := r.wrk(wrkArgs(s, url, conns, o.Duration, script))
	if err != nil {
		return fail(err)
	}
	pb, err := readProc(p.pid())
	if err != nil {
		return fail(err)
	}
	cb, err := readCPU(o.ServerCPU)
	if err != nil {
		return fail(err)
	}
	if p.exited() {
		return fail(fmt.Errorf("%s exited during the load (%v): %s", c.name, p.err, p.out.String()))
	}
	stopped = true
	if err := p.stop(syscall.SIGTERM); err != nil {
		return fail(err)
	}
	wr, err := parseWrk(out)
	if err != nil {
		return fail(err)
	}
	smp.Requests = wr.Requests
	smp.Wall = wr.Duration
	smp.ReqPerSec = wr.ReqPerSec
	smp.P99 = wr.P99
	smp.Errors = wr.SocketErrors + wr.Non2xx
	smp.CPU, smp.Wait = between(pa, pb)
	smp.User, smp.Sys = splitUser(pa, pb, smp.CPU)
	smp.Steal = ticks(cb.sub(ca).steal)
	smp.WrkCPU = wrkCPU
	if smp.Requests == 0 || smp.CPU <= 0 {
		return fail(fmt.Errorf("no requests served (%d) or no CPU time used (%v):\n%s", smp.Requests, smp.CPU, out))
	}
	return smp, nil
}

// wrk runs the load generator on the load CPU and returns its report and
// the CPU time it used.
func (r *runner) wrk(args []string) (string, time.Duration, error) {
	p, err := startPinned("wrk", r.load(), "", nil, append([]string{r.o.Wrk}, args...)...)
	if err != nil {
		return "", 0, err
	}
	if err := p.wait(); err != nil {
		return "", 0, fmt.Errorf("wrk %s: %v: %s", strings.Join(args, " "), err, p.out.String())
	}
	var cpu time.Duration
	if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return p.out.String(), cpu, nil
}

// errorLogTail returns the end of the prefix's error log for a message.
func errorLogTail(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "logs", "error.log"))
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\nerror log:\n" + strings.TrimSpace(string(b))
}
