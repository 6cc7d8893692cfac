package http

import (
	"strings"
	"sync"
	"time"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/httpparse"
	"gresty/resolver"
)

// MainConf is ngx_http_core_main_conf_t: what belongs to the whole http
// block.
type MainConf struct {
	Servers []*SrvConf

	VariablesHashMaxSize    core.Value[int]
	VariablesHashBucketSize core.Value[int]
	ServerNamesHashMaxSize  core.Value[int]
	ServerNamesHashBucketSz core.Value[int]

	vars   *varRegistry
	phases [numPhases][]phaseReg
	// postponed counts the handlers AddPostponedPhaseHandler put at the
	// front of each phase's list.
	postponed [numPhases]int
	engine    phaseEngine

	// The filter chains, built by modules' Postconfiguration from the
	// last module to the first, as nginx's top filters are.
	HeaderFilter HeaderFilterFunc
	BodyFilter   BodyFilterFunc
	filters      []filterReg
	buildChains  func()
	chainsOnce   sync.Once

	listens  []*listenOpt
	portList []*confPort
	conf     *Conf
}

// SrvConf is ngx_http_core_srv_conf_t: one server block.
type SrvConf struct {
	Ctx   *ConfCtx
	Names []serverName
	// Name is the first server_name, the value of $server_name.
	Name string
	// File and Line locate the server block.
	File string
	Line int

	listen bool

	ConnectionPoolSize       core.Value[int64]
	RequestPoolSize          core.Value[int64]
	ClientHeaderTimeout      core.Value[time.Duration]
	ClientHeaderBufferSize   core.Value[int64]
	LargeClientHeaderBuffers core.Value[core.Bufs]
	IgnoreInvalidHeaders     core.Value[bool]
	MergeSlashes             core.Value[bool]
	UnderscoresInHeaders     core.Value[bool]

	named map[string]*LocConf
	// parserConf are the head-reading settings for httpparse.
	parserConf httpparse.Config
	// captures tells that a regex server name has captures.
	captures bool
}

// Loc returns the server-level location configuration.
func (s *SrvConf) Loc() *LocConf { return s.Ctx.Loc[CoreModule.TypeIndex].(*LocConf) }

