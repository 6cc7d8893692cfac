// Package conf reads nginx.conf: it lexes and parses the configuration
// language exactly as nginx does and returns a tree of directives, each with
// the file and line it came from. It knows nothing of what directives mean;
// the core package gives them semantics.
//
// The package is used at start-up and on reload, off the event loops; its
// functions are safe to call from any goroutine and share no state.
package conf

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
	Block    []*Directive
	HasBlock bool
	// File and Line locate the directive's name token. Line is 1-based.
	File string
	Line int
	// LuaLine is, for a raw Lua block, the line of the opening "{": line 1
	// of the Lua source is that line.
	LuaLine int
}

// Config is a parsed configuration: the main-context directives with every
// include already expanded in place, and every file read, in read order, for
// "nginx -T".
type Config struct {
	Main  []*Directive
	Files []File
}

// File is one configuration file as read from disk.
type File struct {
	Path string
	Data []byte
}
