package httpparse

// Method is a request method as a bit, with nginx's NGX_HTTP_* values, so
// that sets of methods (limit_except, dav_methods) are bit masks.
type Method uint32

// The methods nginx knows by name; any other well-formed method is
// MethodUnknown.
const (
	MethodUnknown   Method = 0x00000001
	MethodGET       Method = 0x00000002
	MethodHEAD      Method = 0x00000004
	MethodPOST      Method = 0x00000008
	MethodPUT       Method = 0x00000010
	MethodDELETE    Method = 0x00000020
	MethodMKCOL     Method = 0x00000040
	MethodCOPY      Method = 0x00000080
	MethodMOVE      Method = 0x00000100
	MethodOPTIONS   Method = 0x00000200
	MethodPROPFIND  Method = 0x00000400
	MethodPROPPATCH Method = 0x00000800
	MethodLOCK      Method = 0x00001000
	MethodUNLOCK    Method = 0x00002000
	MethodPATCH     Method = 0x00004000
	MethodTRACE     Method = 0x00008000
	MethodCONNECT   Method = 0x00010000
)

// String returns the method's name, or "UNKNOWN".
func (m Method) String() string {
	switch m {
	case MethodGET:
		return "GET"
	case MethodHEAD:
		return "HEAD"
	case MethodPOST:
		return "POST"
	case MethodPUT:
		return "PUT"
	case MethodDELETE:
		return "DELETE"
	case MethodMKCOL:
		return "MKCOL"
	case MethodCOPY:
		return "COPY"
	case MethodMOVE:
		return "MOVE"
	case MethodOPTIONS:
		return "OPTIONS"
	case MethodPROPFIND:
		return "PROPFIND"
	case MethodPROPPATCH:
		return "PROPPATCH"
	case MethodLOCK:
		return "LOCK"
	case MethodUNLOCK:
		return "UNLOCK"
	case MethodPATCH:
		return "PATCH"
	case MethodTRACE:
		return "TRACE"
	case MethodCONNECT:
		return "CONNECT"
	}
	return "UNKNOWN"
}

// ParseMethod maps a method name to its Method; names are case-sensitive, as
// in nginx, and anything else is MethodUnknown.
func ParseMethod(name []byte) Method {
	// Switching on the length first keeps the common case to one or two
	// short comparisons.
	switch len(name) {
	case 3:
		switch string(name) {
		case "GET":
			return MethodGET
		case "PUT":
			return MethodPUT
		}
	case 4:
		switch string(name) {
		case "POST":
			return MethodPOST
		case "HEAD":
			return MethodHEAD
		case "COPY":
			return MethodCOPY
		case "MOVE":
			return MethodMOVE
		case "LOCK":
			return MethodLOCK
		}
	case 5:
		switch string(name) {
		case "MKCOL":
			return MethodMKCOL
		case "PATCH":
			return MethodPATCH
		case "TRACE":
			return MethodTRACE
		}
	case 6:
		switch string(name) {
		case "DELETE":
			return MethodDELETE
		case "UNLOCK":
			return MethodUNLOCK
		}
	case 7:
		switch string(name) {
		case "OPTIONS":
			return MethodOPTIONS
		case "CONNECT":
			return MethodCONNECT
		}
	case 8:
		if string(name) == "PROPFIND" {
			return MethodPROPFIND
		}
	case 9:
		if string(name) == "PROPPATCH" {
			return MethodPROPPATCH
		}
	}
	return MethodUnknown
}