// LocConf is ngx_http_core_loc_conf_t: one location (or the server or
// http level, or an if or limit_except block).
type LocConf struct {
	// Confs holds every HTTP module's location configuration for this
	// location, indexed by the module's TypeIndex.
	Confs []any

	Name         string
	Exact        bool
	NoRegex      bool
	Named        bool
	Noname       bool // if and limit_except blocks
	Regex        *Regex
	AutoRedirect bool
	Internal     core.Value[bool]
	// LimitExcept is the limit_except block's location, and the methods it
	// lets through (a bitmask of httpparse methods).
	LimitExcept     *LocConf
	LimitExceptMask uint32

	// Handler is the location's exclusive content handler (proxy_pass,
	// return-like modules, content_by_lua...), nginx's clcf->handler.
	Handler Handler
	// filters are the filter chains of this location (buildFilterChains).
	filters *filterChains
	// phaseSkip marks the phase handlers with nothing to do here
	// (buildPhaseSkips).
	phaseSkip phaseSkip

	// Location tree: exact and prefix children, then regex children in
	// order, as ngx_http_core_find_location walks them.
	locations []*LocConf
	static    *staticTree
	regexLocs []*LocConf
	parent    *LocConf

	Root        core.Value[*Template]
	Alias       bool
	AliasLen    int
	types       map[string]string
	typesSet    bool
	DefaultType core.Value[string]

	ClientMaxBodySize          core.Value[int64]
	ClientBodyBufferSize       core.Value[int64]
	ClientBodyTimeout          core.Value[time.Duration]
	ClientBodyTempPath         core.Value[*TempPath]
	ClientBodyInFileOnly       core.Value[int]
	ClientBodyInSingleBuffer   core.Value[bool]
	Sendfile                   core.Value[bool]
	SendfileMaxChunk           core.Value[int64]
	SubrequestOutputBufferSize core.Value[int64]
	Aio                        core.Value[string]
	AioWrite                   core.Value[bool]
	ReadAhead                  core.Value[int64]
	Directio                   core.Value[int64]
	DirectioAlignment          core.Value[int64]
	TCPNopush                  core.Value[bool]
	TCPNodelay                 core.Value[bool]
	SendTimeout                core.Value[time.Duration]
	SendLowat                  core.Value[int64]
	PostponeOutput             core.Value[int64]
	LimitRate                  core.Value[*Template]
	LimitRateAfter             core.Value[*Template]
	KeepaliveTime              core.Value[time.Duration]
	KeepaliveTimeout           core.Value[time.Duration]
	KeepaliveHeader            time.Duration
	KeepaliveRequests          core.Value[int]
	KeepaliveDisable           core.Value[uint32]
	Satisfy                    core.Value[int]
	AuthDelay                  core.Value[time.Duration]
	LingeringClose             core.Value[int]
	LingeringTime              core.Value[time.Duration]
	LingeringTimeout           core.Value[time.Duration]
	ResetTimedoutConnection    core.Value[bool]
	AbsoluteRedirect           core.Value[bool]
	ServerNameInRedirect       core.Value[bool]
	PortInRedirect             core.Value[bool]
	MsiePadding                core.Value[bool]
	MsieRefresh                core.Value[bool]
	LogNotFound                core.Value[bool]
	LogSubrequest              core.Value[bool]
	RecursiveErrorPages        core.Value[bool]
	ServerTokens               core.Value[int]
	IfModifiedSince            core.Value[int]
	MaxRanges                  core.Value[int]
	ChunkedTransferEncoding    core.Value[bool]
	Etag                       core.Value[bool]
	ErrorPages                 []*ErrorPage
	ErrorLog                   *errlog.Log
	errorLogSinks              []errlog.Sink
	OpenFileCache              core.Value[*OpenFileCacheConf]
	OpenFileCacheValid         core.Value[time.Duration]
	OpenFileCacheMinUses       core.Value[int]
	OpenFileCacheErrors        core.Value[bool]
	OpenFileCacheEvents        core.Value[bool]
	// Resolver is the location's resolver with its resolver_timeout, nil
	// when none is configured.
	Resolver         core.Value[*resolver.Config]
	ResolverTimeout  core.Value[time.Duration]
	GzipVary         core.Value[bool]
	GzipHTTPVersion  core.Value[int]
	GzipProxied      core.Value[uint32]
	GzipDisable      core.Value[[]*Regex]
	GzipDisableMsie6 int
	DisableSymlinks  core.Value[int]
	// DisableSymlinksFrom is disable_symlinks' "from=" part, nil without.
	DisableSymlinksFrom *Template
	TryFiles            []*tryFile

	// File and Line locate the location block.
	File string
	Line int
}

// OpenFileCacheConf is open_file_cache's max and inactive.
type OpenFileCacheConf struct {
	Max      int
	Inactive time.Duration
}

// Lingering close modes.
const (
	LingeringOff = iota
	LingeringOn
	LingeringAlways
)

// server_tokens values.
const (
	TokensOff = iota
	TokensOn
	TokensBuild
)

// if_modified_since values.
const (
	IMSOff = iota
	IMSExact
	IMSBefore
)

// satisfy values.
const (
	SatisfyAll = iota
	SatisfyAny
)

// gzip_proxied bits, shared by gzip and gzip_static.
const (
	GzipProxiedOff     = 0x0002
	GzipProxiedExpired = 0x0004
	GzipProxiedNoCache = 0x0008
	GzipProxiedNoStore = 0x0010
	GzipProxiedPrivate = 0x0020
	GzipProxiedNoLM    = 0x0040
	GzipProxiedNoEtag  = 0x0080
	GzipProxiedAuth    = 0x0100
	GzipProxiedAny     = 0x0200
)

// keepalive_disable bits.
const (
	KeepaliveDisableNone   = 0x0002
	KeepaliveDisableMsie6  = 0x0004
	KeepaliveDisableSafari = 0x0008
)

// disable_symlinks values.
const (
	SymlinksOff = iota
	SymlinksOn
	SymlinksNotOwner
)

// Module hook helpers for the core module's own configuration.
func mainOf(c any) *MainConf { return c.(*MainConf) }

type (
	mc = MainConf
	sc = SrvConf
	lc = LocConf
)

var ms = time.Millisecond

// CoreModule is ngx_http_core_module. Its tables are filled in init, as
// its directives refer back to it.
var CoreModule = &core.Module{Name: "ngx_http_core_module", Type: core.HTTPType}

func init() {
	CoreModule.Directives = coreDirectives()
	CoreModule.HTTP = coreHooks()
}

