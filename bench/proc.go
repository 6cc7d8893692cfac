package bench

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a process the harness started: a server under test, a backend,
// wrk or a benchmark binary.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *capWriter
	done chan struct{}
	err  error // the exit status, set before done closes
}

// placement is where and how urgently a process runs.
type placement struct {
	// CPU is the one CPU the process may run on.
	CPU int
	// Nice, when not 0, is the process's nice value: a benchmark on a
	// machine that also runs other work asks the scheduler to prefer it.
	Nice int
	// RT runs the process in the real-time class (SCHED_FIFO, priority
	// 1): it preempts ordinary tasks as soon as it wakes, which nice
	// alone does not promise.
	RT bool
}

// argv wraps a command line in taskset (and nice or chrt). They exec the
// program, so the pid stays the program's own and every thread it
// creates inherits the CPU and the priority.
func (pl placement) argv(argv []string) []string {
	out := []string{"taskset", "-c", strconv.Itoa(pl.CPU)}
	switch {
	case pl.RT:
		out = append([]string{"chrt", "-f", "1"}, out...)
	case pl.Nice != 0:
		out = append([]string{"nice", "-n", strconv.Itoa(pl.Nice)}, out...)
	}
	return append(out, argv...)
}

// startPinned starts argv as pl says, in directory dir ("": the current
// one), with env added to the environment.
func startPinned(name string, pl placement, dir string, env []string, argv ...string) (*proc, error) {
	full := pl.argv(argv)
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = dir
	out := &capWriter{max: 64 << 10}
	cmd.Stdout = out
	cmd.Stderr = out
	// the process stays in the harness's process group: a ^C at the
	// terminal ends the servers together with the harness.
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitReady waits until the server at addr answers HTTP, or fails if the
// process exits or the timeout passes. It returns how many connections the
// server accepted but dropped without an answer meanwhile: a server that
// accepts before it can serve resets its first clients.
func (p *proc) waitReady(addr string, timeout time.Duration) (dropped int, err error) {
	deadline := time.Now().Add(timeout)
	for {
		if p.exited() {
			return dropped, fmt.Errorf("%s exited (%v) before listening on %s: %s", p.name, p.err, addr, p.out.String())
		}
		accepted, err := probeHTTP(addr)
		if err == nil {
			return dropped, nil
		}
		if accepted {
			dropped++
		}
		if time.Now().After(deadline) {
			return dropped, fmt.Errorf("%s did not answer on %s within %v: %v", p.name, addr, timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// probeHTTP sends a minimal request and waits for the start of a response;
// accepted says the connection was made.
func probeHTTP(addr string) (accepted bool, err error) {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")); err != nil {
		return true, err
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil {
		return true, err
	}
	if string(buf) != "HTTP/" {
		return true, fmt.Errorf("not an HTTP response: %q", buf)
	}
	return true, nil
}

// waitListen waits until addr accepts connections (for backends that
// may not speak HTTP).
func (p *proc) waitListen(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if p.exited() {
			return fmt.Errorf("%s exited (%v) before listening on %s: %s", p.name, p.err, addr, p.out.String())
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not listen on %s within %v: %v", p.name, addr, timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop ends the process with sig and waits; after five seconds it kills
// this one process.
func (p *proc) stop(sig syscall.Signal) error {
	if p.exited() {
		return p.err
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not exit on %v within 5s", p.name, sig)
	}
}

// wait waits for the process to exit by itself.
func (p *proc) wait() error {
	<-p.done
	return p.err
}

// capWriter keeps the first max bytes written to it, for error messages.
type capWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (w *capWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if room := w.max - w.buf.Len(); room > 0 {
		w.buf.Write(b[:min(len(b), room)])
	}
	return len(b), nil
}

func (w *capWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.TrimSpace(w.buf.String())
}

// freePort returns a port nothing listens on now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
