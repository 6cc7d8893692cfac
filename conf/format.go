package conf

import (
	"bytes"
	"strings"
)

// Dump returns what "nginx -T" prints to stdout after its two syntax
// lines: for every file read, in read order, "# configuration file PATH:"
// on a line, the file's bytes, and a newline (so a file that ends in a
// newline is followed by an empty line, as in nginx's output).
func Dump(cfg *Config) []byte {
	var b bytes.Buffer
	for _, f := range cfg.Files {
		b.WriteString("# configuration file ")
		b.WriteString(f.Path)
		b.WriteString(":\n")
		b.Write(f.Data)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Format prints directives as nginx configuration text, one directive per
// line, blocks indented by four spaces. Words that need it are quoted so
// that parsing the text again gives the same names, arguments and blocks;
// a raw Lua block is printed verbatim between its braces.
func Format(ds []*Directive) []byte {
	var b bytes.Buffer
	formatList(&b, ds, 0)
	return b.Bytes()
}

// String returns d (with its block) as Format prints it, without the final
// newline.
func (d *Directive) String() string {
	return strings.TrimSuffix(string(Format([]*Directive{d})), "\n")
}

func formatList(b *bytes.Buffer, ds []*Directive, depth int) {
	for _, d := range ds {
		indent := strings.Repeat("    ", depth)
		b.WriteString(indent)
		b.WriteString(quoteWord(d.Name))
		args := d.HeadArgs()
		for _, a := range args {
			b.WriteByte(' ')
			b.WriteString(quoteWord(a))
		}
		switch {
		case !d.HasBlock:
			b.WriteString(";\n")
		case d.RawBlock:
			b.WriteString(" {")
			if !d.Unclosed && len(d.Args) > 0 {
				b.WriteString(d.Args[len(d.Args)-1])
			}
			b.WriteString("}\n")
		default:
			b.WriteString(" {\n")
			formatList(b, d.Block, depth+1)
			b.WriteString(indent)
			b.WriteString("}\n")
		}
	}
}

// quoteWord returns w as a bare word when nginx's lexer reads it back
// unchanged, and double-quoted with nginx's escapes otherwise.
func quoteWord(w string) string {
	if bareWord(w) {
		return w
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(w); i++ {
		switch c := w[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func bareWord(w string) bool {
	if w == "" {
		return false
	}
	switch w[0] {
	case '"', '\'', '#':
		return false
	}
	for i := 0; i < len(w); i++ {
		switch c := w[i]; {
		case isSpace(c), c == ';', c == '{', c == '}', c == '\\':
			return false
		}
	}
	return true
}
