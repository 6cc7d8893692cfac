package bench

import "errors"

func init() {
	check := wantBody(200, []byte("hello\n"))
	register(&Scenario{
		Name:    "conn-close",
		About:   "`return 200`, a new connection per request",
		Default: true,
		HTTP:    helloConf,
		Path:    "/",
		Headers: []string{"Connection: close"},
		Check: func(r *Response) error {
			if err := check(r); err != nil {
				return err
			}
			if !r.Close {
				return errors.New("the response keeps the connection open")
			}
			return nil
		},
		Target: 1.0,
	})
}