func coreDirectives() []core.Directive {
	return []core.Directive{
		core.NumSlot("variables_hash_max_size", core.HTTPMain, core.MainLevel, func(c *mc) *core.Value[int] { return &c.VariablesHashMaxSize }, 1024),
		core.NumSlot("variables_hash_bucket_size", core.HTTPMain, core.MainLevel, func(c *mc) *core.Value[int] { return &c.VariablesHashBucketSize }, 64),
		core.NumSlot("server_names_hash_max_size", core.HTTPMain, core.MainLevel, func(c *mc) *core.Value[int] { return &c.ServerNamesHashMaxSize }, 512),
		core.NumSlot("server_names_hash_bucket_size", core.HTTPMain, core.MainLevel, func(c *mc) *core.Value[int] { return &c.ServerNamesHashBucketSz }, 64),
		{Name: "server", Ctx: core.HTTPMain, Args: core.Block | core.NoArgs, Level: core.MainLevel, Set: serverBlock},
		core.SizeSlot("connection_pool_size", core.HTTPMain|core.HTTPSrv, core.SrvLevel, func(c *sc) *core.Value[int64] { return &c.ConnectionPoolSize }, 256),
		core.SizeSlot("request_pool_size", core.HTTPMain|core.HTTPSrv, core.SrvLevel, func(c *sc) *core.Value[int64] { return &c.RequestPoolSize }, 4096),
		core.MsecSlot("client_header_timeout", core.HTTPMain|core.HTTPSrv, core.SrvLevel, func(c *sc) *core.Value[time.Duration] { return &c.ClientHeaderTimeout }, 60*time.Second),
		core.SizeSlot("client_header_buffer_size", core.HTTPMain|core.HTTPSrv, core.SrvLevel, func(c *sc) *core.Value[int64] { return &c.ClientHeaderBufferSize }, 1024),
		core.BufsSlot("large_client_header_buffers", core.HTTPMain|core.HTTPSrv, core.SrvLevel, func(c *sc) *core.Value[core.Bufs] { return &c.LargeClientHeaderBuffers }, core.Bufs{Num: 4, Size: 8192}),
		core.FlagSlot("ignore_invalid_headers", core.HTTPMain|core.HTTPSrv, core.SrvLevel, func(c *sc) *core.Value[bool] { return &c.IgnoreInvalidHeaders }, true),
		core.FlagSlot("merge_slashes", core.HTTPMain|core.HTTPSrv, core.SrvLevel, func(c *sc) *core.Value[bool] { return &c.MergeSlashes }, true),
		core.FlagSlot("underscores_in_headers", core.HTTPMain|core.HTTPSrv, core.SrvLevel, func(c *sc) *core.Value[bool] { return &c.UnderscoresInHeaders }, false),
		{Name: "location", Ctx: core.HTTPSrv | core.HTTPLoc, Args: core.Block | core.Take12, Level: core.LocLevel, Set: locationBlock},
		{Name: "listen", Ctx: core.HTTPSrv, Args: core.OneMore, Level: core.SrvLevel, Set: setListen},
		{Name: "server_name", Ctx: core.HTTPSrv, Args: core.OneMore, Level: core.SrvLevel, Set: setServerName},
		ignored("types_hash_max_size", core.HTTPMainSrvLoc, core.Take1),
		ignored("types_hash_bucket_size", core.HTTPMainSrvLoc, core.Take1),
		{Name: "types", Ctx: core.HTTPMainSrvLoc, Args: core.Block | core.NoArgs, Level: core.LocLevel, Set: setTypes},
		core.StrSlot("default_type", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[string] { return &c.DefaultType }, "text/plain"),
		{Name: "root", Ctx: core.HTTPMainSrvLoc | core.HTTPLif, Args: core.Take1, Level: core.LocLevel, Set: setRoot},
		{Name: "alias", Ctx: core.HTTPLoc, Args: core.Take1, Level: core.LocLevel, Set: setRoot},
		{Name: "limit_except", Ctx: core.HTTPLoc, Args: core.Block | core.OneMore, Level: core.LocLevel, Set: limitExceptBlock},
		core.OffSlot("client_max_body_size", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int64] { return &c.ClientMaxBodySize }, 1<<20),
		core.SizeSlot("client_body_buffer_size", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int64] { return &c.ClientBodyBufferSize }, 2*4096),
		core.MsecSlot("client_body_timeout", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[time.Duration] { return &c.ClientBodyTimeout }, 60*time.Second),
		core.Custom("client_body_temp_path", core.HTTPMainSrvLoc, core.Take1234, core.LocLevel, setTempPath, nil),
		core.EnumSlot("client_body_in_file_only", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int] { return &c.ClientBodyInFileOnly }, 0,
			[]core.Enum[int]{{Name: "off", V: 0}, {Name: "on", V: 1}, {Name: "clean", V: 2}}),
		core.FlagSlot("client_body_in_single_buffer", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.ClientBodyInSingleBuffer }, false),
		core.FlagSlot("sendfile", core.HTTPMainSrvLoc|core.HTTPLif, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.Sendfile }, false),
		core.SizeSlot("sendfile_max_chunk", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int64] { return &c.SendfileMaxChunk }, 2<<20),
		core.SizeSlot("subrequest_output_buffer_size", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int64] { return &c.SubrequestOutputBufferSize }, 4096),
		core.StrSlot("aio", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[string] { return &c.Aio }, "off"),
		core.FlagSlot("aio_write", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.AioWrite }, false),
		core.SizeSlot("read_ahead", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int64] { return &c.ReadAhead }, 0),
		core.Custom("directio", core.HTTPMainSrvLoc, core.Take1, core.LocLevel, setDirectio, nil),
		core.OffSlot("directio_alignment", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int64] { return &c.DirectioAlignment }, 512),
		core.FlagSlot("tcp_nopush", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.TCPNopush }, false),
		core.FlagSlot("tcp_nodelay", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.TCPNodelay }, true),
		core.MsecSlot("send_timeout", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[time.Duration] { return &c.SendTimeout }, 60*time.Second),
		core.LowatSlot("send_lowat", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int64] { return &c.SendLowat }, "send_lowat"),
		core.SizeSlot("postpone_output", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int64] { return &c.PostponeOutput }, 1460),
		core.Custom("limit_rate", core.HTTPMainSrvLoc|core.HTTPLif, core.Take1, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *lc) error {
			return setSizeTemplate(p, d, &c.LimitRate)
		}, nil),
		core.Custom("limit_rate_after", core.HTTPMainSrvLoc|core.HTTPLif, core.Take1, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *lc) error {
			return setSizeTemplate(p, d, &c.LimitRateAfter)
		}, nil),
		core.MsecSlot("keepalive_time", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[time.Duration] { return &c.KeepaliveTime }, time.Hour),
		core.Custom("keepalive_timeout", core.HTTPMainSrvLoc, core.Take12, core.LocLevel, setKeepaliveTimeout, nil),
		core.NumSlot("keepalive_requests", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int] { return &c.KeepaliveRequests }, 1000),
		core.BitmaskSlot("keepalive_disable", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[uint32] { return &c.KeepaliveDisable }, KeepaliveDisableMsie6,
			[]core.Enum[uint32]{{Name: "none", V: KeepaliveDisableNone}, {Name: "msie6", V: KeepaliveDisableMsie6}, {Name: "safari", V: KeepaliveDisableSafari}}),
		core.EnumSlot("satisfy", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int] { return &c.Satisfy }, SatisfyAll,
			[]core.Enum[int]{{Name: "all", V: SatisfyAll}, {Name: "any", V: SatisfyAny}}),
		core.MsecSlot("auth_delay", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[time.Duration] { return &c.AuthDelay }, 0),
		core.Custom("internal", core.HTTPLoc, core.NoArgs, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *lc) error {
			if c.Internal.Set {
				return p.Invalid(d, "is duplicate")
			}
			c.Internal = core.Of(true)
			return nil
		}, nil),
		core.EnumSlot("lingering_close", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int] { return &c.LingeringClose }, LingeringOn,
			[]core.Enum[int]{{Name: "off", V: LingeringOff}, {Name: "on", V: LingeringOn}, {Name: "always", V: LingeringAlways}}),
		core.MsecSlot("lingering_time", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[time.Duration] { return &c.LingeringTime }, 30*time.Second),
		core.MsecSlot("lingering_timeout", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[time.Duration] { return &c.LingeringTimeout }, 5*time.Second),
		core.FlagSlot("reset_timedout_connection", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.ResetTimedoutConnection }, false),
		core.FlagSlot("absolute_redirect", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.AbsoluteRedirect }, true),
		core.FlagSlot("server_name_in_redirect", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.ServerNameInRedirect }, false),
		core.FlagSlot("port_in_redirect", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.PortInRedirect }, true),
		core.FlagSlot("msie_padding", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.MsiePadding }, true),
		core.FlagSlot("msie_refresh", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.MsieRefresh }, false),
		core.FlagSlot("log_not_found", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.LogNotFound }, true),
		core.FlagSlot("log_subrequest", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.LogSubrequest }, false),
		core.FlagSlot("recursive_error_pages", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.RecursiveErrorPages }, false),
		core.EnumSlot("server_tokens", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int] { return &c.ServerTokens }, TokensOn,
			[]core.Enum[int]{{Name: "off", V: TokensOff}, {Name: "on", V: TokensOn}, {Name: "build", V: TokensBuild}}),
		core.EnumSlot("if_modified_since", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int] { return &c.IfModifiedSince }, IMSExact,
			[]core.Enum[int]{{Name: "off", V: IMSOff}, {Name: "exact", V: IMSExact}, {Name: "before", V: IMSBefore}}),
		core.NumSlot("max_ranges", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int] { return &c.MaxRanges }, int(^uint(0)>>1)),
		core.FlagSlot("chunked_transfer_encoding", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.ChunkedTransferEncoding }, true),
		core.FlagSlot("etag", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.Etag }, true),
		{Name: "error_page", Ctx: core.HTTPMainSrvLoc | core.HTTPLif, Args: core.TwoMore, Level: core.LocLevel, Set: setErrorPage},
		{Name: "error_log", Ctx: core.HTTPMainSrvLoc, Args: core.OneMore, Level: core.LocLevel, Set: setErrorLog},
		core.Custom("open_file_cache", core.HTTPMainSrvLoc, core.Take12, core.LocLevel, setOpenFileCache, nil),
		core.SecSlot("open_file_cache_valid", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[time.Duration] { return &c.OpenFileCacheValid }, 60*time.Second),
		core.NumSlot("open_file_cache_min_uses", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int] { return &c.OpenFileCacheMinUses }, 1),
		core.FlagSlot("open_file_cache_errors", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.OpenFileCacheErrors }, false),
		core.FlagSlot("open_file_cache_events", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.OpenFileCacheEvents }, false),
		core.Custom("resolver", core.HTTPMainSrvLoc, core.OneMore, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *lc) error {
			if c.Resolver.Set {
				return p.Invalid(d, "is duplicate")
			}
			rc, err := resolver.Parse(d.Args)
			if err != nil {
				return p.Errorf(d, "%s", err)
			}
			c.Resolver = core.Of(rc)
			return nil
		}, nil),
		core.MsecSlot("resolver_timeout", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[time.Duration] { return &c.ResolverTimeout }, 30*time.Second),
		core.FlagSlot("gzip_vary", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.GzipVary }, false),
		core.EnumSlot("gzip_http_version", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int] { return &c.GzipHTTPVersion }, 1001,
			[]core.Enum[int]{{Name: "1.0", V: 1000}, {Name: "1.1", V: 1001}}),
		core.BitmaskSlot("gzip_proxied", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[uint32] { return &c.GzipProxied }, GzipProxiedOff,
			[]core.Enum[uint32]{{Name: "off", V: GzipProxiedOff}, {Name: "expired", V: GzipProxiedExpired}, {Name: "no-cache", V: GzipProxiedNoCache},
				{Name: "no-store", V: GzipProxiedNoStore}, {Name: "private", V: GzipProxiedPrivate}, {Name: "no_last_modified", V: GzipProxiedNoLM},
				{Name: "no_etag", V: GzipProxiedNoEtag}, {Name: "auth", V: GzipProxiedAuth}, {Name: "any", V: GzipProxiedAny}}),
		core.Custom("gzip_disable", core.HTTPMainSrvLoc, core.OneMore, core.LocLevel, setGzipDisable, nil),
		core.Custom("disable_symlinks", core.HTTPMainSrvLoc, core.Take12, core.LocLevel, setDisableSymlinks, nil),
		{Name: "try_files", Ctx: core.HTTPSrv | core.HTTPLoc, Args: core.TwoMore, Level: core.LocLevel, Set: setTryFiles},
	}
}

