// Package limitreq is nginx's ngx_http_limit_req_module: request rate
// limits per key with nginx's leaky bucket. limit_req_zone names a zone,
// its key and its rate; limit_req applies zones to a location with a
// burst and, past the delay threshold, either delays requests (parked on
// the loop's timer, the loop never blocks) or lets them through at once
// (nodelay); requests beyond the burst are rejected with
// limit_req_status (503 by default).
//
// The arithmetic is nginx's, in thousandths of a request: each request
// adds 1000 to its key's excess, which drains at the rate per
// millisecond elapsed, so the same request timing gets the same answers.
// A zone is process-wide state shared by every loop, guarded by a mutex
// held only for the lookup; its size bounds the keys it holds as nginx's
// slab allocator would (see shmzone.Slab), the least recently used being
// dropped when it is full.
//
// Configuration runs on the goroutine that builds the cycle; the handler
// runs on the request's loop.
package limitreq

import (
	"strings"
	"time"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/http/modules/shmzone"
)

// Module is ngx_http_limit_req_module.
var Module = &core.Module{
	Name: "ngx_http_limit_req_module",
	Type: core.HTTPType,
}

// The values of $limit_req_status, as nginx numbers them in
// r->limit_req_status.
const (
	Passed = iota + 1
	Delayed
	Rejected
	DelayedDryRun
	RejectedDryRun
)

var statusNames = [...]string{"", "PASSED", "DELAYED", "REJECTED", "DELAYED_DRY_RUN", "REJECTED_DRY_RUN"}

func init() {
	ctx := core.HTTPMainSrvLoc
	Module.Directives = []core.Directive{
		{Name: "limit_req_zone", Ctx: core.HTTPMain, Args: core.Take3, Level: core.MainLevel, Set: setZone},
		core.Custom("limit_req", ctx, core.Take123, core.LocLevel, setLimit, nil),
		core.EnumSlot("limit_req_log_level", ctx, core.LocLevel,
			func(c *LocConf) *core.Value[errlog.Level] { return &c.LogLevel }, errlog.Error, shmzone.LimitLogLevels),
		shmzone.StatusSlot("limit_req_status", ctx, func(c *LocConf) *core.Value[int] { return &c.Status }),
		core.FlagSlot("limit_req_dry_run", ctx, core.LocLevel,
			func(c *LocConf) *core.Value[bool] { return &c.DryRun }, false),
	}
	Module.HTTP = &http.Hooks{
		Preconfiguration:  addVariables,
		CreateLocConf:     func(*http.Conf) any { return &LocConf{} },
		MergeLocConf:      mergeLocConf,
		Postconfiguration: postconfiguration,
	}
}

// Zone is a limit_req_zone: what nginx keeps in the zone's
// shm_zone->data.
type Zone struct {
	Key    *http.Template
	KeyRaw string
	// Rate is in thousandths of a request per second.
	Rate uint64
	shm  *shmzone.Zone
}

// limit is one limit_req of a location.
type limit struct {
	zone *shmzone.Zone
	// burst and delay are in thousandths of a request.
	burst, delay uint64
}

// LocConf is one level's configuration.
type LocConf struct {
	limits   []limit
	LogLevel core.Value[errlog.Level]
	Status   core.Value[int]
	DryRun   core.Value[bool]
	// delayLevel is one level below LogLevel, info at most.
	delayLevel errlog.Level
}

func mergeLocConf(_ *http.Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	if c.limits == nil {
		c.limits = p.limits
	}
	c.delayLevel = c.LogLevel.V + 1
	if c.LogLevel.V == errlog.Info {
		c.delayLevel = errlog.Info
	}
	return nil
}

// setZone is ngx_http_limit_req_zone.
func setZone(p *core.Parser, d *conf.Directive, _ any) error {
	key, err := http.CompileTemplateP(p, d.Args[0])
	if err != nil {
		return err
	}
	var size int64
	rate, scale := 1, 1
	name := ""
	for _, a := range d.Args[1:] {
		switch {
		case strings.HasPrefix(a, "zone="):
			colon := strings.IndexByte(a[5:], ':')
			if colon < 0 {
				return p.Errorf(d, "invalid zone size \"%s\"", a)
			}
			name = a[5 : 5+colon]
			n, ok := core.ParseSize(a[5+colon+1:])
			if !ok {
				return p.Errorf(d, "invalid zone size \"%s\"", a)
			}
			if n < 8*4096 {
				return p.Errorf(d, "zone \"%s\" is too small", a)
			}
			size = n
		case strings.HasPrefix(a, "rate="):
			v := a[5:]
			scale = 1
			switch {
			case strings.HasSuffix(a, "r/s"):
				v = v[:len(v)-3]
			case strings.HasSuffix(a, "r/m"):
				v, scale = v[:len(v)-3], 60
			}
			n, ok := core.Atoi(v)
			if !ok || n <= 0 {
				return p.Errorf(d, "invalid rate \"%s\"", a)
			}
			rate = n
		default:
			return p.Errorf(d, "invalid parameter \"%s\"", a)
		}
	}
	if name == "" {
		return p.Errorf(d, "\"%s\" must have \"zone\" parameter", d.Name)
	}
	z, err := shmzone.Of(p).Add(p, d, name, size, Module)
	if err != nil {
		return err
	}
	if old, ok := z.Data.(*Zone); ok {
		return p.Errorf(d, "%s \"%s\" is already bound to key \"%s\"", d.Name, name, old.KeyRaw)
	}
	lz := &Zone{Key: key, KeyRaw: d.Args[0], Rate: uint64(rate) * 1000 / uint64(scale), shm: z}
	z.Data = lz
	z.Init = initZone
	return nil
}

