// Package limitconn is nginx's ngx_http_limit_conn_module: limits on the
// requests in progress per key. limit_conn_zone names a zone and its key;
// limit_conn sets the number a location allows. A request counts from the
// pre-access phase until it is freed (after its access-log line), in
// every loop: a zone is process-wide state guarded by a mutex held only
// to count. Requests over the limit get limit_conn_status (503 by
// default).
//
// A zone's size bounds the keys it can count as nginx's slab allocator
// would (see shmzone.Slab); a key that finds the zone full is rejected,
// as in nginx.
//
// Configuration runs on the goroutine that builds the cycle; the handler
// runs on the request's loop.
package limitconn

import (
	"strings"
	"sync"
	"sync/atomic"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/http/modules/shmzone"
)

// Module is ngx_http_limit_conn_module.
var Module = &core.Module{
	Name: "ngx_http_limit_conn_module",
	Type: core.HTTPType,
}

// The values of $limit_conn_status, as nginx numbers them in
// r->limit_conn_status.
const (
	Passed = iota + 1
	Rejected
	RejectedDryRun
)

var statusNames = [...]string{"", "PASSED", "REJECTED", "REJECTED_DRY_RUN"}

func init() {
	ctx := core.HTTPMainSrvLoc
	Module.Directives = []core.Directive{
		{Name: "limit_conn_zone", Ctx: core.HTTPMain, Args: core.Take2, Level: core.MainLevel, Set: setZone},
		core.Custom("limit_conn", ctx, core.Take2, core.LocLevel, setLimit, nil),
		core.EnumSlot("limit_conn_log_level", ctx, core.LocLevel,
			func(c *LocConf) *core.Value[errlog.Level] { return &c.LogLevel }, errlog.Error, shmzone.LimitLogLevels),
		shmzone.StatusSlot("limit_conn_status", ctx, func(c *LocConf) *core.Value[int] { return &c.Status }),
		core.FlagSlot("limit_conn_dry_run", ctx, core.LocLevel,
			func(c *LocConf) *core.Value[bool] { return &c.DryRun }, false),
	}
	Module.HTTP = &http.Hooks{
		Preconfiguration:  addVariables,
		CreateLocConf:     func(*http.Conf) any { return &LocConf{} },
		MergeLocConf:      mergeLocConf,
		Postconfiguration: postconfiguration,
	}
}

// Zone is a limit_conn_zone: what nginx keeps in shm_zone->data.
type Zone struct {
	Key    *http.Template
	KeyRaw string
}

type limit struct {
	zone *shmzone.Zone
	conn int
}

// LocConf is one level's configuration.
type LocConf struct {
	limits   []limit
	LogLevel core.Value[errlog.Level]
	Status   core.Value[int]
	DryRun   core.Value[bool]
}

func mergeLocConf(_ *http.Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	if c.limits == nil {
		c.limits = p.limits
	}
	return nil
}

// setZone is ngx_http_limit_conn_zone.
func setZone(p *core.Parser, d *conf.Directive, _ any) error {
	key, err := http.CompileTemplateP(p, d.Args[0])
	if err != nil {
		return err
	}
	var size int64
	name := ""
	for _, a := range d.Args[1:] {
		if !strings.HasPrefix(a, "zone=") {
			return p.Errorf(d, "invalid parameter \"%s\"", a)
		}
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
	z.Data = &Zone{Key: key, KeyRaw: d.Args[0]}
	z.Init = initZone
	return nil
}

// setLimit is ngx_http_limit_conn.
func setLimit(p *core.Parser, d *conf.Directive, c *LocConf) error {
	z, err := shmzone.Of(p).Add(p, d, d.Args[0], 0, Module)
	if err != nil {
		return err
	}
	for _, l := range c.limits {
		if l.zone == z {
			return p.Invalid(d, "is duplicate")
		}
	}
	n, ok := core.Atoi(d.Args[1])
	if !ok || n <= 0 {
		return p.Errorf(d, "invalid number of connections \"%s\"", d.Args[1])
	}
	if n > 65535 {
		return p.Errorf(d, "connection limit must be less 65536")
	}
	c.limits = append(c.limits, limit{zone: z, conn: n})
	return nil
}

func postconfiguration(cf *http.Conf) error {
	cf.AddPhaseHandlerIf(http.PreAccessPhase, func(l *http.LocConf) bool {
		return len(l.Confs[Module.TypeIndex].(*LocConf).limits) > 0
	}, handler)
	return nil
}

func addVariables(cf *http.Conf) error {
	_, err := cf.AddVariable(&http.Variable{Name: "limit_conn_status", Flags: http.VarNoCacheable,
		Get: func(r *http.Request, _ any) ([]byte, bool) {
			st := r.Main.LimitConnStatus
			if st == 0 || int(st) >= len(statusNames) {
				return nil, false
			}
			return []byte(statusNames[st]), true
		}})
	return err
}

// state is a zone's contents: the requests in progress per key. mu
// guards all but the counters.
type state struct {
	mu     sync.Mutex
	conns  map[string]int
	slab   *shmzone.Slab
	counts [len(statusNames)]atomic.Uint64
}

// nodeSize is what nginx's slab gives a key: the rbtree node up to its
// color byte, the limit_conn node up to its data, and the key.
func nodeSize(key int) int { return 32 + 4 + key }

// initZone is ngx_http_limit_conn_init_zone: a zone kept from the
// previous configuration must keep its key.
func initZone(z, old *shmzone.Zone) error {
	lz := z.Data.(*Zone)
	if old != nil {
		if o := old.Data.(*Zone); o.KeyRaw != lz.KeyRaw {
			return &core.Error{Msg: "limit_conn_zone \"" + z.Name + "\" uses the \"" + lz.KeyRaw +
				"\" key while previously it used the \"" + o.KeyRaw + "\" key"}
		}
		z.State = old.State
		return nil
	}
	st := &state{conns: map[string]int{}, slab: shmzone.NewSlab(z.Size)}
	// the zone's tree head and its log context come first.
	st.slab.Alloc(64)
	st.slab.Alloc(len(" in limit_conn_zone \"\"") + 1 + len(z.Name))
	z.State = st
	return nil
}

// Counts implements shmzone.Counted: the decisions by $limit_conn_status
// value, lowercased.
func (st *state) Counts(f func(outcome string, n uint64)) {
	for i := 1; i < len(statusNames); i++ {
		f(strings.ToLower(statusNames[i]), st.counts[i].Load())
	}
}

// Entries implements shmzone.Counted.
func (st *state) Entries() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.conns)
}