func coreHooks() *Hooks {
	return &Hooks{
		Preconfiguration: func(cf *Conf) error { return addCoreVariables(cf) },
		CreateMainConf: func(cf *Conf) any {
			return &MainConf{vars: newVarRegistry()}
		},
		InitMainConf: func(cf *Conf, c any) error {
			m := mainOf(c)
			var z MainConf
			core.MergeValue(&z.VariablesHashMaxSize, &m.VariablesHashMaxSize, 1024)
			core.MergeValue(&z.VariablesHashBucketSize, &m.VariablesHashBucketSize, 64)
			core.MergeValue(&z.ServerNamesHashMaxSize, &m.ServerNamesHashMaxSize, 512)
			core.MergeValue(&z.ServerNamesHashBucketSz, &m.ServerNamesHashBucketSz, 64)
			return nil
		},
		CreateSrvConf: func(cf *Conf) any { return &SrvConf{} },
		MergeSrvConf:  mergeSrvConf,
		CreateLocConf: func(cf *Conf) any { return &LocConf{} },
		MergeLocConf:  mergeLocConf,
	}
}

// ignored declares a directive that nginx needs for tuning a data
// structure gresty does not have (hash sizes): its value is checked and
// otherwise unused.
func ignored(name string, ctx core.Ctx, args core.Args) core.Directive {
	return core.Directive{
		Name: name, Ctx: ctx, Args: args, Level: core.LocLevel,
		Set: func(p *core.Parser, d *conf.Directive, _ any) error {
			if _, ok := core.Atoi(d.Args[0]); !ok {
				return p.Invalid(d, "invalid number")
			}
			return nil
		},
	}
}

