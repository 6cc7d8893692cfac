// Package modules is gresty's single ordered module list: which modules a
// build has and in what order their directives are looked up, their phase
// handlers run and their filters wrap each other (nginx's ngx_modules[]).
// Adding a module is one package and one line here.
package modules

import (
	"sync"

	"gresty/core"
	"gresty/http"
	"gresty/http/modules/access"
	"gresty/http/modules/addition"
	"gresty/http/modules/authbasic"
	"gresty/http/modules/authrequest"
	"gresty/http/modules/autoindex"
	"gresty/http/modules/browser"
	"gresty/http/modules/charset"
	"gresty/http/modules/dav"
	"gresty/http/modules/echo"
	"gresty/http/modules/emptygif"
	"gresty/http/modules/flv"
	"gresty/http/modules/geo"
	"gresty/http/modules/gunzip"
	"gresty/http/modules/gzip"
	"gresty/http/modules/headers"
	"gresty/http/modules/headersmore"
	"gresty/http/modules/index"
	"gresty/http/modules/limitconn"
	"gresty/http/modules/limitreq"
	logmod "gresty/http/modules/log"
	"gresty/http/modules/lua"
	"gresty/http/modules/mapmod"
	"gresty/http/modules/memc"
	"gresty/http/modules/memcached"
	"gresty/http/modules/metrics"
	"gresty/http/modules/mirror"
	"gresty/http/modules/notmodified"
	"gresty/http/modules/proxy"
	"gresty/http/modules/randomindex"
	"gresty/http/modules/rangefilter"
	"gresty/http/modules/realip"
	"gresty/http/modules/referer"
	"gresty/http/modules/rewrite"
	"gresty/http/modules/securelink"
	"gresty/http/modules/setmisc"
	"gresty/http/modules/shmzone"
	"gresty/http/modules/splitclients"
	"gresty/http/modules/ssi"
	"gresty/http/modules/static"
	"gresty/http/modules/stubstatus"
	"gresty/http/modules/subfilter"
	"gresty/http/modules/upstream"
	"gresty/http/modules/userid"
	"gresty/http/modules/zstd"
)

// list is the order of nginx's ngx_modules.c for the modules gresty has:
// core modules first, then HTTP modules, the filters in nginx's order
// (a filter listed later runs earlier).
func list() []*core.Module {
	return []*core.Module{
		core.CoreModule,
		core.ErrlogModule,
		core.EventsModule,
		core.EventCoreModule,
		http.HTTPModule,
		// the shared memory zones of the limit modules (ours) are checked
		// and set up once every other core module is configured, where
		// nginx's ngx_init_cycle does it.
		shmzone.Module,
		http.CoreModule,
		// the log module follows the core module in nginx.
		logmod.Module,
		// the upstream module closes nginx's list of core HTTP modules.
		upstream.Module,
		// the content handlers run in reverse: index, autoindex,
		// gzip_static, then static, as nginx's module order makes them.
		static.Module,
		// gzip_static follows static in nginx.
		gzip.StaticModule,
		// zstd_static (ours) after gzip_static, so its handler runs first
		// and zstd wins over gzip.
		zstd.StaticModule,
		// dav follows gzip_static in nginx: its handler runs before them.
		dav.Module,
		autoindex.Module,
		index.Module,
		// random_index follows index in nginx: its handler runs first.
		randomindex.Module,
		// mirror follows index and precedes try_files in nginx: its
		// pre-content handler runs after try_files'.
		mirror.Module,
		// try_files and rewrite close nginx's list of phase-handler
		// modules, after the content ones and before the filters.
		http.TryFilesModule,
		// auth_request precedes auth_basic and access in nginx, so its
		// handler runs after theirs.
		authrequest.Module,
		// access follows auth_basic in nginx, so allow/deny are checked
		// before the password.
		authbasic.Module,
		access.Module,
		// limit_conn, limit_req and realip follow access in nginx, so
		// their pre-access handlers run realip first, then limit_req,
		// then limit_conn; geo, map and split_clients come next.
		limitconn.Module,
		limitreq.Module,
		realip.Module,
		geo.Module,
		mapmod.Module,
		splitclients.Module,
		// referer follows split_clients and precedes rewrite in nginx.
		referer.Module,
		rewrite.Module,
		// proxy follows rewrite in nginx; the balancing modules follow
		// the other upstream modules, keepalive and zone last.
		proxy.Module,
		// memcached follows proxy (and fastcgi, uwsgi, scgi, grpc).
		memcached.Module,
		// empty_gif follows proxy (and the other upstream content
		// modules) in nginx.
		emptygif.Module,
		// browser follows empty_gif and precedes secure_link in nginx.
		browser.Module,
		// secure_link follows empty_gif and browser in nginx.
		securelink.Module,
		// flv follows secure_link in nginx.
		flv.Module,
		upstream.HashModule,
		upstream.IPHashModule,
		upstream.LeastConnModule,
		upstream.RandomModule,
		upstream.KeepaliveModule,
		upstream.ZoneModule,
		// stub_status closes nginx's list of modules before the filters.
		stubstatus.Module,
		// gresty_metrics (ours) counts requests in the log phase.
		metrics.Module,

		http.WriteFilterModule,
		http.HeaderFilterModule,
		http.ChunkedFilterModule,
		rangefilter.HeaderModule,
		// gzip sits after range's header filter in nginx.
		gzip.Module,
		// zstd (ours) after gzip, so its filter runs first.
		zstd.FilterModule,
		// postpone follows gzip: subrequests' output is put in order
		// before it is compressed and framed once.
		http.PostponeFilterModule,
		// ssi follows postpone in nginx's list, so it parses a body
		// before postpone puts the output of its includes in order.
		ssi.Module,
		// charset follows postpone and ssi in nginx: its filter sees the
		// body after sub's, and an included part before postpone puts
		// it in order.
		charset.Module,
		// sub follows postpone, ssi, charset, xslt and image_filter in
		// nginx: its filter runs before charset's, so the strings are
		// replaced in the body as the handler made it, before recoding.
		subfilter.Module,
		// addition follows sub and precedes gunzip, userid and headers
		// in nginx: its subrequests' output is put in order by postpone.
		addition.Module,
		// gunzip follows addition and precedes userid in nginx.
		gunzip.Module,
		// userid follows addition (and gunzip) in nginx's filter list.
		userid.Module,
		// headers sits after range, gzip, postpone, ssi, charset, sub,
		// addition, gunzip and userid in nginx's filter list.
		headers.Module,
		// ngx_lua is an auxiliary filter module: after the stock filters
		// and before copy, range's body filter and not_modified.
		lua.Module,
		// echo and headers-more are dynamic auxiliary filters in
		// OpenResty's test setups, loaded after ngx_lua in that order and
		// placed, as every dynamic filter is, just before copy: their
		// filters run before lua's, headers-more's first.
		echo.Module,
		headersmore.Module,
		// copy, the range body filter and not_modified close nginx's
		// filter list, so they see the handler's output first.
		http.CopyFilterModule,
		rangefilter.BodyModule,
		notmodified.Module,

		// the devel kit and set-misc are dynamic modules of no filter
		// type: nginx appends them to the list as they are loaded.
		setmisc.NDKModule,
		setmisc.Module,
		// memc, another dynamic module of OpenResty's test setups with
		// no filter, comes after them, as it is loaded after them.
		memc.Module,
	}
}

var (
	once sync.Once
	reg  *core.Registry
)

// Registry returns the registry of the module list, built once per
// process.
func Registry() *core.Registry {
	once.Do(func() { reg = core.NewRegistry(list()...) })
	return reg
}
