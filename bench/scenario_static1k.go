package bench

// staticConf serves files from the document root with the settings of
// Debian's default nginx.conf.
const staticConf = `
    sendfile on;
    tcp_nopush on;
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%ROOT%%;
    }
`

func init() {
	body := text(1024)
	register(&Scenario{
		Name:    "static-1k",
		About:   "a 1 KiB file, sendfile on, keepalive",
		Default: true,
		Quick:   true,
		Files:   map[string][]byte{"1k.html": body},
		HTTP:    staticConf,
		Path:    "/1k.html",
		Check:   wantBody(200, body),
		Target:  1.3,
	})
}
