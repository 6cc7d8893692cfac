package regex

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// findNginx returns the nginx binary to compare with. Without one the
// test is skipped, unless GRESTY_REQUIRE_NGINX=1 makes that a failure.
func findNginx(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
		if _, err := os.Stat(bin); err != nil {
			requireOrSkip(t, "nginx not found in PATH or at /usr/sbin/nginx")
		}
	}
	return bin
}

func requireOrSkip(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("GRESTY_REQUIRE_NGINX") == "1" {
		t.Fatal(why)
	}
	t.Skip(why + "; set GRESTY_REQUIRE_NGINX=1 to make this a failure")
}

// modulesPath returns nginx's --modules-path from nginx -V.
func modulesPath(t *testing.T, bin string) string {
	t.Helper()
	out, _ := exec.Command(bin, "-V").CombinedOutput()
	m := regexp.MustCompile(`--modules-path=(\S+)`).FindSubmatch(out)
	if m == nil {
		return filepath.Join(filepath.Dir(filepath.Dir(bin)), "lib", "nginx", "modules")
	}
	return string(m[1])
}

// nginxConfQuote quotes s for a double-quoted nginx.conf argument, whose
// parser turns \\ into \ and \" into ".
func nginxConfQuote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

var emergLine = regexp.MustCompile(`\[emerg\] \d+#\d+: (.*) in \S+:\d+$`)

// nginxRegexError returns the [emerg] message nginx -t prints for a
// "location ~ pattern" (or "" if the configuration is valid).
func nginxRegexError(t *testing.T, bin, dir, pattern string, caseless bool) string {
	t.Helper()
	op := "~"
	if caseless {
		op = "~*"
	}
	conf := fmt.Sprintf("error_log stderr;\npid %s/nginx.pid;\nevents {}\nhttp {\n  server {\n    listen 127.0.0.1:1;\n    location %s %s { }\n  }\n}\n",
		dir, op, nginxConfQuote(pattern))
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(bin, "-t", "-q", "-p", dir, "-c", path).CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if m := emergLine.FindStringSubmatch(line); m != nil {
			return m[1]
		}
	}
	return ""
}

// luaNginx is an nginx with the Lua module that evaluates ngx.re calls
// posted to it.
type luaNginx struct {
	url string
}

// luaHandler answers one line per request line "MODE\tPAT\tSUBJ\tOPTS\tPOS"
// (PAT and SUBJ percent-encoded, POS a 0-based offset). MODE "one" runs
// ngx.re.match and ngx.re.find for every group; "all" iterates matches
// the way ngx.re.gmatch and ngx.re.gsub advance. Results use the format
// of describeOne and describeAll.
const luaHandler = `
local function esc(v)
  return (v:gsub("[^\32-\126]", function(c) return string.format("\\x%02x", c:byte()) end))
end
local function run(mode, p, s, o, pos)
  if mode == "one" then
    local m, err = ngx.re.match(s, p, o, {pos = pos + 1})
    if err then return "err:" .. err end
    if not m then return "nomatch" end
    local n = 0
    while m[n + 1] ~= nil do n = n + 1 end
    local parts = {}
    for i = 0, n do
      local from, to, err = ngx.re.find(s, p, o, {pos = pos + 1}, i)
      if err then return "err:" .. err end
      if from then parts[#parts + 1] = (from - 1) .. "-" .. to else parts[#parts + 1] = "-" end
    end
    local names = {}
    for k, v in pairs(m) do
      if type(k) == "string" then
        if type(v) == "table" then v = table.concat(v, ",") end
        names[#names + 1] = k .. "=" .. tostring(v)
      end
    end
    table.sort(names)
    local r = table.concat(parts, " ")
    if #names > 0 then r = r .. " {" .. table.concat(names, " ") .. "}" end
    return r
  end
  local ctx = {pos = pos + 1}
  local parts = {}
  while #parts < 200 do
    local from, to, err = ngx.re.find(s, p, o, ctx)
    if err then return "err:" .. err end
    if not from then break end
    parts[#parts + 1] = (from - 1) .. "-" .. to
    if to == from - 1 then
      ctx.pos = ctx.pos + 1
      if ctx.pos > #s + 1 then break end
    end
  end
  return "all:" .. table.concat(parts, ",")
end
ngx.req.read_body()
local body = ngx.req.get_body_data() or ""
local out = {}
for line in body:gmatch("[^\n]+") do
  local mode, p, s, o, pos = line:match("^(%a+)\t(.-)\t(.-)\t(.-)\t(%d+)$")
  local ok, r = pcall(run, mode, ngx.unescape_uri(p), ngx.unescape_uri(s), o, tonumber(pos))
  if not ok then r = "lua:" .. tostring(r) end
  out[#out + 1] = esc(r)
end
ngx.print(table.concat(out, "\n"), "\n")
`

// startLuaNginx starts nginx with the Lua module on a free loopback port
// in a temporary prefix and stops it when the test ends.
func startLuaNginx(t *testing.T) *luaNginx {
	t.Helper()
	bin := findNginx(t)
	mods := modulesPath(t, bin)
	for _, m := range []string{"ndk_http_module.so", "ngx_http_lua_module.so"} {
		if _, err := os.Stat(filepath.Join(mods, m)); err != nil {
			requireOrSkip(t, "nginx Lua module not found: "+filepath.Join(mods, m))
		}
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; attempt < 3; attempt++ {
		port := freePort(t)
		conf := fmt.Sprintf(`load_module %s/ndk_http_module.so;
load_module %s/ngx_http_lua_module.so;
daemon off;
master_process off;
worker_processes 1;
error_log %s/error.log error;
pid %s/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  client_body_buffer_size 4m;
  client_max_body_size 4m;
  server {
    listen 127.0.0.1:%d;
    location / {
      content_by_lua_block {%s}
    }
  }
}
`, mods, mods, dir, dir, port, luaHandler)
		path := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-p", dir, "-c", path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		if waitListening(addr, done) {
			t.Cleanup(func() {
				_ = cmd.Process.Signal(syscall.SIGQUIT)
				select {
				case <-done:
				case <-time.After(5 * time.Second):
					_ = cmd.Process.Kill()
					<-done
				}
			})
			return &luaNginx{url: "http://" + addr + "/"}
		}
		_ = cmd.Process.Kill()
		<-done
		log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		t.Logf("nginx did not start (attempt %d): %s %s", attempt+1, stderr.String(), log)
	}
	t.Fatal("could not start nginx with the Lua module")
	return nil
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitListening(addr string, done <-chan struct{}) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return false
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// luaQuery is one ngx.re evaluation.
type luaQuery struct {
	all  bool
	pat  string
	subj string
	opts string
	pos  int
}

// eval runs the queries in one request and returns one result per query,
// with non-printable bytes written as \xHH.
func (n *luaNginx) eval(t *testing.T, qs []luaQuery) []string {
	t.Helper()
	var body strings.Builder
	for _, q := range qs {
		mode := "one"
		if q.all {
			mode = "all"
		}
		fmt.Fprintf(&body, "%s\t%s\t%s\t%s\t%d\n", mode, url.QueryEscape(q.pat), url.QueryEscape(q.subj), q.opts, q.pos)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Post(n.url, "text/plain", strings.NewReader(body.String()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("nginx answered %d: %s", resp.StatusCode, data)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if len(out) != len(qs) {
		t.Fatalf("nginx returned %d results for %d queries", len(out), len(qs))
	}
	return out
}

// escapeResult writes non-printable bytes as \xHH, as the Lua side does.
func escapeResult(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 32 || c > 126 {
			fmt.Fprintf(&b, `\x%02x`, c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
