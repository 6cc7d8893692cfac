// Package resolver is nginx's resolver (the resolver and resolver_timeout
// directives) on gresty's event loops: the name lookups of proxy_pass
// with variables, of upstream servers resolved at run time and of Lua
// cosockets.
//
// # Configuration
//
// Parse and FromConf turn the directives' arguments into an immutable
// *Config with nginx 1.22's error texts; host names given as name servers
// are resolved then, with the system resolver (SystemLookup), as nginx
// does while reading its configuration. Any goroutine may call them.
//
// # Resolving
//
// Each loop owns a Set, which holds a Resolver per configuration: the UDP
// sockets to the name servers (one connected socket per server, opened on
// first use), TCP connections for truncated answers, and the queries in
// flight. Resolve sends an A query and, with ipv6=on, an AAAA query at the
// same time, with random ids; each attempt waits 5 seconds before the
// queries go to the next server, until the caller's resolver_timeout
// (error 110). Concurrent requests for one name on a loop share one query;
// CNAME-only answers are followed (at most 50 times). Set, Resolver and
// Request methods, and every callback, run on the loop goroutine.
//
// Answers are kept in a Cache shared by all loops of the process (sharded,
// mutex-protected, touched once per resolution), for their TTL or valid=,
// in whole seconds as in nginx. As in nginx 1.22, failures are not cached,
// and the hosts file is not read at request time.
//
// Errors are *Error values whose text is what nginx logs and ngx_lua
// returns: "example.test could not be resolved (3: Host not found)".
package resolver
