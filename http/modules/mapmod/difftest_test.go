package mapmod_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gresty/http/modules/traffictest"
	"gresty/internal/difftest"
)

const mapConf = `
http {
    map_hash_bucket_size 128;
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }
    map $http_x_host $hn {
        hostnames;
        default                def;
        example.com            exact;
        .example.org           dotorg;
        *.example.net          starnet;
        *.a.example.net        deepnet;
        www.example.*          wwwtail;
        www.*                  wwwany;
        ~^re\.(?<part>[a-z]+)\. re-$part;
        \default               escaped;
        include                %%DIR%%/hosts.map;
    }
    map $arg_a $ma {
        default       "d:$arg_b";
        ~^x(\d+)      "x$1";
        ~*^Y(\d+)$    "y$1";
        ~^z           z-first;
        ~^zz          zz-second;
        KeY           lower-key;
        ""            empty;
        *             star;
    }
    map $uri $mu {
        volatile;
        /vol/a  vol-a;
        ~^/vol/c/(.*)$ c:$1;
    }
    map $arg_n $nested {
        default $ma;
        1       $hn;
        2       "$mu|$connection_upgrade";
    }
    map $arg_g $nocap {
        ~^g     g-nocap;
        ~^(h)   h-cap;
        default none;
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            return 200 "cu=$connection_upgrade hn=$hn ma=$ma mu=$mu nested=$nested\n";
        }
        location ~ ^/cap/(\w+) {
            # nginx evaluates every variable of a value before it copies
            # captures, so $1 is read after the map here too.
            return 200 "nocap=$nocap after=$1\n";
        }
        location /vol/ {
            set $before $mu;
            rewrite ^/vol/(.*)$ /vol/c/$1 break;
            return 200 "before=$before after=$mu\n";
        }
    }
}
`

func TestMapMatchesNginx(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hosts.map"), []byte("included.example inc;\n.inc.example incdot;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := difftest.Start(t, strings.ReplaceAll(mapConf, "%%DIR%%", dir))
	tests := []struct {
		name    string
		path    string
		headers []string
	}{
		{"no upgrade", "/", nil},
		{"upgrade", "/", []string{"Upgrade: websocket"}},
		{"empty upgrade", "/", []string{"Upgrade: "}},
		{"exact host", "/", []string{"X-Host: example.com"}},
		{"exact host case", "/", []string{"X-Host: EXAMPLE.Com"}},
		{"exact host trailing dot", "/", []string{"X-Host: example.com."}},
		{"exact host two dots", "/", []string{"X-Host: example.com.."}},
		{"dot wildcard self", "/", []string{"X-Host: example.org"}},
		{"dot wildcard sub", "/", []string{"X-Host: a.b.example.org"}},
		{"star wildcard self", "/", []string{"X-Host: example.net"}},
		{"star wildcard sub", "/", []string{"X-Host: x.example.net"}},
		{"deeper star", "/", []string{"X-Host: b.a.example.net"}},
		{"deeper star self", "/", []string{"X-Host: a.example.net"}},
		{"empty label", "/", []string{"X-Host: .example.net"}},
		{"tail wildcard", "/", []string{"X-Host: www.example.co.uk"}},
		{"tail wildcard short", "/", []string{"X-Host: www.example"}},
		{"tail any", "/", []string{"X-Host: www.other.com"}},
		{"regex named capture", "/", []string{"X-Host: re.abc.example"}},
		{"escaped default key", "/", []string{"X-Host: default"}},
		{"included exact", "/", []string{"X-Host: included.example"}},
		{"included dot", "/", []string{"X-Host: x.inc.example"}},
		{"no host", "/", nil},
		{"default with variable", "/?a=q&b=bee", nil},
		{"regex capture", "/?a=x42", nil},
		{"caseless regex", "/?a=y7", nil},
		{"case sensitive regex", "/?a=X42", nil},
		{"regex order", "/?a=zzz", nil},
		{"key without case", "/?a=kEy", nil},
		{"empty key", "/?a=", nil},
		{"star is literal", "/?a=*", nil},
		{"nested map", "/?n=1", []string{"X-Host: example.com"}},
		{"nested default", "/?n=9&a=x1", nil},
		{"nested volatile", "/vol/a?n=2", []string{"Upgrade: x"}},
		{"captures kept", "/cap/abc?g=gee", nil},
		{"captures replaced", "/cap/abc?g=hat", nil},
		{"volatile", "/vol/zz", nil},
		{"volatile exact", "/vol/a", nil},
	}
	for _, tt := range tests {
		p.Check(t, tt.name, traffictest.Get(tt.path, tt.headers...))
	}
}