func mergeSrvConf(cf *Conf, parent, child any) error {
	s := child.(*SrvConf)
	if len(s.Names) == 0 {
		// nginx's default server_name is "", matching requests
		// without a Host header.
		s.Names = []serverName{{name: ""}}
	}
	if s.Name == "" && len(s.Names) > 0 {
		// $server_name is the first name, a regex with its "~", a
		// ".example.com" without its dot (ngx_http_core_merge_srv_conf).
		n := s.Names[0]
		switch {
		case n.regex != nil:
			s.Name = "~" + n.raw
		case strings.HasPrefix(n.name, "."):
			s.Name = n.name[1:]
		default:
			s.Name = n.name
		}
	}
	if s.ClientHeaderBufferSize.V <= 0 {
		return cf.Errorf(cf.Dir, "the \"client_header_buffer_size\" directive must be more than 0")
	}
	s.parserConf = httpparse.Config{
		ClientHeaderBufferSize: int(s.ClientHeaderBufferSize.V),
		LargeHeaderBuffers:     s.LargeClientHeaderBuffers.V.Num,
		LargeHeaderBufferSize:  int(s.LargeClientHeaderBuffers.V.Size),
		UnderscoresInHeaders:   s.UnderscoresInHeaders.V,
		KeepInvalidHeaders:     !s.IgnoreInvalidHeaders.V,
		NoMergeSlashes:         !s.MergeSlashes.V,
	}
	if s.LargeClientHeaderBuffers.V.Size < s.ConnectionPoolSize.V {
		return &core.Error{Msg: "the \"large_client_header_buffers\" size must be equal to or greater than \"connection_pool_size\"",
			File: cf.Dir.File, Line: cf.Dir.Line}
	}
	return nil
}

