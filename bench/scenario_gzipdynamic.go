package bench

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// gzipDynamicText is the body's fixed part: the 10 KiB text less room for
// the request id, which makes every body different, so no server can
// answer from compressed bodies it kept.
var gzipDynamicText = text(10<<10 - 32)

// gzipDynamicConf sets the text in four variables (a configuration
// parameter holds at most 4 KiB) and returns them with the request id.
func gzipDynamicConf() string {
	var sets strings.Builder
	q := len(gzipDynamicText) / 4
	for i, name := range []string{"a", "b", "c", "d"} {
		part := gzipDynamicText[i*q : (i+1)*q]
		if i == 3 {
			part = gzipDynamicText[i*q:]
		}
		fmt.Fprintf(&sets, "            set $%s \"%s\";\n", name, part)
	}
	return `
    gzip on;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            default_type text/html;
` + sets.String() + `            return 200 "$a$b$c$d$request_id";
        }
    }
`
}

var requestID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func init() {
	register(&Scenario{
		Name:    "gzip-dynamic",
		About:   "a 10 KiB body that differs on every request (`set` and `return` with `$request_id`) compressed with `gzip on`",
		Default: true,
		HTTP:    gzipDynamicConf(),
		Path:    "/",
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
			if !bytes.HasPrefix(plain, gzipDynamicText) || !requestID.Match(plain[min(len(plain), len(gzipDynamicText)):]) {
				return fmt.Errorf("gunzipped body %s, want the text and a request id", clip(plain))
			}
			return nil
		},
	})
}
