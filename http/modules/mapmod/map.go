// Package mapmod is nginx's ngx_http_map_module: the map block, which
// defines a variable whose value depends on another value, and the
// map_hash_max_size and map_hash_bucket_size directives.
//
// A key is found as nginx finds it: the source value (without a trailing
// dot in a hostnames map) is looked up without case among the exact
// keys, then among the leading wildcards ("*.example.com",
// ".example.com", the longest match), then the trailing ones
// ("www.example.*"), then the regexes in the order written, whose
// captures the value may use. Values may hold variables; the result is
// cached for the request unless the map is volatile.
//
// Configuration runs on the goroutine that builds the cycle; the variable
// is evaluated on the request's loop and shares nothing.
package mapmod

import (
	"strings"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
)

// Module is ngx_http_map_module.
var Module = &core.Module{
	Name: "ngx_http_map_module",
	Type: core.HTTPType,
}

func init() {
	Module.Directives = []core.Directive{
		{Name: "map", Ctx: core.HTTPMain, Args: core.Block | core.Take2, Level: core.MainLevel, Set: mapBlock},
		core.NumSlot("map_hash_max_size", core.HTTPMain, core.MainLevel,
			func(c *MainConf) *core.Value[int] { return &c.HashMaxSize }, 2048),
		core.NumSlot("map_hash_bucket_size", core.HTTPMain, core.MainLevel,
			func(c *MainConf) *core.Value[int] { return &c.HashBucketSize }, cacheLine),
	}
	Module.HTTP = &http.Hooks{
		CreateMainConf: func(*http.Conf) any { return &MainConf{} },
	}
}

// MainConf holds the hash sizes. The first map block fixes them: a size
// directive after it is a duplicate, as in nginx.
type MainConf struct {
	HashMaxSize    core.Value[int]
	HashBucketSize core.Value[int]
}

// value is one value of a map: literal bytes, or a template when it
// holds variables or captures.
type value struct {
	lit []byte
	tpl *http.Template
}

var nullValue = &value{lit: []byte{}}

type mapRegex struct {
	re  *http.Regex
	val *value
}

// Map is one map block.
type Map struct {
	src       *http.Template
	hostnames bool
	exact     map[string]*value
	head      *wcNode
	tail      *wcNode
	regexes   []mapRegex
	def       *value
}

// block is the state of a map block being read (ngx_http_map_conf_ctx_t).
type block struct {
	m      *Map
	values map[string]*value
	// taken are the exact names a key would conflict with (nginx's
	// keys_hash): exact keys and the names ".example.com" also covers.
	taken map[string]bool
	// headTaken and tailTaken are the wildcards' names, for conflicts.
	headTaken, tailTaken map[string]bool
	exactKeys            []string
	volatile             bool
}

func mapBlock(p *core.Parser, d *conf.Directive, c any) error {
	mc := c.(*MainConf)
	cf := p.Ext.(*http.Conf)
	if !mc.HashMaxSize.Set {
		mc.HashMaxSize = core.Of(2048)
	}
	if !mc.HashBucketSize.Set {
		mc.HashBucketSize = core.Of(cacheLine)
	} else {
		mc.HashBucketSize.V = (mc.HashBucketSize.V + cacheLine - 1) &^ (cacheLine - 1)
	}
	args := d.HeadArgs()
	src, err := http.CompileTemplateP(p, args[0])
	if err != nil {
		return err
	}
	name := args[1]
	if name == "" || name[0] != '$' {
		return p.Errorf(d, "invalid variable name \"%s\"", name)
	}
	if len(name) == 1 {
		return p.Errorf(d, "invalid variable name \"$\"")
	}
	v, err := cf.AddVariable(&http.Variable{Name: name[1:], Flags: http.VarChangeable})
	if err != nil {
		return err
	}
	m := &Map{src: src, exact: map[string]*value{}}
	b := &block{m: m, values: map[string]*value{}, taken: map[string]bool{},
		headTaken: map[string]bool{}, tailTaken: map[string]bool{}}
	if err := p.Lines(d, func(l *conf.Directive) error { return b.line(p, l) }); err != nil {
		return err
	}
	if b.volatile {
		v.Flags |= http.VarNoCacheable
	}
	if m.def == nil {
		m.def = nullValue
	}
	if err := b.checkHashes(p, mc); err != nil {
		return err
	}
	v.Get, v.Data = m.get, nil
	return nil
}

