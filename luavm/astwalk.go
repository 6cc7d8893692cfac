package luavm

import "github.com/yuin/gopher-lua/ast"

// astWalker visits a parsed chunk depth first: stmt sees every statement
// and expr every expression before their parts; block sees every
// statement list (a chunk, a block, a function body) after everything
// inside it, and may replace its statements. Any of the three may be nil.
type astWalker struct {
	block func([]ast.Stmt)
	stmt  func(ast.Stmt)
	expr  func(ast.Expr)
}

func (w *astWalker) stmts(ss []ast.Stmt) {
	for _, s := range ss {
		w.walkStmt(s)
	}
	if w.block != nil {
		w.block(ss)
	}
}

func (w *astWalker) exprs(es []ast.Expr) {
	for _, e := range es {
		w.walkExpr(e)
	}
}

func (w *astWalker) walkStmt(s ast.Stmt) {
	if w.stmt != nil {
		w.stmt(s)
	}
	switch s := s.(type) {
	case *ast.AssignStmt:
		w.exprs(s.Lhs)
		w.exprs(s.Rhs)
	case *ast.LocalAssignStmt:
		w.exprs(s.Exprs)
	case *ast.FuncCallStmt:
		w.walkExpr(s.Expr)
	case *ast.DoBlockStmt:
		w.stmts(s.Stmts)
	case *ast.WhileStmt:
		w.walkExpr(s.Condition)
		w.stmts(s.Stmts)
	case *ast.RepeatStmt:
		w.walkExpr(s.Condition)
		w.stmts(s.Stmts)
	case *ast.IfStmt:
		w.walkExpr(s.Condition)
		w.stmts(s.Then)
		w.stmts(s.Else)
	case *ast.NumberForStmt:
		w.walkExpr(s.Init)
		w.walkExpr(s.Limit)
		w.walkExpr(s.Step)
		w.stmts(s.Stmts)
	case *ast.GenericForStmt:
		w.exprs(s.Exprs)
		w.stmts(s.Stmts)
	case *ast.FuncDefStmt:
		if s.Name != nil {
			w.walkExpr(s.Name.Func)
			w.walkExpr(s.Name.Receiver)
		}
		w.walkExpr(s.Func)
	case *ast.ReturnStmt:
		w.exprs(s.Exprs)
	}
}

func (w *astWalker) walkExpr(e ast.Expr) {
	if e == nil {
		return
	}
	if w.expr != nil {
		w.expr(e)
	}
	switch e := e.(type) {
	case *ast.FunctionExpr:
		w.stmts(e.Stmts)
	case *ast.AttrGetExpr:
		w.walkExpr(e.Object)
		w.walkExpr(e.Key)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			w.walkExpr(f.Key)
			w.walkExpr(f.Value)
		}
	case *ast.FuncCallExpr:
		w.walkExpr(e.Func)
		w.walkExpr(e.Receiver)
		w.exprs(e.Args)
	case *ast.LogicalOpExpr:
		w.walkExpr(e.Lhs)
		w.walkExpr(e.Rhs)
	case *ast.RelationalOpExpr:
		w.walkExpr(e.Lhs)
		w.walkExpr(e.Rhs)
	case *ast.StringConcatOpExpr:
		w.walkExpr(e.Lhs)
		w.walkExpr(e.Rhs)
	case *ast.ArithmeticOpExpr:
		w.walkExpr(e.Lhs)
		w.walkExpr(e.Rhs)
	case *ast.UnaryMinusOpExpr:
		w.walkExpr(e.Expr)
	case *ast.UnaryNotOpExpr:
		w.walkExpr(e.Expr)
	case *ast.UnaryLenOpExpr:
		w.walkExpr(e.Expr)
	}
}
