package lua_test

import (
	"bufio"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// sockBackend is a TCP and UDP server for the cosocket tests. A TCP client
// starts with one command line:
//
//	echo         echoes everything until the client closes
//	lines        sends "a\r\nb\n\nlast" and closes
//	silent       reads and never answers
//	bytes N      sends N bytes "0123456789..." and keeps the connection
//	until        sends "hello--abc--world---x-" and closes
//	req          answers one line per line received, "got: LINE", forever
//	peer         sends the client's address and closes
//
// UDP datagrams, and those to the unix datagram socket at unixgram, come
// back prefixed with "udp:".
type sockBackend struct {
	ln       net.Listener
	udp      net.PacketConn
	unixgram net.PacketConn
	// unixPath is where unixgram listens.
	unixPath string
	port     int
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

func startSockBackend(t *testing.T) *sockBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	pc, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dgram.sock")
	ug, err := net.ListenPacket("unixgram", path)
	if err != nil {
		ln.Close()
		pc.Close()
		t.Fatal(err)
	}
	b := &sockBackend{ln: ln, udp: pc, unixgram: ug, unixPath: path, port: port}
	b.wg.Add(3)
	go b.acceptLoop()
	go b.datagramLoop(pc)
	go b.datagramLoop(ug)
	t.Cleanup(b.close)
	return b
}

func (b *sockBackend) close() {
	b.ln.Close()
	b.udp.Close()
	b.unixgram.Close()
	b.mu.Lock()
	for _, c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *sockBackend) acceptLoop() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.mu.Lock()
		b.conns = append(b.conns, c)
		b.mu.Unlock()
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			defer c.Close()
			serveSockConn(c)
		}()
	}
}

func serveSockConn(c net.Conn) {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return
	}
	cmd := strings.Fields(line)
	if len(cmd) == 0 {
		return
	}
	switch cmd[0] {
	case "echo":
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				c.Write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	case "lines":
		c.Write([]byte("a\r\nb\n\nlast"))
	case "peer":
		host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		c.Write([]byte(host + "\n"))
	case "silent":
		buf := make([]byte, 4096)
		for {
			if _, err := r.Read(buf); err != nil {
				return
			}
		}
	case "bytes":
		n, _ := strconv.Atoi(cmd[1])
		out := make([]byte, n)
		for i := range out {
			out[i] = byte('0' + i%10)
		}
		c.Write(out)
		buf := make([]byte, 4096)
		for {
			if _, err := r.Read(buf); err != nil {
				return
			}
		}
	case "until":
		c.Write([]byte("hello--abc--world---x-"))
	case "req":
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			c.Write([]byte("got: " + l))
		}
	}
}

func (b *sockBackend) datagramLoop(pc net.PacketConn) {
	defer b.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		pc.WriteTo(append([]byte("udp:"), buf[:n]...), addr)
	}
}