// setLimit is ngx_http_limit_req.
func setLimit(p *core.Parser, d *conf.Directive, c *LocConf) error {
	var z *shmzone.Zone
	burst, delay := 0, 0
	for _, a := range d.Args {
		switch {
		case strings.HasPrefix(a, "zone="):
			var err error
			z, err = shmzone.Of(p).Add(p, d, a[5:], 0, Module)
			if err != nil {
				return err
			}
		case strings.HasPrefix(a, "burst="):
			n, ok := core.Atoi(a[6:])
			if !ok || n <= 0 {
				return p.Errorf(d, "invalid burst value \"%s\"", a)
			}
			burst = n
		case strings.HasPrefix(a, "delay="):
			n, ok := core.Atoi(a[6:])
			if !ok || n <= 0 {
				return p.Errorf(d, "invalid delay value \"%s\"", a)
			}
			delay = n
		case a == "nodelay":
			delay = (1<<63 - 1) / 1000
		default:
			return p.Errorf(d, "invalid parameter \"%s\"", a)
		}
	}
	if z == nil {
		return p.Errorf(d, "\"%s\" must have \"zone\" parameter", d.Name)
	}
	for _, l := range c.limits {
		if l.zone == z {
			return p.Invalid(d, "is duplicate")
		}
	}
	c.limits = append(c.limits, limit{zone: z, burst: uint64(burst) * 1000, delay: uint64(delay) * 1000})
	return nil
}

func postconfiguration(cf *http.Conf) error {
	cf.AddPhaseHandlerIf(http.PreAccessPhase, func(l *http.LocConf) bool {
		return len(l.Confs[Module.TypeIndex].(*LocConf).limits) > 0
	}, handler)
	return nil
}

func addVariables(cf *http.Conf) error {
	_, err := cf.AddVariable(&http.Variable{Name: "limit_req_status", Flags: http.VarNoCacheable,
		Get: func(r *http.Request, _ any) ([]byte, bool) {
			st := r.Main.LimitReqStatus
			if st == 0 || int(st) >= len(statusNames) {
				return nil, false
			}
			return []byte(statusNames[st]), true
		}})
	return err
}

// Lookup results, as ngx_http_limit_req_lookup's.
const (
	rcDeclined = iota
	rcOK       // accounted (the last limit)
	rcAgain    // within the burst; accounted once every limit agreed
	rcBusy     // beyond the burst
	rcError    // the zone is full
)

