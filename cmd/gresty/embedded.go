package main

// embeddedConf is the configuration gresty runs when started without -c
// and no file exists at the default path: a welcome page and a Lua demo on
// 127.0.0.1:8080, in the foreground, logging to stderr.
const embeddedConf = `# gresty's built-in configuration (no configuration file was found).
daemon off;
master_process off;
worker_processes 1;
error_log stderr notice;
pid gresty.pid;

events {
    worker_connections 1024;
}

http {
    default_type text/plain;
    access_log /dev/stdout;
    lua_shared_dict demo 1m;

    server {
        listen 127.0.0.1:8080;
        server_name localhost;

        location = / {
            default_type text/html;
            return 200 '<!DOCTYPE html>
<html>
<head><title>Welcome to gresty!</title></head>
<body>
<h1>Welcome to gresty!</h1>
<p>gresty is serving its built-in configuration.
Point it at your nginx.conf with <code>gresty -c /path/to/nginx.conf</code>.</p>
<p><a href="/lua">/lua</a> answers from Lua (content_by_lua_block).</p>
</body>
</html>
';
        }

        location = /lua {
            content_by_lua_block {
                local n = ngx.shared.demo:incr("hits", 1, 0)
                ngx.say("Hello from Lua on gresty!")
                ngx.say("request: ", ngx.var.request)
                ngx.say("time: ", ngx.http_time(ngx.time()))
                ngx.say("hits since start: ", n)
            }
        }

        location / {
            return 404;
        }
    }
}
`
