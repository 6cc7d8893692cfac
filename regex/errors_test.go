package regex

import (
	"strings"
	"testing"
)

// errorCase is a pattern and the compile result in both dialects: the
// text ngx.re returns (PCRE 8.39) and the text nginx prints for a
// location regex (PCRE2 10.42), "" when the pattern compiles. Every text
// was produced by those libraries, except in the rows marked ours: they
// use constructs this engine does not support, so it reports its own
// error where PCRE would compile the pattern.
type errorCase struct {
	pat   string
	pcre  string
	pcre2 string
	ours  bool
}

var errorCases = []errorCase{
	{`(abc`, "pcre_compile() failed: missing ) in \"(abc\"", "pcre2_compile() failed: missing closing parenthesis in \"(abc\"", false},
	{`a)`, "pcre_compile() failed: unmatched parentheses in \"a)\" at \")\"", "pcre2_compile() failed: unmatched closing parenthesis in \"a)\" at \")\"", false},
	{`[abc`, "pcre_compile() failed: missing terminating ] for character class in \"[abc\"", "pcre2_compile() failed: missing terminating ] for character class in \"[abc\"", false},
	{`*a`, "pcre_compile() failed: nothing to repeat in \"*a\" at \"*a\"", "pcre2_compile() failed: quantifier does not follow a repeatable item in \"*a\" at \"*a\"", false},
	{`a{2,1}`, "pcre_compile() failed: numbers out of order in {} quantifier in \"a{2,1}\" at \"}\"", "pcre2_compile() failed: numbers out of order in {} quantifier in \"a{2,1}\" at \"}\"", false},
	{`(?<=a+)b`, "pcre_compile() failed: lookbehind assertion is not fixed length in \"(?<=a+)b\" at \")b\"", "pcre2_compile() failed: lookbehind assertion is not fixed length in \"(?<=a+)b\" at \"(?<=a+)b\"", false},
	{`\k`, "pcre_compile() failed: \\k is not followed by a braced, angle-bracketed, or quoted name in \"\\k\" at \"k\"", "pcre2_compile() failed: \\k is not followed by a braced, angle-bracketed, or quoted name in \"\\k\"", false},
	{`a\`, "pcre_compile() failed: \\ at end of pattern in \"a\\\"", "pcre2_compile() failed: \\ at end of pattern in \"a\\\"", false},
	{`(?P<n>a)(?P<n>b)`, "pcre_compile() failed: two named subpatterns have the same name in \"(?P<n>a)(?P<n>b)\" at \">b)\"", "pcre2_compile() failed: two named subpatterns have the same name (PCRE2_DUPNAMES not set) in \"(?P<n>a)(?P<n>b)\" at \"b)\"", false},
	{`\ca\c`, "pcre_compile() failed: \\c at end of pattern in \"\\ca\\c\"", "pcre2_compile() failed: \\c at end of pattern in \"\\ca\\c\"", false},
	{`[z-a]`, "pcre_compile() failed: range out of order in character class in \"[z-a]\" at \"a]\"", "pcre2_compile() failed: range out of order in character class in \"[z-a]\" at \"a]\"", false},
	{`(?<n`, "pcre_compile() failed: syntax error in subpattern name (missing terminator) in \"(?<n\"", "pcre2_compile() failed: syntax error in subpattern name (missing terminator?) in \"(?<n\"", false},
	{`(?z)`, "pcre_compile() failed: unrecognized character after (? or (?- in \"(?z)\" at \"z)\"", "pcre2_compile() failed: unrecognized character after (? or (?- in \"(?z)\" at \"z)\"", false},
	{`a**`, "pcre_compile() failed: nothing to repeat in \"a**\" at \"*\"", "pcre2_compile() failed: quantifier does not follow a repeatable item in \"a**\" at \"*\"", false},
	{`[[:foo:]]`, "pcre_compile() failed: unknown POSIX class name in \"[[:foo:]]\" at \"foo:]]\"", "pcre2_compile() failed: unknown POSIX class name in \"[[:foo:]]\" at \"foo:]]\"", false},
	{`\p{Foo}`, "pcre_compile() failed: unknown property name after \\P or \\p in \"\\p{Foo}\" at \"}\"", "pcre2_compile() failed: unknown property after \\P or \\p in \"\\p{Foo}\"", false},
	{`\x{100}`, "pcre_compile() failed: character value in \\x{} or \\o{} is too large in \"\\x{100}\" at \"}\"", "pcre2_compile() failed: character code point value in \\x{} or \\o{} is too large in \"\\x{100}\" at \"}\"", false},
	{`\8`, "", "pcre2_compile() failed: reference to non-existent subpattern in \"\\8\" at \"8\"", false},
	{`(?(1)a|b|c)`, "pcre_compile() failed: reference to non-existent subpattern in \"(?(1)a|b|c)\" at \"a|b|c)\"", "pcre2_compile() failed: reference to non-existent subpattern in \"(?(1)a|b|c)\" at \"(1)a|b|c)\"", false},
	{`(a)(?(1)a|b|c)`, "pcre_compile() failed: conditional group contains more than two branches in \"(a)(?(1)a|b|c)\" at \")\"", "pcre2_compile() failed: conditional subpattern contains more than two branches in \"(a)(?(1)a|b|c)\" at \"(?(1)a|b|c)\"", false},
	{`\g{`, "pcre_compile() failed: \\g is not followed by a braced, angle-bracketed, or quoted name/number or by a plain number in \"\\g{\"", "pcre2_compile() failed: subpattern name expected in \"\\g{\"", false},
	{`(?#abc`, "pcre_compile() failed: missing ) after comment in \"(?#abc\"", "pcre2_compile() failed: missing ) after (?# comment in \"(?#abc\"", false},
	{`a\5b`, "pcre_compile() failed: reference to non-existent subpattern in \"a\\5b\"", "pcre2_compile() failed: reference to non-existent subpattern in \"a\\5b\" at \"5b\"", false},
	{`(a)\2`, "pcre_compile() failed: reference to non-existent subpattern in \"(a)\\2\"", "pcre2_compile() failed: reference to non-existent subpattern in \"(a)\\2\" at \"2\"", false},
	{`\k<x>`, "pcre_compile() failed: reference to non-existent subpattern in \"\\k<x>\" at \">\"", "pcre2_compile() failed: reference to non-existent subpattern in \"\\k<x>\" at \"x>\"", false},
	{`(?P=x)`, "pcre_compile() failed: reference to non-existent subpattern in \"(?P=x)\" at \")\"", "pcre2_compile() failed: reference to non-existent subpattern in \"(?P=x)\" at \"x)\"", false},
	{`\g{5}`, "pcre_compile() failed: reference to non-existent subpattern in \"\\g{5}\"", "pcre2_compile() failed: reference to non-existent subpattern in \"\\g{5}\" at \"}\"", false},
	{`(?(5)a)`, "pcre_compile() failed: reference to non-existent subpattern in \"(?(5)a)\" at \"a)\"", "pcre2_compile() failed: reference to non-existent subpattern in \"(?(5)a)\" at \"(5)a)\"", false},
	{`(?(<x>)a)`, "pcre_compile() failed: reference to non-existent subpattern in \"(?(<x>)a)\" at \"a)\"", "pcre2_compile() failed: reference to non-existent subpattern in \"(?(<x>)a)\" at \"x>)a)\"", false},
	{`a(?i)+`, "pcre_compile() failed: nothing to repeat in \"a(?i)+\" at \"+\"", "pcre2_compile() failed: quantifier does not follow a repeatable item in \"a(?i)+\" at \"+\"", false},
	{`(?i)+`, "pcre_compile() failed: nothing to repeat in \"(?i)+\" at \"+\"", "pcre2_compile() failed: quantifier does not follow a repeatable item in \"(?i)+\" at \"+\"", false},
	{`\K+`, "pcre_compile() failed: nothing to repeat in \"\\K+\" at \"+\"", "pcre2_compile() failed: quantifier does not follow a repeatable item in \"\\K+\" at \"+\"", false},
	{`(*FAIL)+`, "pcre_compile() failed: nothing to repeat in \"(*FAIL)+\" at \"+\"", "pcre2_compile() failed: quantifier does not follow a repeatable item in \"(*FAIL)+\" at \"+\"", false},
	{`x{99999}`, "pcre_compile() failed: number too big in {} quantifier in \"x{99999}\" at \"}\"", "pcre2_compile() failed: number too big in {} quantifier in \"x{99999}\" at \"}\"", false},
	{`x{2,99999}`, "pcre_compile() failed: number too big in {} quantifier in \"x{2,99999}\" at \"}\"", "pcre2_compile() failed: number too big in {} quantifier in \"x{2,99999}\" at \"}\"", false},
	{`x{3,2}`, "pcre_compile() failed: numbers out of order in {} quantifier in \"x{3,2}\" at \"}\"", "pcre2_compile() failed: numbers out of order in {} quantifier in \"x{3,2}\" at \"}\"", false},
	{`(?<=a(b|cd))x`, "pcre_compile() failed: lookbehind assertion is not fixed length in \"(?<=a(b|cd))x\" at \")x\"", "pcre2_compile() failed: lookbehind assertion is not fixed length in \"(?<=a(b|cd))x\" at \"(?<=a(b|cd))x\"", false},
	{`x(?<=a+)b`, "pcre_compile() failed: lookbehind assertion is not fixed length in \"x(?<=a+)b\" at \")b\"", "pcre2_compile() failed: lookbehind assertion is not fixed length in \"x(?<=a+)b\" at \"(?<=a+)b\"", false},
	{`(?<=\d{2,3})`, "pcre_compile() failed: lookbehind assertion is not fixed length in \"(?<=\\d{2,3})\" at \")\"", "pcre2_compile() failed: lookbehind assertion is not fixed length in \"(?<=\\d{2,3})\" at \"(?<=\\d{2,3})\"", false},
	{`(?<=\1)(a)`, "pcre_compile() failed: lookbehind assertion is not fixed length in \"(?<=\\1)(a)\" at \")(a)\"", "", false},
	{`(?<=\R)`, "pcre_compile() failed: lookbehind assertion is not fixed length in \"(?<=\\R)\" at \")\"", "pcre2_compile() failed: lookbehind assertion is not fixed length in \"(?<=\\R)\" at \"(?<=\\R)\"", false},
	{`(?<=\X)`, "pcre_compile() failed: lookbehind assertion is not fixed length in \"(?<=\\X)\" at \")\"", "pcre2_compile() failed: lookbehind assertion is not fixed length in \"(?<=\\X)\" at \"(?<=\\X)\"", false},
	{`[[:alpha:]-z]`, "", "pcre2_compile() failed: invalid range in character class in \"[[:alpha:]-z]\" at \"-z]\"", false},
	{`[a-[:digit:]]`, "pcre_compile() failed: invalid range in character class in \"[a-[:digit:]]\" at \"[:digit:]]\"", "pcre2_compile() failed: invalid range in character class in \"[a-[:digit:]]\" at \":digit:]]\"", false},
	{`[:alpha:]`, "pcre_compile() failed: POSIX named classes are supported only within a class in \"[:alpha:]\" at \"[:alpha:]\"", "pcre2_compile() failed: POSIX named classes are supported only within a class in \"[:alpha:]\" at \"[:alpha:]\"", false},
	{`[.a.]`, "pcre_compile() failed: POSIX collating elements are not supported in \"[.a.]\" at \"[.a.]\"", "pcre2_compile() failed: POSIX collating elements are not supported in \"[.a.]\" at \"[.a.]\"", false},
	{`[[.a.]]`, "pcre_compile() failed: POSIX collating elements are not supported in \"[[.a.]]\" at \"[.a.]]\"", "pcre2_compile() failed: POSIX collating elements are not supported in \"[[.a.]]\" at \"[.a.]]\"", false},
	{`[[=a=]]`, "pcre_compile() failed: POSIX collating elements are not supported in \"[[=a=]]\" at \"[=a=]]\"", "pcre2_compile() failed: POSIX collating elements are not supported in \"[[=a=]]\" at \"[=a=]]\"", false},
	{`(?<1a>x)`, "pcre_compile() failed: group name must start with a non-digit in \"(?<1a>x)\" at \"1a>x)\"", "pcre2_compile() failed: subpattern name must start with a non-digit in \"(?<1a>x)\" at \"1a>x)\"", false},
	{`(?<a-b>x)`, "pcre_compile() failed: syntax error in subpattern name (missing terminator) in \"(?<a-b>x)\" at \"-b>x)\"", "pcre2_compile() failed: syntax error in subpattern name (missing terminator?) in \"(?<a-b>x)\" at \"-b>x)\"", false},
	{`(?<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa>x)`, "pcre_compile() failed: subpattern name is too long (maximum 32 characters) in \"(?<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa>x)\" at \">x)", "pcre2_compile() failed: subpattern name is too long (maximum 32 code units) in \"(?<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa>x)\" at \">x)\"", false},
	{`(?'a`, "pcre_compile() failed: syntax error in subpattern name (missing terminator) in \"(?'a\"", "pcre2_compile() failed: syntax error in subpattern name (missing terminator?) in \"(?'a\"", false},
	{`(?P<a`, "pcre_compile() failed: syntax error in subpattern name (missing terminator) in \"(?P<a\"", "pcre2_compile() failed: syntax error in subpattern name (missing terminator?) in \"(?P<a\"", false},
	{`(?Px)`, "pcre_compile() failed: unrecognized character after (?P in \"(?Px)\" at \"x)\"", "pcre2_compile() failed: unrecognized character after (?P in \"(?Px)\" at \"x)\"", false},
	{`(?<x`, "pcre_compile() failed: syntax error in subpattern name (missing terminator) in \"(?<x\"", "pcre2_compile() failed: syntax error in subpattern name (missing terminator?) in \"(?<x\"", false},
	{`(?<=a`, "pcre_compile() failed: missing ) in \"(?<=a\"", "pcre2_compile() failed: missing closing parenthesis in \"(?<=a\"", false},
	{`(?(1x)a)`, "pcre_compile() failed: malformed number or name after (?( in \"(?(1x)a)\" at \"x)a)\"", "pcre2_compile() failed: missing closing parenthesis for condition in \"(?(1x)a)\" at \"x)a)\"", false},
	{`(?(?z)a)`, "pcre_compile() failed: assertion expected after (?( or (?(?C) in \"(?(?z)a)\" at \"?z)a)\"", "pcre2_compile() failed: assertion expected after (?( or (?(?C) in \"(?(?z)a)\" at \"(?z)a)\"", false},
	{`(?(0)a)`, "pcre_compile() failed: invalid condition (?(0) in \"(?(0)a)\" at \"a)\"", "pcre2_compile() failed: reference to non-existent subpattern in \"(?(0)a)\" at \")a)\"", false},
	{`(?(DEFINE)a|b)`, "pcre_compile() failed: DEFINE group contains more than one branch in \"(?(DEFINE)a|b)\" at \")\"", "pcre2_compile() failed: DEFINE subpattern contains more than one branch in \"(?(DEFINE)a|b)\" at \"DEFINE)a|b)\"", false},
	{`\g0`, "pcre_compile() failed: a numbered reference must not be zero in \"\\g0\" at \"0\"", "pcre2_compile() failed: reference to non-existent subpattern in \"\\g0\"", false},
	{`\g{0}`, "pcre_compile() failed: a numbered reference must not be zero in \"\\g{0}\" at \"}\"", "pcre2_compile() failed: reference to non-existent subpattern in \"\\g{0}\"", false},
	{`\g{-2}(a)`, "pcre_compile() failed: reference to non-existent subpattern in \"\\g{-2}(a)\" at \"}(a)\"", "pcre2_compile() failed: reference to non-existent subpattern in \"\\g{-2}(a)\" at \"{-2}(a)\"", false},
	{`\g`, "pcre_compile() failed: a numbered reference must not be zero in \"\\g\" at \"g\"", "pcre2_compile() failed: \\g is not followed by a braced, angle-bracketed, or quoted name/number or by a plain number in \"\\g\"", false},
	{`\gx`, "pcre_compile() failed: a numbered reference must not be zero in \"\\gx\" at \"gx\"", "pcre2_compile() failed: \\g is not followed by a braced, angle-bracketed, or quoted name/number or by a plain number in \"\\gx\" at \"x\"", false},
	{`\k{x`, "pcre_compile() failed: syntax error in subpattern name (missing terminator) in \"\\k{x\"", "pcre2_compile() failed: syntax error in subpattern name (missing terminator?) in \"\\k{x\"", false},
	{`\cé`, "pcre_compile() failed: \\c must be followed by an ASCII character in \"\\cé\" at \"é\"", "pcre2_compile() failed: \\c must be followed by a printable ASCII character in \"\\cé\" at \"é\"", false},
	{`\p{`, "pcre_compile() failed: malformed \\P or \\p sequence in \"\\p{\"", "pcre2_compile() failed: malformed \\P or \\p sequence in \"\\p{\"", false},
	{`\p{Foo`, "pcre_compile() failed: malformed \\P or \\p sequence in \"\\p{Foo\"", "pcre2_compile() failed: malformed \\P or \\p sequence in \"\\p{Foo\"", false},
	{`\p`, "pcre_compile() failed: malformed \\P or \\p sequence in \"\\p\"", "pcre2_compile() failed: malformed \\P or \\p sequence in \"\\p\"", false},
	{`\o{`, "pcre_compile() failed: non-octal character in \\o{} (closing brace missing?) in \"\\o{\"", "pcre2_compile() failed: digits missing in \\x{} or \\o{} or \\N{U+} in \"\\o{\"", false},
	{`\o{8}`, "pcre_compile() failed: non-octal character in \\o{} (closing brace missing?) in \"\\o{8}\" at \"8}\"", "pcre2_compile() failed: non-octal character in \\o{} (closing brace missing?) in \"\\o{8}\" at \"8}\"", false},
	{`\o{}`, "pcre_compile() failed: digits missing in \\x{} or \\o{} in \"\\o{}\" at \"o{}\"", "pcre2_compile() failed: digits missing in \\x{} or \\o{} or \\N{U+} in \"\\o{}\" at \"}\"", false},
	{`\o`, "pcre_compile() failed: missing opening brace after \\o in \"\\o\" at \"o\"", "pcre2_compile() failed: missing opening brace after \\o in \"\\o\" at \"o\"", false},
	{`\x{`, "pcre_compile() failed: non-hex character in \\x{} (closing brace missing?) in \"\\x{\"", "pcre2_compile() failed: digits missing in \\x{} or \\o{} or \\N{U+} in \"\\x{\"", false},
	{`\x{zz}`, "pcre_compile() failed: non-hex character in \\x{} (closing brace missing?) in \"\\x{zz}\" at \"zz}\"", "pcre2_compile() failed: non-hex character in \\x{} (closing brace missing?) in \"\\x{zz}\" at \"zz}\"", false},
	{`\x{}`, "pcre_compile() failed: digits missing in \\x{} or \\o{} in \"\\x{}\" at \"}\"", "pcre2_compile() failed: digits missing in \\x{} or \\o{} or \\N{U+} in \"\\x{}\" at \"}\"", false},
	{`\x{110000}`, "pcre_compile() failed: character value in \\x{} or \\o{} is too large in \"\\x{110000}\" at \"}\"", "pcre2_compile() failed: character code point value in \\x{} or \\o{} is too large in \"\\x{110000}\" at \"}\"", false},
	{`\N{x}`, "pcre_compile() failed: PCRE does not support \\L, \\l, \\N{name}, \\U, or \\u in \"\\N{x}\" at \"N{x}\"", "pcre2_compile() failed: PCRE2 does not support \\F, \\L, \\l, \\N{name}, \\U, or \\u in \"\\N{x}\" at \"{x}\"", false},
	{`\U`, "pcre_compile() failed: PCRE does not support \\L, \\l, \\N{name}, \\U, or \\u in \"\\U\" at \"U\"", "pcre2_compile() failed: PCRE2 does not support \\F, \\L, \\l, \\N{name}, \\U, or \\u in \"\\U\"", false},
	{`\l`, "pcre_compile() failed: PCRE does not support \\L, \\l, \\N{name}, \\U, or \\u in \"\\l\" at \"l\"", "pcre2_compile() failed: PCRE2 does not support \\F, \\L, \\l, \\N{name}, \\U, or \\u in \"\\l\"", false},
	{`\L`, "pcre_compile() failed: PCRE does not support \\L, \\l, \\N{name}, \\U, or \\u in \"\\L\" at \"L\"", "pcre2_compile() failed: PCRE2 does not support \\F, \\L, \\l, \\N{name}, \\U, or \\u in \"\\L\"", false},
	{`\u`, "pcre_compile() failed: PCRE does not support \\L, \\l, \\N{name}, \\U, or \\u in \"\\u\" at \"u\"", "pcre2_compile() failed: PCRE2 does not support \\F, \\L, \\l, \\N{name}, \\U, or \\u in \"\\u\"", false},
	{`(*MARK)`, "pcre_compile() failed: (*MARK) must have an argument in \"(*MARK)\" at \")\"", "pcre2_compile() failed: (*MARK) must have an argument in \"(*MARK)\" at \")\"", false},
	{`(*FOO)`, "pcre_compile() failed: (*VERB) not recognized or malformed in \"(*FOO)\" at \")\"", "pcre2_compile() failed: (*VERB) not recognized or malformed in \"(*FOO)\" at \")\"", false},
	{`(?C256)`, "pcre_compile() failed: number after (?C is > 255 in \"(?C256)\" at \")\"", "pcre2_compile() failed: number after (?C is greater than 255 in \"(?C256)\" at \")\"", false},
	{`(?C1`, "pcre_compile() failed: closing ) for (?C expected in \"(?C1\"", "pcre2_compile() failed: closing parenthesis for (?C expected in \"(?C1\"", false},
	{`a)b)`, "pcre_compile() failed: unmatched parentheses in \"a)b)\" at \")b)\"", "pcre2_compile() failed: unmatched closing parenthesis in \"a)b)\" at \")b)\"", false},
	{`((((`, "pcre_compile() failed: missing ) in \"((((\"", "pcre2_compile() failed: missing closing parenthesis in \"((((\"", false},
	{`(?`, "pcre_compile() failed: unrecognized character after (? or (?- in \"(?\"", "pcre2_compile() failed: missing closing parenthesis in \"(?\"", false},
	{`(?-`, "pcre_compile() failed: unrecognized character after (? or (?- in \"(?-\"", "pcre2_compile() failed: missing closing parenthesis in \"(?-\"", false},
	{`(?i`, "pcre_compile() failed: unrecognized character after (? or (?- in \"(?i\"", "pcre2_compile() failed: missing closing parenthesis in \"(?i\"", false},
	{`(?#`, "pcre_compile() failed: missing ) after comment in \"(?#\"", "pcre2_compile() failed: missing ) after (?# comment in \"(?#\"", false},
	{`[]`, "pcre_compile() failed: missing terminating ] for character class in \"[]\"", "pcre2_compile() failed: missing terminating ] for character class in \"[]\"", false},
	{`[^]`, "pcre_compile() failed: missing terminating ] for character class in \"[^]\"", "pcre2_compile() failed: missing terminating ] for character class in \"[^]\"", false},
	{`[a`, "pcre_compile() failed: missing terminating ] for character class in \"[a\"", "pcre2_compile() failed: missing terminating ] for character class in \"[a\"", false},
	{`[\`, "pcre_compile() failed: \\ at end of pattern in \"[\\\"", "pcre2_compile() failed: \\ at end of pattern in \"[\\\"", false},
	{`\`, "pcre_compile() failed: \\ at end of pattern in \"\\\"", "pcre2_compile() failed: \\ at end of pattern in \"\\\"", false},
	{`[a-\d]`, "pcre_compile() failed: invalid range in character class in \"[a-\\d]\" at \"d]\"", "pcre2_compile() failed: invalid range in character class in \"[a-\\d]\" at \"]\"", false},
	{`[\d-z]`, "", "pcre2_compile() failed: invalid range in character class in \"[\\d-z]\" at \"-z]\"", false},
	{`a{2}{3}`, "pcre_compile() failed: nothing to repeat in \"a{2}{3}\" at \"}\"", "pcre2_compile() failed: quantifier does not follow a repeatable item in \"a{2}{3}\" at \"}\"", false},
	{`(?<=ab|c+)`, "pcre_compile() failed: lookbehind assertion is not fixed length in \"(?<=ab|c+)\" at \")\"", "pcre2_compile() failed: lookbehind assertion is not fixed length in \"(?<=ab|c+)\" at \"(?<=ab|c+)\"", false},
	{`\777`, "pcre_compile() failed: octal value is greater than \\377 in 8-bit non-UTF-8 mode in \"\\777\" at \"7\"", "pcre2_compile() failed: octal value is greater than \\377 in 8-bit non-UTF-8 mode in \"\\777\"", false},
	{`\400`, "pcre_compile() failed: octal value is greater than \\377 in 8-bit non-UTF-8 mode in \"\\400\" at \"0\"", "pcre2_compile() failed: octal value is greater than \\377 in 8-bit non-UTF-8 mode in \"\\400\"", false},
	{`(?<=a\Kb)`, "", "pcre2_compile() failed: \\K is not allowed in lookarounds (but see PCRE2_EXTRA_ALLOW_LOOKAROUND_BSK) in \"(?<=a\\Kb)\"", false},
	{`[\R]`, "", "pcre2_compile() failed: escape sequence is invalid in character class in \"[\\R]\" at \"R]\"", false},
	{`[\B]`, "", "pcre2_compile() failed: escape sequence is invalid in character class in \"[\\B]\" at \"B]\"", false},
	{`[\X]`, "", "pcre2_compile() failed: escape sequence is invalid in character class in \"[\\X]\" at \"X]\"", false},
	{`[\N]`, "pcre_compile() failed: \\N is not supported in a class in \"[\\N]\" at \"N]\"", "pcre2_compile() failed: \\N is not supported in a class in \"[\\N]\" at \"]\"", false},
	{`\y`, "", "pcre2_compile() failed: unrecognized character follows \\ in \"\\y\" at \"y\"", false},
	{`[\y]`, "", "pcre2_compile() failed: unrecognized character follows \\ in \"[\\y]\" at \"y]\"", false},
	{`(?X)`, "", "pcre2_compile() failed: unrecognized character after (? or (?- in \"(?X)\" at \"X)\"", false},
	{`(?<>a)`, "pcre_compile() failed: unrecognized character after (?< in \"(?<>a)\" at \">a)\"", "pcre2_compile() failed: subpattern name expected in \"(?<>a)\" at \">a)\"", false},
	{`(?P>x)`, "pcre_compile() failed: reference to non-existent subpattern in \"(?P>x)\" at \")\"", "pcre2_compile() failed: reference to non-existent subpattern in \"(?P>x)\" at \"x)\"", false},
	{`(?&)`, "pcre_compile() failed: subpattern name expected in \"(?&)\" at \")\"", "pcre2_compile() failed: subpattern name expected in \"(?&)\" at \")\"", false},
	{`(?R`, "pcre_compile() failed: (?R or (?[+-]digits must be followed by ) in \"(?R\"", "pcre2_compile() failed: (?R (recursive pattern call) must be followed by a closing parenthesis in \"(?R\"", false},
	{`(?1`, "pcre_compile() failed: (?R or (?[+-]digits must be followed by ) in \"(?1\"", "pcre2_compile() failed: missing closing parenthesis in \"(?1\"", false},
	{`(?+0)`, "pcre_compile() failed: a numbered reference must not be zero in \"(?+0)\" at \")\"", "pcre2_compile() failed: a relative value of zero is not allowed in \"(?+0)\" at \")\"", false},
	{`(?C`, "pcre_compile() failed: closing ) for (?C expected in \"(?C\"", "pcre2_compile() failed: missing closing parenthesis in \"(?C\"", false},
	{`(?(R`, "pcre_compile() failed: malformed number or name after (?( in \"(?(R\"", "pcre2_compile() failed: syntax error in subpattern name (missing terminator?) in \"(?(R\"", false},
	{`(?(?C1)a)`, "pcre_compile() failed: assertion expected after (?( or (?(?C) in \"(?(?C1)a)\" at \"(?C1)a)\"", "pcre2_compile() failed: assertion expected after (?( or (?(?C) in \"(?(?C1)a)\" at \"a)\"", false},
	{`(?(<n)a)`, "pcre_compile() failed: malformed number or name after (?( in \"(?(<n)a)\" at \")a)\"", "pcre2_compile() failed: syntax error in subpattern name (missing terminator?) in \"(?(<n)a)\" at \")a)\"", false},
	{`(?(1)`, "pcre_compile() failed: missing ) in \"(?(1)\"", "pcre2_compile() failed: missing closing parenthesis in \"(?(1)\"", false},
	{`[\8]`, "", "", false},
	{`\c`, "pcre_compile() failed: \\c at end of pattern in \"\\c\"", "pcre2_compile() failed: \\c at end of pattern in \"\\c\"", false},
	{`(?|(a)|(b)`, "pcre_compile() failed: missing ) in \"(?|(a)|(b)\"", "pcre2_compile() failed: missing closing parenthesis in \"(?|(a)|(b)\"", false},
	{`(?<a>x)(?<b>y)(?|(?<a>p)|(?<c>q))`, "pcre_compile() failed: two named subpatterns have the same name in \"(?<a>x)(?<b>y)(?|(?<a>p)|(?<c>q))\" at \">p)|(?<c>q))\"", "pcre2_compile() failed: two named subpatterns have the same name (PCRE2_DUPNAMES not set) in \"(?<a>x)(?<b>y)(?|(?<a>p)|(?<c>q))\" at \"p)|(?<c>q))\"", false},
	{`(?<n>a)(?<n>b)`, "pcre_compile() failed: two named subpatterns have the same name in \"(?<n>a)(?<n>b)\" at \">b)\"", "pcre2_compile() failed: two named subpatterns have the same name (PCRE2_DUPNAMES not set) in \"(?<n>a)(?<n>b)\" at \"b)\"", false},
	{`(?|(?<a>x)|(?<b>y))`, "pcre_compile() failed: different names for subpatterns of the same number are not allowed in \"(?|(?<a>x)|(?<b>y))\" at \">y))\"", "pcre2_compile() failed: different names for subpatterns of the same number are not allowed in \"(?|(?<a>x)|(?<b>y))\" at \"y))\"", false},
	{`(?i-i-m)`, "", "pcre2_compile() failed: invalid hyphen in option setting in \"(?i-i-m)\" at \"-m)\"", false},
	{`(?-)`, "", "", false},
	{`(?i-:a)`, "", "", false},
	{`(?^)`, "pcre_compile() failed: unrecognized character after (? or (?- in \"(?^)\" at \"^)\"", "", false},
	{`(?n)`, "pcre_compile() failed: unrecognized character after (? or (?- in \"(?n)\" at \"n)\"", "", false},
	{`(?xx)`, "", "", false},
	{`a{1,2}{3}`, "pcre_compile() failed: nothing to repeat in \"a{1,2}{3}\" at \"}\"", "pcre2_compile() failed: quantifier does not follow a repeatable item in \"a{1,2}{3}\" at \"}\"", false},
	{`a?+*`, "pcre_compile() failed: nothing to repeat in \"a?+*\" at \"*\"", "pcre2_compile() failed: quantifier does not follow a repeatable item in \"a?+*\" at \"*\"", false},
	{`(?=a)*+`, "", "", false},
	{`\b?`, "pcre_compile() failed: nothing to repeat in \"\\b?\" at \"?\"", "pcre2_compile() failed: quantifier does not follow a repeatable item in \"\\b?\" at \"?\"", false},
	{`(?=)+`, "", "", false},
	{`(?:)+`, "", "", false},
	{`()+`, "", "", false},
	{`(?|)+`, "", "", false},
	{`a{65536}`, "pcre_compile() failed: number too big in {} quantifier in \"a{65536}\" at \"}\"", "pcre2_compile() failed: number too big in {} quantifier in \"a{65536}\" at \"}\"", false},
	{`a{65535}`, "", "", false},
	{`a{0,65536}`, "pcre_compile() failed: number too big in {} quantifier in \"a{0,65536}\" at \"}\"", "pcre2_compile() failed: number too big in {} quantifier in \"a{0,65536}\" at \"}\"", false},
	{`\x{7fffffff}`, "pcre_compile() failed: character value in \\x{} or \\o{} is too large in \"\\x{7fffffff}\" at \"}\"", "pcre2_compile() failed: character code point value in \\x{} or \\o{} is too large in \"\\x{7fffffff}\" at \"}\"", false},
	{`\x{ffffffffff}`, "pcre_compile() failed: character value in \\x{} or \\o{} is too large in \"\\x{ffffffffff}\" at \"}\"", "pcre2_compile() failed: character code point value in \\x{} or \\o{} is too large in \"\\x{ffffffffff}\" at \"}\"", false},
	{`\o{400}`, "pcre_compile() failed: character value in \\x{} or \\o{} is too large in \"\\o{400}\" at \"}\"", "pcre2_compile() failed: character code point value in \\x{} or \\o{} is too large in \"\\o{400}\" at \"}\"", false},
	{`\o{777777777777}`, "pcre_compile() failed: character value in \\x{} or \\o{} is too large in \"\\o{777777777777}\" at \"}\"", "pcre2_compile() failed: character code point value in \\x{} or \\o{} is too large in \"\\o{777777777777}\" at \"}\"", false},
	{`\1000`, "", "", false},
	{`\0777`, "", "", false},
	{`[\400]`, "pcre_compile() failed: octal value is greater than \\377 in 8-bit non-UTF-8 mode in \"[\\400]\" at \"0]\"", "pcre2_compile() failed: octal value is greater than \\377 in 8-bit non-UTF-8 mode in \"[\\400]\" at \"]\"", false},
	{`[\x{100}]`, "pcre_compile() failed: character value in \\x{} or \\o{} is too large in \"[\\x{100}]\" at \"}]\"", "pcre2_compile() failed: character code point value in \\x{} or \\o{} is too large in \"[\\x{100}]\" at \"}]\"", false},
	{`[a-\x{100}]`, "pcre_compile() failed: character value in \\x{} or \\o{} is too large in \"[a-\\x{100}]\" at \"}]\"", "pcre2_compile() failed: character code point value in \\x{} or \\o{} is too large in \"[a-\\x{100}]\" at \"}]\"", false},
	{`\c\x80`, "", "", false},
	{`(?P=)`, "pcre_compile() failed: subpattern name expected in \"(?P=)\" at \")\"", "pcre2_compile() failed: subpattern name expected in \"(?P=)\" at \")\"", false},
	{`(?P>)`, "pcre_compile() failed: subpattern name expected in \"(?P>)\" at \")\"", "pcre2_compile() failed: subpattern name expected in \"(?P>)\" at \")\"", false},
	{`\k<>`, "pcre_compile() failed: subpattern name expected in \"\\k<>\" at \">\"", "pcre2_compile() failed: subpattern name expected in \"\\k<>\" at \">\"", false},
	{`\k<1>`, "pcre_compile() failed: group name must start with a non-digit in \"\\k<1>\" at \"1>\"", "pcre2_compile() failed: subpattern name must start with a non-digit in \"\\k<1>\" at \"1>\"", false},
	{`\g<>`, "pcre_compile() failed: subpattern name expected in \"\\g<>\" at \">\"", "pcre2_compile() failed: subpattern name expected in \"\\g<>\" at \">\"", false},
	{`\g<0>`, "pcre_compile() failed: recursive subpattern calls are not supported in \"\\g<0>\" at \">\"", "pcre2_compile() failed: recursive subpattern calls are not supported in \"\\g<0>\" at \"\\g<0>\"", true},
	{`\g<-1>`, "pcre_compile() failed: reference to non-existent subpattern in \"\\g<-1>\" at \">\"", "pcre2_compile() failed: reference to non-existent subpattern in \"\\g<-1>\" at \"<-1>\"", false},
	{`(?(-1)a)`, "pcre_compile() failed: reference to non-existent subpattern in \"(?(-1)a)\" at \"a)\"", "pcre2_compile() failed: reference to non-existent subpattern in \"(?(-1)a)\" at \")a)\"", false},
	{`(?(+1)a)(b)`, "", "", false},
	{`(?(1)a)(b)`, "", "", false},
	{`(?(n)a)(?<n>b)`, "", "", false},
	{`(?(R1)a)`, "", "pcre2_compile() failed: reference to non-existent subpattern in \"(?(R1)a)\" at \"R1)a)\"", false},
	{`(?(R&n)a)(?<n>b)`, "", "", false},
	{`(?(DEFINE))`, "", "", false},
	{`(?(DEFINE)a)`, "", "", false},
	{`(?(?<=a)b)`, "", "", false},
	{`(?<!a|bc)x`, "", "", false},
	{`(?<=a(?=b)c)`, "", "", false},
	{`(?<=\b)`, "", "", false},
	{`(?<=(a))`, "", "", false},
	{`(?<=(a)|(bc))`, "", "", false},
	{`(?<=a{2}|b{3})`, "", "", false},
	{`(?<=a(?:b|c))`, "", "", false},
	{`(?<=(?:ab|cd))`, "", "", false},
	{`(?<=\p{L})`, "", "", false},
	{`(?<=\Qab\E)`, "", "", false},
	{`(?<=[ab]{2})`, "", "", false},
	{`(?<=x(?<!y))`, "", "", false},
	{`(?<=\K)`, "", "pcre2_compile() failed: \\K is not allowed in lookarounds (but see PCRE2_EXTRA_ALLOW_LOOKAROUND_BSK) in \"(?<=\\K)\"", false},
	{`(?=\K)`, "", "pcre2_compile() failed: \\K is not allowed in lookarounds (but see PCRE2_EXTRA_ALLOW_LOOKAROUND_BSK) in \"(?=\\K)\"", false},
	{`(?<=(?1))(a)`, "", "", false},
	{`(?<=(?1))(a+)`, "pcre_compile() failed: lookbehind assertion is not fixed length in \"(?<=(?1))(a+)\"", "pcre2_compile() failed: lookbehind assertion is not fixed length in \"(?<=(?1))(a+)\" at \"(?<=(?1))(a+)\"", false},
	{`(?<=\g<1>)(a)`, "", "", false},
	{`(a)(?<=\1)`, "pcre_compile() failed: lookbehind assertion is not fixed length in \"(a)(?<=\\1)\" at \")\"", "", false},
	{`(?>a)+`, "", "", false},
	{`(*ACCEPT)`, "pcre_compile() failed: the backtracking control verb (*ACCEPT) is not supported in \"(*ACCEPT)\" at \"(*ACCEPT)\"", "pcre2_compile() failed: the backtracking control verb (*ACCEPT) is not supported in \"(*ACCEPT)\" at \"(*ACCEPT)\"", true},
	{`(*PRUNE)`, "pcre_compile() failed: the backtracking control verb (*PRUNE) is not supported in \"(*PRUNE)\" at \"(*PRUNE)\"", "pcre2_compile() failed: the backtracking control verb (*PRUNE) is not supported in \"(*PRUNE)\" at \"(*PRUNE)\"", true},
	{`(*SKIP)`, "pcre_compile() failed: the backtracking control verb (*SKIP) is not supported in \"(*SKIP)\" at \"(*SKIP)\"", "pcre2_compile() failed: the backtracking control verb (*SKIP) is not supported in \"(*SKIP)\" at \"(*SKIP)\"", true},
	{`(*THEN)`, "pcre_compile() failed: the backtracking control verb (*THEN) is not supported in \"(*THEN)\" at \"(*THEN)\"", "pcre2_compile() failed: the backtracking control verb (*THEN) is not supported in \"(*THEN)\" at \"(*THEN)\"", true},
	{`(*COMMIT:x)`, "pcre_compile() failed: an argument is not allowed for (*ACCEPT), (*FAIL), or (*COMMIT) in \"(*COMMIT:x)\" at \")\"", "pcre2_compile() failed: the backtracking control verb (*COMMIT) is not supported in \"(*COMMIT:x)\" at \"(*COMMIT:x)\"", true},
	{`(*:x)`, "", "", false},
	{`(*MARK:x)`, "", "", false},
	{`(*UTF8)x`, "", "", false},
	{`(*UTF)x`, "", "", false},
	{`(*UCP)x`, "", "", false},
	{`(*CR)x`, "pcre_compile() failed: newline convention (*CR) is not supported in \"(*CR)x\" at \")x\"", "pcre2_compile() failed: newline convention (*CR) is not supported in \"(*CR)x\" at \")x\"", true},
	{`(*LIMIT_MATCH=10)x`, "", "", false},
	{`(*NO_START_OPT)x`, "", "", false},
	{`x(*UTF8)`, "pcre_compile() failed: (*VERB) not recognized or malformed in \"x(*UTF8)\" at \"8)\"", "pcre2_compile() failed: (*VERB) not recognized or malformed in \"x(*UTF8)\" at \")\"", false},
	{`(*utf8)x`, "pcre_compile() failed: (*VERB) not recognized or malformed in \"(*utf8)x\" at \"8)x\"", "pcre2_compile() failed: (*alpha_assertion) not recognized in \"(*utf8)x\" at \")x\"", false},
	{`[[:alpha:]`, "pcre_compile() failed: missing terminating ] for character class in \"[[:alpha:]\"", "pcre2_compile() failed: missing terminating ] for character class in \"[[:alpha:]\"", false},
	{`[[:alpha:]]]`, "", "", false},
	{`[[:alpha]]`, "", "", false},
	{`[[:]]`, "", "", false},
	{`[[:a:b:]]`, "pcre_compile() failed: unknown POSIX class name in \"[[:a:b:]]\" at \"a:b:]]\"", "pcre2_compile() failed: unknown POSIX class name in \"[[:a:b:]]\" at \"a:b:]]\"", false},
	{`[\Qa-\E]`, "", "", false},
	{`[a-\Qz\E]`, "", "", false},
	{`[\Q\E]`, "pcre_compile() failed: missing terminating ] for character class in \"[\\Q\\E]\"", "pcre2_compile() failed: missing terminating ] for character class in \"[\\Q\\E]\"", false},
	{`[\w-]`, "", "", false},
	{`[-\w]`, "", "", false},
	{`[a-b-c]`, "", "", false},
	{`[^-a]`, "", "", false},
	{`[\d-]`, "", "", false},
	{`[z-\x61]`, "pcre_compile() failed: range out of order in character class in \"[z-\\x61]\" at \"1]\"", "pcre2_compile() failed: range out of order in character class in \"[z-\\x61]\" at \"1]\"", false},
	{`[\x{41}-\x{40}]`, "pcre_compile() failed: range out of order in character class in \"[\\x{41}-\\x{40}]\" at \"}]\"", "pcre2_compile() failed: range out of order in character class in \"[\\x{41}-\\x{40}]\" at \"}]\"", false},
	{`\Q\E*`, "pcre_compile() failed: nothing to repeat in \"\\Q\\E*\" at \"*\"", "pcre2_compile() failed: quantifier does not follow a repeatable item in \"\\Q\\E*\" at \"*\"", false},
	{`(?#)*`, "pcre_compile() failed: nothing to repeat in \"(?#)*\" at \"*\"", "pcre2_compile() failed: quantifier does not follow a repeatable item in \"(?#)*\" at \"*\"", false},
	{`a(?#x)*`, "", "", false},
	{`(?x)a #c`, "", "", false},
	{`*`, "pcre_compile() failed: nothing to repeat in \"*\" at \"*\"", "pcre2_compile() failed: quantifier does not follow a repeatable item in \"*\" at \"*\"", false},
	{`(?x) *`, "pcre_compile() failed: nothing to repeat in \"(?x) *\" at \"*\"", "pcre2_compile() failed: quantifier does not follow a repeatable item in \"(?x) *\" at \"*\"", false},
	{`(?x)a {2}`, "", "", false},
	{`(?x)a{ 2}`, "", "", false},
	{`a{2 }`, "", "", false},
	{`a{ 2}`, "", "", false},
	{`[a]{2}{3}`, "pcre_compile() failed: nothing to repeat in \"[a]{2}{3}\" at \"}\"", "pcre2_compile() failed: quantifier does not follow a repeatable item in \"[a]{2}{3}\" at \"}\"", false},
	{`\p{^L}`, "", "", false},
	{`\p{L&}`, "", "", false},
	{`\p{Any}`, "", "", false},
	{`\p{Xwd}`, "", "", false},
	{`\pZZ`, "", "", false},
	{`\p{Latin}`, "", "", false},
	{`\p{latin}`, "pcre_compile() failed: unknown property name after \\P or \\p in \"\\p{latin}\" at \"}\"", "", false},
	{`\P{^Lu}`, "", "", false},
	{`\p{Cn}`, "", "", false},
	{`\p{Cs}`, "", "", false},
	{`\p{L`, "pcre_compile() failed: malformed \\P or \\p sequence in \"\\p{L\"", "pcre2_compile() failed: malformed \\P or \\p sequence in \"\\p{L\"", false},
	{`\X*`, "", "", false},
	{`\R+`, "", "", false},
	{`\C+`, "", "", false},
	{`\N*`, "", "", false},
	{`\N{2}`, "", "", false},
	{`\G+`, "pcre_compile() failed: nothing to repeat in \"\\G+\" at \"+\"", "pcre2_compile() failed: quantifier does not follow a repeatable item in \"\\G+\" at \"+\"", false},
	{`\A*`, "pcre_compile() failed: nothing to repeat in \"\\A*\" at \"*\"", "pcre2_compile() failed: quantifier does not follow a repeatable item in \"\\A*\" at \"*\"", false},
	{`\z?`, "pcre_compile() failed: nothing to repeat in \"\\z?\" at \"?\"", "pcre2_compile() failed: quantifier does not follow a repeatable item in \"\\z?\" at \"?\"", false},
}

func TestCompileErrors(t *testing.T) {
	for _, c := range errorCases {
		got, got2 := "", ""
		if _, err := Compile(c.pat, 0); err != nil {
			got = err.(*Error).LuaText()
		}
		if _, err := Compile(c.pat, PCRE2); err != nil {
			got2 = err.Error()
		}
		if got != c.pcre {
			t.Errorf("%q (ngx.re): got %q, want %q", c.pat, got, c.pcre)
		}
		if got2 != c.pcre2 {
			t.Errorf("%q (nginx): got %q, want %q", c.pat, got2, c.pcre2)
		}
	}
}

// TestCompileErrorsAgainstNginx checks the PCRE texts of the table with
// ngx.re in a real nginx.
func TestCompileErrorsAgainstNginx(t *testing.T) {
	n := startLuaNginx(t)
	var qs []luaQuery
	var cases []errorCase
	for _, c := range errorCases {
		if !c.ours {
			qs = append(qs, luaQuery{pat: c.pat, subj: "x"})
			cases = append(cases, c)
		}
	}
	res := n.eval(t, qs)
	for i, c := range cases {
		want := ""
		if c.pcre != "" {
			want = "err:" + escapeResult(c.pcre)
		}
		got := res[i]
		if !strings.HasPrefix(got, "err:") {
			got = ""
		}
		if got != want {
			t.Errorf("%q: ngx.re says %q, table says %q", c.pat, got, want)
		}
	}
}

// TestCompileErrorsAgainstNginxT checks the PCRE2 texts of the table with
// "nginx -t" on a location regex.
func TestCompileErrorsAgainstNginxT(t *testing.T) {
	bin := findNginx(t)
	dir := t.TempDir()
	checked := 0
	for i, c := range errorCases {
		// nginx -t takes tens of milliseconds; every fourth row keeps
		// the test quick while covering each kind of error. nginx.conf
		// cannot carry a NUL byte.
		if c.ours || i%4 != 0 || strings.IndexByte(c.pat, 0) >= 0 {
			continue
		}
		got := nginxRegexError(t, bin, dir, c.pat, false)
		if got != c.pcre2 {
			t.Errorf("%q: nginx -t says %q, table says %q", c.pat, got, c.pcre2)
		}
		checked++
	}
	t.Logf("compared %d patterns with nginx -t", checked)
}

// TestNginxCaselessRegexError checks that ~* compiles like ~ as far as
// errors go, since nginx adds only PCRE2_CASELESS.
func TestNginxCaselessRegexError(t *testing.T) {
	bin := findNginx(t)
	dir := t.TempDir()
	for _, p := range []string{"(abc", "[z-a]", "a{2,1}", "(?<=a+)b"} {
		_, err := Compile(p, PCRE2|Caseless)
		if err == nil {
			t.Fatalf("%q compiled", p)
		}
		if got := nginxRegexError(t, bin, dir, p, true); got != err.Error() {
			t.Errorf("%q: nginx -t says %q, we say %q", p, got, err.Error())
		}
	}
}
