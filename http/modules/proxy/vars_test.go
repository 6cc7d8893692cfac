package proxy_test

import (
	"fmt"
	"regexp"
	"testing"

	"gresty/http/modules/proxy/proxytest"
	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// TestTimeVariables checks the form of the $upstream_*_time variables in
// nginx and gresty, whose values are timings and so not compared: seconds
// with three decimals per try, "-" for a stage a try did not reach.
func TestTimeVariables(t *testing.T) {
	b := proxytest.Start(t, "b1")
	dead := proxytest.DeadAddr(t)
	p := difftest.Start(t, fmt.Sprintf(`
http {
  upstream two { server %[2]s; server %[1]s; }
  server {
    listen 127.0.0.1:%%%%PORT%%%%;
    location / {
      proxy_pass http://two;
      add_header X-Connect $upstream_connect_time always;
      add_header X-Header $upstream_header_time always;
      add_header X-Response $upstream_response_time always;
      add_header X-Addr $upstream_addr always;
    }
  }
}
`, b.Addr, dead))
	ms := `\d+\.\d{3}`
	for _, s := range []*nginxtest.Server{p.Nginx, p.Gresty} {
		r := proxytest.Do(t, s.Addr, proxytest.Get("/id"))
		for _, tc := range []struct{ name, re string }{
			// the first try failed to connect; the headers go out before
			// the second one ends
			{"X-Connect", `^-, ` + ms + `$`},
			{"X-Header", `^-, ` + ms + `$`},
			{"X-Response", `^` + ms + `, -$`},
			{"X-Addr", `^` + regexp.QuoteMeta(dead) + `, ` + regexp.QuoteMeta(b.Addr) + `$`},
		} {
			if v := r.Header.Get(tc.name); !regexp.MustCompile(tc.re).MatchString(v) {
				t.Errorf("%s: %s: %q does not match %s", s.Addr, tc.name, v, tc.re)
			}
		}
	}
}
