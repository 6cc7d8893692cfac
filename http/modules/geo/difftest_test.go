package geo_test

import (
	"testing"

	"gresty/http/modules/traffictest"
	"gresty/internal/difftest"
)

const geoConf = `
http {
    geo $client {
        default        none;
        127.0.0.0/8    loopback;
        127.0.0.1      self;
    }
    geo $arg_ip $net {
        default         def;
        10.0.0.0/8      ten;
        10.1.0.0/16     ten-one;
        10.1.2.3        host;
        10.1.2.3/32     host-again;
        192.168.0.0/16  lan;
        delete          192.168.1.0/24;
        192.168.1.0/24  lan1;
        delete          192.168.1.0/24;
        2001:db8::/32   doc6;
        2001:db8:1::/48 doc6-1;
        ::ffff:0:0/96   mapped6;
        0.0.0.0/1       lowhalf;
    }
    geo $arg_ip $rng {
        ranges;
        default                    rdef;
        10.0.0.0-10.0.255.255      r10;
        10.0.1.0-10.0.1.255        r10-1;
        10.0.1.10-10.0.1.20        r10-1-10;
        10.0.2.0-10.0.2.255        r10-2;
        10.0.2.0-10.0.2.255        r10-2b;
        10.1.255.0-10.3.0.255      span;
        delete                     10.2.0.0-10.2.255.255;
        255.255.0.0-255.255.255.254 top;
    }
    geo $remote_addr $viaproxy {
        default    def;
        proxy      127.0.0.1;
        proxy      10.0.0.0/8;
        1.2.3.0/24 real;
        10.0.0.0/8 internal;
    }
    geo $remote_addr $viarec {
        default    def;
        proxy_recursive;
        proxy      127.0.0.1;
        proxy      10.0.0.0/8;
        1.2.3.0/24 real;
        10.0.0.0/8 internal;
    }
    geo $arg_ip $empty {
        10.0.0.0/8 ten;
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            return 200 "client=$client net=$net rng=$rng proxy=$viaproxy rec=$viarec empty=$empty\n";
        }
    }
}
`

func TestGeoMatchesNginx(t *testing.T) {
	p := difftest.Start(t, geoConf)
	tests := []struct {
		name    string
		path    string
		headers []string
	}{
		{"client only", "/", nil},
		{"ten", "/?ip=10.9.9.9", nil},
		{"longest prefix", "/?ip=10.1.9.9", nil},
		{"host duplicate", "/?ip=10.1.2.3", nil},
		{"deleted then added then deleted", "/?ip=192.168.1.7", nil},
		{"lan", "/?ip=192.168.2.7", nil},
		{"low half", "/?ip=100.1.1.1", nil},
		{"high", "/?ip=200.1.1.1", nil},
		{"v6", "/?ip=2001:db8:2::1", nil},
		{"v6 longer", "/?ip=2001:db8:1::5", nil},
		{"v6 other", "/?ip=2001:db9::1", nil},
		{"v4 mapped", "/?ip=::ffff:10.1.2.3", nil},
		{"not an address", "/?ip=foo", nil},
		{"broadcast", "/?ip=255.255.255.255", nil},
		{"range 10", "/?ip=10.0.0.9", nil},
		{"range nested", "/?ip=10.0.1.15", nil},
		{"range split low", "/?ip=10.0.1.5", nil},
		{"range split high", "/?ip=10.0.1.25", nil},
		{"range duplicate", "/?ip=10.0.2.9", nil},
		{"range span start", "/?ip=10.1.255.7", nil},
		{"range span middle deleted", "/?ip=10.2.3.4", nil},
		{"range span end", "/?ip=10.3.0.200", nil},
		{"range span after", "/?ip=10.3.1.0", nil},
		{"range top", "/?ip=255.255.255.254", nil},
		{"forwarded", "/", []string{"X-Forwarded-For: 1.2.3.4"}},
		{"forwarded chain", "/", []string{"X-Forwarded-For: 1.2.3.4, 10.0.0.1"}},
		{"forwarded two headers", "/", []string{"X-Forwarded-For: 1.2.3.4", "X-Forwarded-For: 10.2.2.2"}},
		{"forwarded garbage", "/", []string{"X-Forwarded-For: 1.2.3.4, bogus"}},
		{"forwarded with port", "/", []string{"X-Forwarded-For: 1.2.3.4:5678"}},
		{"forwarded v6", "/", []string{"X-Forwarded-For: [2001:db8::1]:80, 10.0.0.2"}},
		{"forwarded spaces", "/", []string{"X-Forwarded-For:  1.2.3.9 ,, "}},
		{"forwarded empty", "/", []string{"X-Forwarded-For: "}},
	}
	for _, tt := range tests {
		p.Check(t, tt.name, traffictest.Get(tt.path, tt.headers...))
	}
}
