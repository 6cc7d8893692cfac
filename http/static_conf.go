package http

import (
	"strings"

	"gresty/conf"
	"gresty/core"
)

// types { ... } lines: "type ext ext ...;" (ngx_http_core_types).
func setTypes(p *core.Parser, d *conf.Directive, c any) error {
	l := c.(*LocConf)
	if l.types == nil || !l.typesSet {
		l.types = map[string]string{}
		l.typesSet = true
	}
	return p.Lines(d, func(line *conf.Directive) error {
		if line.Name == "include" {
			return p.Errorf(line, "invalid number of arguments in \"include\" directive")
		}
		typ := line.Name
		if len(line.Args) == 0 {
			return p.Errorf(line, "invalid number of arguments in \"types\" directive")
		}
		for _, ext := range line.Args {
			key := strings.ToLower(ext)
			if old, ok := l.types[key]; ok {
				p.Warnf(line, "duplicate extension \"%s\", content type: \"%s\", previous content type: \"%s\"", ext, typ, old)
			}
			l.types[key] = typ
		}
		return nil
	})
}

// root and alias (ngx_http_core_root).
func setRoot(p *core.Parser, d *conf.Directive, c any) error {
	l := c.(*LocConf)
	alias := d.Name == "alias"
	if l.Root.Set {
		if l.Alias == alias {
			return p.Invalid(d, "is duplicate")
		}
		prev := "root"
		if l.Alias {
			prev = "alias"
		}
		return p.Errorf(d, "\"%s\" directive is duplicate, \"%s\" directive was specified earlier", d.Name, prev)
	}
	if l.Named && alias {
		return p.Errorf(d, "the \"alias\" directive cannot be used inside the named location")
	}
	v := d.Args[0]
	if strings.Contains(v, "$document_root") || strings.Contains(v, "${document_root}") {
		return p.Errorf(d, "the $document_root variable cannot be used in the \"%s\" directive", d.Name)
	}
	if strings.Contains(v, "$realpath_root") || strings.Contains(v, "${realpath_root}") {
		return p.Errorf(d, "the $realpath_root variable cannot be used in the \"%s\" directive", d.Name)
	}
	if alias && l.Regex == nil && strings.HasSuffix(l.Name, "/") && !strings.HasSuffix(v, "/") {
		// nginx accepts this and produces broken paths; keep its behaviour.
	}
	// nginx drops a root's trailing slash (not an alias's); a root of "/"
	// becomes "" and stays absolute.
	absolute := strings.HasPrefix(v, "/")
	if !alias && strings.HasSuffix(v, "/") {
		v = v[:len(v)-1]
	}
	t, err := CompileTemplateP(p, v)
	if err != nil {
		return err
	}
	if t.Static() && !(absolute && v == "") {
		full := p.Cycle.FullName(v, false)
		t, err = CompileTemplateP(p, full)
		if err != nil {
			return err
		}
	}
	if alias && l.Regex != nil && t.CaptureMask == 0 && t.Static() {
		// nginx: an alias in a regex location without captures maps
		// every URI to the alias itself.
	}
	l.Root = core.Of(t)
	l.Alias = alias
	if alias {
		l.AliasLen = len(l.Name)
		if l.Regex != nil {
			l.AliasLen = AliasRegex
		}
	}
	return nil
}

// tryFile is one try_files argument.
type tryFile struct {
	tpl  *Template
	dir  bool // ends with "/": test a directory
	code int  // the last argument "=code"
}

func setTryFiles(p *core.Parser, d *conf.Directive, c any) error {
	l := c.(*LocConf)
	if l.TryFiles != nil {
		return p.Invalid(d, "is duplicate")
	}
	for i, a := range d.Args {
		tf := &tryFile{}
		if i == len(d.Args)-1 && strings.HasPrefix(a, "=") {
			code, ok := core.Atoi(a[1:])
			if !ok || code > 999 {
				return p.Errorf(d, "invalid code \"%s\"", a)
			}
			tf.code = code
			l.TryFiles = append(l.TryFiles, tf)
			continue
		}
		if strings.HasSuffix(a, "/") && i != len(d.Args)-1 {
			tf.dir = true
			a = a[:len(a)-1]
		}
		t, err := CompileTemplateP(p, a)
		if err != nil {
			return err
		}
		tf.tpl = t
		l.TryFiles = append(l.TryFiles, tf)
	}
	return nil
}
