package regex

import (
	"sort"
	"strings"
	"unicode"
)

// maxRune is the largest code point in UTF-8 mode; in byte mode the
// domain stops at 0xFF.
const maxRune = unicode.MaxRune

// rng is an inclusive range of character values.
type rng struct{ lo, hi rune }

// charset is a set of character values kept as ranges. After norm the
// ranges are sorted, disjoint and not adjacent.
type charset []rng

func (s *charset) add(lo, hi rune) {
	if lo > hi {
		return
	}
	*s = append(*s, rng{lo, hi})
}

func (s *charset) addSet(o charset) {
	*s = append(*s, o...)
}

func (s charset) norm() charset {
	if len(s) < 2 {
		return s
	}
	sort.Slice(s, func(i, j int) bool { return s[i].lo < s[j].lo })
	out := s[:1]
	for _, r := range s[1:] {
		last := &out[len(out)-1]
		if r.lo <= last.hi+1 {
			if r.hi > last.hi {
				last.hi = r.hi
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// complement returns the values of [0, max] that are not in s.
func (s charset) complement(max rune) charset {
	s = s.norm()
	var out charset
	next := rune(0)
	for _, r := range s {
		if r.lo > max {
			break
		}
		if r.lo > next {
			out = append(out, rng{next, r.lo - 1})
		}
		next = r.hi + 1
	}
	if next <= max {
		out = append(out, rng{next, max})
	}
	return out
}

// clip drops the values above max.
func (s charset) clip(max rune) charset {
	var out charset
	for _, r := range s {
		if r.lo > max {
			continue
		}
		if r.hi > max {
			r.hi = max
		}
		out = append(out, r)
	}
	return out
}

func (s charset) contains(c rune) bool {
	for _, r := range s {
		if c >= r.lo && c <= r.hi {
			return true
		}
	}
	return false
}

// tableSet converts a Unicode range table.
func tableSet(t *unicode.RangeTable) charset {
	var s charset
	for _, r := range t.R16 {
		if r.Stride == 1 {
			s = append(s, rng{rune(r.Lo), rune(r.Hi)})
			continue
		}
		for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
			s = append(s, rng{c, c})
		}
	}
	for _, r := range t.R32 {
		if r.Stride == 1 {
			s = append(s, rng{rune(r.Lo), rune(r.Hi)})
			continue
		}
		for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
			s = append(s, rng{c, c})
		}
	}
	return s
}

// ASCII sets used by the escapes and POSIX classes without UCP, as PCRE's
// default ("C" locale) character tables define them.
var (
	setDigit  = charset{{'0', '9'}}
	setSpace  = charset{{'\t', '\r'}, {' ', ' '}}
	setWord   = charset{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}
	setHSpace = charset{{'\t', '\t'}, {' ', ' '}, {0xA0, 0xA0}, {0x1680, 0x1680}, {0x180E, 0x180E},
		{0x2000, 0x200A}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}}
	setVSpace = charset{{'\n', '\r'}, {0x85, 0x85}, {0x2028, 0x2029}}
)

// posixClasses are the ASCII definitions of the POSIX class names.
var posixClasses = map[string]charset{
	"alpha":  {{'A', 'Z'}, {'a', 'z'}},
	"lower":  {{'a', 'z'}},
	"upper":  {{'A', 'Z'}},
	"alnum":  {{'0', '9'}, {'A', 'Z'}, {'a', 'z'}},
	"ascii":  {{0, 0x7F}},
	"blank":  {{'\t', '\t'}, {' ', ' '}},
	"cntrl":  {{0, 0x1F}, {0x7F, 0x7F}},
	"digit":  {{'0', '9'}},
	"graph":  {{0x21, 0x7E}},
	"print":  {{0x20, 0x7E}},
	"punct":  {{'!', '/'}, {':', '@'}, {'[', '`'}, {'{', '~'}},
	"space":  {{'\t', '\r'}, {' ', ' '}},
	"word":   {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}},
	"xdigit": {{'0', '9'}, {'A', 'F'}, {'a', 'f'}},
}

// posixUCP maps the POSIX names that PCRE's UCP mode redefines to Unicode
// properties.
var posixUCP = map[string]string{
	"alpha": "L", "lower": "Ll", "upper": "Lu", "alnum": "Xan",
	"digit": "Nd", "space": "Xps", "word": "Xwd",
}

// propertySet returns the set for a \p name, or false if PCRE does not
// know the name. PCRE2 matches names loosely (case, '_', '-' and spaces
// ignored); PCRE wants them exact.
func propertySet(name string, pcre2 bool) (charset, bool) {
	if pcre2 {
		name = canonicalProperty(name)
		if name == "" {
			return nil, false
		}
	}
	switch name {
	case "Any":
		return charset{{0, maxRune}}, true
	case "L&":
		var s charset
		s.addSet(tableSet(unicode.Lu))
		s.addSet(tableSet(unicode.Ll))
		s.addSet(tableSet(unicode.Lt))
		return s.norm(), true
	case "Xan":
		var s charset
		s.addSet(tableSet(unicode.L))
		s.addSet(tableSet(unicode.N))
		return s.norm(), true
	case "Xps", "Xsp":
		s := charset{{'\t', '\r'}}
		s.addSet(tableSet(unicode.Z))
		return s.norm(), true
	case "Xwd":
		s := charset{{'_', '_'}}
		s.addSet(tableSet(unicode.L))
		s.addSet(tableSet(unicode.N))
		return s.norm(), true
	case "Xuc":
		return charset{{'$', '$'}, {'@', '@'}, {'`', '`'}, {0xA0, 0xD7FF}, {0xE000, maxRune}}, true
	case "C":
		s := tableSet(unicode.C)
		s.addSet(unassigned())
		return s.norm(), true
	case "Cn":
		return unassigned(), true
	}
	if t, ok := unicode.Categories[name]; ok {
		return tableSet(t).norm(), true
	}
	if t, ok := unicode.Scripts[name]; ok {
		return tableSet(t).norm(), true
	}
	return nil, false
}

// unassigned is the complement of every general category.
func unassigned() charset {
	var s charset
	for name, t := range unicode.Categories {
		if len(name) == 1 {
			s.addSet(tableSet(t))
		}
	}
	return s.complement(maxRune)
}

// canonicalProperty finds the exact name for a loosely written one.
func canonicalProperty(name string) string {
	key := looseKey(name)
	for _, special := range []string{"Any", "L&", "Xan", "Xps", "Xsp", "Xwd", "Xuc", "C", "Cn"} {
		if looseKey(special) == key {
			return special
		}
	}
	for n := range unicode.Categories {
		if looseKey(n) == key {
			return n
		}
	}
	for n := range unicode.Scripts {
		if looseKey(n) == key {
			return n
		}
	}
	return ""
}

func looseKey(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || c == '-' || c == ' ':
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
