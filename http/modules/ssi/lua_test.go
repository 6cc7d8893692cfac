package ssi_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gresty/internal/difftest"
)

// luaConf has SSI documents captured by Lua and Lua locations included by
// SSI documents: OpenResty's common mix of the two kinds of subrequest.
// Lua's capture takes a document before SSI parses it: the captured text
// is the file as it is. A Lua content handler whose own output SSI parses
// is left out when that output includes anything: nginx finalizes such a
// request before its includes are done, and sends their output after the
// end of the body or never closes the connection.
const luaConf = `
http {
    types { text/html html; }
    default_type text/html;

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
        root DIR;
        ssi on;

        location = /capture {
            ssi off;
            content_by_lua_block {
                local res = ngx.location.capture("/doc.html", { args = ngx.var.args })
                ngx.say(res.status, " [", res.body, "] ", tostring(res.header["Content-Length"]))
                local a = ngx.location.capture("/doc.html", { args = { v = 1 } })
                ngx.say(a.body)
            }
        }
        location = /lua {
            content_by_lua_block {
                ngx.print("L", ngx.var.arg_x or "-", "<!--#echo var=\"uri\" -->")
            }
        }
    }
}
`

func TestLuaSubrequestsMatchNginx(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"doc.html": `D<!--#echo var="arg_v" default="none" -->` +
			`<!--#include virtual="/lua?x=$arg_v" -->` +
			`<!--#include virtual="/lua" set="s" -->[<!--#echo var="s" -->]E`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := difftest.Start(t, strings.ReplaceAll(luaConf, "DIR", dir), "lua")
	tests := []struct{ name, raw string }{
		{"lua captures a document", get("/capture?v=x")},
		{"lua captures without arguments", get("/capture")},
		{"document includes lua", get("/doc.html?v=y")},
	}
	for _, tt := range tests {
		check(t, p, tt.name, tt.raw)
	}
}
