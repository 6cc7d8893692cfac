// Package conf reads nginx.conf: it lexes and parses the configuration
// language exactly as nginx does and returns a tree of directives, each with
// the file and line it came from. It knows nothing of what directives mean;
// the core package gives them semantics.
//
// The lexers follow nginx 1.22's ngx_conf_read_token and ngx_lua 0.10.23's
// Lua block parser, down to the effects of nginx's 4096-byte read buffer:
// "too long parameter" errors, and the Lua source stretches ngx_lua drops
// and the lines it miscounts when a stretch of Lua holds no token. include
// is expanded in place as nginx does, with the rules the types, map, geo,
// split_clients and charset_map blocks give it. Deliberate differences: an
// include cycle is an error (nginx recurses until it runs out of file
// descriptors), blocks and includes nest at most MaxDepth deep, and include
// in a geo block with "ranges" does not look for a compiled NAME.bin base.
//
// The package is used at start-up and on reload, off the event loops; its
// functions are safe to call from any goroutine and share no state.
package conf

import "fmt"

// Directive is one directive as nginx's parser sees it.
type Directive struct {
	// Name is the directive name, after nginx's unescaping (a quoted name
	// is legal in nginx and means the same word).
	Name string
	// Args are the arguments after the name, with quotes removed and
	// nginx's escapes (\" \' \\ \t \r \n) applied; variables such as $host
	// are kept verbatim for later compilation. For a raw Lua block
	// (content_by_lua_block { ... }) the last argument is the Lua source
	// between the braces, verbatim.
	Args []string
	// Block holds the directives inside { }; it is nil when the directive
	// was terminated by ";". HasBlock tells an empty block from no block.
	// A raw Lua block has HasBlock set and a nil Block.
	Block    []*Directive
	HasBlock bool
	// File and Line locate the directive's name token. Line is 1-based.
	// File is "" for a directive given on the command line (-g).
	File string
	Line int
	// EndLine is the line of the ";" or "{" that ended the directive.
	// nginx reports a directive's semantic errors at this line (the
	// lexer's position when the directive is handled).
	EndLine int
	// CloseLine is the line of the "}" that closed the block (0 without a
	// block). nginx reports errors found after a block has been read (a
	// duplicate Lua handler, an upstream without servers) at this line.
	CloseLine int
	// Unclosed marks a block whose "}" was never read: it is set only in the
	// partial tree returned together with a syntax error, on every block
	// that was still open when the error occurred. An unclosed raw block
	// has no body in Args.
	Unclosed bool
	// RawBlock marks a directive whose block was read as raw Lua source
	// (see Options.RawBlock) rather than as directives.
	RawBlock bool
	// LuaLine is, for a raw Lua block, the line of the opening "{": line 1
	// of the Lua source is that line.
	LuaLine int
}

// HeadArgs returns the arguments written before the block: Args without
// the Lua source of a complete raw block. nginx counts these when it checks
// a directive's number of arguments. The result aliases d.Args.
func (d *Directive) HeadArgs() []string {
	if d.RawBlock && !d.Unclosed && len(d.Args) > 0 {
		return d.Args[:len(d.Args)-1]
	}
	return d.Args
}

// Errorf returns an error located where nginx reports errors about d: its
// file at EndLine (falling back to Line), or "command line" for a -g
// directive. The message is cut to nginx's limit for configuration errors.
func (d *Directive) Errorf(format string, a ...any) *Error {
	line := d.EndLine
	if line == 0 {
		line = d.Line
	}
	return NewError(d.File, line, fmt.Sprintf(format, a...))
}

// Config is a parsed configuration: the main-context directives with every
// include already expanded in place, and every file read, in read order, for
// "nginx -T". A file read more than once is listed once, at its first read,
// as nginx dumps it.
type Config struct {
	Main  []*Directive
	Files []File
}

// File is one configuration file as read from disk.
type File struct {
	Path string
	Data []byte
}
