package regex

import (
	"strconv"
	"strings"
)

// Error is a pattern compile error. Its text is what nginx (PCRE2 dialect)
// or ngx.re (PCRE dialect) print for the same pattern.
type Error struct {
	// Pattern is the pattern as given to Compile.
	Pattern string
	// Offset is the byte offset in Pattern that PCRE reports.
	Offset int
	// Message is PCRE's own message, such as "missing )".
	Message string
	// PCRE2 is true when the text follows nginx's PCRE2 format.
	PCRE2 bool
}

// Error returns `pcre_compile() failed: MSG in "PATTERN" at "REST"` (ngx.re)
// or the same with pcre2_compile() (nginx); the `at` part is left out when
// the offset is the end of the pattern, as nginx does. Like nginx, the REST
// stops at the first NUL byte because it is printed as a C string.
func (e *Error) Error() string {
	var b strings.Builder
	if e.PCRE2 {
		b.WriteString("pcre2_compile() failed: ")
	} else {
		b.WriteString("pcre_compile() failed: ")
	}
	b.WriteString(e.Message)
	b.WriteString(" in \"")
	b.WriteString(e.Pattern)
	b.WriteByte('"')
	if e.Offset < len(e.Pattern) {
		rest := e.Pattern[e.Offset:]
		if i := strings.IndexByte(rest, 0); i >= 0 {
			rest = rest[:i]
		}
		b.WriteString(" at \"")
		b.WriteString(rest)
		b.WriteByte('"')
	}
	return b.String()
}

// luaErrMax is how much of a compile error ngx.re keeps: it formats the
// text into a 128-byte buffer, NUL included.
const luaErrMax = 127

