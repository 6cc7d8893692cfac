package bench

// helloConf answers every request with a short text from the rewrite
// module's return: the server's fixed cost per request, with no file or
// filter work. return, pipeline and conn-close share it.
const helloConf = `
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            return 200 "hello\n";
        }
    }
`

func init() {
	register(&Scenario{
		Name:     "return",
		About:    "`return 200` with a 6-byte body, keepalive",
		Default:  true,
		Quick:    true,
		HTTP:     helloConf,
		Path:     "/",
		Peers:    true,
		PeerBody: "hello\n",
		Check:    wantBody(200, []byte("hello\n")),
		Target:   1.05,
	})
}