// line is ngx_http_map: one "key value;" line, or hostnames, volatile.
func (b *block) line(p *core.Parser, l *conf.Directive) error {
	words := append([]string{l.Name}, l.Args...)
	if len(words) == 1 && words[0] == "hostnames" {
		b.m.hostnames = true
		return nil
	}
	if len(words) == 1 && words[0] == "volatile" {
		b.volatile = true
		return nil
	}
	if len(words) != 2 {
		return p.Errorf(l, "invalid number of the map parameters")
	}
	key, raw := words[0], words[1]
	val := b.values[raw]
	if val == nil {
		t, err := http.CompileTemplateP(p, raw)
		if err != nil {
			return relocate(err, l)
		}
		val = &value{lit: []byte(raw)}
		if !t.Static() {
			val.tpl = t
		}
		b.values[raw] = val
	}
	if key == "default" {
		if b.m.def != nil {
			return p.Errorf(l, "duplicate default map parameter")
		}
		b.m.def = val
		return nil
	}
	if key != "" && key[0] == '~' {
		pat, caseless := key[1:], false
		if pat != "" && pat[0] == '*' {
			pat, caseless = pat[1:], true
		}
		re, err := p.Ext.(*http.Conf).CompileRegex(l, pat, caseless)
		if err != nil {
			return err
		}
		b.m.regexes = append(b.m.regexes, mapRegex{re: re, val: val})
		return nil
	}
	if key != "" && key[0] == '\\' {
		key = key[1:]
	}
	switch b.add(key, val) {
	case addInvalid:
		return p.Errorf(l, "invalid hostname or wildcard \"%s\"", key)
	case addBusy:
		// nginx lowercased the key in place before it found the conflict.
		return p.Errorf(l, "conflicting parameter \"%s\"", strings.ToLower(key))
	}
	return nil
}

// relocate moves a configuration error made by a helper that only knows
// the enclosing directive to the line of the block being read, where
// nginx reports it.
func relocate(err error, l *conf.Directive) error {
	if ce, ok := err.(*core.Error); ok && ce.File != "" {
		ce.Line = l.EndLine
		if ce.Line == 0 {
			ce.Line = l.Line
		}
	}
	return err
}

type addResult int

const (
	addOK addResult = iota
	addInvalid
	addBusy
)

// add is ngx_hash_add_key: wildcards are recognised only in a hostnames
// map; keys are kept lowercased.
func (b *block) add(key string, val *value) addResult {
	if b.m.hostnames {
		stars := 0
		for i := 0; i < len(key); i++ {
			switch {
			case key[i] == '*':
				stars++
				if stars > 1 {
					return addInvalid
				}
			case key[i] == '.' && i+1 < len(key) && key[i+1] == '.', key[i] == 0:
				return addInvalid
			}
		}
		low := strings.ToLower(key)
		switch {
		case len(key) > 1 && key[0] == '.':
			name := low[1:]
			if b.taken[name] || b.headTaken[name] {
				return addBusy
			}
			b.taken[name] = true
			b.headTaken[name] = true
			b.m.head = b.m.head.insert(reverseLabels(name), val, true)
			return addOK
		case len(key) > 2 && key[0] == '*' && key[1] == '.':
			name := low[2:]
			if b.headTaken[name] {
				return addBusy
			}
			b.headTaken[name] = true
			b.m.head = b.m.head.insert(reverseLabels(name), val, false)
			return addOK
		case len(key) > 2 && key[len(key)-2] == '.' && key[len(key)-1] == '*':
			name := low[:len(low)-2]
			if b.tailTaken[name] {
				return addBusy
			}
			b.tailTaken[name] = true
			b.m.tail = b.m.tail.insert(strings.Split(name, "."), val, false)
			return addOK
		}
		if stars > 0 {
			return addInvalid
		}
	}
	low := strings.ToLower(key)
	if b.taken[low] {
		return addBusy
	}
	b.taken[low] = true
	b.m.exact[low] = val
	b.exactKeys = append(b.exactKeys, low)
	return addOK
}

func reverseLabels(name string) []string {
	l := strings.Split(name, ".")
	for i, j := 0, len(l)-1; i < j; i, j = i+1, j-1 {
		l[i], l[j] = l[j], l[i]
	}
	return l
}