// LuaText returns the text ngx.re returns for this error: Error() cut to
// 127 bytes, as ngx.re's error buffer cuts it, and at the first NUL byte,
// where the buffer is read back as a C string.
func (e *Error) LuaText() string {
	s := e.Error()
	if len(s) > luaErrMax {
		s = s[:luaErrMax]
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return s
}

// ExecError is a match failure other than "no match". Code is PCRE's
// negative return code; ngx.re reports it as "pcre_exec() failed: CODE".
type ExecError struct {
	Code int
}

// Error returns ngx.re's text for the failure.
func (e *ExecError) Error() string {
	return "pcre_exec() failed: " + strconv.Itoa(e.Code)
}

// Match failures, with PCRE's codes. They are never modified.
var (
	// ErrMatchLimit reports that the match limit (or the backtracking
	// stack bound) was hit: PCRE_ERROR_MATCHLIMIT.
	ErrMatchLimit = &ExecError{Code: -8}
	// ErrBadUTF8 reports an invalid UTF-8 subject in UTF-8 mode:
	// PCRE_ERROR_BADUTF8.
	ErrBadUTF8 = &ExecError{Code: -10}
	// ErrBadUTF8Offset reports a start offset inside a UTF-8 character:
	// PCRE_ERROR_BADUTF8_OFFSET.
	ErrBadUTF8Offset = &ExecError{Code: -11}
	// ErrDFAUnsupported reports a pattern item that DFA mode cannot run:
	// PCRE_ERROR_DFA_UITEM.
	ErrDFAUnsupported = &ExecError{Code: -16}
	// ErrBadOffset reports a start offset outside the subject:
	// PCRE_ERROR_BADOFFSET.
	ErrBadOffset = &ExecError{Code: -24}
)

// errCode names a compile error independently of the dialect.
type errCode uint8

const (
	errEndBackslash errCode = iota
	errEndBackslashC
	errUnknownEscape
	errQuantOrder
	errQuantTooBig
	errMissingBracket
	errClassEscape
	errRangeOrder
	errNothingToRepeat
	errUnknownGroup
	errPosixOutside
	errPosixCollating
	errMissingParen
	errNoSuchGroup
	errMissingCommentEnd
	errTooDeep
	errTooLarge
	errUnmatchedParen
	errAfterLt
	errLookbehindLen
	errCondSyntax
	errCondParen
	errCondBranches
	errCondAssert
	errRecursionSyntax
	errPosixUnknown
	errCharTooBig
	errCondZero
	errLookbehindC
	errUnsupportedEscape
	errCalloutNumber
	errCalloutParen
	errAfterP
	errNameTerminator
	errDupName
	errBadUTF8
	errPropSyntax
	errPropUnknown
	errNameTooLong
	errOctalTooBig
	errDefineBranches
	errDefineRepeat
	errGSyntax
	errZeroRef
	errVerbArg
	errVerbUnknown
	errNumberTooBig
	errNameExpected
	errDigitAfterSign
	errJSBracket
	errDiffNames
	errMarkArg
	errCNotASCII
	errKSyntax
	errNInClass
	errSurrogate
	errNonHex
	errNonOctal
	errOBrace
	errInvalidRange
	errNameDigit
	errDigitsMissing
	errNUnicode
	errTooManyGroups
	errKInLookaround
	errRecursionLoop
	errRelZero
	errInvalidHyphen
	errAlphaAssertion
	errUnsupported
	numErrCodes
)

// messages holds the texts of PCRE 8.39 and PCRE2 10.42, as printed by the
// libraries, indexed by errCode.
var messages = [numErrCodes][2]string{
	errEndBackslash:      {`\ at end of pattern`, `\ at end of pattern`},
	errEndBackslashC:     {`\c at end of pattern`, `\c at end of pattern`},
	errUnknownEscape:     {`unrecognized character follows \`, `unrecognized character follows \`},
	errQuantOrder:        {`numbers out of order in {} quantifier`, `numbers out of order in {} quantifier`},
	errQuantTooBig:       {`number too big in {} quantifier`, `number too big in {} quantifier`},
	errMissingBracket:    {`missing terminating ] for character class`, `missing terminating ] for character class`},
	errClassEscape:       {`invalid escape sequence in character class`, `escape sequence is invalid in character class`},
	errRangeOrder:        {`range out of order in character class`, `range out of order in character class`},
	errNothingToRepeat:   {`nothing to repeat`, `quantifier does not follow a repeatable item`},
	errUnknownGroup:      {`unrecognized character after (? or (?-`, `unrecognized character after (? or (?-`},
	errPosixOutside:      {`POSIX named classes are supported only within a class`, `POSIX named classes are supported only within a class`},
	errPosixCollating:    {`POSIX collating elements are not supported`, `POSIX collating elements are not supported`},
	errMissingParen:      {`missing )`, `missing closing parenthesis`},
	errNoSuchGroup:       {`reference to non-existent subpattern`, `reference to non-existent subpattern`},
	errMissingCommentEnd: {`missing ) after comment`, `missing ) after (?# comment`},
	errTooDeep:           {`parentheses are too deeply nested`, `parentheses are too deeply nested`},
	errTooLarge:          {`regular expression is too large`, `regular expression is too large`},
	errUnmatchedParen:    {`unmatched parentheses`, `unmatched closing parenthesis`},
	errAfterLt:           {`unrecognized character after (?<`, `syntax error in subpattern name (missing terminator?)`},
	errLookbehindLen:     {`lookbehind assertion is not fixed length`, `lookbehind assertion is not fixed length`},
	errCondSyntax:        {`malformed number or name after (?(`, `missing closing parenthesis for condition`},
	errCondParen:         {`malformed number or name after (?(`, `missing closing parenthesis for condition`},
	errCondBranches:      {`conditional group contains more than two branches`, `conditional subpattern contains more than two branches`},
	errCondAssert:        {`assertion expected after (?( or (?(?C)`, `assertion expected after (?( or (?(?C)`},
	errRecursionSyntax:   {`(?R or (?[+-]digits must be followed by )`, `(?R (recursive pattern call) must be followed by a closing parenthesis`},
	errPosixUnknown:      {`unknown POSIX class name`, `unknown POSIX class name`},
	errCharTooBig:        {`character value in \x{} or \o{} is too large`, `character code point value in \x{} or \o{} is too large`},
	errCondZero:          {`invalid condition (?(0)`, `reference to non-existent subpattern`},
	errLookbehindC:       {`\C not allowed in lookbehind assertion`, `\C is not allowed in a lookbehind assertion in UTF-8 mode`},
	errUnsupportedEscape: {`PCRE does not support \L, \l, \N{name}, \U, or \u`, `PCRE2 does not support \F, \L, \l, \N{name}, \U, or \u`},
	errCalloutNumber:     {`number after (?C is > 255`, `number after (?C is greater than 255`},
	errCalloutParen:      {`closing ) for (?C expected`, `closing parenthesis for (?C expected`},
	errAfterP:            {`unrecognized character after (?P`, `unrecognized character after (?P`},
	errNameTerminator:    {`syntax error in subpattern name (missing terminator)`, `syntax error in subpattern name (missing terminator?)`},
	errDupName:           {`two named subpatterns have the same name`, `two named subpatterns have the same name (PCRE2_DUPNAMES not set)`},
	errBadUTF8:           {`invalid UTF-8 string`, `UTF-8 error: illegal byte (0xfe or 0xff)`},
	errPropSyntax:        {`malformed \P or \p sequence`, `malformed \P or \p sequence`},
	errPropUnknown:       {`unknown property name after \P or \p`, `unknown property after \P or \p`},
	errNameTooLong:       {`subpattern name is too long (maximum 32 characters)`, `subpattern name is too long (maximum 32 code units)`},
	errOctalTooBig:       {`octal value is greater than \377 in 8-bit non-UTF-8 mode`, `octal value is greater than \377 in 8-bit non-UTF-8 mode`},
	errDefineBranches:    {`DEFINE group contains more than one branch`, `DEFINE subpattern contains more than one branch`},
	errDefineRepeat:      {`repeating a DEFINE group is not allowed`, `quantifier does not follow a repeatable item`},
	errGSyntax:           {`\g is not followed by a braced, angle-bracketed, or quoted name/number or by a plain number`, `\g is not followed by a braced, angle-bracketed, or quoted name/number or by a plain number`},
	errZeroRef:           {`a numbered reference must not be zero`, `reference to non-existent subpattern`},
	errVerbArg:           {`an argument is not allowed for (*ACCEPT), (*FAIL), or (*COMMIT)`, `(*VERB) not recognized or malformed`},
	errVerbUnknown:       {`(*VERB) not recognized or malformed`, `(*VERB) not recognized or malformed`},
	errNumberTooBig:      {`number is too big`, `subpattern number is too big`},
	errNameExpected:      {`subpattern name expected`, `subpattern name expected`},
	errDigitAfterSign:    {`digit expected after (?+`, `digit expected after (?+ or (?-`},
	errJSBracket:         {`] is an invalid data character in JavaScript compatibility mode`, `] is an invalid data character in JavaScript compatibility mode`},
	errDiffNames:         {`different names for subpatterns of the same number are not allowed`, `different names for subpatterns of the same number are not allowed`},
	errMarkArg:           {`(*MARK) must have an argument`, `(*MARK) must have an argument`},
	errCNotASCII:         {`\c must be followed by an ASCII character`, `\c must be followed by a printable ASCII character`},
	errKSyntax:           {`\k is not followed by a braced, angle-bracketed, or quoted name`, `\k is not followed by a braced, angle-bracketed, or quoted name`},
	errNInClass:          {`\N is not supported in a class`, `\N is not supported in a class`},
	errSurrogate:         {`disallowed Unicode code point (>= 0xd800 && <= 0xdfff)`, `disallowed Unicode code point (>= 0xd800 && <= 0xdfff)`},
	errNonHex:            {`non-hex character in \x{} (closing brace missing?)`, `non-hex character in \x{} (closing brace missing?)`},
	errNonOctal:          {`non-octal character in \o{} (closing brace missing?)`, `non-octal character in \o{} (closing brace missing?)`},
	errOBrace:            {`missing opening brace after \o`, `missing opening brace after \o`},
	errInvalidRange:      {`invalid range in character class`, `invalid range in character class`},
	errNameDigit:         {`group name must start with a non-digit`, `subpattern name must start with a non-digit`},
	errDigitsMissing:     {`digits missing in \x{} or \o{}`, `digits missing in \x{} or \o{} or \N{U+}`},
	errNUnicode:          {`PCRE does not support \L, \l, \N{name}, \U, or \u`, `\N{U+dddd} is supported only in Unicode (UTF) mode`},
	errTooManyGroups:     {`regular expression is too large`, `too many capturing groups (maximum 65535)`},
	errKInLookaround:     {`\K is not allowed in lookarounds`, `\K is not allowed in lookarounds (but see PCRE2_EXTRA_ALLOW_LOOKAROUND_BSK)`},
	errRecursionLoop:     {`recursive subpattern calls are not supported`, `recursive subpattern calls are not supported`},
	errRelZero:           {`a numbered reference must not be zero`, `a relative value of zero is not allowed`},
	errInvalidHyphen:     {`unrecognized character after (? or (?-`, `invalid hyphen in option setting`},
	errAlphaAssertion:    {`(*VERB) not recognized or malformed`, `(*alpha_assertion) not recognized`},
	errUnsupported:       {`this construct is not supported`, `this construct is not supported`},
}

// message returns the dialect's text for c.
func message(c errCode, pcre2 bool) string {
	if pcre2 {
		return messages[c][1]
	}
	return messages[c][0]
}
