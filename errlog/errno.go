package errlog

import (
	"errors"
	"strconv"
	"syscall"
)

// Errno formats the system error inside err as nginx appends it to a
// message: "(2: No such file or directory)". Errors that carry no errno are
// formatted as "(0: text)"; a nil error gives "".
func Errno(err error) string {
	if err == nil {
		return ""
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return "(" + strconv.Itoa(int(en)) + ": " + Strerror(en) + ")"
	}
	return "(0: " + err.Error() + ")"
}

// Strerror returns glibc's text for an errno. Go's own table holds the same
// words in lower case; glibc capitalises the first letter.
func Strerror(en syscall.Errno) string {
	s := en.Error()
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
