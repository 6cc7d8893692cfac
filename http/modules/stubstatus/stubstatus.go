// Package stubstatus is nginx's ngx_http_stub_status_module: the
// stub_status content handler, which reports the server's connection
// counters in nginx's text format, and the $connections_* variables.
//
// The counters are process-wide: each loop counts its own connections and
// a report sums them (see http.Runtime.Stats).
package stubstatus

import (
	"strconv"

	"gresty/conf"
	"gresty/core"
	"gresty/http"
	"gresty/httpparse"
)

// Module is ngx_http_stub_status_module.
var Module = &core.Module{
	Name:      "ngx_http_stub_status_module",
	Type:      core.HTTPType,
	Configure: "--with-http_stub_status_module",
}

func init() {
	Module.Directives = []core.Directive{
		{Name: "stub_status", Ctx: core.HTTPSrv | core.HTTPLoc, Args: core.NoArgs | core.Take1, Level: core.LocLevel, Set: setStubStatus},
	}
	Module.HTTP = &http.Hooks{Preconfiguration: addVariables}
}

// setStubStatus makes stub_status the location's content handler; the old
// "stub_status on" form takes an argument nginx ignores.
func setStubStatus(p *core.Parser, d *conf.Directive, c any) error {
	p.Ctx().ConfFor(http.CoreModule, core.LocLevel).(*http.LocConf).Handler = handler
	return nil
}

func addVariables(cf *http.Conf) error {
	for _, v := range []struct {
		name string
		get  func(s http.ConnStats) int64
	}{
		{"connections_active", func(s http.ConnStats) int64 { return s.Active }},
		{"connections_reading", func(s http.ConnStats) int64 { return s.Reading }},
		{"connections_writing", func(s http.ConnStats) int64 { return s.Writing }},
		{"connections_waiting", func(s http.ConnStats) int64 { return s.Waiting }},
	} {
		get := v.get
		_, err := cf.AddVariable(&http.Variable{Name: v.name, Flags: http.VarNoCacheable,
			Get: func(r *http.Request, _ any) ([]byte, bool) {
				return strconv.AppendInt(nil, get(r.ServerStats()), 10), true
			}})
		if err != nil {
			return err
		}
	}
	return nil
}

// report formats the counters as nginx does, trailing spaces included.
func report(s http.ConnStats) []byte {
	b := make([]byte, 0, 128)
	b = append(b, "Active connections: "...)
	b = strconv.AppendInt(b, s.Active, 10)
	b = append(b, " \nserver accepts handled requests\n "...)
	b = strconv.AppendUint(b, s.Accepted, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, s.Handled, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, s.Requests, 10)
	b = append(b, " \nReading: "...)
	b = strconv.AppendInt(b, s.Reading, 10)
	b = append(b, " Writing: "...)
	b = strconv.AppendInt(b, s.Writing, 10)
	b = append(b, " Waiting: "...)
	b = strconv.AppendInt(b, s.Waiting, 10)
	b = append(b, " \n"...)
	return b
}

// handler is ngx_http_stub_status_handler.
func handler(r *http.Request) int {
	if r.Method != httpparse.MethodGET && r.Method != httpparse.MethodHEAD {
		return 405
	}
	if rc := r.DiscardBody(); rc != http.OK {
		return rc
	}
	body := report(r.ServerStats())
	r.Out.Status = 200
	r.Out.ContentType = "text/plain"
	r.Out.ContentLength = int64(len(body))
	if rc := r.SendHeader(); rc == http.Error || rc > http.OK || r.HeaderOnly {
		return rc
	}
	return r.OutputBytes(body, true, r == r.Main)
}
