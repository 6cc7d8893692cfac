package shmzone

import (
	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
)

// LimitLogLevels are the levels limit_req_log_level and
// limit_conn_log_level accept.
var LimitLogLevels = []core.Enum[errlog.Level]{
	{Name: "info", V: errlog.Info},
	{Name: "notice", V: errlog.Notice},
	{Name: "warn", V: errlog.Warn},
	{Name: "error", V: errlog.Error},
}

// StatusSlot is limit_req_status and limit_conn_status: nginx's
// ngx_conf_set_num_slot (default 503) with the 400..599 bounds the
// modules check after storing the number.
func StatusSlot[C any](name string, ctx core.Ctx, field func(*C) *core.Value[int]) core.Directive {
	num := core.NumSlot(name, ctx, core.LocLevel, field, 503)
	set := num.Set
	num.Set = func(p *core.Parser, d *conf.Directive, c any) error {
		if err := set(p, d, c); err != nil {
			return err
		}
		if v := field(c.(*C)).V; v < 400 || v > 599 {
			return p.Errorf(d, "value must be between 400 and 599")
		}
		return nil
	}
	return num
}
