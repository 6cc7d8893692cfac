// Package referer is nginx's ngx_http_referer_module: valid_referers lists
// the Referer values a location accepts, and $invalid_referer is "1" when
// the request's Referer is not one of them (empty otherwise), for use in
// if blocks and maps.
//
// A Referer is valid when it names a listed host: "http://" or "https://"
// then the host (lowercased, up to ":" or "/", at most 256 bytes) found
// among the exact names, the leading wildcards ("*.example.com",
// ".example.com"), the trailing wildcards ("www.example.*") or the
// server's regex names, in that order, with the URI part a listed host
// may require; otherwise when one of the "~" regexes matches what follows
// the scheme. "none" accepts a request without Referer, "blocked" one
// whose Referer has no such scheme (a firewall or proxy replaced it).
//
// Configuration is parsed and checked on the goroutine that builds the
// cycle, with nginx's messages (hash sizes included); the variable is
// evaluated on the request's loop.
package referer

import (
	"strings"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
	"gresty/regex"
)

// Module is ngx_http_referer_module.
var Module = &core.Module{
	Name: "ngx_http_referer_module",
	Type: core.HTTPType,
}

func init() {
	ctx := core.HTTPSrv | core.HTTPLoc
	Module.Directives = []core.Directive{
		core.Custom("valid_referers", ctx, core.OneMore, core.LocLevel, setValidReferers, nil),
		core.NumSlot("referer_hash_max_size", ctx, core.LocLevel,
			func(c *LocConf) *core.Value[int] { return &c.HashMaxSize }, 2048),
		core.NumSlot("referer_hash_bucket_size", ctx, core.LocLevel,
			func(c *LocConf) *core.Value[int] { return &c.HashBucketSize }, 64),
	}
	Module.HTTP = &http.Hooks{
		Preconfiguration:  addVariable,
		CreateLocConf:     func(*http.Conf) any { return &LocConf{} },
		MergeLocConf:      mergeLocConf,
		Postconfiguration: build,
	}
}

// LocConf is the module's configuration of one level.
type LocConf struct {
	HashMaxSize    core.Value[int]
	HashBucketSize core.Value[int]

	// spec is what this level's valid_referers directives listed; nil
	// when the level has none (it then shares its parent's rules).
	spec *spec
	// rules are what requests are checked against: this level's own
	// (built in Postconfiguration) or the enclosing level's.
	rules *rules
}

// spec collects the arguments of a level's valid_referers directives,
// with the names seen so far for nginx's "conflicting parameter" checks.
type spec struct {
	none, blocked, serverNames bool

	exact []hostEntry
	// head are leading wildcards by their domain ("example.com" for
	// "*.example.com" and ".example.com"); tail are trailing ones by
	// their prefix ("www.example" for "www.example.*").
	head, tail []hostEntry
	regexes    []*regex.Regexp

	// exactNames holds the exact names and the domains of ".name"
	// wildcards (which also match the domain itself); headNames and
	// tailNames the wildcards' keys.
	exactNames, headNames, tailNames map[string]bool
}

// hostEntry is one listed host with its URI part.
type hostEntry struct {
	key string
	// dot marks a ".example.com" wildcard, which matches example.com
	// too.
	dot bool
	uri uriPart
}

// uriPart is the URI prefix a listed host requires; any is set when it
// requires none.
type uriPart struct {
	prefix string
	any    bool
}

// rules are a level's compiled lists.
type rules struct {
	owner *LocConf
	// parent are the enclosing level's rules, whose regexes a level
	// without its own inherits (as nginx merges those lists).
	parent *rules
	built  bool

	exact map[string]uriPart
	head  map[string]headValue
	tail  map[string]uriPart
	// regexes match what follows the scheme; nameRegexes (the server's
	// regex names) match the lowercased host.
	regexes     []*regex.Regexp
	nameRegexes []*regex.Regexp
	none        bool
	blocked     bool
}

type headValue struct {
	dot bool
	uri uriPart
}

func addVariable(cf *http.Conf) error {
	_, err := cf.AddVariable(&http.Variable{Name: "invalid_referer", Flags: http.VarChangeable, Get: invalidReferer})
	return err
}