// Cosockets against OpenResty: the same Lua talks to the same backend from
// both servers; responses and error-log lines must match.
func TestCosocketsMatchOpenResty(t *testing.T) {
	be := startSockBackend(t)
	port := strconv.Itoa(be.port)
	lua := func(code string) string {
		code = strings.ReplaceAll(code, "UNIXPATH", be.unixPath)
		return "content_by_lua_block {\n" + strings.ReplaceAll(code, "PORT", port) + "\n}"
	}
	connect := func(cmd string) string {
		return `local sock = ngx.socket.tcp()
local ok, err = sock:connect("127.0.0.1", PORT, {pool = "` + cmd + `"})
if not ok then ngx.say("connect: ", err) return end
assert(sock:send("` + cmd + `\n"))
`
	}
	cases := []luaCase{
		{name: "lines", conf: lua(connect("lines") + `
for i = 1, 5 do
    local line, err, part = sock:receive()
    ngx.say(i, ": ", tostring(line), " ", tostring(err), " ", tostring(part))
end
ngx.say(sock:receive())
ngx.say(sock:close())`)},
		{name: "all", conf: lua(connect("lines") + `
ngx.say(sock:receive("*a"))
ngx.say(sock:receive("*a"))
ngx.say(sock:receive(1))`), log: true},
		{name: "bytes", conf: lua(connect("bytes 25") + `
ngx.say(sock:receive(10))
ngx.say(sock:receive(0))
ngx.say(sock:receive("5"))
ngx.say(sock:receiveany(100))
sock:settimeout(100)
ngx.say(sock:receive(1))
ngx.say(sock:receive(1))
ngx.say(sock:close())`), log: true},
		{name: "read-timeout", conf: lua(connect("silent") + `
sock:settimeouts(1000, 1000, 50)
local data, err, part = sock:receive()
ngx.say(tostring(data), " ", err, " [", part, "]")
data, err, part = sock:receive(3)
ngx.say(tostring(data), " ", err, " [", part, "]")
-- a timed-out socket can still go to the pool: use a pool of its own.
ngx.say(sock:setkeepalive())
local s2 = ngx.socket.tcp()
assert(s2:connect("127.0.0.1", PORT))
ngx.say(s2:getreusedtimes())
s2:close()`), log: true},
		{name: "until", conf: lua(connect("until") + `
local it = sock:receiveuntil("--")
ngx.say(it()) ngx.say(it()) ngx.say(it())
local it2 = sock:receiveuntil("---", {inclusive = true})
ngx.say(it2())
local data, err, part = it2()
ngx.say(tostring(data), " ", err, " ", part)`), log: true},
		{name: "until-size", conf: lua(connect("until") + `
local it = sock:receiveuntil("--abc--")
while true do
    local data, err, part = it(3)
    if not data then ngx.say("end: ", tostring(err), " ", tostring(part)) break end
    ngx.say("[", data, "]")
end
local it2 = sock:receiveuntil("-")
for i = 1, 6 do
    local data, err, part = it2(2)
    ngx.say(tostring(data), " ", tostring(err), " ", tostring(part))
end`)},
		{name: "echo-send-types", conf: lua(connect("echo") + `
ngx.say(sock:send({"a", {"b", 1, 2.5}, "c"}))
ngx.say(sock:send(3.25))
ngx.say(sock:send(true))
ngx.say(sock:send(false))
ngx.say(sock:send(nil))
ngx.say(sock:send(""))
ngx.say(sock:send({}))
ngx.say(sock:receive(#"ab12.5c" + 4 + 4 + 5 + 3))
ngx.say(pcall(sock.send, sock, {1, nil, 3}))
ngx.say(pcall(sock.send, sock, {a = 1}))
ngx.say(pcall(sock.send, sock, {true}))
ngx.say(pcall(sock.send, sock, function() end))`)},
		{name: "closed-ops", conf: lua(`local sock = ngx.socket.tcp()
ngx.say(sock:receive())
ngx.say(sock:send("x"))
ngx.say(sock:close())
ngx.say(sock:getreusedtimes())
ngx.say(sock:setkeepalive())
ngx.say(pcall(sock.receiveuntil, sock, ""))
ngx.say(pcall(sock.settimeout, sock))
ngx.say(pcall(ngx.socket.tcp, 1))`), log: true},
		{name: "refused", conf: lua(`local sock = ngx.socket.tcp()
ngx.say(sock:connect("127.0.0.1", 1))
ngx.say(sock:connect("127.0.0.1", 70000))
ngx.say(sock:connect("127.0.0.1"))
ngx.say(sock:connect("no.such.host.test", 80))
ngx.say(pcall(sock.connect, sock))
ngx.say(sock:connect("unix:/nonexistent/sock"))`), log: true},
		{name: "keepalive", conf: lua(`
for i = 1, 3 do
    local sock = ngx.socket.tcp()
    assert(sock:connect("127.0.0.1", PORT, {pool = "echo-pool"}))
    local reused = sock:getreusedtimes()
    if reused == 0 then assert(sock:send("echo\n")) end
    assert(sock:send("ping " .. i .. "\n"))
    ngx.say(i, " reused=", reused, " ", sock:receive())
    ngx.say(sock:setkeepalive())
end`), reqs: []string{get("")}},
		{name: "unread-keepalive", conf: lua(connect("bytes 10") + `
ngx.say(sock:receive(5))
ngx.sleep(0.05)
ngx.say(sock:setkeepalive())
ngx.say(sock:close())`)},
		{name: "pcall-coroutine-tail", conf: lua(`
local function get(cmd)
    local sock = ngx.socket.tcp()
    assert(sock:connect("127.0.0.1", PORT))
    assert(sock:send(cmd .. "\n"))
    return sock:receive()
end
ngx.say(pcall(get, "lines"))
local co = coroutine.wrap(function() coroutine.yield(get("lines")) end)
ngx.say(co())
ngx.say(get("lines"))`)},
		{name: "udp", conf: lua(`local u = ngx.socket.udp()
ngx.say(u:receive())
ngx.say(u:setpeername("127.0.0.1", PORT))
ngx.say(u:send("hello"))
ngx.say(u:receive())
ngx.say(u:send({"a", "b"}))
ngx.say(u:receive(5))
u:settimeout(50)
ngx.say(u:receive())
ngx.say(u:close())
ngx.say(u:close())
ngx.say(u:setpeername("127.0.0.1", 99999))`)},
		{name: "bind", conf: lua(`local s = ngx.socket.tcp()
ngx.say(s:bind("127.0.0.2"))
ngx.say(s:connect("127.0.0.1", PORT))
s:send("peer\n")
ngx.say(s:receive())
s:close()
s = ngx.socket.tcp()
ngx.say(s:bind("192.0.2.1"))
ngx.say(s:connect("127.0.0.1", PORT))
ngx.say(pcall(s.bind, s, "nonsense"))`), log: true},
		{name: "unixgram", conf: lua(`local u = ngx.socket.udp()
u:settimeout(1000)
ngx.say(u:setpeername("unix:UNIXPATH"))
ngx.say(u:send("hello"))
ngx.say(u:receive())
ngx.say(u:close())
ngx.say(u:setpeername("unix:UNIXPATH.none"))`), log: true},
		{name: "req-body", conf: lua(`local sock, err = ngx.req.socket()
if not sock then ngx.say("err: ", err) return end
ngx.say(sock:receive(4))
ngx.say(sock:receive())
ngx.say(sock:receive("*a"))
ngx.say(sock:receive())
ngx.say(ngx.req.socket())`), reqs: []string{post("", "abcdef\r\nline2\nrest"), get("")}},
		{name: "raw", conf: lua(`ngx.req.read_body()
local sock, err = ngx.req.socket(true)
if not sock then ngx.log(ngx.ERR, "raw: ", err) return end
local body = "raw says hi\n"
assert(sock:send("HTTP/1.1 200 OK\r\nContent-Length: " .. #body .. "\r\nConnection: close\r\n\r\n" .. body))
ngx.log(ngx.ERR, "say after raw: ", select(2, ngx.say("x")))
local s2, err2 = ngx.req.socket(true)
ngx.log(ngx.ERR, "again: ", err2)`), log: true},
	}
	p := runLuaCases(t, "lua_socket_log_errors on;", "", cases)
	// the pointers in these lines differ between any two runs.
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`\[error\] .* attempt to receive data on a closed socket: u:[0-9A-F]{16}, c:[0-9A-F]{16}, ft:0 eof:1, .*request: "GET /lines `),
		regexp.MustCompile(`\[error\] .* attempt to receive data on a closed socket: u:0{16}, c:0{16}, .*request: "GET /udp `),
		regexp.MustCompile(`\[error\] .* lua udp socket read timed out, .*request: "GET /udp `),
	} {
		for name, log := range map[string]string{"nginx": p.Nginx.ErrorLog(), "gresty": p.Gresty.ErrorLog()} {
			if !want.MatchString(log) {
				t.Errorf("%s: no error-log line matches %s", name, want)
			}
		}
	}
}
