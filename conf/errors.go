package conf

import (
	"errors"
	"io/fs"
	"strconv"
	"syscall"
)

// maxErrStr is nginx's NGX_MAX_CONF_ERRSTR: a configuration error message
// is formatted into a buffer of this size and cut at its end.
const maxErrStr = 1024

// Error is a configuration error as nginx reports it. Error() gives the text
// nginx prints after "[emerg]" (or after "[crit]", see Level).
type Error struct {
	// File is the file the error is in; "" means the -g command line, which
	// nginx names "command line".
	File string
	// Line is the line nginx reports, counted as nginx counts it.
	Line int
	// Msg is the message without the location.
	Msg string
	// Level is nginx's log level for the message: "emerg", or "crit" for a
	// file that could be opened but not read (a directory matched by an
	// include glob).
	Level string
	// NoLocation is set when nginx prints the message alone, without
	// " in FILE:LINE": the main file cannot be opened, or cannot be read.
	NoLocation bool
}

// Error returns "MSG in FILE:LINE", "MSG in command line" or "MSG".
func (e *Error) Error() string {
	switch {
	case e.NoLocation:
		return e.Msg
	case e.File == "":
		return e.Msg + " in command line"
	}
	return e.Msg + " in " + e.File + ":" + strconv.Itoa(e.Line)
}

// NewError returns an "emerg" error at file:line ("" for the command line),
// with msg cut to nginx's 1024-byte limit for configuration messages.
func NewError(file string, line int, msg string) *Error {
	if len(msg) > maxErrStr {
		msg = msg[:maxErrStr]
	}
	return &Error{File: file, Line: line, Msg: msg, Level: "emerg"}
}

// sysError returns msg followed by the system error's number and glibc text,
// " (2: No such file or directory)", cut as ngx_log_errno cuts it: when the
// message leaves less than 50 bytes, it is shortened and ends in "...".
func sysError(file string, line int, msg string, err error) *Error {
	if len(msg) > maxErrStr {
		msg = msg[:maxErrStr]
	}
	if len(msg) > maxErrStr-50 {
		msg = msg[:maxErrStr-50] + "..."
	}
	en := errnoOf(err)
	msg += " (" + strconv.Itoa(int(en)) + ": " + strerror(en)
	if len(msg) >= maxErrStr {
		msg = msg[:maxErrStr]
	} else {
		msg += ")"
	}
	return &Error{File: file, Line: line, Msg: msg, Level: "emerg"}
}

// errnoOf finds the errno inside err; errors from a FileSystem that carry
// none are mapped by kind.
func errnoOf(err error) syscall.Errno {
	var en syscall.Errno
	switch {
	case errors.As(err, &en):
		return en
	case errors.Is(err, fs.ErrNotExist):
		return syscall.ENOENT
	case errors.Is(err, fs.ErrPermission):
		return syscall.EACCES
	}
	return syscall.EIO
}

// strerror returns glibc's text for en. Go's table holds glibc's words with
// the first letter in lower case.
func strerror(en syscall.Errno) string {
	s := en.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
