package lua_test

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// lua-resty-dns (Debian's nginx.dns.resolver), unmodified, on the UDP and
// TCP cosockets against a name server started here. It runs on nginx and
// on gresty; the answers must also be the ones the name server was told
// to give, so that the two cannot agree on a wrong result.

// zoneServer is a name server on 127.0.0.1 answering over UDP and TCP on
// one port from a table of records.
type zoneServer struct {
	port int
	// rrs maps "name./TYPE" to the answer section.
	rrs map[string][]dns.RR
	// rcode maps "name." to the response code of every question for it.
	rcode map[string]int
	// trunc lists the names whose UDP answers carry the TC bit and no
	// records, so that only TCP gets them.
	trunc map[string]bool

	mu  sync.Mutex
	tcp map[string]int // "name./TYPE" -> questions over TCP
}

func (z *zoneServer) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	key := name + "/" + dns.TypeToString[q.Qtype]
	overTCP := w.RemoteAddr().Network() == "tcp"
	if overTCP {
		z.mu.Lock()
		z.tcp[key]++
		z.mu.Unlock()
	}
	switch {
	case z.trunc[name] && !overTCP:
		m.Truncated = true
	case z.rcode[name] != 0:
		m.Rcode = z.rcode[name]
	default:
		m.Answer = z.rrs[key]
	}
	w.WriteMsg(m)
}

// tcpQuestions returns how many questions for key came over TCP.
func (z *zoneServer) tcpQuestions(key string) int {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.tcp[key]
}

// startZone serves z on a free port (the same for UDP and TCP) until the
// test ends.
func startZone(t *testing.T, z *zoneServer) {
	t.Helper()
	z.tcp = map[string]int{}
	var pc net.PacketConn
	var ln net.Listener
	for try := 0; ; try++ {
		var err error
		if pc, err = net.ListenPacket("udp4", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp4", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		if try == 10 {
			t.Fatal(err)
		}
	}
	z.port = pc.LocalAddr().(*net.UDPAddr).Port
	started := make(chan struct{}, 2)
	notify := func() { started <- struct{}{} }
	us := &dns.Server{PacketConn: pc, Handler: z, NotifyStartedFunc: notify}
	ts := &dns.Server{Listener: ln, Handler: z, NotifyStartedFunc: notify}
	go us.ActivateAndServe()
	go ts.ActivateAndServe()
	<-started
	<-started
	t.Cleanup(func() {
		us.Shutdown()
		ts.Shutdown()
	})
}

// restyAnswer renders a record as the Lua side of the DNS test prints
// the library's answer table for it: owner name, type, class, ttl,
// section, then the type's own fields.
func restyAnswer(rr dns.RR) string {
	h := rr.Header()
	s := fmt.Sprintf("%s %d %d %d 1", strings.TrimSuffix(h.Name, "."), h.Rrtype, h.Class, h.Ttl)
	switch r := rr.(type) {
	case *dns.A:
		s += " address=" + r.A.String()
	case *dns.AAAA:
		// the library writes all eight groups, without "::"
		b := r.AAAA.To16()
		groups := make([]string, 8)
		for i := range groups {
			groups[i] = strconv.FormatUint(uint64(b[2*i])<<8|uint64(b[2*i+1]), 16)
		}
		s += " address=" + strings.Join(groups, ":")
	case *dns.CNAME:
		s += " cname=" + strings.TrimSuffix(r.Target, ".")
	case *dns.MX:
		s += fmt.Sprintf(" preference=%d exchange=%s", r.Preference, strings.TrimSuffix(r.Mx, "."))
	case *dns.SRV:
		s += fmt.Sprintf(" priority=%d weight=%d port=%d target=%s", r.Priority, r.Weight, r.Port, strings.TrimSuffix(r.Target, "."))
	case *dns.TXT:
		s += " txt=" + strings.Join(r.Txt, "|")
	}
	return s
}

// dumpAnswers is Lua that prints what a resolver query returned, one line
// per answer in restyAnswer's format.
const dumpAnswers = `
local function dump(ans, err)
    if not ans then ngx.say("error: ", err) return end
    if ans.errcode then ngx.say("errcode: ", ans.errcode, " ", ans.errstr) end
    for _, a in ipairs(ans) do
        local t = {a.name, a.type, a.class, a.ttl, a.section}
        for _, k in ipairs{"address", "cname", "preference", "exchange", "priority", "weight", "port", "target"} do
            if a[k] ~= nil then t[#t + 1] = k .. "=" .. a[k] end
        end
        if a.txt ~= nil then
            t[#t + 1] = "txt=" .. (type(a.txt) == "table" and table.concat(a.txt, "|") or a.txt)
        end
        ngx.say(table.concat(t, " "))
    end
    ngx.say("answers: ", #ans)
end
`

