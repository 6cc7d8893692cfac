package memc_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// fakeReplies are what the scripted memcached answers, by the key of the
// query; a reply ending in "|" is followed by a close, "~" by silence.
var fakeReplies = map[string]string{
	"garbage":       "HELLO\r\n",
	"half":          "STOR",
	"cut":           "STORED\r|",
	"server-error":  "SERVER_ERROR out of memory storing object\r\n",
	"client-error":  "CLIENT_ERROR bad data chunk\r\n",
	"error":         "ERROR\r\n",
	"extra":         "STORED\r\nEXTRA\r\n",
	"exists":        "EXISTS\r\n",
	"value":         "VALUE value 3 5\r\nhello\r\nEND\r\n",
	"split":         "VALUE split 0 11\r\nhello|",
	"bad-trailer":   "VALUE bad-trailer 0 5\r\nhelloXXEND\r\n",
	"long-trailer":  "VALUE long-trailer 0 5\r\nhello\r\nEND\r\nMORE",
	"other-key":     "VALUE nope 0 5\r\nhello\r\nEND\r\n",
	"no-flags":      "VALUE no-flags\r\n",
	"bad-length":    "VALUE bad-length 0 x5\r\nhello\r\nEND\r\n",
	"cas":           "VALUE cas 0 5 99\r\nhello\r\nEND\r\n",
	"nonsense":      "WHAT\r\n",
	"no-crlf":       "END\n",
	"silent":        "~",
	"closed":        "|",
	"slow-value":    "VALUE slow-value 0 5\r\nhel~",
	"incr-spaces":   "42   \r\n",
	"incr-bad":      "42x\r\n",
	"version-empty": "VERSION \r\n",
}

// fakeMemcached answers each query with the reply scripted for its key.
func fakeMemcached(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			return
		}
		if len(f) >= 5 {
			// the data block of a storage command
			n := 0
			for _, ch := range f[4] {
				n = n*10 + int(ch-'0')
			}
			if _, err := br.Discard(n + 2); err != nil {
				return
			}
		}
		reply, ok := fakeReplies[f[1]]
		if !ok {
			return
		}
		switch {
		case strings.HasSuffix(reply, "|"):
			c.Write([]byte(strings.TrimSuffix(reply, "|")))
			return
		case strings.HasSuffix(reply, "~"):
			c.Write([]byte(strings.TrimSuffix(reply, "~")))
			time.Sleep(2 * time.Second)
			return
		}
		c.Write([]byte(reply))
	}
}

// TestMemcReplies compares how nginx and gresty take replies memcached
// should not give, or gives in pieces.
func TestMemcReplies(t *testing.T) {
	addr := nginxtest.Serve(t, fakeMemcached)
	conf := `
http {
    default_type text/plain;
    server {
        listen %%PORT%%;
        location /m {
            set $memc_cmd $arg_cmd;
            set $memc_key $arg_key;
            set $memc_value $arg_val;
            memc_read_timeout 300ms;
            memc_pass ` + addr + `;
            add_header X-Flags $memc_flags;
        }
    }
}
`
	p := difftest.Start(t, conf, "memc")
	for _, c := range []struct{ name, uri string }{
		{"garbage", "/m?cmd=set&key=garbage&val=1"},
		{"half", "/m?cmd=set&key=half&val=1"},
		{"cut", "/m?cmd=set&key=cut&val=1"},
		{"server error", "/m?cmd=set&key=server-error&val=1"},
		{"client error", "/m?cmd=set&key=client-error&val=1"},
		{"error", "/m?cmd=add&key=error&val=1"},
		{"extra", "/m?cmd=set&key=extra&val=1"},
		{"exists", "/m?cmd=replace&key=exists&val=1"},
		{"get", "/m?cmd=get&key=value"},
		{"split", "/m?cmd=get&key=split"},
		{"bad trailer", "/m?cmd=get&key=bad-trailer"},
		{"long trailer", "/m?cmd=get&key=long-trailer"},
		{"other key", "/m?cmd=get&key=other-key"},
		{"no flags", "/m?cmd=get&key=no-flags"},
		{"bad length", "/m?cmd=get&key=bad-length"},
		{"cas unique", "/m?cmd=get&key=cas"},
		{"nonsense", "/m?cmd=get&key=nonsense"},
		{"no crlf", "/m?cmd=get&key=no-crlf"},
		{"silent", "/m?cmd=get&key=silent"},
		{"closed", "/m?cmd=get&key=closed"},
		{"slow value", "/m?cmd=get&key=slow-value"},
		{"incr spaces", "/m?cmd=incr&key=incr-spaces&val=1"},
		{"incr bad", "/m?cmd=incr&key=incr-bad&val=1"},
		{"delete garbage", "/m?cmd=delete&key=garbage"},
	} {
		req := "GET " + c.uri + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
		ng, gr := difftest.FetchOpen(t, p.Nginx.Addr, req), difftest.FetchOpen(t, p.Gresty.Addr, req)
		if diffs := difftest.Diff(ng, gr, append([]string{"X-Flags"}, difftest.CompareHeaders...)...); len(diffs) > 0 {
			t.Errorf("%s: gresty differs from nginx:\n  %s\nnginx:\n%q\ngresty:\n%q", c.name,
				strings.Join(diffs, "\n  "), ng.Raw, gr.Raw)
		}
	}
	for _, want := range []string{
		`memcached sent invalid response for command "set" at pos 0:  while reading response header from upstream`,
		`memcached sent invalid trailer while reading response header from upstream`,
		`memcached sent invalid key in response "VALUE nope 0 5" for key "other-key" while reading response header from upstream`,
		`memcached sent invalid response: "VALUE no-flags" while reading response header from upstream`,
		`memcached sent invalid length in response "VALUE cas 0 5 99" for key "cas"`,
		`upstream timed out (110: Connection timed out) while reading response header from upstream`,
		// nginx says "while sending to client" instead when the close
		// comes with the bytes it is writing
		`upstream prematurely closed connection while `,
		`memcached sent invalid response for command "incr" at pos 2: 42 while`,
	} {
		for _, s := range []*nginxtest.Server{p.Nginx, p.Gresty} {
			if !strings.Contains(s.ErrorLog(), want) {
				t.Errorf("%s error log lacks %q:\n%s", s.Addr, want, s.ErrorLog())
			}
		}
	}
}