// handler is ngx_http_limit_req_handler.
func handler(r *http.Request) int {
	if r.Main.LimitReqStatus != 0 {
		return http.Declined
	}
	lc := r.Loc.Confs[Module.TypeIndex].(*LocConf)
	if len(lc.limits) == 0 {
		return http.Declined
	}
	// nodes[i] is what limit i's lookup left counted (nginx's ctx->node).
	var nodesBuf [4]*node
	nodes := nodesBuf[:0]
	if len(lc.limits) > len(nodesBuf) {
		nodes = make([]*node, 0, len(lc.limits))
	}
	nodes = nodes[:len(lc.limits)]
	now := nowMs(r)
	var excess uint64
	rc := rcDeclined
	n, last := 0, 0
	for n = 0; n < len(lc.limits); n++ {
		last = n
		lim := &lc.limits[n]
		z := lim.zone.Data.(*Zone)
		key := z.Key.EvalBytes(r)
		if len(key) == 0 {
			continue
		}
		if len(key) > 65535 {
			r.Logf(errlog.Error, "the value of the \"%s\" key is more than 65535 bytes: \"%s\"", z.KeyRaw, key)
			continue
		}
		st := lim.zone.State.(*state)
		st.mu.Lock()
		rc, excess, nodes[n] = st.lookup(lim, z.Rate, key, now, n == len(lc.limits)-1)
		st.mu.Unlock()
		if rc != rcAgain {
			break
		}
	}
	if rc == rcDeclined {
		return http.Declined
	}
	if rc == rcBusy || rc == rcError {
		zone := lc.limits[last].zone
		if rc == rcBusy {
			r.Logf(lc.LogLevel.V, "limiting requests%s, excess: %d.%03d by zone \"%s\"",
				dryRun(lc), excess/1000, excess%1000, zone.Name)
		} else {
			r.Log().Printf(errlog.Alert, errlog.Entry{Loop: r.Conn.Loop().ID()},
				"could not allocate node in limit_req zone \"%s\"", zone.Name)
		}
		unlock(lc.limits, nodes, n)
		st := zone.State.(*state)
		if lc.DryRun.V {
			r.Main.LimitReqStatus = RejectedDryRun
			st.count(RejectedDryRun)
			return http.Declined
		}
		r.Main.LimitReqStatus = Rejected
		st.count(Rejected)
		return lc.Status.V
	}
	if rc == rcAgain {
		excess = 0
	}
	delay, limIdx := account(lc.limits, nodes, n, last, &excess, now)
	zone := lc.limits[limIdx].zone
	st := zone.State.(*state)
	if delay == 0 {
		r.Main.LimitReqStatus = Passed
		st.count(Passed)
		return http.Declined
	}
	r.Logf(lc.delayLevel, "delaying request%s, excess: %d.%03d, by zone \"%s\"",
		dryRun(lc), excess/1000, excess%1000, zone.Name)
	if lc.DryRun.V {
		r.Main.LimitReqStatus = DelayedDryRun
		st.count(DelayedDryRun)
		return http.Declined
	}
	r.Main.LimitReqStatus = Delayed
	st.count(Delayed)
	wait(r, time.Duration(delay)*time.Millisecond)
	return http.Done
}

func dryRun(lc *LocConf) string {
	if lc.DryRun.V {
		return ", dry run"
	}
	return ""
}

// nowMs is nginx's ngx_current_msec: the loop's cached clock, in
// milliseconds on a monotonic scale shared by every loop.
func nowMs(r *http.Request) int64 {
	return r.Conn.Loop().Now().Sub(epoch).Milliseconds()
}

// epoch is the zero of the zones' millisecond clock; it is read-only
// after init.
var epoch = time.Now()

// wait parks a delayed request on its loop's timer and runs its phases
// again when the delay is over (the handler then lets it pass).
func wait(r *http.Request, d time.Duration) {
	r.Delay(d, func() {
		r.Finalize(http.Done)
		r.RunPhases()
	})
}

// account is ngx_http_limit_req_account: the nodes the earlier limits
// counted are charged now, and the longest delay any limit asks for
// wins. It returns the delay in milliseconds and the limit that set it,
// updating excess to that limit's.
func account(limits []limit, nodes []*node, n, last int, ep *uint64, now int64) (uint64, int) {
	excess := *ep
	limIdx := last
	var maxDelay uint64
	if excess > limits[limIdx].delay {
		z := limits[limIdx].zone.Data.(*Zone)
		maxDelay = (excess - limits[limIdx].delay) * 1000 / z.Rate
	}
	for n--; n >= 0; n-- {
		nd := nodes[n]
		if nd == nil {
			continue
		}
		lim := &limits[n]
		z := lim.zone.Data.(*Zone)
		st := lim.zone.State.(*state)
		st.mu.Lock()
		e := drain(nd.excess, z.Rate, elapsed(now, nd.last))
		if elapsed(now, nd.last) != 0 {
			nd.last = now
		}
		nd.excess = e
		nd.count--
		st.mu.Unlock()
		nodes[n] = nil
		if e <= lim.delay {
			continue
		}
		delay := (e - lim.delay) * 1000 / z.Rate
		if delay > maxDelay {
			maxDelay = delay
			*ep = e
			limIdx = n
		}
	}
	return maxDelay, limIdx
}

// unlock is ngx_http_limit_req_unlock: the nodes the earlier limits
// counted are released without being charged.
func unlock(limits []limit, nodes []*node, n int) {
	for n--; n >= 0; n-- {
		nd := nodes[n]
		if nd == nil {
			continue
		}
		st := limits[n].zone.State.(*state)
		st.mu.Lock()
		nd.count--
		st.mu.Unlock()
		nodes[n] = nil
	}
}

// elapsed is the milliseconds since last as nginx counts them: a clock
// gone back up to a minute counts as none, further back as one.
func elapsed(now, last int64) int64 {
	ms := now - last
	switch {
	case ms < -60000:
		return 1
	case ms < 0:
		return 0
	}
	return ms
}

// drain is nginx's excess update for a new request: what is left after
// ms milliseconds at rate, plus this request's 1000, never below zero.
// It computes in unsigned integers and reads the result as signed, as
// nginx's expression does.
func drain(excess, rate uint64, ms int64) uint64 {
	e := int64(excess - rate*uint64(ms)/1000 + 1000)
	if e < 0 {
		return 0
	}
	return uint64(e)
}
