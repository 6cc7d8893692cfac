package resolver

import (
	"errors"
	"strconv"
)

// Error codes a resolution fails with: the DNS response codes nginx
// passes on, and the errno of a timeout.
const (
	FormErr  = 1   // FORMERR
	ServFail = 2   // SERVFAIL
	NXDomain = 3   // NXDOMAIN; also "no address" and invalid names
	NotImp   = 4   // NOTIMP
	Refused  = 5   // REFUSED
	TimedOut = 110 // resolver_timeout passed (ETIMEDOUT)
)

// Strerror returns nginx's text for a resolver error code
// (ngx_resolver_strerror): "Host not found" for 3, "Operation timed out"
// for 110, "Unknown error" for codes it does not know. Any goroutine.
func Strerror(code int) string {
	switch code {
	case FormErr:
		return "Format error"
	case ServFail:
		return "Server failure"
	case NXDomain:
		return "Host not found"
	case NotImp:
		return "Unimplemented"
	case Refused:
		return "Operation refused"
	case TimedOut:
		return "Operation timed out"
	}
	return "Unknown error"
}

// Error is a failed resolution.
type Error struct {
	// Name is the name asked for, as nginx reports it: lowercased, a
	// trailing dot removed.
	Name string
	// Code is one of FormErr..Refused or TimedOut.
	Code int
}

// Error formats the failure the way nginx's callers log it and ngx_lua
// returns it: "example.test could not be resolved (3: Host not found)".
// Any goroutine.
func (e *Error) Error() string {
	return e.Name + " could not be resolved (" + strconv.Itoa(e.Code) + ": " + Strerror(e.Code) + ")"
}

// Timeout reports whether the resolution timed out. Any goroutine.
func (e *Error) Timeout() bool { return e.Code == TimedOut }

// Errors of a resolution that could not start. Callers report
// ErrNoResolver with their own nginx text ("no resolver defined to resolve
// NAME").
var (
	// ErrClosed: the Set was closed.
	ErrClosed = errors.New("resolver: closed")
	// ErrNoResolver: the configuration has no name server.
	ErrNoResolver = errors.New("resolver: no name servers")
)
