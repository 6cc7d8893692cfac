package luavm

import (
	"strings"

	"github.com/yuin/gopher-lua/ast"
)

// restoreNames gives the names of a parsed chunk back the high bytes the
// pre-pass spelled with marker (see appendName): variables, fields written
// as t.name or {name = v}, methods, parameters and labels.
func restoreNames(stmts []ast.Stmt, marker string) {
	name := func(s *string) {
		if strings.Contains(*s, marker) {
			*s = restoreName(*s, marker)
		}
	}
	names := func(ss []string) {
		for i := range ss {
			name(&ss[i])
		}
	}
	w := astWalker{
		stmt: func(s ast.Stmt) {
			switch s := s.(type) {
			case *ast.LocalAssignStmt:
				names(s.Names)
			case *ast.NumberForStmt:
				name(&s.Name)
			case *ast.GenericForStmt:
				names(s.Names)
			case *ast.FuncDefStmt:
				if s.Name != nil {
					name(&s.Name.Method)
				}
			case *ast.LabelStmt:
				name(&s.Name)
			case *ast.GotoStmt:
				name(&s.Label)
			}
		},
		expr: func(e ast.Expr) {
			switch e := e.(type) {
			case *ast.IdentExpr:
				name(&e.Value)
			case *ast.StringExpr:
				// a field name; a string literal cannot hold the
				// marker, which the source does not contain.
				name(&e.Value)
			case *ast.FunctionExpr:
				if e.ParList != nil {
					names(e.ParList.Names)
				}
			case *ast.FuncCallExpr:
				name(&e.Method)
			}
		},
	}
	w.stmts(stmts)
}
