package regex

import (
	"fmt"
	"strings"
)

// Flags select compile and match options. The letters in the constant docs
// are the ngx.re option letters that ParseOptions maps to them.
type Flags uint32

const (
	// Caseless matches letters without regard to case ("i", and nginx's
	// "~*"). In byte mode only ASCII letters fold, as PCRE's default
	// character tables do; in UTF-8 mode Unicode simple folding applies.
	Caseless Flags = 1 << iota
	// Multiline makes ^ and $ match at internal newlines too ("m").
	Multiline
	// DotAll makes . match a newline too ("s").
	DotAll
	// Extended ignores unescaped white space and #-comments in the
	// pattern ("x").
	Extended
	// Anchored only accepts a match that starts at the start offset ("a").
	Anchored
	// DFA selects leftmost-longest matching without captures, as PCRE's
	// DFA matcher ("d"). See the package documentation for its limits.
	DFA
	// DupNames allows several groups to share one name ("D").
	DupNames
	// JIT is accepted for compatibility and changes nothing ("j").
	JIT
	// JavaScript enables PCRE's JavaScript compatibility syntax ("J").
	JavaScript
	// CompileOnce asks the caller to cache the compiled Regexp ("o");
	// Compile ignores it, Cache honours it by keying on it.
	CompileOnce
	// UTF8 decodes pattern and subject as UTF-8 ("u"); an invalid subject
	// fails with ErrBadUTF8.
	UTF8
	// NoUTF8Check is UTF8 without the subject validity check ("U").
	NoUTF8Check
	// PCRE2 selects the dialect of nginx's own regexes (PCRE2 10.42):
	// its syntax differences and its compile error texts. Without it the
	// dialect is that of ngx.re (PCRE 8.39).
	PCRE2
)

// optionLetters lists ngx.re's option letters in a fixed order so that
// Flags.String is deterministic.
var optionLetters = [...]struct {
	c byte
	f Flags
}{
	{'a', Anchored}, {'d', DFA}, {'D', DupNames}, {'i', Caseless},
	{'j', JIT}, {'J', JavaScript}, {'m', Multiline}, {'o', CompileOnce},
	{'s', DotAll}, {'u', UTF8}, {'U', UTF8 | NoUTF8Check}, {'x', Extended},
}

// ParseOptions converts an ngx.re option string such as "ijo" to Flags.
// An unknown letter yields ngx.re's error text, for example
// `unknown flag "H" (flags "Hm")`.
func ParseOptions(s string) (Flags, error) {
	var f Flags
	for i := 0; i < len(s); i++ {
		known := false
		for _, o := range optionLetters {
			if o.c == s[i] {
				f |= o.f
				known = true
				break
			}
		}
		if !known {
			return 0, fmt.Errorf("unknown flag \"%s\" (flags \"%s\")", s[i:i+1], s)
		}
	}
	return f, nil
}

// String returns the option letters of f (the inverse of ParseOptions,
// with "U" standing for UTF8|NoUTF8Check) followed by "+pcre2" when the
// PCRE2 dialect is selected.
func (f Flags) String() string {
	var b strings.Builder
	for _, o := range optionLetters {
		if o.c == 'u' && f&NoUTF8Check != 0 {
			continue
		}
		if f&o.f == o.f {
			b.WriteByte(o.c)
		}
	}
	if f&PCRE2 != 0 {
		b.WriteString("+pcre2")
	}
	return b.String()
}