func setValidReferers(p *core.Parser, d *conf.Directive, c *LocConf) error {
	s := c.spec
	if s == nil {
		s = &spec{exactNames: map[string]bool{}, headNames: map[string]bool{}, tailNames: map[string]bool{}}
		c.spec = s
	}
	for _, a := range d.Args {
		switch {
		case a == "":
			return p.Errorf(d, "invalid referer \"%s\"", a)
		case a == "none":
			s.none = true
			continue
		case a == "blocked":
			s.blocked = true
			continue
		case a == "server_names":
			s.serverNames = true
			continue
		case a[0] == '~':
			if len(a) == 1 {
				return p.Errorf(d, "empty regex in \"%s\"", a)
			}
			re, err := regex.Compile(a[1:], regex.PCRE2|regex.Caseless)
			if err != nil {
				return p.Errorf(d, "%s", err.Error())
			}
			s.regexes = append(s.regexes, re)
			continue
		}
		host, uri := a, ""
		if i := strings.IndexByte(a, '/'); i >= 0 {
			host, uri = a[:i], a[i:]
		}
		switch s.add(host, uri) {
		case addInvalid:
			return p.Errorf(d, "invalid hostname or wildcard \"%s\"", host)
		case addConflict:
			// nginx lowercases the name before it finds the conflict.
			return p.Errorf(d, "conflicting parameter \"%s\"", asciiLower(host))
		}
	}
	return nil
}

// Results of spec.add, as ngx_hash_add_key's NGX_OK, NGX_DECLINED and
// NGX_BUSY.
const (
	addOK = iota
	addInvalid
	addConflict
)

// add lists a host (exact or wildcard) with the URI part it requires, as
// ngx_hash_add_key with wildcards allowed.
func (s *spec) add(host, uri string) int {
	stars := 0
	for i := 0; i < len(host); i++ {
		switch host[i] {
		case '*':
			stars++
			if stars > 1 {
				return addInvalid
			}
		case '.':
			if i+1 < len(host) && host[i+1] == '.' {
				return addInvalid
			}
		case 0:
			return addInvalid
		}
	}
	u := uriPart{prefix: uri, any: uri == ""}
	low := asciiLower(host)
	switch {
	case len(host) > 1 && host[0] == '.':
		dom := low[1:]
		if s.exactNames[dom] {
			return addConflict
		}
		s.exactNames[dom] = true
		if s.headNames[dom] {
			return addConflict
		}
		s.headNames[dom] = true
		s.head = append(s.head, hostEntry{key: dom, dot: true, uri: u})
	case len(host) > 2 && host[0] == '*' && host[1] == '.':
		dom := low[2:]
		if s.headNames[dom] {
			return addConflict
		}
		s.headNames[dom] = true
		s.head = append(s.head, hostEntry{key: dom, uri: u})
	case len(host) > 2 && host[len(host)-2] == '.' && host[len(host)-1] == '*':
		pre := low[:len(low)-2]
		if s.tailNames[pre] {
			return addConflict
		}
		s.tailNames[pre] = true
		s.tail = append(s.tail, hostEntry{key: pre, uri: u})
	case stars > 0:
		return addInvalid
	default:
		if s.exactNames[low] {
			return addConflict
		}
		s.exactNames[low] = true
		s.exact = append(s.exact, hostEntry{key: low, uri: u})
	}
	return addOK
}

// mergeLocConf gives a level without valid_referers the enclosing level's
// rules; a level with its own gets rules built later, when the server's
// names are known.
func mergeLocConf(_ *http.Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	if c.spec == nil {
		c.rules = p.rules
		return nil
	}
	c.rules = &rules{owner: c, parent: p.rules}
	return nil
}

// build compiles the rules of every level that has valid_referers, with
// the names of its server (ngx_http_referer_merge_conf's work, which
// needs the server configuration): parents before their nested levels,
// so that inherited regex lists are final.
func build(cf *http.Conf) error {
	// nginx merges server by server, each server's level before its
	// locations: build in that order so that the first error is its.
	srvOf := map[*http.LocConf]*http.SrvConf{}
	levels := map[*http.SrvConf][]*http.LocConf{}
	for _, s := range cf.Main.Servers {
		srvOf[s.Loc()] = s
		levels[s] = []*http.LocConf{s.Loc()}
	}
	cf.WalkLocations(func(l, parent *http.LocConf) {
		s := srvOf[parent]
		srvOf[l] = s
		levels[s] = append(levels[s], l)
	})
	for _, s := range cf.Main.Servers {
		for _, l := range levels[s] {
			c, _ := l.Confs[Module.TypeIndex].(*LocConf)
			if c == nil || c.rules == nil || c.rules.owner != c || c.rules.built {
				continue
			}
			if err := c.rules.build(cf, c, s); err != nil {
				return err
			}
		}
	}
	return nil
}

