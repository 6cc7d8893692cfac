package httpparse

// Reason says why a request head was rejected. Its String is the fixed part
// of the line nginx writes to the error log (at "info" level) for that case;
// where nginx appends the offending text, Request.ErrorText supplies it.
type Reason uint8

// Reasons for rejecting a request head, in nginx's wording.
const (
	ReasonNone Reason = iota
	ReasonInvalidMethod
	ReasonInvalidRequest
	ReasonInvalidVersion
	ReasonInvalid09Method
	ReasonInvalidHostInRequestLine
	ReasonTooLongURI
	ReasonInvalidHeader
	ReasonTooLongHeader
	ReasonTooLargeRequest
	ReasonDuplicateHeader
	ReasonDuplicateHost
	ReasonInvalidHost
	ReasonNoHost
	ReasonInvalidContentLength
	ReasonTransferEncoding10
	ReasonContentLengthAndTransferEncoding
	ReasonUnknownTransferEncoding
	ReasonConnectMethod
	ReasonTraceMethod
)

var reasonText = [...]string{
	ReasonNone:                             "",
	ReasonInvalidMethod:                    "client sent invalid method",
	ReasonInvalidRequest:                   "client sent invalid request",
	ReasonInvalidVersion:                   "client sent invalid version",
	ReasonInvalid09Method:                  "client sent invalid method in HTTP/0.9 request",
	ReasonInvalidHostInRequestLine:         "client sent invalid host in request line",
	ReasonTooLongURI:                       "client sent too long URI",
	ReasonInvalidHeader:                    "client sent invalid header line",
	ReasonTooLongHeader:                    "client sent too long header line",
	ReasonTooLargeRequest:                  "client sent too large request",
	ReasonDuplicateHeader:                  "client sent duplicate header line",
	ReasonDuplicateHost:                    "client sent duplicate host header",
	ReasonInvalidHost:                      "client sent invalid host header",
	ReasonNoHost:                           "client sent HTTP/1.1 request without \"Host\" header",
	ReasonInvalidContentLength:             "client sent invalid \"Content-Length\" header",
	ReasonTransferEncoding10:               "client sent HTTP/1.0 request with \"Transfer-Encoding\" header",
	ReasonContentLengthAndTransferEncoding: "client sent \"Content-Length\" and \"Transfer-Encoding\" headers at the same time",
	ReasonUnknownTransferEncoding:          "client sent unknown \"Transfer-Encoding\"",
	ReasonConnectMethod:                    "client sent CONNECT method",
	ReasonTraceMethod:                      "client sent TRACE method",
}

// String returns nginx's log text for r.
func (r Reason) String() string {
	if int(r) < len(reasonText) {
		return reasonText[r]
	}
	return "unknown reason"
}

// InRequestLine tells whether nginx finds r while reading the request
// line (its log lines then say "while reading client request line"), not
// the header lines.
func (r Reason) InRequestLine() bool {
	switch r {
	case ReasonInvalidMethod, ReasonInvalidRequest, ReasonInvalidVersion,
		ReasonInvalid09Method, ReasonInvalidHostInRequestLine, ReasonTooLongURI:
		return true
	}
	return false
}

// StatusRequestHeaderTooLarge is nginx's internal status 494: the verdict for
// header lines or heads that do not fit large_client_header_buffers. It goes
// out on the wire as 400.
const StatusRequestHeaderTooLarge = 494

// WireStatus maps a verdict status to the code nginx puts in the status line:
// its internal 494 becomes 400 (with the "Request Header Or Cookie Too Large"
// page); every other code is sent as is.
func WireStatus(status int) int {
	if status == StatusRequestHeaderTooLarge {
		return 400
	}
	return status
}
