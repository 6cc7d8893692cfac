package browser_test

import (
	"testing"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// $msie, $modern_browser and $ancient_browser compared with nginx for a
// set of User-Agents, with the lists and values of several levels.
func TestBrowserMatchesNginx(t *testing.T) {
	p := difftest.Start(t, `
http {
    modern_browser_value "m";
    server {
        listen 127.0.0.1:%%PORT%%;
        location /a {
            modern_browser msie 6.0;
            modern_browser gecko 1.5;
            modern_browser safari 125;
            modern_browser konqueror 3.4;
            ancient_browser Links Lynx netscape4;
            ancient_browser_value "old";
            return 200 "msie=[$msie] modern=[$modern_browser] ancient=[$ancient_browser]\n";
        }
        location /b {
            modern_browser opera 9.0;
            modern_browser unlisted;
            ancient_browser Wget;
            return 200 "msie=[$msie] modern=[$modern_browser] ancient=[$ancient_browser]\n";
        }
        location /c {
            return 200 "msie=[$msie] modern=[$modern_browser] ancient=[$ancient_browser]\n";
        }
    }
}
`)
	agents := []string{
		"",
		"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)",
		"Mozilla/4.0 (compatible; MSIE 5.5; Windows NT 5.0)",
		"Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)",
		"Mozilla/4.0 (compatible; MSIE 6.0; X11; FreeBSD i386) Opera 7.50  [en]",
		"Opera/9.01 (X11; FreeBSD 6 i386; U; en)",
		"Opera/8.0 (Windows NT 5.1; U; ru)",
		"Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.0.0) Gecko/20020610",
		"Mozilla/5.0 (Windows; U; Windows NT 5.1; ru-RU; rv:1.7.8) Gecko/20050511 Firefox/1.0.4",
		"Mozilla/5.0 (X11; U; FreeBSD i386; en-US; rv:1.8.0.5) Gecko/20060729 Firefox/1.5.0.5",
		"Mozilla/5.0 (Macintosh; U; PPC Mac OS X; ru-ru) AppleWebKit/125.2 (KHTML, like Gecko) Safari/125.7",
		"Mozilla/5.0 (Macintosh; U; PPC Mac OS X; en) AppleWebKit/418 (KHTML, like Gecko) Safari/417.9.3",
		"Mozilla/5.0 (compatible; Konqueror/3.1; Linux)",
		"Mozilla/5.0 (compatible; Konqueror/3.5; FreeBSD) KHTML/3.5.1 (like Gecko)",
		"Mozilla/4.72 [en] (X11; U; Linux 2.2.14-5.0 i686)",
		"Lynx/2.8.5rel.1 libwww-FM/2.14",
		"Wget/1.21",
		"curl/8.0",
		"MSIE 6",
		"x MSIE 6.0 x",
		"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)",
	}
	compare := func(p *difftest.Pair, locs ...string) {
		for _, loc := range locs {
			for _, ua := range agents {
				req := "GET " + loc + " HTTP/1.0\r\nHost: localhost\r\n"
				if ua != "" {
					req += "User-Agent: " + ua + "\r\n"
				}
				ng, gr := p.Do(t, req+"\r\n")
				if string(ng.Body) != string(gr.Body) || ng.Status != gr.Status {
					t.Errorf("%s %q: nginx %d %q, gresty %d %q", loc, ua, ng.Status, ng.Body, gr.Status, gr.Body)
				}
			}
		}
	}
	compare(p, "/a", "/b", "/c")
	// Lists given at the http level only: nginx leaves them half set up
	// there (its merge, which puts them in order and names the strings
	// to look for, never runs on the http level's own configuration),
	// so what it answers depends on memory it never wrote. gresty sets
	// them up where they are inherited.
	p = difftest.Start(t, `
http {
    modern_browser gecko 1.0;
    modern_browser msie 6.0;
    ancient_browser Lynx;
    server {
        listen 127.0.0.1:%%PORT%%;
        location /d {
            return 200 "modern=[$modern_browser] ancient=[$ancient_browser]";
        }
    }
}
`)
	for ua, want := range map[string]string{
		"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)":                                   "modern=[1] ancient=[]",
		"Mozilla/4.0 (compatible; MSIE 5.5; Windows NT 5.0)":                                   "modern=[] ancient=[1]",
		"Mozilla/5.0 (X11; U; FreeBSD i386; en-US; rv:1.8.0.5) Gecko/20060729 Firefox/1.5.0.5": "modern=[1] ancient=[]",
		"Lynx/2.8.5rel.1 libwww-FM/2.14":                                                       "modern=[] ancient=[1]",
		// Opera, not listed, is never modern, though it says MSIE
		"Mozilla/4.0 (compatible; MSIE 6.0; X11; FreeBSD i386) Opera 7.50  [en]": "modern=[] ancient=[1]",
	} {
		r := difftest.Fetch(t, p.Gresty.Addr, "GET /d HTTP/1.0\r\nHost: localhost\r\nUser-Agent: "+ua+"\r\n\r\n")
		if string(r.Body) != want {
			t.Errorf("http-level lists, %q: %q, want %q", ua, r.Body, want)
		}
	}
}

// The directives' checks are nginx's. (A lone word other than
// "unlisted" fails in nginx without a message; gresty says why.)
func TestBrowserConfigMatchesNginx(t *testing.T) {
	for _, conf := range []string{
		"http { modern_browser mosaic 1.0; }",
		"http { modern_browser msie 6.x; }",
		"http { modern_browser unlisted; ancient_browser netscape4 X; modern_browser_value a; ancient_browser_value b; }",
		"http { ancient_browser_value; }",
	} {
		nginxtest.CheckConfig(t, conf)
	}
}
