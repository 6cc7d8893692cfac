package http

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in      string
		uriPart bool
		host    string
		port    int
		noPort  bool
		uri     string
		addr    string
		err     string
	}{
		{in: "127.0.0.1", uriPart: true, host: "127.0.0.1", port: 80, noPort: true, addr: "127.0.0.1:80"},
		{in: "127.0.0.1:8080/x/y?z", uriPart: true, host: "127.0.0.1", port: 8080, uri: "/x/y?z", addr: "127.0.0.1:8080"},
		{in: "127.0.0.1?a", uriPart: true, host: "127.0.0.1", port: 80, noPort: true, uri: "?a", addr: "127.0.0.1:80"},
		{in: "backend", uriPart: true, host: "backend", port: 80, noPort: true},
		{in: "backend:81/", uriPart: true, host: "backend", port: 81, uri: "/"},
		{in: "[::1]:8080/p", uriPart: true, host: "[::1]", port: 8080, uri: "/p", addr: "[::1]:8080"},
		{in: "[::1]", uriPart: true, host: "[::1]", port: 80, noPort: true, addr: "[::1]:80"},
		{in: "unix:/tmp/s.sock:/uri", uriPart: true, host: "/tmp/s.sock", uri: "/uri", addr: "unix:/tmp/s.sock"},
		{in: "unix:/tmp/s.sock", uriPart: false, host: "/tmp/s.sock", addr: "unix:/tmp/s.sock"},
		{in: "1.2.3", uriPart: true, host: "1.2.3", port: 80, noPort: true},
		{in: "127.0.0.1:0", uriPart: true, err: "invalid port"},
		{in: "127.0.0.1:65536", uriPart: true, err: "invalid port"},
		{in: "127.0.0.1:x", uriPart: true, err: "invalid port"},
		{in: "/x", uriPart: true, err: "no host"},
		{in: "127.0.0.1/x", uriPart: false, err: "invalid host"},
		{in: "[::1", uriPart: true, err: "invalid host"},
		{in: "[::1]x", uriPart: true, err: "invalid host"},
		{in: "[zz]", uriPart: true, err: "invalid IPv6 address"},
		{in: "unix:", uriPart: true, err: "no path in the unix domain socket"},
		{in: "unix:/" + strings.Repeat("a", 120), uriPart: true, err: "too long path in the unix domain socket"},
	}
	for _, tc := range tests {
		u, err := ParseURL(tc.in, 80, tc.uriPart, false)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		addr := ""
		if len(u.Addrs) == 1 {
			addr = u.Addrs[0].Name
		}
		if u.Host != tc.host || (!u.Unix && u.Port != tc.port) || u.NoPort != tc.noPort || u.URI != tc.uri || addr != tc.addr {
			t.Errorf("%q: host %q port %d noport %v uri %q addr %q", tc.in, u.Host, u.Port, u.NoPort, u.URI, addr)
		}
	}
}

func TestTempFileName(t *testing.T) {
	tests := []struct {
		levels []int
		n      uint64
		want   string
	}{
		{nil, 7, "/t/0000000007"},
		{[]int{1}, 123, "/t/3/0000000123"},
		{[]int{1, 2}, 123, "/t/3/12/0000000123"},
		{[]int{2, 2, 2}, 9876543210, "/t/10/32/54/9876543210"},
	}
	for _, tc := range tests {
		p := &TempPath{Dir: "/t", Levels: tc.levels}
		if got := p.TempFileName(tc.n); got != tc.want {
			t.Errorf("levels %v, %d: %q, want %q", tc.levels, tc.n, got, tc.want)
		}
	}
}

// TestSmoothRoundRobin checks nginx's smooth weighted round robin order,
// and that a failing peer loses weight and is skipped within
// fail_timeout.
func TestSmoothRoundRobin(t *testing.T) {
	us := &UpstreamSrvConf{Host: "u", Servers: []*UpstreamServer{
		{Name: "a", Addrs: []PeerAddr{{Name: "a"}}, Weight: 5, MaxFails: 1, FailTimeout: 10},
		{Name: "b", Addrs: []PeerAddr{{Name: "b"}}, Weight: 1, MaxFails: 1, FailTimeout: 10},
		{Name: "c", Addrs: []PeerAddr{{Name: "c"}}, Weight: 1, MaxFails: 1, FailTimeout: 10},
	}}
	rr, err := NewRoundRobin(us)
	if err != nil {
		t.Fatal(err)
	}
	pick := func(now int64) string {
		var pc PeerConn
		d := NewRRPeerData(rr.Peers, &pc)
		rr.Peers.Lock()
		p := d.pick(now)
		rr.Peers.Unlock()
		if p == nil {
			return "-"
		}
		p.Conns--
		return p.Addr.Name
	}
	var seq []string
	for i := 0; i < 14; i++ {
		seq = append(seq, pick(100))
	}
	if got, want := strings.Join(seq, ""), "aabacaaaabacaa"; got != want {
		t.Errorf("order %s, want %s", got, want)
	}
	// b fails: skipped until fail_timeout passes
	b := rr.Peers.Peers[1]
	b.Fails, b.Checked, b.Accessed = 1, 200, 200
	seq = seq[:0]
	for i := 0; i < 7; i++ {
		seq = append(seq, pick(205))
	}
	if strings.Contains(strings.Join(seq, ""), "b") {
		t.Errorf("failed peer picked within fail_timeout: %v", seq)
	}
	found := false
	for i := 0; i < 7; i++ {
		if pick(211) == "b" {
			found = true
		}
	}
	if !found {
		t.Errorf("failed peer not picked again after fail_timeout")
	}
}

// TestStatesVariables checks how the $upstream_* variables join the
// records of tries and of upstream groups.
func TestStatesVariables(t *testing.T) {
	st := []UpstreamState{
		{Peer: "a:1", HasPeer: true, Status: 502, ResponseTime: 1, ConnectTime: -1, HeaderTime: -1},
		{Peer: "b:2", HasPeer: true, Status: 404, ResponseTime: 2001, ConnectTime: 3, HeaderTime: 4},
		{ResponseTime: -1, ConnectTime: -1, HeaderTime: -1},
		{Peer: "c:3", HasPeer: true, Status: 0, ResponseTime: -1, ConnectTime: -1, HeaderTime: -1},
	}
	r := &Request{}
	r.Main = r
	r.upstream = &UpstreamRequest{states: st}
	vars := map[string]*Variable{}
	for _, v := range UpstreamVariables() {
		vars[v.Name] = v
	}
	for _, tc := range []struct{ name, want string }{
		{"upstream_addr", "a:1, b:2 : c:3"},
		{"upstream_status", "502, 404 : -"},
		{"upstream_response_time", "0.001, 2.001 : -"},
		{"upstream_connect_time", "-, 0.003 : -"},
		{"upstream_header_time", "-, 0.004 : -"},
		{"upstream_bytes_received", "0, 0 : 0"},
	} {
		v, ok := vars[tc.name].Get(r, nil)
		if !ok || string(v) != tc.want {
			t.Errorf("$%s = %q, %v; want %q", tc.name, v, ok, tc.want)
		}
	}
	r.upstream = nil
	if _, ok := vars["upstream_addr"].Get(r, nil); ok {
		t.Errorf("$upstream_addr found without an upstream")
	}
}
