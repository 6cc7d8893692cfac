package luavm

import (
	"strconv"

	"github.com/yuin/gopher-lua/ast"
)

// gopher-lua compiles a multiple assignment such as "a, b = b, a + b"
// straight into the registers of the local variables on the left, one
// after the other, so a later expression on the right reads the value an
// earlier target has just received ("a, b = b, a" leaves both equal).
// Lua evaluates every expression first. fixAssignments rewrites each
// assignment with several targets, one of them a plain name, into
//
//	do local (assign 1), (assign 2) = <the expressions>; a, b = (assign 1), (assign 2) end
//
// whose second half only copies registers that no target shares. The
// temporaries' names cannot be written in Lua, so they shadow nothing.
func fixAssignments(stmts []ast.Stmt) {
	w := astWalker{block: func(ss []ast.Stmt) {
		for i, s := range ss {
			if a, ok := s.(*ast.AssignStmt); ok && needsTemporaries(a) {
				ss[i] = withTemporaries(a)
			}
		}
	}}
	w.stmts(stmts)
}

func needsTemporaries(a *ast.AssignStmt) bool {
	if len(a.Lhs) < 2 {
		return false
	}
	for _, l := range a.Lhs {
		if _, ok := l.(*ast.IdentExpr); ok {
			return true
		}
	}
	return false
}

func withTemporaries(a *ast.AssignStmt) ast.Stmt {
	names := make([]string, len(a.Lhs))
	reads := make([]ast.Expr, len(a.Lhs))
	for i := range names {
		names[i] = "(assign " + strconv.Itoa(i+1) + ")"
		id := &ast.IdentExpr{Value: names[i]}
		id.SetLine(a.Lhs[i].Line())
		id.SetLastLine(a.Lhs[i].LastLine())
		reads[i] = id
	}
	local := &ast.LocalAssignStmt{Names: names, Exprs: a.Rhs}
	local.SetLine(a.Line())
	local.SetLastLine(a.LastLine())
	copyBack := &ast.AssignStmt{Lhs: a.Lhs, Rhs: reads}
	copyBack.SetLine(a.Line())
	copyBack.SetLastLine(a.LastLine())
	do := &ast.DoBlockStmt{Stmts: []ast.Stmt{local, copyBack}}
	do.SetLine(a.Line())
	do.SetLastLine(a.LastLine())
	return do
}
