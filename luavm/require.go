package luavm

import (
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

func (vm *VM) openOS() {
	L := vm.L
	os := L.GetGlobal("os").(*lua.LTable)
	// os.exit would end every loop and connection of the server at once.
	os.RawSetString("exit", L.NewFunction(func(L *lua.LState) int {
		Raise(L, "os.exit is disabled")
		return 0
	}))
}

// expandPath substitutes the default path for ";;", as ngx_lua does for
// lua_package_path.
func expandPath(p, def string) string {
	if p == "" {
		return def
	}
	if strings.Contains(p, ";;") {
		p = strings.Replace(p, ";;", ";"+def+";", 1)
		p = strings.Trim(p, ";")
	}
	return p
}

// envPath is the search path LuaJIT starts with: the environment
// variable's value, where ";;" stands for the built-in path, or the
// built-in path when it is not set.
func envPath(name, builtin string) string {
	v, ok := os.LookupEnv(name)
	if !ok {
		return builtin
	}
	return strings.ReplaceAll(v, ";;", ";"+builtin+";")
}

func (vm *VM) openPackage() {
	L := vm.L
	pkg := L.GetGlobal("package").(*lua.LTable)
	pkg.RawSetString("path", lua.LString(expandPath(vm.opts.PackagePath, vm.defaultPath())))
	pkg.RawSetString("cpath", lua.LString(expandPath(vm.opts.PackageCPath, vm.defaultCPath())))
	loaders := L.CreateTable(4, 0)
	for _, fn := range []lua.LGFunction{loaderPreload, vm.loaderLua, loaderC, loaderCRoot} {
		loaders.Append(L.NewFunction(fn))
	}
	pkg.RawSetString("loaders", loaders)
	pkg.RawSetString("searchpath", L.NewFunction(pkgSearchPath))
	L.SetField(L.Get(lua.RegistryIndex), "_LOADERS", loaders)
	L.SetGlobal("require", L.NewFunction(vm.require))
}

// SetPackagePath sets package.path (lua_package_path); ";;" stands for
// the default path.
func (vm *VM) SetPackagePath(p string) {
	vm.opts.PackagePath = p
	vm.L.SetField(vm.L.GetGlobal("package"), "path", lua.LString(expandPath(p, vm.defaultPath())))
}

// SetPackageCPath sets package.cpath (lua_package_cpath).
func (vm *VM) SetPackageCPath(p string) {
	vm.opts.PackageCPath = p
	vm.L.SetField(vm.L.GetGlobal("package"), "cpath", lua.LString(expandPath(p, vm.defaultCPath())))
}

// defaultPath is what ";;" stands for in package.path: LUA_PATH's
// value (its own ";;" the built-in path), else the built-in path.
func (vm *VM) defaultPath() string { return envPath("LUA_PATH", DefaultPackagePath) }

// defaultCPath is defaultPath for package.cpath and LUA_CPATH.
func (vm *VM) defaultCPath() string { return envPath("LUA_CPATH", DefaultPackageCPath) }

func pkgField(L *lua.LState, name string) lua.LValue {
	return L.GetField(L.GetGlobal("package"), name)
}

// searchPath tries each template of path with name's dots replaced by
// sep, returning the first readable file or LuaJIT's list of misses.
func searchPath(name, path, sep string) (string, string) {
	if sep != "" {
		name = strings.ReplaceAll(name, sep, "/")
	}
	var miss strings.Builder
	for _, tmpl := range strings.Split(path, ";") {
		if tmpl == "" {
			continue
		}
		file := strings.ReplaceAll(tmpl, "?", name)
		if f, err := os.Open(file); err == nil {
			f.Close()
			return file, ""
		}
		miss.WriteString("\n\tno file '")
		miss.WriteString(file)
		miss.WriteString("'")
	}
	return "", miss.String()
}

func pkgSearchPath(L *lua.LState) int {
	name := checkString(L, 1)
	path := checkString(L, 2)
	sep := L.OptString(3, ".")
	file, miss := searchPath(name, path, sep)
	if file == "" {
		L.Push(lua.LNil)
		L.Push(lua.LString(miss))
		return 2
	}
	L.Push(lua.LString(file))
	return 1
}

func loaderPreload(L *lua.LState) int {
	name := checkString(L, 1)
	pre, ok := pkgField(L, "preload").(*lua.LTable)
	if !ok {
		Raise(L, "'package.preload' must be a table")
	}
	if v := pre.RawGetString(name); v != lua.LNil {
		L.Push(v)
		return 1
	}
	L.Push(lua.LString("\n\tno field package.preload['" + name + "']"))
	return 1
}

func (vm *VM) loaderLua(L *lua.LState) int {
	name := checkString(L, 1)
	path, ok := pkgField(L, "path").(lua.LString)
	if !ok {
		Raise(L, "'package.path' must be a string")
	}
	file, miss := searchPath(name, string(path), ".")
	if file == "" {
		L.Push(lua.LString(miss))
		return 1
	}
	fn, err := vm.loadFile(file)
	if err != nil {
		Raise(L, "error loading module '%s' from file '%s':\n\t%s", name, file, err.Error())
	}
	L.Push(fn)
	return 1
}

// loaderC only reports misses: C modules cannot be loaded into this VM.
func loaderC(L *lua.LState) int {
	name := checkString(L, 1)
	return cLoad(L, name, name)
}

func loaderCRoot(L *lua.LState) int {
	name := checkString(L, 1)
	i := strings.IndexByte(name, '.')
	if i < 0 {
		return 0
	}
	return cLoad(L, name, name[:i])
}

func cLoad(L *lua.LState, name, file string) int {
	cpath, ok := pkgField(L, "cpath").(lua.LString)
	if !ok {
		Raise(L, "'package.cpath' must be a string")
	}
	found, miss := searchPath(file, string(cpath), ".")
	if found == "" {
		L.Push(lua.LString(miss))
		return 1
	}
	Raise(L, "error loading module '%s' from file '%s':\n\tC modules are not supported", name, found)
	return 0
}

// require is Lua 5.1's, with LuaJIT's messages. The module's main chunk
// runs as a nested call, so it cannot yield: ngx_lua reports "attempt to
// yield across C-call boundary" there too.
func (vm *VM) require(L *lua.LState) int {
	name := checkString(L, 1)
	loaded, ok := pkgField(L, "loaded").(*lua.LTable)
	if !ok {
		Raise(L, "'package.loaded' must be a table")
	}
	if v := loaded.RawGetString(name); lua.LVAsBool(v) {
		if v == vm.loading() {
			Raise(L, "loop or previous error loading module '%s'", name)
		}
		L.Push(v)
		return 1
	}
	loaders, ok := pkgField(L, "loaders").(*lua.LTable)
	if !ok {
		Raise(L, "'package.loaders' must be a table")
	}
	var miss strings.Builder
	var loader lua.LValue
	for i := 1; ; i++ {
		l := loaders.RawGetInt(i)
		if l == lua.LNil {
			Raise(L, "module '%s' not found:%s", name, miss.String())
		}
		L.Push(l)
		L.Push(lua.LString(name))
		L.Call(1, 1)
		r := L.Get(-1)
		L.Pop(1)
		if _, isFn := r.(*lua.LFunction); isFn {
			loader = r
			break
		}
		if s, isStr := r.(lua.LString); isStr {
			miss.WriteString(string(s))
		}
	}
	loaded.RawSetString(name, vm.loading())
	L.Push(loader)
	L.Push(lua.LString(name))
	L.Call(1, 1)
	r := L.Get(-1)
	L.Pop(1)
	if r != lua.LNil {
		loaded.RawSetString(name, r)
		// a Lua module's table is read by name on every call of its
		// functions; everything that changes it is Lua code, which field
		// caches see (a Go module's loader may keep writing to its own).
		if t, ok := r.(*lua.LTable); ok && isLuaFunction(loader) {
			vm.CacheFields(t)
		}
	}
	if loaded.RawGetString(name) == vm.loading() {
		loaded.RawSetString(name, lua.LTrue)
	}
	L.Push(loaded.RawGetString(name))
	return 1
}

// loading is the sentinel package.loaded holds for a module whose main
// chunk is running, to detect require loops.
func (vm *VM) loading() lua.LValue { return vm.pending }

// isLuaFunction reports whether v is a function written in Lua.
func isLuaFunction(v lua.LValue) bool {
	fn, ok := v.(*lua.LFunction)
	return ok && !fn.IsG
}
