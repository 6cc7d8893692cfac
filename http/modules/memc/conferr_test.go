package memc_test

import (
	"os"
	"strings"
	"testing"

	"gresty/internal/nginxtest"
)

// TestConfigErrors compares nginx -t and gresty -t on uses and misuses of
// the memc directives.
func TestConfigErrors(t *testing.T) {
	srv := func(body string) string {
		return "http {\n server {\n  listen 127.0.0.1:1;\n" + body + "\n }\n}\n"
	}
	for _, tc := range []struct{ name, conf string }{
		{"valid", srv("location / {\n memc_pass 127.0.0.1:11211;\n memc_cmds_allowed get set;\n memc_flags_to_last_modified on;\n" +
			" memc_ignore_client_abort on;\n memc_next_upstream error timeout invalid_response not_found;\n" +
			" memc_connect_timeout 1s;\n memc_send_timeout 2s;\n memc_read_timeout 3s;\n memc_buffer_size 8k;\n}")},
		{"valid upstream", "http {\n upstream u { server 127.0.0.1:11211; keepalive 2; }\n server {\n listen 127.0.0.1:1;\n location / { memc_pass u; }\n }\n}\n"},
		{"valid variable", srv("location / { memc_pass $arg_u; }")},
		{"valid if", srv("location / { if ($arg_a) { memc_pass 127.0.0.1:11211; memc_cmds_allowed get; } }")},
		{"valid unix", srv("location / { memc_pass unix:/tmp/memcached.sock; }")},
		{"duplicate", srv("location / {\n memc_pass 127.0.0.1:11211;\n memc_pass 127.0.0.1:11212;\n}")},
		{"variable then literal", srv("location / {\n memc_pass $arg_u;\n memc_pass 127.0.0.1:11212;\n}")},
		{"in server", srv("memc_pass 127.0.0.1:11211;")},
		{"no port", srv("location / { memc_pass 127.0.0.1; }")},
		{"uri", srv("location / { memc_pass 127.0.0.1:11211/x; }")},
		{"invalid port", srv("location / { memc_pass 127.0.0.1:0; }")},
		{"two args", srv("location / { memc_pass 127.0.0.1:11211 x; }")},
		{"unknown command", srv("memc_cmds_allowed get cas;")},
		{"upper-case command", srv("memc_cmds_allowed GET;")},
		{"max fails", srv("memc_upstream_max_fails 3;")},
		{"fail timeout", srv("memc_upstream_fail_timeout 3s;")},
		{"next upstream bad", srv("memc_next_upstream error http_502;")},
		{"next upstream duplicate word", srv("memc_next_upstream error error;")},
		{"flag bad", srv("location / { memc_flags_to_last_modified yes; }")},
		{"flag in server", srv("memc_flags_to_last_modified on;")},
		{"abort in server", srv("memc_ignore_client_abort on;")},
		{"timeout bad", srv("memc_read_timeout 1x;")},
		{"timeout duplicate", srv("memc_read_timeout 1s;\nmemc_read_timeout 2s;")},
		{"buffer size bad", srv("memc_buffer_size big;")},
		{"upstream given a port", "http {\n upstream u { server 127.0.0.1:11211; }\n server {\n listen 127.0.0.1:1;\n location / { memc_pass u:11211; }\n }\n}\n"},
		{"unknown variable", srv("location / { memc_pass $no_such; }")},
	} {
		t.Run(tc.name, func(t *testing.T) { nginxtest.CheckConfig(t, tc.conf, "memc") })
	}
}

// TestReadmeExample checks that nginx and gresty accept the README's
// example alike.
func TestReadmeExample(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "## Example\n")
	if !ok {
		t.Fatal("README.md: no example")
	}
	var lines []string
	for _, l := range strings.Split(rest, "\n") {
		if strings.HasPrefix(l, "##") {
			break
		}
		if strings.HasPrefix(l, "    ") || l == "" {
			lines = append(lines, strings.TrimPrefix(l, "    "))
		}
	}
	nginxtest.CheckConfig(t, "http {\n"+strings.Join(lines, "\n")+"\n}\n", "memc")
}