// held is one count a request holds, released by its cleanup.
type held struct {
	st  *state
	key string
}

func (h held) release() {
	st := h.st
	st.mu.Lock()
	if n := st.conns[h.key] - 1; n > 0 {
		st.conns[h.key] = n
	} else {
		delete(st.conns, h.key)
		st.slab.Free(nodeSize(len(h.key)))
	}
	st.mu.Unlock()
}

// reqCtx is what a request holds in the zones, released when it is
// freed.
type reqCtx struct {
	held []held
}

func (c *reqCtx) releaseAll() {
	for i := len(c.held) - 1; i >= 0; i-- {
		c.held[i].release()
	}
	c.held = c.held[:0]
}

// handler is ngx_http_limit_conn_handler.
func handler(r *http.Request) int {
	if r.Main.LimitConnStatus != 0 {
		return http.Declined
	}
	lc := r.Loc.Confs[Module.TypeIndex].(*LocConf)
	var ctx *reqCtx
	for i := range lc.limits {
		lim := &lc.limits[i]
		z := lim.zone.Data.(*Zone)
		key := z.Key.EvalBytes(r)
		if len(key) == 0 {
			continue
		}
		if len(key) > 255 {
			r.Logf(errlog.Error, "the value of the \"%s\" key is more than 255 bytes: \"%s\"", z.KeyRaw, key)
			continue
		}
		r.Main.LimitConnStatus = Passed
		st := lim.zone.State.(*state)
		st.mu.Lock()
		n, ok := st.conns[string(key)]
		if !ok {
			if !st.slab.Alloc(nodeSize(len(key))) {
				st.mu.Unlock()
				return reject(r, lc, ctx, st)
			}
			st.conns[string(key)] = 1
		} else {
			if n >= lim.conn {
				st.mu.Unlock()
				r.Logf(lc.LogLevel.V, "limiting connections%s by zone \"%s\"", dryRun(lc), lim.zone.Name)
				return reject(r, lc, ctx, st)
			}
			st.conns[string(key)] = n + 1
		}
		st.mu.Unlock()
		st.counts[Passed].Add(1)
		if ctx == nil {
			ctx = &reqCtx{}
			r.AddCleanup(ctx.releaseAll)
		}
		ctx.held = append(ctx.held, held{st: st, key: string(key)})
	}
	return http.Declined
}

func dryRun(lc *LocConf) string {
	if lc.DryRun.V {
		return ", dry run,"
	}
	return ""
}

// reject releases what the request counted so far
// (ngx_http_limit_conn_cleanup_all) and refuses it, or only marks it in
// a dry run.
func reject(r *http.Request, lc *LocConf, ctx *reqCtx, st *state) int {
	if ctx != nil {
		ctx.releaseAll()
	}
	if lc.DryRun.V {
		r.Main.LimitConnStatus = RejectedDryRun
		st.counts[RejectedDryRun].Add(1)
		return http.Declined
	}
	r.Main.LimitConnStatus = Rejected
	st.counts[Rejected].Add(1)
	return lc.Status.V
}
