package bench

func init() {
	body := text(64 << 10)
	register(&Scenario{
		Name:    "static-64k",
		About:   "a 64 KiB file, sendfile on, keepalive",
		Default: true,
		Files:   map[string][]byte{"64k.html": body},
		HTTP:    staticConf,
		Path:    "/64k.html",
		Check:   wantBody(200, body),
		Target:  1.0,
	})
}