func TestRestyDNSOnCosockets(t *testing.T) {
	needRestyLib(t, "nginx/dns/resolver.lua")
	records := []string{
		"a.gresty.test. 300 IN A 192.0.2.1",
		"a.gresty.test. 300 IN A 192.0.2.2",
		"v6.gresty.test. 60 IN AAAA 2001:db8::1:ff",
		"v6.gresty.test. 60 IN AAAA ::1",
		"www.gresty.test. 120 IN CNAME a.gresty.test.",
		"mail.gresty.test. 3600 IN MX 10 mx1.gresty.test.",
		"mail.gresty.test. 3600 IN MX 20 mx2.gresty.test.",
		"_http._tcp.gresty.test. 30 IN SRV 1 5 8080 web.gresty.test.",
		"_http._tcp.gresty.test. 30 IN SRV 2 0 80 backup.gresty.test.",
		`txt.gresty.test. 10 IN TXT "v=spf1 -all"`,
		`multi.gresty.test. 10 IN TXT "first part" "second;part"`,
	}
	z := &zoneServer{rrs: map[string][]dns.RR{}, rcode: map[string]int{
		"nx.gresty.test.":      dns.RcodeNameError,
		"refused.gresty.test.": dns.RcodeRefused,
	}, trunc: map[string]bool{"big.gresty.test.": true}}
	add := func(line string) {
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatal(err)
		}
		h := rr.Header()
		key := h.Name + "/" + dns.TypeToString[h.Rrtype]
		z.rrs[key] = append(z.rrs[key], rr)
	}
	for _, l := range records {
		add(l)
	}
	// the CNAME's answer carries the target's addresses, as a recursive
	// server's would
	z.rrs["www.gresty.test./CNAME"] = append(z.rrs["www.gresty.test./CNAME"], z.rrs["a.gresty.test./A"]...)
	// more than 512 bytes of addresses: only TCP can carry them
	for i := 1; i <= 40; i++ {
		add(fmt.Sprintf("big.gresty.test. 5 IN A 198.51.100.%d", i))
	}
	startZone(t, z)

	// a name server that reads questions and never answers
	silent, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := silent.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	silentPort := silent.LocalAddr().(*net.UDPAddr).Port

	answers := func(key string) string {
		var b strings.Builder
		for _, rr := range z.rrs[key] {
			b.WriteString(restyAnswer(rr) + "\n")
		}
		return b.String() + fmt.Sprintf("answers: %d\n", len(z.rrs[key]))
	}
	cases := []struct {
		name  string
		port  int
		opts  string // resolver:new options besides nameservers
		query string // Lua call on the resolver r
		want  string
	}{
		{name: "dns-a", query: `r:query("a.gresty.test")`, want: answers("a.gresty.test./A")},
		{name: "dns-aaaa", query: `r:query("v6.gresty.test", {qtype = r.TYPE_AAAA})`, want: answers("v6.gresty.test./AAAA")},
		{name: "dns-cname", query: `r:query("www.gresty.test", {qtype = r.TYPE_CNAME})`, want: answers("www.gresty.test./CNAME")},
		{name: "dns-mx", query: `r:query("mail.gresty.test", {qtype = r.TYPE_MX})`, want: answers("mail.gresty.test./MX")},
		{name: "dns-srv", query: `r:query("_http._tcp.gresty.test", {qtype = r.TYPE_SRV})`, want: answers("_http._tcp.gresty.test./SRV")},
		{name: "dns-txt", query: `r:query("txt.gresty.test", {qtype = r.TYPE_TXT})`, want: answers("txt.gresty.test./TXT")},
		{name: "dns-txt-multi", query: `r:query("multi.gresty.test", {qtype = r.TYPE_TXT})`, want: answers("multi.gresty.test./TXT")},
		{name: "dns-empty", query: `r:query("a.gresty.test", {qtype = r.TYPE_MX})`, want: "answers: 0\n"},
		{name: "dns-nxdomain", query: `r:query("nx.gresty.test")`, want: "errcode: 3 name error\nanswers: 0\n"},
		{name: "dns-refused", query: `r:query("refused.gresty.test", {qtype = r.TYPE_SRV})`, want: "errcode: 5 refused\nanswers: 0\n"},
		{name: "dns-truncated", query: `r:query("big.gresty.test")`, want: answers("big.gresty.test./A")},
		{name: "dns-tcp", query: `r:tcp_query("mail.gresty.test", {qtype = r.TYPE_MX})`, want: answers("mail.gresty.test./MX")},
		{name: "dns-timeout", port: silentPort, opts: "retrans = 2, timeout = 100",
			query: `r:query("a.gresty.test")`,
			want:  fmt.Sprintf("error: failed to receive reply from UDP server 127.0.0.1:%d: timeout\n", silentPort)},
	}
	var lcs []luaCase
	for _, c := range cases {
		port := c.port
		if port == 0 {
			port = z.port
		}
		opts := c.opts
		if opts == "" {
			opts = "timeout = 1000"
		}
		lcs = append(lcs, luaCase{name: c.name, log: true, conf: "content_by_lua_block {\n" + dumpAnswers +
			`local resolver = require "nginx.dns.resolver"
local r, err = resolver:new{nameservers = {{"127.0.0.1", ` + strconv.Itoa(port) + `}}, ` + opts + `}
if not r then ngx.say("new: ", err) return end
dump(` + c.query + `)
}`})
	}
	p := runLuaCases(t, `lua_package_path "`+restyLibDir+`/?.lua;;";`, "", lcs)
	for _, c := range cases {
		resp := fetch(t, p.Gresty.Addr, strings.ReplaceAll(get(""), "%P", "/"+c.name))
		_, body, _ := strings.Cut(resp, "\n\n")
		if body != c.want {
			t.Errorf("%s: gresty answered\n%s\nthe name server was told\n%s", c.name, body, c.want)
		}
	}
	// nginx, then gresty twice: each asked over TCP after the truncated
	// UDP answer, and through tcp_query
	for _, key := range []string{"big.gresty.test./A", "mail.gresty.test./MX"} {
		if n := z.tcpQuestions(key); n != 3 {
			t.Errorf("%s: %d questions over TCP, want 3", key, n)
		}
	}
}