func mergeLocConf(cf *Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	if !c.Root.Set {
		c.Root, c.Alias, c.AliasLen = p.Root, p.Alias, p.AliasLen
		if !c.Root.Set {
			t, err := compileTemplate(cf, cf.Cycle.FullName("html", false), false)
			if err != nil {
				return err
			}
			c.Root = core.Of(t)
		}
	}
	if !c.typesSet {
		if p.typesSet {
			c.types, c.typesSet = p.types, true
		} else {
			c.types = map[string]string{"html": "text/html", "gif": "image/gif", "jpg": "image/jpeg"}
			p.types, p.typesSet = c.types, true
			c.typesSet = true
		}
	}
	if c.ErrorLog == nil {
		if len(c.errorLogSinks) > 0 {
			c.ErrorLog = errlog.New(nil, c.errorLogSinks...)
			c.ErrorLog.SetHook(&cf.Cycle.LogHook)
		} else if p.ErrorLog != nil {
			c.ErrorLog = p.ErrorLog
		} else {
			c.ErrorLog = cf.Cycle.Log
		}
	}
	if c.ErrorPages == nil && p.ErrorPages != nil {
		c.ErrorPages = p.ErrorPages
	}
	if c.KeepaliveHeader == 0 && !c.KeepaliveTimeout.Set {
		c.KeepaliveHeader = p.KeepaliveHeader
	}
	core.MergeValue(&p.KeepaliveTimeout, &c.KeepaliveTimeout, 75*time.Second)
	core.MergeValue(&p.LimitRate, &c.LimitRate, nil)
	core.MergeValue(&p.LimitRateAfter, &c.LimitRateAfter, nil)
	core.MergeValue(&p.Internal, &c.Internal, false)
	core.MergeValue(&p.Directio, &c.Directio, -1)
	core.MergeValue(&p.OpenFileCache, &c.OpenFileCache, nil)
	core.MergeValue(&p.Resolver, &c.Resolver, nil)
	if c.Resolver.V != nil && c.Resolver.V.Timeout != c.ResolverTimeout.V {
		c.Resolver.V = c.Resolver.V.WithTimeout(c.ResolverTimeout.V)
	}
	core.MergeValue(&p.GzipDisable, &c.GzipDisable, nil)
	if !c.DisableSymlinks.Set {
		c.DisableSymlinksFrom = p.DisableSymlinksFrom
	}
	core.MergeValue(&p.DisableSymlinks, &c.DisableSymlinks, SymlinksOff)
	if c.GzipDisableMsie6 == 0 {
		c.GzipDisableMsie6 = p.GzipDisableMsie6
	}
	if !c.ClientBodyTempPath.Set {
		if p.ClientBodyTempPath.Set {
			c.ClientBodyTempPath = p.ClientBodyTempPath
		} else {
			c.ClientBodyTempPath = core.Of(&TempPath{Dir: cf.Cycle.FullName(DefaultBodyTempPath, false)})
		}
	}
	return nil
}

