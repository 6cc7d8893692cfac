package lua_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// ngx.errlog's raw_log and get_sys_filter_level, which need no capture,
// compared with OpenResty: raw_log writes the message as given (no "[lua]
// file:line:" prefix) with the request's context, and refuses bad
// arguments as lua-resty-core does; the filter level is the level of the
// request's error log.
func TestErrlogRawLogMatchesOpenResty(t *testing.T) {
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location /t {
            error_log %%PREFIX%%/logs/t.log info;
            content_by_lua_block {
                local errlog = require "ngx.errlog"
                errlog.raw_log(ngx.WARN, "raw warn message")
                errlog.raw_log(ngx.DEBUG, "raw debug message")
                ngx.say(errlog.get_sys_filter_level())
                ngx.say(pcall(errlog.raw_log, "x", "y"))
                ngx.say(pcall(errlog.raw_log, ngx.ERR, 1))
                ngx.say(pcall(errlog.raw_log, 100, "y"))
                ngx.say(pcall(errlog.raw_log, -1, "y"))
            }
        }
        location /u {
            content_by_lua_block { ngx.say(require("ngx.errlog").get_sys_filter_level()) }
        }
    }
%%HTTP_GLOBALS%%
}
`, "lua")
	ng, gr := p.Do(t, "GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n")
	if string(ng.Body) != string(gr.Body) || !strings.HasPrefix(string(ng.Body), "7\n") {
		t.Errorf("nginx:\n%s\ngresty:\n%s", ng.Body, gr.Body)
	}
	ng, gr = p.Do(t, "GET /u HTTP/1.0\r\nHost: localhost\r\n\r\n")
	if string(ng.Body) != string(gr.Body) {
		t.Errorf("/u: nginx %q, gresty %q", ng.Body, gr.Body)
	}
	line := regexp.MustCompile(`\[(\w+)\] \d+#\d+: \*\d+ (raw \w+ message.*)`)
	got := func(log string) string {
		var out []string
		for _, m := range line.FindAllStringSubmatch(log, -1) {
			out = append(out, m[1]+" "+m[2])
		}
		return strings.Join(out, "\n")
	}
	a, b := got(p.Nginx.Log("t.log", 1)), got(p.Gresty.Log("t.log", 1))
	if a != b || a == "" {
		t.Errorf("raw_log lines differ\nnginx:\n%s\ngresty:\n%s", a, b)
	}
}

// lua_capture_error_log, as OpenResty's nginx has it (Debian's lacks the
// patch it needs): the lines the error logs write at the levels they let
// through are kept, at most the directive's size of them, and
// ngx.errlog.get_logs hands them out oldest first as level, time and
// line; set_filter_level keeps only the lines at a level or above it.
func TestCaptureErrorLog(t *testing.T) {
	s := startGrestyConf(t, `
events {}
http {
    lua_capture_error_log 4k;
    server {
        listen 127.0.0.1:%%PORT%%;
        location /t {
            error_log logs/t.log info;
            access_by_lua_block {
                local errlog = require "ngx.errlog"
                assert(errlog.set_filter_level(ngx.WARN))
                ngx.log(ngx.INFO, "-->1")
                ngx.log(ngx.WARN, "-->2")
                ngx.log(ngx.ERR, "-->3")
            }
            content_by_lua_block {
                local errlog = require "ngx.errlog"
                local res = assert(errlog.get_logs(10))
                for i = 1, #res, 3 do
                    ngx.say(res[i], " ", res[i + 2]:match("%[%a+%] %d+#%d+: %*%d+ (.-), client: "),
                        " ", math.abs(res[i + 1] - ngx.now()) < 5)
                end
                ngx.say(#res / 3, " ", #(errlog.get_logs()) / 3)
                ngx.say(select(2, errlog.set_filter_level(100)))
                ngx.say(select(2, errlog.set_filter_level()))
                assert(errlog.set_filter_level(ngx.DEBUG))
            }
        }
        location /flood {
            error_log logs/t.log info;
            content_by_lua_block {
                local errlog = require "ngx.errlog"
                errlog.get_logs(1000)
                for i = 1, 100 do ngx.log(ngx.ERR, "flood ", i) end
                local res = errlog.get_logs(1000)
                ngx.say(#res / 3 < 100, " ", res[#res]:match("flood %d+"))
            }
        }
    }
}
`)
	body := func(uri string) string {
		b := difftest.Fetch(t, s.Addr, "GET "+uri+" HTTP/1.0\r\nHost: localhost\r\n\r\n")
		return string(b.Body)
	}
	want := fmt.Sprintf("%s\n%s\n2 0\nbad log level: 100\nmissing \"level\" argument\n",
		"5 [lua] access_by_lua(nginx.conf:13):5: -->2 true",
		"4 [lua] access_by_lua(nginx.conf:13):6: -->3 true")
	if got := body("/t"); got != want {
		t.Errorf("/t:\n%s\nwant:\n%s", got, want)
	}
	if got := body("/flood"); got != "true flood 100\n" {
		t.Errorf("/flood: %q", got)
	}
}

// lua_capture_error_log's checks are OpenResty's.
func TestCaptureErrorLogConfigErrors(t *testing.T) {
	for conf, want := range map[string]string{
		"lua_capture_error_log 3k;":                           `invalid capture error log size "3k", minimum size is 4096 in `,
		"lua_capture_error_log x;":                            `invalid capture error log size "x", minimum size is 4096 in `,
		"lua_capture_error_log;":                              `invalid number of arguments in "lua_capture_error_log" directive in `,
		"lua_capture_error_log 4k; lua_capture_error_log 8k;": `"lua_capture_error_log" directive is duplicate in `,
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(path, []byte("events {}\nhttp {\n    "+conf+"\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(nginxtest.Gresty(t), "-t", "-q", "-p", dir+"/", "-c", path, "-e", "stderr").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "[emerg]") || !strings.Contains(string(out), want+path+":3") {
			t.Errorf("%s: %v\n%s", conf, err, out)
		}
	}
}
