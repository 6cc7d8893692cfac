package lua_test

import "testing"

// TestLuaNDKSetVarDiff calls set-misc's directives through ndk.set_var,
// against OpenResty with Debian's set-misc module: values, numbers turned
// to strings, an unknown name and a directive that is not a set_var
// one (a 500 with the error logged), and set_var refusing assignment.
func TestLuaNDKSetVarDiff(t *testing.T) {
	cases := []luaCase{
		{name: "sanity", conf: `content_by_lua_block {
                ngx.say(ndk.set_var.set_escape_uri(" :"))
                ngx.say(ndk.set_var.set_unescape_uri("a%20b"))
                ngx.say(ndk.set_var.set_quote_sql_str("it's"))
                ngx.say(ndk.set_var.set_encode_base32(123))
                ngx.say(ndk.set_var.set_md5("x"), " ", ndk.set_var.set_encode_hex("\1\255"))
                ngx.say(package.loaded.ndk == ndk)
            }`},
		{name: "unknown", log: true, conf: `content_by_lua_block {
                local ok, err = pcall(function() return ndk.set_var.set_escape_uri_blah(" ") end)
                ngx.say(ok, " ", err)
                ok, err = pcall(function() return ndk.set_var.content_by_lua(" ") end)
                ngx.say(ok, " ", err)
                ok, err = pcall(function() ndk.set_var.x = 1 end)
                ngx.say(ok, " ", err)
            }`},
		{name: "fails", conf: `content_by_lua_block {
                ngx.say(ndk.set_var.no_such_directive("x"))
            }`},
		{name: "header", conf: `header_filter_by_lua_block {
                ngx.header.Foo = ndk.set_var.set_escape_uri(" %")
            }
            echo hi;`},
	}
	runLuaCasesWith(t, []string{"lua", "echo", "ngx_http_set_misc_module"}, "", "", cases)
}