// DefaultBodyTempPath is where request bodies are spooled by default,
// relative to the prefix as nginx's client_body_temp.
const DefaultBodyTempPath = "client_body_temp"

// methodMask maps limit_except's method names to httpparse methods.
var methodNames = map[string]httpparse.Method{
	"GET": httpparse.MethodGET, "HEAD": httpparse.MethodHEAD, "POST": httpparse.MethodPOST,
	"PUT": httpparse.MethodPUT, "DELETE": httpparse.MethodDELETE, "MKCOL": httpparse.MethodMKCOL,
	"COPY": httpparse.MethodCOPY, "MOVE": httpparse.MethodMOVE, "OPTIONS": httpparse.MethodOPTIONS,
	"PROPFIND": httpparse.MethodPROPFIND, "PROPPATCH": httpparse.MethodPROPPATCH, "LOCK": httpparse.MethodLOCK,
	"UNLOCK": httpparse.MethodUNLOCK, "PATCH": httpparse.MethodPATCH,
}

func setKeepaliveTimeout(p *core.Parser, d *conf.Directive, c *LocConf) error {
	if c.KeepaliveTimeout.Set {
		return p.Invalid(d, "is duplicate")
	}
	ms, ok := core.ParseTime(d.Args[0], false)
	if !ok {
		return p.Invalid(d, "invalid value")
	}
	c.KeepaliveTimeout = core.Of(time.Duration(ms) * time.Millisecond)
	if len(d.Args) == 2 {
		s, ok := core.ParseTime(d.Args[1], true)
		if !ok {
			return p.Invalid(d, "invalid value")
		}
		c.KeepaliveHeader = time.Duration(s) * time.Second
	}
	return nil
}

func setDirectio(p *core.Parser, d *conf.Directive, c *LocConf) error {
	if c.Directio.Set {
		return p.Invalid(d, "is duplicate")
	}
	if d.Args[0] == "off" {
		c.Directio = core.Of(int64(-1))
		return nil
	}
	n, ok := core.ParseOffset(d.Args[0])
	if !ok {
		return p.Invalid(d, "invalid value")
	}
	c.Directio = core.Of(n)
	return nil
}

func setTempPath(p *core.Parser, d *conf.Directive, c *LocConf) error {
	if c.ClientBodyTempPath.Set {
		return p.Invalid(d, "is duplicate")
	}
	tp := &TempPath{Dir: p.Cycle.FullName(d.Args[0], false)}
	for _, lv := range d.Args[1:] {
		n, ok := core.Atoi(lv)
		if !ok || n == 0 || n > 2 {
			return p.Errorf(d, "invalid value \"%s\"", lv)
		}
		tp.Levels = append(tp.Levels, n)
	}
	c.ClientBodyTempPath = core.Of(tp)
	return nil
}

