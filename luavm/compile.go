package luavm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// idSize is LuaJIT's LUA_IDSIZE: chunk names in error positions are cut
// to fit in it.
const idSize = 60

// ShortName returns the chunk name as LuaJIT prints it in error positions
// for a chunk loaded under name: "=text" shows text, "@path" shows the path
// (its tail when too long), anything else is source code shown as
// [string "first line..."].
func ShortName(name string) string {
	switch {
	case strings.HasPrefix(name, "="):
		s := name[1:]
		if len(s) > idSize-1 {
			s = s[:idSize-1]
		}
		return s
	case strings.HasPrefix(name, "@"):
		s := name[1:]
		if len(s) >= idSize {
			s = "..." + s[len(s)-(idSize-4):]
		}
		return s
	}
	n := 0
	for n < len(name) && n < idSize-12 && name[n] >= ' ' {
		n++
	}
	if n < len(name) {
		if n > idSize-15 {
			n = idSize - 15
		}
		return `[string "` + name[:n] + `..."]`
	}
	return `[string "` + name + `"]`
}

// CompileInline compiles the Lua code of an inline handler
// (content_by_lua_block and the like) into the function each request
// calls. name is ngx_lua's chunk name, such as
// "content_by_lua(nginx.conf:12)"; error positions read
// "content_by_lua(nginx.conf:12):3: ...". A syntax error comes back as
// "failed to load inlined Lua code: <position>: <message>".
func (vm *VM) CompileInline(src, name string) (*lua.LFunction, error) {
	fn, err := vm.compile(src, ShortName("="+name))
	if err != nil {
		return nil, fmt.Errorf("failed to load inlined Lua code: %s", err.Error())
	}
	return fn, nil
}

// CompileFile compiles the Lua file of a *_by_lua_file handler; its chunk
// name is the path as given. Errors read as ngx_lua's:
// failed to load external Lua file "<path>": <message>.
func (vm *VM) CompileFile(path string) (*lua.LFunction, error) {
	fn, err := vm.loadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to load external Lua file \"%s\": %s", path, err.Error())
	}
	return fn, nil
}

// Load compiles src as Lua's load/loadstring do, under a chunk name in
// Lua's convention ("=name", "@file" or the source itself). The error
// text is what loadstring would return.
func (vm *VM) Load(src, chunkname string) (*lua.LFunction, error) {
	return vm.compile(src, ShortName(chunkname))
}

func (vm *VM) loadFile(path string) (*lua.LFunction, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		what := "open"
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Op == "read" {
			what = "read"
		}
		return nil, fmt.Errorf("cannot %s %s: %s", what, path, strerror(err))
	}
	src := string(data)
	if strings.HasPrefix(src, "\x1bLJ") || strings.HasPrefix(src, "\x1bLua") {
		return nil, fmt.Errorf("cannot load incompatible bytecode")
	}
	if strings.HasPrefix(src, "#") {
		// LuaJIT skips a first line starting with '#' (a shebang) but
		// keeps its newline, so line numbers hold.
		if i := strings.IndexByte(src, '\n'); i >= 0 {
			src = src[i:]
		} else {
			src = ""
		}
	}
	return vm.compile(src, ShortName("@"+path))
}

// strerror renders an OS error as C's strerror does.
func strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		if s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// compile turns source into a function whose chunk shows as display in
// error positions. The main function is made non-vararg when it does not
// use "...", and no function builds Lua 5.0's implicit "arg" table:
// LuaJIT has neither, and gopher-lua would build that table on every call
// of every vararg function.
func (vm *VM) compile(src, display string) (*lua.LFunction, error) {
	if display == glueChunk {
		display += " "
	}
	pre, lexErr := prepass(src)
	if lexErr != nil {
		return nil, fmt.Errorf("%s:%d: %s near '%s'", display, lexErr.line, lexErr.msg, lexErr.near)
	}
	chunk, err := parse.Parse(strings.NewReader(pre), display)
	if err != nil {
		return nil, errors.New(syntaxMessage(display, src, err))
	}
	if len(pre) != len(src) || pre != src {
		if m := nameMarker(src); strings.Contains(pre, m) {
			restoreNames(chunk, m)
		}
	}
	fixAssignments(chunk)
	proto, err := lua.Compile(chunk, display)
	if err != nil {
		var ce *lua.CompileError
		if errors.As(err, &ce) {
			return nil, errors.New(compileMessage(display, src, ce))
		}
		return nil, err
	}
	if proto.IsVarArg&lua.VarArgNeedsArg != 0 {
		proto.IsVarArg = 0
	}
	dropArgTables(proto)
	return vm.L.NewFunctionFromProto(proto), nil
}

func dropArgTables(p *lua.FunctionProto) {
	for _, c := range p.FunctionPrototypes {
		c.IsVarArg &^= lua.VarArgNeedsArg
		dropArgTables(c)
	}
}

// compileMessage words gopher-lua's compile errors (goto and label
// checks, register limits) as LuaJIT does.
func compileMessage(display, src string, ce *lua.CompileError) string {
	line, msg := ce.Line, ce.Message
	var name string
	var at int
	if n, _ := fmt.Sscanf(msg, "no visible label '%s for <goto> at line %d", &name, &at); n == 2 {
		return fmt.Sprintf("%s:%d: undefined label '%s", display, at, name)
	}
	if n, _ := fmt.Sscanf(msg, "label '%s already defined on line %d", &name, &at); n == 2 {
		// LuaJIT reports the line of the second definition.
		label := strings.TrimSuffix(name, "'")
		if toks, err := tokenize(src); err == nil {
			seen := 0
			for i := 0; i+2 < len(toks); i++ {
				if toks[i].text == "::" && toks[i+1].text == label && toks[i+2].text == "::" {
					if seen++; seen == 2 {
						line = toks[i].line
						break
					}
				}
			}
		}
		return fmt.Sprintf("%s:%d: duplicate label '%s", display, line, name)
	}
	return fmt.Sprintf("%s:%d: %s", display, line, msg)
}
