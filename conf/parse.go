package conf

import (
	"errors"
	"io/fs"
	"strings"
)

// MaxDepth bounds the nesting of blocks and includes together. nginx has no
// such limit (it recurses on its C stack); real configurations stay far
// below it, and the bound keeps hostile input from growing the tree and the
// consumers' recursion without limit.
const MaxDepth = 200

// Options tune the parser. The zero value parses as nginx with ngx_lua.
type Options struct {
	// RawBlock reports whether a directive's "{ ... }" holds raw Lua source
	// rather than directives. nil means a name ending in "_by_lua_block",
	// as ngx_lua registers its block directives.
	RawBlock func(name string) bool
	// ConfPrefix is the directory, with a trailing "/", against which
	// relative include paths are resolved (nginx's conf_prefix). When empty,
	// ParseFile and ParseBytes derive it from the file's path as nginx
	// does; ParseCommandLine then resolves against the working directory,
	// so callers should pass the main file's directory.
	ConfPrefix string
	// FS reads files for the main file and include; nil means the
	// operating system's.
	FS FileSystem
}

func (o *Options) rawBlock(name string) bool {
	if o.RawBlock != nil {
		return o.RawBlock(name)
	}
	return strings.HasSuffix(name, "_by_lua_block")
}

// ParseFile reads the configuration file at path, which should be absolute
// as nginx makes it (messages quote it as given), and every file it
// includes.
//
// On a syntax error it returns the tree read so far together with the
// *Error: every complete directive before the error in order, and every
// block still open marked Unclosed with the directives read in it. nginx
// handles directives as it reads them, so a caller checking semantics
// reports an error in that partial tree before the syntax error. When the
// main file cannot be read, the Config is nil.
func ParseFile(path string, opts Options) (*Config, error) {
	p := newParser(&opts, confPrefix(path, opts.ConfPrefix))
	data, err := p.fs.ReadFile(path)
	if err != nil {
		e := p.readError(path, err, nil)
		e.NoLocation = true
		return nil, e
	}
	return p.finish(p.parseData(path, data))
}

// ParseBytes parses data as the content of the configuration file name,
// which locates errors and directives and whose directory resolves
// relative includes. Errors are as for ParseFile. name must not be empty.
// data is kept as Config.Files[0].Data, so the caller must not change it
// while the Config is in use.
func ParseBytes(name string, data []byte, opts Options) (*Config, error) {
	p := newParser(&opts, confPrefix(name, opts.ConfPrefix))
	return p.finish(p.parseData(name, data))
}

// ParseCommandLine parses the directives of nginx's -g option. nginx reads
// them as a file without a name: errors end in "in command line", blocks
// are refused, and directives have an empty File. include works and reads
// files as usual.
func ParseCommandLine(s string, opts Options) (*Config, error) {
	p := newParser(&opts, opts.ConfPrefix)
	lx := newParamLexer(s)
	return p.finish(p.parse(lx, ctxParam, &p.cfg.Main, ordinaryBlock))
}

// blockKind tells how a block's lines treat include. nginx hands the lines
// of a few blocks to the module's own handler (cf->handler) instead of
// looking them up as directives, and each such handler deals with include
// in its own way; the parser must follow it because it expands includes.
type blockKind int

const (
	ordinaryBlock blockKind = iota
	typesBlock              // types: include as everywhere, but "{" is "unexpected"
	mapBlock                // map: its own argument count message
	geoBlock                // geo: its own message, and no glob expansion
	linesBlock              // split_clients, charset_map: include is an ordinary line
)

// kindOf returns the kind of the block opened by the directive name.
func kindOf(name string) blockKind {
	switch name {
	case "types":
		return typesBlock
	case "map":
		return mapBlock
	case "geo":
		return geoBlock
	case "split_clients", "charset_map":
		return linesBlock
	}
	return ordinaryBlock
}

// parseCtx is what the current ngx_conf_parse call reads.
type parseCtx int

const (
	ctxFile  parseCtx = iota // a whole file
	ctxBlock                 // the inside of a { } block
	ctxParam                 // the -g string
)

type parser struct {
	opts   *Options
	fs     FileSystem
	prefix string
	cfg    *Config
	// dumped holds the files already listed in cfg.Files.
	dumped map[string]bool
	// reading holds the files being read, innermost last, to refuse an
	// include cycle.
	reading []string
	depth   int
}

func newParser(opts *Options, prefix string) *parser {
	p := &parser{opts: opts, fs: opts.FS, prefix: prefix, cfg: &Config{}, dumped: map[string]bool{}}
	if p.fs == nil {
		p.fs = osFS{}
	}
	return p
}

// confPrefix is nginx's conf_prefix: the file's directory up to and
// including its last "/". Like nginx, a "/" at the very start does not
// count, and a path without a directory leaves the prefix empty (relative
// to the working directory).
func confPrefix(path, override string) string {
	if override != "" {
		return override
	}
	if i := strings.LastIndexByte(path, '/'); i > 0 {
		return path[:i+1]
	}
	return ""
}

func (p *parser) finish(err *Error) (*Config, error) {
	if err != nil {
		return p.cfg, err
	}
	return p.cfg, nil
}

