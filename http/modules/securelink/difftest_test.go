package securelink_test

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
)

const secureLinkConf = `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%ROOT%%;

        location / {
            secure_link $arg_hash;
            secure_link_md5 secret$uri;
            if ($secure_link = "") { return 403; }
            if ($secure_link = "0") { return 410; }
        }
        location = /expires.html {
            add_header X-Expires "[$secure_link_expires]";
            secure_link $arg_hash,$arg_expires;
            secure_link_md5 secret$uri$arg_expires;
            return 200 "[$secure_link][$secure_link_expires]";
        }
        location = /order.html {
            # the expiry is known only once $secure_link was evaluated
            return 200 "[$secure_link_expires][$secure_link][$secure_link_expires]";
            secure_link $arg_hash,$arg_expires;
            secure_link_md5 secret$uri$arg_expires;
        }
        location /p/ {
            secure_link_secret secret;
            if ($secure_link = "") { return 403; }
            return 200 "[$secure_link]";
        }
        location /inherit/ {
            secure_link_secret secret;
            location /inherit/md5 {
                secure_link $arg_hash;
                secure_link_md5 secret$uri;
                return 200 "[$secure_link]";
            }
            location /inherit/old/ {
                return 200 "[$secure_link]";
            }
        }
        location /half {
            secure_link $arg_hash;
            return 200 "[$secure_link]";
        }
        location /stub {
            return 200 "x$secure_link${secure_link_expires}x";
        }
    }
}
`

func hash(s string) string {
	sum := md5.Sum([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func hexHash(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestSecureLinkMatchesNginx(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"test.html", "expires.html"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte("PASSED\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := difftest.Start(t, strings.ReplaceAll(secureLinkConf, "%%ROOT%%", root))
	good := hash("secret/test.html")
	future := strconv.FormatInt(time.Now().Unix()+86400, 10)
	past := strconv.FormatInt(time.Now().Unix()-86400, 10)
	exp := func(e string) string { return hash("secret/expires.html" + e) }
	uris := []string{
		"/test.html?hash=" + good,
		"/test.html?hash=" + good + "==",
		"/test.html?hash=" + good + "=x",
		"/test.html?hash=" + good + "QQ",
		"/test.html?hash=" + good + "=toolong",
		"/test.html?hash=" + strings.Replace(good, "-", "+", 1),
		"/test.html?hash=" + good[:21],
		"/test.html?hash=" + good[:20],
		"/test.html?hash=BADHASHLENGTH",
		"/test.html?hash=",
		"/test.html",
		"/expires.html?hash=" + exp(future) + "&expires=" + future,
		"/expires.html?hash=" + exp(past) + "&expires=" + past,
		"/expires.html?hash=" + exp("0") + "&expires=0",
		"/expires.html?hash=" + exp("-5") + "&expires=-5",
		"/expires.html?hash=" + exp("12x") + "&expires=12x",
		"/expires.html?hash=" + exp("99999999999999999999") + "&expires=99999999999999999999",
		"/expires.html?hash=" + exp(future) + "&expires=" + past,
		"/expires.html?hash=bad&expires=" + future,
		"/expires.html?hash=" + exp(future),
		"/order.html?hash=" + hash("secret/order.html"+future) + "&expires=" + future,
		"/p/" + hexHash("test.html"+"secret") + "/test.html",
		"/p/" + strings.ToUpper(hexHash("test.html"+"secret")) + "/test.html",
		"/p/" + hexHash("test.html?a=1"+"secret") + "/test.html?a=1",
		"/p/" + hexHash("test.html"+"secret") + "/test.html?a=1",
		"/p/" + hexHash("a/b"+"secret") + "/a/b",
		"/p/" + hexHash("fake") + "/test.html",
		"/p/foo/test.html",
		"/p/" + strings.Repeat("x", 32) + "/test.html",
		"/p/" + hexHash("secret") + "/",
		"/p%2f",
		"/p/test.html",
		"/inherit/md5?hash=" + hash("secret/inherit/md5"),
		"/inherit/old/" + hexHash("x"+"secret") + "/x",
		"/half?hash=" + good,
		"/stub",
	}
	for _, u := range uris {
		p.Check(t, u, "GET "+u+" HTTP/1.0\r\nHost: localhost\r\n\r\n", append([]string{"X-Expires"}, difftest.CompareHeaders...)...)
	}
}