func (rs *rules) build(cf *http.Conf, c *LocConf, srv *http.SrvConf) error {
	rs.built = true
	s := c.spec
	var nameRegexes []*regex.Regexp
	if s.serverNames {
		for _, n := range srv.ServerNames() {
			if n.Regex != nil {
				nameRegexes = append(nameRegexes, n.Regex.Re)
				continue
			}
			switch s.add(n.Name, "") {
			case addInvalid:
				return closeErr(cf, "invalid hostname or wildcard \""+n.Name+"\"")
			case addConflict:
				return closeErr(cf, "conflicting parameter \""+asciiLower(n.Name)+"\"")
			}
		}
	}
	if (s.none || s.blocked) && len(s.exact) == 0 && len(s.head) == 0 && len(s.tail) == 0 {
		return &core.Error{Msg: "the \"none\" or \"blocked\" referers are specified in the \"valid_referers\" directive without any valid referer"}
	}
	maxSize := c.HashMaxSize.V
	bucket := http.AlignHashBucketSize(c.HashBucketSize.V)
	if len(s.exact) > 0 {
		keys := make([]string, len(s.exact))
		for i, e := range s.exact {
			keys[i] = e.key
		}
		if err := checkHash(cf, maxSize, bucket, keys); err != nil {
			return err
		}
	}
	if len(s.head) > 0 {
		if err := checkWildcards(cf, maxSize, bucket, s.head, true); err != nil {
			return err
		}
	}
	if len(s.tail) > 0 {
		if err := checkWildcards(cf, maxSize, bucket, s.tail, false); err != nil {
			return err
		}
	}

	rs.exact = make(map[string]uriPart, len(s.exact))
	for _, e := range s.exact {
		rs.exact[e.key] = e.uri
	}
	rs.head = make(map[string]headValue, len(s.head))
	for _, e := range s.head {
		rs.head[e.key] = headValue{dot: e.dot, uri: e.uri}
	}
	rs.tail = make(map[string]uriPart, len(s.tail))
	for _, e := range s.tail {
		rs.tail[e.key] = e.uri
	}
	// a level that lists no regex (or no regex server name) keeps the
	// enclosing level's, as nginx merges those lists.
	rs.regexes = s.regexes
	rs.nameRegexes = nameRegexes
	if p := rs.parent; p != nil {
		if rs.regexes == nil {
			rs.regexes = p.regexes
		}
		if rs.nameRegexes == nil {
			rs.nameRegexes = p.nameRegexes
		}
	}
	rs.none, rs.blocked = s.none, s.blocked
	return nil
}

// closeErr is an error nginx finds while merging: located at the end of
// the http block.
func closeErr(cf *http.Conf, msg string) error {
	d := cf.Dir
	line := d.CloseLine
	if line == 0 {
		line = d.Line
	}
	return &core.Error{Msg: msg, File: d.File, Line: line, CmdLine: d.File == ""}
}

// checkHash applies nginx's hash sizing to one hash's keys: a warning is
// logged, an error fails the configuration.
func checkHash(cf *http.Conf, maxSize, bucket int, keys []string) error {
	warn, err := http.HashSizeCheck("referer_hash", maxSize, bucket, keys)
	if warn != "" {
		cf.Cycle.StartLog.Logf(errlog.Warn, "%s", warn)
	}
	if err != nil {
		return &core.Error{Msg: err.Error()}
	}
	return nil
}

// checkWildcards sizes the hashes nginx builds for wildcard names: one per
// level of their labels (read from the right for leading wildcards),
// nested levels before the level holding them, in nginx's DNS order.
func checkWildcards(cf *http.Conf, maxSize, bucket int, es []hostEntry, head bool) error {
	root := &labelNode{}
	for _, e := range es {
		labels := strings.Split(e.key, ".")
		if head {
			for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
				labels[i], labels[j] = labels[j], labels[i]
			}
		}
		n := root
		for _, l := range labels {
			n = n.child(l)
		}
	}
	return root.check(cf, maxSize, bucket)
}