// parseData parses a file's content into the main context.
func (p *parser) parseData(name string, data []byte) *Error {
	p.addFile(name, data)
	p.reading = append(p.reading, name)
	err := p.parse(newFileLexer(name, data), ctxFile, &p.cfg.Main, ordinaryBlock)
	p.reading = p.reading[:len(p.reading)-1]
	return err
}

func (p *parser) addFile(name string, data []byte) {
	if !p.dumped[name] {
		p.dumped[name] = true
		p.cfg.Files = append(p.cfg.Files, File{Path: name, Data: data})
	}
}

// parse is ngx_conf_parse: it reads statements until the end of the file,
// the block, or the -g string, appending directives to *out as they are
// read so that a partial tree survives an error. kind is the kind of the
// innermost block, which an included file inherits.
func (p *parser) parse(lx *lexer, ctx parseCtx, out *[]*Directive, kind blockKind) *Error {
	for {
		st, err := lx.readToken()
		if err != nil {
			return err
		}
		switch st.kind {
		case tokBlockDone:
			if ctx != ctxBlock {
				return lx.errorf("unexpected \"}\"")
			}
			return nil
		case tokEOF:
			if ctx == ctxBlock {
				return lx.errorf("unexpected end of file, expecting \"}\"")
			}
			return nil
		case tokBlockStart:
			if ctx == ctxParam {
				return lx.errorf("block directives are not supported in -g option")
			}
		}

		if st.words[0] == "include" && kind != linesBlock {
			if err := p.include(lx, st, out, kind); err != nil {
				return err
			}
			continue
		}

		d := &Directive{
			Name:    st.words[0],
			Args:    st.words[1:],
			File:    lx.file,
			Line:    st.line,
			EndLine: lx.line,
		}
		*out = append(*out, d)
		if st.kind != tokBlockStart {
			continue
		}

		d.HasBlock = true
		d.Unclosed = true
		if p.opts.rawBlock(d.Name) {
			d.RawBlock = true
			d.LuaLine = lx.line
			src, err := lx.readLuaBlock()
			if err != nil {
				return err
			}
			d.Args = append(d.Args, src)
		} else {
			if p.depth >= MaxDepth {
				return lx.errorf("too deep nesting of blocks and includes, the limit is %d", MaxDepth)
			}
			p.depth++
			err := p.parse(lx, ctxBlock, &d.Block, kindOf(d.Name))
			p.depth--
			if err != nil {
				return err
			}
		}
		d.Unclosed = false
		d.CloseLine = lx.line
	}
}

// include is ngx_conf_include, with the checks nginx makes before it (in
// ngx_conf_handler, or in the handler of a types, map or geo block): the
// named file, or every file a pattern matches in sorted order, is parsed
// in place into the current context.
func (p *parser) include(lx *lexer, st statement, out *[]*Directive, kind blockKind) *Error {
	if st.kind == tokBlockStart {
		if kind != ordinaryBlock {
			return lx.errorf("unexpected \"{\"")
		}
		return lx.errorf("directive \"include\" is not terminated by \";\"")
	}
	if len(st.words) != 2 {
		switch kind {
		case mapBlock:
			return lx.errorf("invalid number of the map parameters")
		case geoBlock:
			return lx.errorf("invalid number of the geo parameters")
		}
		return lx.errorf("invalid number of arguments in \"include\" directive")
	}
	name := st.words[1]
	if !strings.HasPrefix(name, "/") {
		name = p.prefix + name
	}
	// geo opens the name as written (after looking for a compiled NAME.bin
	// base when it has "ranges", which is the geo module's business).
	if kind == geoBlock || !strings.ContainsAny(name, "*?[") {
		return p.includeFile(lx, name, out, kind)
	}
	for _, m := range glob(p.fs, name) {
		if err := p.includeFile(lx, m, out, kind); err != nil {
			return err
		}
	}
	return nil
}

// includeFile parses one included file into the including context.
func (p *parser) includeFile(from *lexer, name string, out *[]*Directive, kind blockKind) *Error {
	for _, r := range p.reading {
		if r == name {
			return from.errorf("include of \"%s\" recurses into a file being read", name)
		}
	}
	if p.depth >= MaxDepth {
		return from.errorf("too deep nesting of blocks and includes, the limit is %d", MaxDepth)
	}
	data, err := p.fs.ReadFile(name)
	if err != nil {
		return p.readError(name, err, from)
	}
	p.addFile(name, data)
	p.reading = append(p.reading, name)
	p.depth++
	perr := p.parse(newFileLexer(name, data), ctxFile, out, kind)
	p.depth--
	p.reading = p.reading[:len(p.reading)-1]
	return perr
}

// readError reports a file that could not be opened (at the including
// statement, as nginx's open() failure) or opened but not read (nginx's
// pread() failure, logged at "crit" without a location).
func (p *parser) readError(name string, err error, from *lexer) *Error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Op == "read" {
		e := sysError("", 0, "pread() \""+name+"\" failed", err)
		e.Level = "crit"
		e.NoLocation = true
		return e
	}
	if from == nil {
		return sysError("", 0, "open() \""+name+"\" failed", err)
	}
	return sysError(from.file, from.line, "open() \""+name+"\" failed", err)
}
