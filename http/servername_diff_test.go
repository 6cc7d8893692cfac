package http_test

import (
	"testing"

	"gresty/internal/difftest"
)

// TestServerNamesMatchNginx compares virtual server selection and
// $server_name with nginx: exact names without case, a request without
// Host (only a server_name "" takes it), regexes (caseless when the
// pattern has capitals, $server_name keeping the "~"), leading and trailing
// wildcards (the most specific first) and ".name" (which $server_name
// shows without its dot).
func TestServerNamesMatchNginx(t *testing.T) {
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
        location / { return 200 "[$server_name]\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name "";
        location / { return 200 "[$server_name]\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name www.example.com;
        location / { return 200 "[$server_name]\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name ~^EXAMPLE\.COM$;
        location / { return 200 "[$server_name]\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name ~^(?P<name>.+)\.re\.example\.com$;
        location / { return 200 "[$server_name] [$name]\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name *.wc.example.com;
        location / { return 200 "[$server_name]\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name *.pref.wc.example.com;
        location / { return 200 "[$server_name]\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name wc2.example.*;
        location / { return 200 "[$server_name]\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name .dot.example.com;
        location / { return 200 "[$server_name]\n"; }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name MiXeD.Example.com;
        location / { return 200 "[$server_name]\n"; }
    }
}
`)
	for _, tc := range []struct{ name, host string }{
		{"unknown goes to the default", "xxx"},
		{"no host", ""},
		{"exact", "www.example.com"},
		{"exact uppercase", "WWW.EXAMPLE.COM"},
		{"regex", "example.com"},
		{"regex uppercase", "EXAMPLE.COM"},
		{"regex capture", "blah.re.example.com"},
		{"wildcard head", "www.wc.example.com"},
		{"wildcard head most specific", "www.pref.wc.example.com"},
		{"wildcard tail", "wc2.example.net"},
		{"dot wildcard", "www.dot.example.com"},
		{"dot wildcard bare", "dot.example.com"},
		{"name written in capitals", "mixed.example.com"},
	} {
		raw := "GET / HTTP/1.0\r\n"
		if tc.host != "" {
			raw += "Host: " + tc.host + "\r\n"
		}
		p.Check(t, tc.name, raw+"\r\n")
	}
}
