package main

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// The daemon child finds its readiness pipe through this variable.
const daemonEnv = "GRESTY_DAEMON_READY_FD"

func isDaemonChild() bool { return os.Getenv(daemonEnv) != "" }

// daemonize starts gresty again detached (a Go program cannot fork) and
// returns once the child is ready to serve: 0 when it bound its listeners
// and wrote its pid file, 1 with its error otherwise. Test harnesses start
// the server and connect right away, so the parent must not return early.
func (st *startup) daemonize() int {
	pr, pw, err := os.Pipe()
	if err != nil {
		st.console.Printf("[emerg] pipe() failed: %s", err)
		return 1
	}
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Env = append(os.Environ(), daemonEnv+"=3")
	cmd.ExtraFiles = []*os.File{pw}
	devnull, _ := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		st.console.Printf("[emerg] fork() failed: %s", err)
		return 1
	}
	pw.Close()
	line, _ := bufio.NewReader(pr).ReadString('\n')
	pr.Close()
	cmd.Process.Release()
	if strings.TrimSpace(line) == "ok" {
		return 0
	}
	return 1
}

// notifyParent tells a waiting parent that the child is ready ("") or
// failed (the error). Outside a daemon child it does nothing.
func (st *startup) notifyParent(errText string) {
	if !isDaemonChild() {
		return
	}
	f := os.NewFile(3, "ready")
	if errText == "" {
		f.WriteString("ok\n")
	} else {
		f.WriteString("error: " + strings.ReplaceAll(errText, "\n", " ") + "\n")
	}
	f.Close()
	os.Unsetenv(daemonEnv)
	// stdin and stdout already point at /dev/null.
}
