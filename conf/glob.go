package conf

import (
	"sort"
	"strings"
)

// glob expands an include pattern as glibc's glob(pattern, 0, NULL, ...)
// does for nginx: a wildcard never matches a leading "." of a name, "."
// and ".." are matched like any entry, a backslash quotes the next
// character, directory parts written without wildcards are kept as written,
// and the whole list is sorted in byte order (nginx runs in the C locale).
// A pattern that matches nothing gives an empty list.
func glob(fsys FileSystem, pattern string) []string {
	out := globUnsorted(fsys, pattern)
	sort.Strings(out)
	return out
}

func globUnsorted(fsys FileSystem, pattern string) []string {
	slash := strings.LastIndexByte(pattern, '/')
	if slash < 0 {
		return globInDir(fsys, pattern, ".", "")
	}
	dir, file := pattern[:slash], pattern[slash+1:]
	if slash == 0 {
		dir = "/"
	}
	if file == "" {
		// "dir*/": only directories, each with a trailing "/".
		var out []string
		for _, d := range globUnsorted(fsys, dir) {
			if _, err := fsys.ReadDir(d); err == nil {
				out = append(out, d+"/")
			}
		}
		return out
	}
	prefix := func(d string) string {
		if d == "/" {
			return "/"
		}
		return d + "/"
	}
	if !hasMagic(dir) {
		dir = unquote(dir)
		return globInDir(fsys, file, dir, prefix(dir))
	}
	var out []string
	for _, d := range globUnsorted(fsys, dir) {
		out = append(out, globInDir(fsys, file, d, prefix(d))...)
	}
	return out
}

// globInDir matches one path element against the entries of dir and
// returns the matches with prefix prepended.
func globInDir(fsys FileSystem, pat, dir, prefix string) []string {
	if !hasMagic(pat) {
		name := unquote(pat)
		if fsys.Exists(prefix + name) {
			return []string{prefix + name}
		}
		return nil
	}
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, name := range append([]string{".", ".."}, names...) {
		if fnmatch(pat, name) {
			out = append(out, prefix+name)
		}
	}
	return out
}

// hasMagic reports whether pat has a wildcard glob would expand: "*", "?"
// or a "[" with a later "]"; a backslash hides the character after it.
func hasMagic(pat string) bool {
	bracket := false
	for i := 0; i < len(pat); i++ {
		switch pat[i] {
		case '*', '?':
			return true
		case '\\':
			if i+1 < len(pat) {
				i++
			}
		case '[':
			bracket = true
		case ']':
			if bracket {
				return true
			}
		}
	}
	return false
}

// unquote removes the backslashes that quote characters in a path element
// without wildcards.
func unquote(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// fnmatch is glibc's fnmatch(pat, name, FNM_PERIOD) in the C locale. It
// backtracks to the last "*" only, which is enough for glob patterns and
// keeps it linear in practice.
func fnmatch(pat, name string) bool {
	pi, ni := 0, 0
	starPi, starNi := -1, 0
	for {
		if pi < len(pat) {
			if pat[pi] == '*' {
				if ni == 0 && len(name) > 0 && name[0] == '.' {
					return false
				}
				for pi < len(pat) && pat[pi] == '*' {
					pi++
				}
				starPi, starNi = pi, ni
				continue
			}
			if ni < len(name) {
				if w, ok := matchOne(pat, pi, name, ni); ok {
					pi += w
					ni++
					continue
				}
			}
		} else if ni == len(name) {
			return true
		}
		if starPi < 0 || starNi >= len(name) {
			return false
		}
		starNi++
		pi, ni = starPi, starNi
	}
}

// matchOne tests name[ni] against the pattern element at pat[pi] other
// than "*", returning the element's width.
func matchOne(pat string, pi int, name string, ni int) (int, bool) {
	leadingDot := ni == 0 && name[0] == '.'
	switch c := pat[pi]; c {
	case '?':
		return 1, !leadingDot
	case '[':
		end, ok := bracketMatch(pat, pi, name[ni])
		if end < 0 {
			// No closing "]": the "[" is an ordinary character.
			return 1, name[ni] == '['
		}
		return end - pi, ok && !leadingDot
	case '\\':
		if pi+1 < len(pat) {
			return 2, name[ni] == pat[pi+1]
		}
		return 1, name[ni] == c
	default:
		return 1, name[ni] == c
	}
}

// bracketMatch parses the bracket expression at pat[pi] ("[") and tests
// ch against it. end is the offset after the closing "]", or -1 when
// the expression is not closed.
func bracketMatch(pat string, pi int, ch byte) (end int, ok bool) {
	i := pi + 1
	negate := false
	if i < len(pat) && (pat[i] == '!' || pat[i] == '^') {
		negate = true
		i++
	}
	matched := false
	first := true
	for {
		if i >= len(pat) {
			return -1, false
		}
		c := pat[i]
		if c == ']' && !first {
			i++
			break
		}
		first = false
		if c == '[' && i+1 < len(pat) && pat[i+1] == ':' {
			if j := strings.Index(pat[i+2:], ":]"); j >= 0 {
				class := pat[i+2 : i+2+j]
				if inClass(class, ch) {
					matched = true
				}
				i += 2 + j + 2
				continue
			}
		}
		if c == '\\' && i+1 < len(pat) {
			i++
			c = pat[i]
		}
		i++
		lo, hi := c, c
		if i+1 < len(pat) && pat[i] == '-' && pat[i+1] != ']' {
			hi = pat[i+1]
			i += 2
			if hi == '\\' && i < len(pat) {
				hi = pat[i]
				i++
			}
		}
		if lo <= ch && ch <= hi {
			matched = true
		}
	}
	return i, matched != negate
}

// inClass tests ch against a POSIX character class in the C locale.
func inClass(class string, ch byte) bool {
	upper := ch >= 'A' && ch <= 'Z'
	lower := ch >= 'a' && ch <= 'z'
	digit := ch >= '0' && ch <= '9'
	switch class {
	case "alpha":
		return upper || lower
	case "digit":
		return digit
	case "alnum":
		return upper || lower || digit
	case "upper":
		return upper
	case "lower":
		return lower
	case "space":
		return ch == ' ' || (ch >= '\t' && ch <= '\r')
	case "blank":
		return ch == ' ' || ch == '\t'
	case "punct":
		return ch > ' ' && ch < 0x7f && !upper && !lower && !digit
	case "print":
		return ch >= ' ' && ch < 0x7f
	case "graph":
		return ch > ' ' && ch < 0x7f
	case "cntrl":
		return ch < ' ' || ch == 0x7f
	case "xdigit":
		return digit || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')
	}
	return false
}
