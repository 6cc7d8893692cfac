package conf

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files and recorded nginx answers")

// annotate prints a tree as Format does, with each directive's file and
// lines in a trailing comment, so that golden files pin locations too.
func annotate(b *bytes.Buffer, ds []*Directive, depth int, base string) {
	for _, d := range ds {
		indent := strings.Repeat("    ", depth)
		b.WriteString(indent)
		b.WriteString(quoteWord(d.Name))
		for _, a := range d.HeadArgs() {
			b.WriteString(" " + quoteWord(a))
		}
		loc := fmt.Sprintf("%s:%d", strings.TrimPrefix(d.File, base), d.Line)
		if d.EndLine != d.Line {
			loc += fmt.Sprintf("-%d", d.EndLine)
		}
		switch {
		case d.RawBlock:
			fmt.Fprintf(b, " {%s}  # %s lua %d close %d\n", d.Args[len(d.Args)-1], loc, d.LuaLine, d.CloseLine)
		case d.HasBlock:
			fmt.Fprintf(b, " {  # %s close %d\n", loc, d.CloseLine)
			annotate(b, d.Block, depth+1, base)
			b.WriteString(indent + "}\n")
		default:
			fmt.Fprintf(b, ";  # %s\n", loc)
		}
	}
}

// TestGolden parses real-world configurations and compares the annotated
// tree with testdata/golden/NAME/tree.golden (-update rewrites them).
func TestGolden(t *testing.T) {
	dirs, err := os.ReadDir("testdata/golden")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 20 {
		t.Fatalf("only %d golden configurations", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(dir.Name(), func(t *testing.T) {
			base := filepath.Join("testdata/golden", dir.Name()) + "/"
			cfg, err := ParseFile(base+"nginx.conf", Options{})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			b.WriteString("# files:")
			for _, f := range cfg.Files {
				b.WriteString(" " + strings.TrimPrefix(f.Path, base))
			}
			b.WriteString("\n")
			annotate(&b, cfg.Main, 0, base)

			golden := base + "tree.golden"
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("tree differs from %s (run with -update after checking):\n%s", golden, b.Bytes())
			}

			// Formatting and parsing again gives the same tree. The
			// buffer-window case is the exception by design: moved to
			// other offsets, its Lua source meets nginx's buffer
			// differently.
			if dir.Name() == "lua-buffer-window" {
				return
			}
			again, err := ParseBytes("again.conf", Format(cfg.Main), Options{})
			if err != nil {
				t.Fatalf("formatted tree does not parse: %v\n%s", err, Format(cfg.Main))
			}
			if words(again.Main) != words(cfg.Main) {
				t.Errorf("round trip changed the tree:\n%s\nbecame\n%s", words(cfg.Main), words(again.Main))
			}
		})
	}
}
