package realip_test

import (
	"os/exec"
	"strings"
	"testing"

	"gresty/http/modules/traffictest"
	"gresty/internal/nginxtest"
)

func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"valid", "http {\n set_real_ip_from 10.0.0.0/8;\n set_real_ip_from ::1;\n set_real_ip_from unix:;\n real_ip_header X-Forwarded-For;\n real_ip_recursive on;\n}\n"},
		{"host name", "http {\n set_real_ip_from localhost;\n}\n"},
		{"unknown host", "http {\n set_real_ip_from no-such-host.invalid;\n}\n"},
		{"low bits", "http {\n set_real_ip_from 10.1.2.3/8;\n}\n"},
		{"bad mask", "http {\n set_real_ip_from 10.1.2.3/40;\n}\n"},
		{"duplicate header", "http {\n real_ip_header X-Real-IP;\n real_ip_header X-Forwarded-For;\n}\n"},
		{"header in location", "http {\n server {\n  location / {\n   real_ip_header proxy_protocol;\n  }\n }\n}\n"},
		{"recursive bad", "http {\n real_ip_recursive yes;\n}\n"},
		{"two arguments", "http {\n set_real_ip_from 10.0.0.1 10.0.0.2;\n}\n"},
		{"in if", "http {\n server {\n  location / {\n   if ($uri) { set_real_ip_from 10.0.0.1; }\n  }\n }\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { traffictest.ConfigTest(t, tt.conf) })
	}
}

// TestVersionListsModule checks that "-V" shows the module the way
// nginx's configure arguments do, and that the default modules of this
// family are not reported missing.
func TestVersionListsModule(t *testing.T) {
	out, err := exec.Command(nginxtest.Gresty(t), "-V").CombinedOutput()
	if err != nil {
		t.Fatalf("gresty -V: %v\n%s", err, out)
	}
	args := strings.Fields(string(out))
	has := func(w string) bool {
		for _, a := range args {
			if a == w {
				return true
			}
		}
		return false
	}
	if !has("--with-http_realip_module") {
		t.Errorf("-V lacks --with-http_realip_module:\n%s", out)
	}
	for _, m := range []string{"geo", "map", "split_clients", "limit_conn", "limit_req"} {
		if has("--without-http_" + m + "_module") {
			t.Errorf("-V says --without-http_%s_module:\n%s", m, out)
		}
	}
}
