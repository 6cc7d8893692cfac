package conf

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// luaSourceConfig writes a server with two Lua blocks: "/plain", and
// "/window", whose source starts half a buffer before the end of nginx's
// first buffer and is followed by two half-buffer stretches without a
// token, so that ngx_lua drops the first stretch from the source it
// compiles.
func luaSourceConfig(t *testing.T, dir, modules string, port int) string {
	pre := fmt.Sprintf("load_module %s/ndk_http_module.so;\nload_module %s/ngx_http_lua_module.so;\n", modules, modules) +
		"daemon off;\nmaster_process off;\nworker_processes 1;\nerror_log stderr;\n" +
		fmt.Sprintf("pid %s/nginx.pid;\n", dir) +
		"events { worker_connections 16; }\nhttp {\n    access_log off;\n" +
		fmt.Sprintf("    client_body_temp_path %[1]s/body;\n    proxy_temp_path %[1]s/proxy;\n    fastcgi_temp_path %[1]s/fastcgi;\n    uwsgi_temp_path %[1]s/uwsgi;\n    scgi_temp_path %[1]s/scgi;\n", dir) +
		fmt.Sprintf("    server {\n        listen 127.0.0.1:%d;\n", port) +
		"        location /plain {\n" +
		"            content_by_lua_block { ngx.say(1) --[[ ngx.say(9) ]] ngx.say(\"}\") }\n        }\n" +
		"        location /window {\n"
	const opener = "content_by_lua_block {"
	if len(pre)+len(opener) > bufSize/2 {
		t.Fatalf("preamble too long: %d bytes", len(pre))
	}
	pre += strings.Repeat("#", bufSize/2-len(pre)-len(opener)-1) + "\n" + opener
	first := " ngx.say(1) " + strings.Repeat(" ", bufSize/2-12)
	second := strings.Repeat(" ", bufSize/2)
	return pre + first + second + " ngx.say(2) }\n        }\n    }\n}\n"
}

// TestLuaSourceAgainstNginx runs nginx with Lua blocks and checks that what
// each prints is what the source we extracted says it prints.
func TestLuaSourceAgainstNginx(t *testing.T) {
	nginx := nginxBinary(t)
	modules := nginxModulesDir(t, nginx)
	requireLuaModule(t, modules)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(luaSourceConfig(t, dir, modules, port)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseFile(conf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]string{}
	var walk func(ds []*Directive, loc string)
	walk = func(ds []*Directive, loc string) {
		for _, d := range ds {
			if d.Name == "location" {
				walk(d.Block, d.Args[0])
				continue
			}
			if d.RawBlock {
				sources[loc] = d.Args[len(d.Args)-1]
			}
			walk(d.Block, loc)
		}
	}
	walk(cfg.Main, "")

	cmd := exec.Command(nginx, "-p", dir+"/", "-c", conf)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() string {
		if !stopped {
			stopped = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		return stderr.String()
	}
	defer stop()

	// What a source prints, read off the source: its ngx.say calls outside
	// comments, in order.
	say := regexp.MustCompile(`ngx\.say\(("[^"]*"|\d+)\)`)
	comment := regexp.MustCompile(`--\[\[.*?\]\]`)
	client := &http.Client{Timeout: 2 * time.Second}
	for _, loc := range []string{"/plain", "/window"} {
		src, ok := sources[loc]
		if !ok {
			t.Fatalf("no Lua block in %s", loc)
		}
		var want strings.Builder
		for _, m := range say.FindAllStringSubmatch(comment.ReplaceAllString(src, ""), -1) {
			want.WriteString(strings.Trim(m[1], `"`) + "\n")
		}
		body, err := get(client, fmt.Sprintf("http://127.0.0.1:%d%s", port, loc))
		if err != nil {
			t.Fatalf("%v\nnginx said:\n%s", err, stop())
		}
		if body != want.String() {
			t.Errorf("%s: nginx printed %q, our source %q prints %q", loc, body, strings.Join(strings.Fields(src), " "), want.String())
		}
	}
	if got := strings.Join(strings.Fields(sources["/window"]), " "); got != "ngx.say(2)" {
		t.Errorf("window source is %q, want the first stretch dropped", got)
	}
}

// get fetches url, retrying while nginx starts.
func get(client *http.Client, url string) (string, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				return "", err
			}
			if resp.StatusCode != http.StatusOK {
				return "", fmt.Errorf("%s: status %d", url, resp.StatusCode)
			}
			return string(b), nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("nginx did not answer: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
