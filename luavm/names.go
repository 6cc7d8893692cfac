package luavm

import (
	"strings"

	"github.com/yuin/gopher-lua/ast"
)

// restoreNames gives the names of a parsed chunk back the high bytes the
// pre-pass spelled with marker (see appendName): variables, fields written
// as t.name or {name = v}, methods, parameters and labels.
func restoreNames(stmts []ast.Stmt, marker string) {
	r := nameRestorer{marker}
	r.stmts(stmts)
}

type nameRestorer struct{ marker string }

func (r nameRestorer) name(s *string) {
	if strings.Contains(*s, r.marker) {
		*s = restoreName(*s, r.marker)
	}
}

func (r nameRestorer) names(ss []string) {
	for i := range ss {
		r.name(&ss[i])
	}
}

func (r nameRestorer) stmts(ss []ast.Stmt) {
	for _, s := range ss {
		r.stmt(s)
	}
}

func (r nameRestorer) stmt(s ast.Stmt) {
	switch s := s.(type) {
	case *ast.AssignStmt:
		r.exprs(s.Lhs)
		r.exprs(s.Rhs)
	case *ast.LocalAssignStmt:
		r.names(s.Names)
		r.exprs(s.Exprs)
	case *ast.FuncCallStmt:
		r.expr(s.Expr)
	case *ast.DoBlockStmt:
		r.stmts(s.Stmts)
	case *ast.WhileStmt:
		r.expr(s.Condition)
		r.stmts(s.Stmts)
	case *ast.RepeatStmt:
		r.expr(s.Condition)
		r.stmts(s.Stmts)
	case *ast.IfStmt:
		r.expr(s.Condition)
		r.stmts(s.Then)
		r.stmts(s.Else)
	case *ast.NumberForStmt:
		r.name(&s.Name)
		r.expr(s.Init)
		r.expr(s.Limit)
		r.expr(s.Step)
		r.stmts(s.Stmts)
	case *ast.GenericForStmt:
		r.names(s.Names)
		r.exprs(s.Exprs)
		r.stmts(s.Stmts)
	case *ast.FuncDefStmt:
		if s.Name != nil {
			r.expr(s.Name.Func)
			r.expr(s.Name.Receiver)
			r.name(&s.Name.Method)
		}
		r.expr(s.Func)
	case *ast.ReturnStmt:
		r.exprs(s.Exprs)
	case *ast.LabelStmt:
		r.name(&s.Name)
	case *ast.GotoStmt:
		r.name(&s.Label)
	}
}

func (r nameRestorer) exprs(es []ast.Expr) {
	for _, e := range es {
		r.expr(e)
	}
}

func (r nameRestorer) expr(e ast.Expr) {
	switch e := e.(type) {
	case *ast.IdentExpr:
		r.name(&e.Value)
	case *ast.StringExpr:
		// a field name; a string literal cannot hold the marker, which
		// the source does not contain.
		r.name(&e.Value)
	case *ast.FunctionExpr:
		if e.ParList != nil {
			r.names(e.ParList.Names)
		}
		r.stmts(e.Stmts)
	case *ast.AttrGetExpr:
		r.expr(e.Object)
		r.expr(e.Key)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			r.expr(f.Key)
			r.expr(f.Value)
		}
	case *ast.FuncCallExpr:
		r.expr(e.Func)
		r.expr(e.Receiver)
		r.name(&e.Method)
		r.exprs(e.Args)
	case *ast.LogicalOpExpr:
		r.expr(e.Lhs)
		r.expr(e.Rhs)
	case *ast.RelationalOpExpr:
		r.expr(e.Lhs)
		r.expr(e.Rhs)
	case *ast.StringConcatOpExpr:
		r.expr(e.Lhs)
		r.expr(e.Rhs)
	case *ast.ArithmeticOpExpr:
		r.expr(e.Lhs)
		r.expr(e.Rhs)
	case *ast.UnaryMinusOpExpr:
		r.expr(e.Expr)
	case *ast.UnaryNotOpExpr:
		r.expr(e.Expr)
	case *ast.UnaryLenOpExpr:
		r.expr(e.Expr)
	}
}