// setOpenFileCache is ngx_http_core_open_file_cache: "max=" and
// "inactive=" in any order, or "off", which wins over the others.
func setOpenFileCache(p *core.Parser, d *conf.Directive, c *LocConf) error {
	if c.OpenFileCache.Set {
		return p.Invalid(d, "is duplicate")
	}
	oc := &OpenFileCacheConf{Inactive: 60 * time.Second}
	off := false
	for _, a := range d.Args {
		switch {
		case strings.HasPrefix(a, "max="):
			n, ok := core.Atoi(a[4:])
			if !ok || n <= 0 {
				return p.Errorf(d, "invalid \"open_file_cache\" parameter \"%s\"", a)
			}
			oc.Max = n
		case strings.HasPrefix(a, "inactive="):
			s, ok := core.ParseTime(a[9:], true)
			if !ok {
				return p.Errorf(d, "invalid \"open_file_cache\" parameter \"%s\"", a)
			}
			oc.Inactive = time.Duration(s) * time.Second
		case a == "off":
			off = true
		default:
			return p.Errorf(d, "invalid \"open_file_cache\" parameter \"%s\"", a)
		}
	}
	if off {
		c.OpenFileCache = core.Of[*OpenFileCacheConf](nil)
		return nil
	}
	if oc.Max == 0 {
		return p.Errorf(d, "\"open_file_cache\" must have the \"max\" parameter")
	}
	c.OpenFileCache = core.Of(oc)
	return nil
}

// setDisableSymlinks is ngx_http_disable_symlinks: "off", "on" or
// "if_not_owner" and an optional "from=" in any order, checked as nginx
// checks them.
func setDisableSymlinks(p *core.Parser, d *conf.Directive, c *LocConf) error {
	if c.DisableSymlinks.Set {
		return p.Invalid(d, "is duplicate")
	}
	mode := -1
	var from *Template
	fromSet := false
	for _, a := range d.Args {
		switch {
		case a == "off":
			mode = SymlinksOff
		case a == "if_not_owner":
			mode = SymlinksNotOwner
		case a == "on":
			mode = SymlinksOn
		case strings.HasPrefix(a, "from="):
			t, err := CompileTemplateP(p, a[5:])
			if err != nil {
				return err
			}
			from, fromSet = t, true
		default:
			return p.Errorf(d, "invalid parameter \"%s\"", a)
		}
	}
	if mode < 0 {
		return p.Errorf(d, "\"%s\" must have \"off\", \"on\" or \"if_not_owner\" parameter", d.Name)
	}
	c.DisableSymlinks = core.Of(mode)
	if len(d.Args) == 1 {
		return nil
	}
	if !fromSet {
		return p.Errorf(d, "duplicate parameters \"%s %s\"", d.Args[0], d.Args[1])
	}
	if mode == SymlinksOff {
		return p.Errorf(d, "\"from=\" cannot be used with \"off\" parameter")
	}
	c.DisableSymlinksFrom = from
	return nil
}

func setErrorLog(p *core.Parser, d *conf.Directive, c any) error {
	l := c.(*LocConf)
	s, err := p.ErrorLogSink(d)
	if err != nil {
		return err
	}
	l.errorLogSinks = append(l.errorLogSinks, s)
	return nil
}

func setSizeTemplate(p *core.Parser, d *conf.Directive, v *core.Value[*Template]) error {
	if v.Set {
		return p.Invalid(d, "is duplicate")
	}
	t, err := compileTemplate(confOf(p), d.Args[0], false)
	if err != nil {
		return err
	}
	if t.Static() {
		if _, ok := core.ParseSize(t.raw); !ok {
			return p.Invalid(d, "invalid value")
		}
	}
	*v = core.Of(t)
	return nil
}

// setGzipDisable is ngx_http_gzip_disable: "msie6" or a regex; nginx
// built without the degradation module (Debian's) reads "degradation" as
// a regex too.
func setGzipDisable(p *core.Parser, d *conf.Directive, c *LocConf) error {
	for _, a := range d.Args {
		switch a {
		case "msie6":
			c.GzipDisableMsie6 = 1
			continue
		}
		re, err := compileRegex(p, d, a, true)
		if err != nil {
			return err
		}
		c.GzipDisable.V = append(c.GzipDisable.V, re)
		c.GzipDisable.Set = true
	}
	return nil
}