// checkHashes fails or warns as nginx's hash building would for the
// exact keys and each level of the wildcard trees.
func (b *block) checkHashes(p *core.Parser, mc *MainConf) error {
	var levels [][]string
	if len(b.exactKeys) > 0 {
		levels = append(levels, b.exactKeys)
	}
	levels = b.m.head.levels(levels)
	levels = b.m.tail.levels(levels)
	for _, keys := range levels {
		warn, err := hashCheck("map_hash", mc.HashMaxSize.V, mc.HashBucketSize.V, keys)
		if warn != "" {
			p.Cycle.StartLog.Logf(errlog.Warn, "%s", warn)
		}
		if err != nil {
			return &core.Error{Msg: err.Error()}
		}
	}
	return nil
}

// wcNode is one label of a wildcard tree: the labels of leading
// wildcards from the right, of trailing ones from the left.
type wcNode struct {
	children map[string]*wcNode
	// val is the value of the wildcard ending at this label; self
	// tells that it also matches the name without more labels
	// (".example.com" matches example.com).
	val  *value
	self bool
}

func (n *wcNode) insert(labels []string, val *value, self bool) *wcNode {
	if n == nil {
		n = &wcNode{}
	}
	cur := n
	for _, l := range labels {
		if cur.children == nil {
			cur.children = map[string]*wcNode{}
		}
		next := cur.children[l]
		if next == nil {
			next = &wcNode{}
			cur.children[l] = next
		}
		cur = next
	}
	cur.val, cur.self = val, self
	return n
}

// levels appends the label sets of every node's children: each is one
// hash nginx builds.
func (n *wcNode) levels(out [][]string) [][]string {
	if n == nil || len(n.children) == 0 {
		return out
	}
	keys := make([]string, 0, len(n.children))
	for k := range n.children {
		keys = append(keys, k)
	}
	out = append(out, keys)
	for _, c := range n.children {
		out = c.levels(out)
	}
	return out
}

// findHead is ngx_hash_find_wc_head: the deepest leading wildcard that
// covers name.
func (n *wcNode) findHead(name []byte) *value {
	var found *value
	end := len(name)
	cur := n
	for cur != nil {
		start := end
		for start > 0 && name[start-1] != '.' {
			start--
		}
		next := cur.children[string(name[start:end])]
		if next == nil {
			break
		}
		if start == 0 {
			if next.val != nil && next.self {
				found = next.val
			}
			break
		}
		if next.val != nil {
			found = next.val
		}
		cur = next
		end = start - 1
	}
	return found
}

// findTail is ngx_hash_find_wc_tail: the deepest trailing wildcard whose
// labels start name and are followed by a dot.
func (n *wcNode) findTail(name []byte) *value {
	var found *value
	start := 0
	cur := n
	for cur != nil {
		end := start
		for end < len(name) && name[end] != '.' {
			end++
		}
		if end == len(name) {
			break
		}
		next := cur.children[string(name[start:end])]
		if next == nil {
			break
		}
		if next.val != nil {
			found = next.val
		}
		cur = next
		start = end + 1
	}
	return found
}

// get is the map variable (ngx_http_map_variable).
func (m *Map) get(r *http.Request, _ any) ([]byte, bool) {
	key := m.src.EvalBytes(r)
	if m.hostnames && len(key) > 0 && key[len(key)-1] == '.' {
		key = key[:len(key)-1]
	}
	v := m.find(r, key)
	if v == nil {
		v = m.def
	}
	if v.tpl != nil {
		return v.tpl.EvalBytes(r), true
	}
	return v.lit, true
}

// find is ngx_http_map_find; nil when no key matched or a regex failed
// (logged), which both give the default.
func (m *Map) find(r *http.Request, key []byte) *value {
	low := key
	for i, c := range key {
		if c >= 'A' && c <= 'Z' {
			low = r.Alloc(len(key))
			copy(low, key[:i])
			for j := i; j < len(key); j++ {
				c := key[j]
				if c >= 'A' && c <= 'Z' {
					c |= 0x20
				}
				low[j] = c
			}
			break
		}
	}
	if v := m.exact[string(low)]; v != nil {
		return v
	}
	if len(key) == 0 {
		return nil
	}
	if v := m.head.findHead(low); v != nil {
		return v
	}
	if v := m.tail.findTail(low); v != nil {
		return v
	}
	for i := range m.regexes {
		ok, err := r.RegexExec(m.regexes[i].re, key)
		if err != nil {
			return nil
		}
		if ok {
			return m.regexes[i].val
		}
	}
	return nil
}
