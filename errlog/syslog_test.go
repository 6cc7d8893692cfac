package errlog

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

func TestOpenSyslogErrors(t *testing.T) {
	tests := []struct{ args, err string }{
		{"server=127.0.0.1", ""},
		{"server=127.0.0.1:5140,facility=local0,severity=warn,tag=a_b9,nohostname", ""},
		{"server=[::1]:5140", ""},
		{"server=unix:/dev/log", ""},
		{"facility=local0", "no syslog server specified"},
		{"server=127.0.0.1,server=127.0.0.2", `duplicate syslog "server"`},
		{"server=127.0.0.1,facility=local8", `unknown syslog facility "local8"`},
		{"server=127.0.0.1,facility=user,facility=user", `duplicate syslog "facility"`},
		{"server=127.0.0.1,severity=err", `unknown syslog severity "err"`},
		{"server=127.0.0.1,tag=a-b", `syslog "tag" only allows alphanumeric characters and underscore`},
		{"server=127.0.0.1,tag=abcdefghijabcdefghijabcdefghijabc", "syslog tag length exceeds 32"},
		{"server=127.0.0.1,tag=a,tag=b", `duplicate syslog "tag"`},
		{"server=127.0.0.1,foo", `unknown syslog parameter "foo"`},
		{"server=127.0.0.1:0", `invalid port in syslog server "127.0.0.1:0"`},
	}
	for _, tt := range tests {
		_, err := OpenSyslog(tt.args)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.err {
			t.Errorf("OpenSyslog(%q) error %q, want %q", tt.args, got, tt.err)
		}
	}
}

func TestSyslogDatagram(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	port := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
	tests := []struct {
		args  string
		level Level
		want  string
	}{
		// local7 (23) * 8 + error (4) - 1
		{"server=127.0.0.1:" + port, Error, `^<187>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d \S+ nginx: \d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[error\] \d+#0: boom$`},
		{"server=127.0.0.1:" + port + ",facility=user,tag=app,nohostname", Warn, `^<12>[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d app: \S+ \S+ \[warn\] \d+#0: boom$`},
	}
	buf := make([]byte, 8192)
	for _, tt := range tests {
		f, err := OpenSyslog(tt.args)
		if err != nil {
			t.Fatal(err)
		}
		l := New(nil, Sink{File: f, Level: Info})
		l.Logf(tt.level, "boom")
		// A level the sink does not admit sends nothing.
		l.Logf(Debug, "quiet")
		pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(tt.want).Match(buf[:n]) {
			t.Errorf("%s: datagram %q does not match %s", tt.args, buf[:n], tt.want)
		}
		f.syslog.close()
	}
	pc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _, err := pc.ReadFrom(buf); err == nil {
		t.Errorf("unexpected datagram %q", buf[:n])
	}
}

// A receiver that reads nothing (a stuck syslog daemon) fills its queue;
// the lines past it are lost, as with nginx's non-blocking socket, and
// the sender never waits. A closed peer sends nothing more.
func TestSyslogFullReceiverDoesNotBlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.sock")
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	f, err := OpenSyslog("server=unix:" + path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan int)
	go func() {
		dropped := 0
		for i := 0; i < 5000; i++ {
			if _, _, err := f.SendSyslog([]byte("access line")); err != nil {
				dropped++
			}
		}
		done <- dropped
	}()
	select {
	case dropped := <-done:
		if dropped == 0 {
			t.Errorf("no line was dropped: the receiver's queue never filled")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sending to a full syslog receiver blocks")
	}
	f.syslog.close()
	if _, _, err := f.SendSyslog([]byte("late")); err == nil {
		t.Errorf("a closed peer still sends")
	}
}

// A failed syslog send is told on the running configuration's error log
// as nginx tells it, and not sent to syslog again: "connect() failed" at
// alert for a socket that is not there, "send() failed" at error once
// the receiver's port refuses.
func TestSyslogFailuresLogged(t *testing.T) {
	fs := NewFiles()
	defer fs.Close()
	dir := t.TempDir()
	file, err := fs.Open(filepath.Join(dir, "error.log"))
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close() // nothing listens there now
	refused, err := fs.OpenSyslog("server=" + addr)
	if err != nil {
		t.Fatal(err)
	}
	missing, err := fs.OpenSyslog("server=unix:" + filepath.Join(dir, "no.sock"))
	if err != nil {
		t.Fatal(err)
	}
	// the cycle log also has a syslog sink: the failure lines skip it
	SetCycleLog(New(nil, Sink{File: file, Level: Info}, Sink{File: refused, Level: Info}))
	defer SetCycleLog(nil)
	missing.SendSyslog([]byte("a"))
	for i := 0; i < 20; i++ {
		refused.SendSyslog([]byte("b"))
		time.Sleep(5 * time.Millisecond)
	}
	file.f.Load().Sync()
	b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
	log := string(b)
	if !regexp.MustCompile(`\[alert\] \d+#0: connect\(\) failed \(2: No such file or directory\)\n`).MatchString(log) {
		t.Errorf("no connect() line:\n%s", log)
	}
	if !regexp.MustCompile(`\[error\] \d+#0: send\(\) failed \(111: Connection refused\)\n`).MatchString(log) {
		t.Errorf("no send() line:\n%s", log)
	}
}
