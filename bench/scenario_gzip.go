package bench

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
)

func init() {
	body := text(10 << 10)
	register(&Scenario{
		Name: "gzip",
		About: "a 10 KiB HTML file compressed on the fly (`gzip on`, level 1); gresty keeps compressed copies of " +
			"small bodies it sends again (per loop), nginx compresses every time: gzip-dynamic measures compression itself",
		Default: true,
		Files:   map[string][]byte{"10k.html": body},
		HTTP: `
    gzip on;
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%ROOT%%;
    }
`,
		Path:    "/10k.html",
		Headers: []string{"Accept-Encoding: gzip"},
		Check: func(r *Response) error {
			if r.Status != 200 {
				return fmt.Errorf("status %d, want 200", r.Status)
			}
			if ce := r.Header.Get("Content-Encoding"); ce != "gzip" {
				return fmt.Errorf("Content-Encoding %q, want gzip", ce)
			}
			zr, err := gzip.NewReader(bytes.NewReader(r.Body))
			if err != nil {
				return err
			}
			plain, err := io.ReadAll(zr)
			if err != nil {
				return err
			}
			if !bytes.Equal(plain, body) {
				return fmt.Errorf("gunzipped body %s, want the file", clip(plain))
			}
			return nil
		},
		Target: 1.5,
	})
}
