package bench

func init() {
	register(&Scenario{
		Name:     "pipeline",
		About:    "`return 200`, 16 requests per write",
		Default:  true,
		HTTP:     helloConf,
		Path:     "/",
		Pipeline: 16,
		Peers:    true,
		PeerBody: "hello\n",
		Check:    wantBody(200, []byte("hello\n")),
		Target:   4,
	})
}
