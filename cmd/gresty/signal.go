package main

import (
	"bytes"
	"os"
	"strconv"
	"syscall"

	"gresty/core"
	"gresty/errlog"
)

var signalNumbers = map[string]syscall.Signal{
	"stop":   syscall.SIGTERM,
	"quit":   syscall.SIGQUIT,
	"reopen": syscall.SIGUSR1,
	"reload": syscall.SIGHUP,
}

// sendSignal is -s: it reads the configuration to find the pid file, then
// signals the pid in it (ngx_signal_process), with nginx's messages.
func (st *startup) sendSignal() int {
	// read as -t reads it (nginx's signaller stops after parsing): no
	// module starts anything.
	c, err := st.build(true, nil)
	if err != nil {
		st.log.Logf(core.LevelOf(err), "%s", err)
		return 1
	}
	path := c.ProcessConf().Pid.V
	data, err := os.ReadFile(path)
	if err != nil {
		st.log.Logf(errlog.Error, "open() \"%s\" failed %s", path, errlog.Errno(err))
		return 1
	}
	txt := bytes.TrimRight(data, "\r\n")
	pid, err := strconv.Atoi(string(txt))
	if err != nil || pid <= 0 {
		st.log.Logf(errlog.Error, "invalid PID number \"%s\" in \"%s\"", txt, path)
		return 1
	}
	sig := signalNumbers[st.o.signal]
	if err := syscall.Kill(pid, sig); err != nil {
		st.log.Logf(errlog.Alert, "kill(%d, %d) failed %s", pid, int(sig), errlog.Errno(err))
		return 1
	}
	return 0
}
