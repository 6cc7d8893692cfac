package core

import (
	"strings"
	"testing"
	"time"

	"gresty/conf"
	"gresty/errlog"
)

// testConf is a module configuration with one value of each slot kind.
type testConf struct {
	On    Value[bool]
	N     Value[int]
	Size  Value[int64]
	T     Value[time.Duration]
	S     Value[string]
	E     Value[int]
	Mask  Value[uint32]
	Block []string
}

type testCtx struct{ c *testConf }

func (x testCtx) ConfFor(*Module, Level) any { return x.c }

var testModule = &Module{
	Name: "test_module",
	Type: CoreType,
	Directives: []Directive{
		FlagSlot("t_flag", MainCtx, MainLevel, func(c *testConf) *Value[bool] { return &c.On }, true),
		NumSlot("t_num", MainCtx, MainLevel, func(c *testConf) *Value[int] { return &c.N }, 7),
		SizeSlot("t_size", MainCtx, MainLevel, func(c *testConf) *Value[int64] { return &c.Size }, 1024),
		MsecSlot("t_time", MainCtx, MainLevel, func(c *testConf) *Value[time.Duration] { return &c.T }, time.Second),
		StrSlot("t_str", MainCtx, MainLevel, func(c *testConf) *Value[string] { return &c.S }, "def"),
		EnumSlot("t_enum", MainCtx, MainLevel, func(c *testConf) *Value[int] { return &c.E }, 1,
			[]Enum[int]{{Name: "one", V: 1}, {Name: "two", V: 2}}),
		BitmaskSlot("t_mask", MainCtx, MainLevel, func(c *testConf) *Value[uint32] { return &c.Mask }, 0,
			[]Enum[uint32]{{Name: "a", V: 1}, {Name: "b", V: 2}}),
		{Name: "t_block", Ctx: MainCtx, Args: Block | NoArgs, Level: MainLevel, Set: func(p *Parser, d *conf.Directive, c any) error {
			tc := c.(*testConf)
			return p.Lines(d, func(l *conf.Directive) error {
				tc.Block = append(tc.Block, l.Name)
				return nil
			})
		}},
		{Name: "t_events_only", Ctx: EventsCtx, Args: NoArgs, Level: MainLevel, Set: func(*Parser, *conf.Directive, any) error { return nil }},
	},
}

func parseTest(t *testing.T, text string) (*testConf, error) {
	t.Helper()
	reg := NewRegistry(testModule)
	cfg, perr := conf.ParseBytes("/t/nginx.conf", []byte(text), conf.Options{})
	c := &testConf{}
	cy := &Cycle{Registry: reg, StartLog: errlog.New(nil)}
	p := &Parser{Cycle: cy, reg: reg, modType: CoreType, ctxBits: MainCtx, ctx: testCtx{c}, synErr: convertErr(perr)}
	if cfg == nil {
		return nil, convertErr(perr)
	}
	return c, p.list(cfg.Main, perr != nil)
}

func TestSlotsAndErrors(t *testing.T) {
	for _, tc := range []struct {
		text string
		err  string
	}{
		{"t_flag on; t_num 3; t_size 2k; t_time 5s; t_str x; t_enum TWO; t_mask a b;", ""},
		{"t_flag yes;", `invalid value "yes" in "t_flag" directive, it must be "on" or "off" in /t/nginx.conf:1`},
		{"t_flag on;\nt_flag off;", `"t_flag" directive is duplicate in /t/nginx.conf:2`},
		{"t_num x;", `"t_num" directive invalid number in /t/nginx.conf:1`},
		{"t_size 1q;", `"t_size" directive invalid value in /t/nginx.conf:1`},
		{"t_time forever;", `"t_time" directive invalid value in /t/nginx.conf:1`},
		{"t_enum three;", `invalid value "three" in /t/nginx.conf:1`},
		{"t_mask c;", `invalid value "c" in /t/nginx.conf:1`},
		{"t_flag;", `invalid number of arguments in "t_flag" directive in /t/nginx.conf:1`},
		{"t_flag on {\n}", `directive "t_flag" is not terminated by ";" in /t/nginx.conf:1`},
		{"t_block;", `directive "t_block" has no opening "{" in /t/nginx.conf:1`},
		{"t_block { x { } }", `unexpected "{" in /t/nginx.conf:1`},
		{"t_events_only;", `"t_events_only" directive is not allowed here in /t/nginx.conf:1`},
		{"nope;", `unknown directive "nope" in /t/nginx.conf:1`},
		// a semantic error before the syntax error wins, as in nginx.
		{"nope;\nt_block {\n", `unknown directive "nope" in /t/nginx.conf:1`},
		{"t_block {\n a;\n", `unexpected end of file, expecting "}" in /t/nginx.conf:3`},
		// the directive is reported at the line of its ";".
		{"t_num\n x;", `"t_num" directive invalid number in /t/nginx.conf:2`},
	} {
		_, err := parseTest(t, tc.text)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.err {
			t.Errorf("%q:\n got %q\nwant %q", tc.text, got, tc.err)
		}
	}
}

func TestMergeDefaultsAndInheritance(t *testing.T) {
	parent, err := parseTest(t, "t_num 3; t_str p;")
	if err != nil {
		t.Fatal(err)
	}
	child, err := parseTest(t, "t_str c;")
	if err != nil {
		t.Fatal(err)
	}
	testModule.Merge(MainLevel, parent, child)
	if child.N.V != 3 || child.S.V != "c" || !child.On.V || child.Size.V != 1024 || child.T.V != time.Second || child.E.V != 1 {
		t.Errorf("merged child = %+v", child)
	}
	if !child.N.Set || !child.On.Set {
		t.Error("merged values are not marked set")
	}
}

func TestBlockLines(t *testing.T) {
	c, err := parseTest(t, "t_block {\n text/html html;\n image/gif gif;\n}")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Block, ",") != "text/html,image/gif" {
		t.Errorf("lines: %v", c.Block)
	}
}
