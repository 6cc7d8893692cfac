package bench

func init() {
	body := text(1024)
	register(&Scenario{
		Name:    "proxy",
		About:   "`proxy_pass` of a 1 KiB answer to an nginx backend over keepalive upstream connections",
		Default: true,
		Backend: &Backend{HTTP: `
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            default_type text/plain;
            return 200 "` + string(body) + `";
        }
    }
`},
		HTTP: `
    upstream backend {
        server 127.0.0.1:%%BACKEND%%;
        keepalive 32;
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://backend;
        }
    }
`,
		Path:   "/",
		Check:  wantBody(200, body),
		Target: 1.1,
	})
}