type labelNode struct {
	labels   []string
	children []*labelNode
}

func (n *labelNode) child(l string) *labelNode {
	for i, x := range n.labels {
		if x == l {
			return n.children[i]
		}
	}
	n.labels = append(n.labels, l)
	c := &labelNode{}
	n.children = append(n.children, c)
	return c
}

func (n *labelNode) check(cf *http.Conf, maxSize, bucket int) error {
	if len(n.labels) == 0 {
		return nil
	}
	order := make([]int, len(n.labels))
	for i := range order {
		order[i] = i
	}
	// insertion sort by ngx_dns_strcmp: case-insensitive, shorter first.
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && dnsLess(n.labels[order[j]], n.labels[order[j-1]]); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	for _, i := range order {
		if err := n.children[i].check(cf, maxSize, bucket); err != nil {
			return err
		}
	}
	return checkHash(cf, maxSize, bucket, n.labels)
}

func dnsLess(a, b string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// maxHost is the longest host nginx looks up: its buffer's size.
const maxHost = 256

// invalidReferer is ngx_http_referer_variable.
func invalidReferer(r *http.Request, _ any) ([]byte, bool) {
	c, _ := r.Loc.LocConfOf(Module).(*LocConf)
	if c == nil || c.rules == nil || c.rules.empty() {
		return valid, true
	}
	rs := c.rules
	ref, ok := r.KnownIn(httpparse.HdrReferer)
	if !ok {
		if rs.none {
			return valid, true
		}
		return invalid, true
	}
	var rest []byte
	switch {
	case len(ref) >= len("http://i.ru") && hasPrefixFold(ref, "http://"):
		rest = ref[len("http://"):]
	case len(ref) >= len("http://i.ru") && hasPrefixFold(ref, "https://"):
		rest = ref[len("https://"):]
	default:
		if rs.blocked {
			return valid, true
		}
		return invalid, true
	}
	var buf [maxHost]byte
	n := 0
	for ; n < len(rest) && rest[n] != '/' && rest[n] != ':'; n++ {
		if n == maxHost {
			return invalid, true
		}
		c := rest[n]
		if c >= 'A' && c <= 'Z' {
			c |= 0x20
		}
		buf[n] = c
	}
	host := buf[:n]
	if u, found := rs.find(host); found {
		if u.any {
			return valid, true
		}
		tail := rest[n:]
		for len(tail) > 0 && tail[0] != '/' {
			tail = tail[1:]
		}
		if len(tail) < len(u.prefix) || string(tail[:len(u.prefix)]) != u.prefix {
			return invalid, true
		}
		return valid, true
	}
	for _, re := range rs.nameRegexes {
		if ok, _ := r.RegexMatches(re, host); ok {
			return valid, true
		}
	}
	for _, re := range rs.regexes {
		if ok, _ := r.RegexMatches(re, rest); ok {
			return valid, true
		}
	}
	return invalid, true
}

var (
	valid   = []byte{}
	invalid = []byte("1")
)

func (rs *rules) empty() bool {
	return len(rs.exact) == 0 && len(rs.head) == 0 && len(rs.tail) == 0 &&
		rs.regexes == nil && rs.nameRegexes == nil
}

// find looks host up as ngx_hash_find_combined: the exact names, then the
// most specific leading wildcard, then the most specific trailing one.
func (rs *rules) find(host []byte) (uriPart, bool) {
	if u, ok := rs.exact[string(host)]; ok {
		return u, true
	}
	if len(host) == 0 {
		return uriPart{}, false
	}
	if len(rs.head) > 0 {
		if v, ok := rs.head[string(host)]; ok && v.dot {
			return v.uri, true
		}
		for i := 0; i < len(host); i++ {
			if host[i] == '.' {
				if v, ok := rs.head[string(host[i+1:])]; ok {
					return v.uri, true
				}
			}
		}
	}
	if len(rs.tail) > 0 {
		for i := len(host) - 1; i > 0; i-- {
			if host[i] == '.' {
				if u, ok := rs.tail[string(host[:i])]; ok {
					return u, true
				}
			}
		}
	}
	return uriPart{}, false
}

func hasPrefixFold(b []byte, prefix string) bool {
	if len(b) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c |= 0x20
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// asciiLower lowercases ASCII letters only, as ngx_tolower.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] |= 0x20
				}
			}
			return string(b)
		}
	}
	return s
}
