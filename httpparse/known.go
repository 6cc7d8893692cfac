package httpparse

// KnownHeader identifies a header name that nginx (or its upstream module)
// gives special treatment. The zero value, HdrOther, is any other name.
type KnownHeader uint8

// Request and response header names recognised by LookupHeader.
const (
	HdrOther KnownHeader = iota
	HdrHost
	HdrConnection
	HdrIfModifiedSince
	HdrIfUnmodifiedSince
	HdrIfMatch
	HdrIfNoneMatch
	HdrUserAgent
	HdrReferer
	HdrContentLength
	HdrContentRange
	HdrContentType
	HdrRange
	HdrIfRange
	HdrTransferEncoding
	HdrTE
	HdrExpect
	HdrUpgrade
	HdrAcceptEncoding
	HdrVia
	HdrAuthorization
	HdrKeepAlive
	HdrXForwardedFor
	HdrXRealIP
	HdrAccept
	HdrAcceptLanguage
	HdrDepth
	HdrDestination
	HdrOverwrite
	HdrDate
	HdrCookie
	// Response-only names follow.
	HdrStatus
	HdrLastModified
	HdrETag
	HdrServer
	HdrWWWAuthenticate
	HdrLocation
	HdrRefresh
	HdrSetCookie
	HdrContentDisposition
	HdrCacheControl
	HdrExpires
	HdrAcceptRanges
	HdrVary
	HdrLink
	HdrXAccelExpires
	HdrXAccelRedirect
	HdrXAccelLimitRate
	HdrXAccelBuffering
	HdrXAccelCharset
	HdrContentEncoding

	numKnown
)

// knownNames holds the canonical spelling of each KnownHeader.
var knownNames = [numKnown]string{
	HdrOther:              "",
	HdrHost:               "Host",
	HdrConnection:         "Connection",
	HdrIfModifiedSince:    "If-Modified-Since",
	HdrIfUnmodifiedSince:  "If-Unmodified-Since",
	HdrIfMatch:            "If-Match",
	HdrIfNoneMatch:        "If-None-Match",
	HdrUserAgent:          "User-Agent",
	HdrReferer:            "Referer",
	HdrContentLength:      "Content-Length",
	HdrContentRange:       "Content-Range",
	HdrContentType:        "Content-Type",
	HdrRange:              "Range",
	HdrIfRange:            "If-Range",
	HdrTransferEncoding:   "Transfer-Encoding",
	HdrTE:                 "TE",
	HdrExpect:             "Expect",
	HdrUpgrade:            "Upgrade",
	HdrAcceptEncoding:     "Accept-Encoding",
	HdrVia:                "Via",
	HdrAuthorization:      "Authorization",
	HdrKeepAlive:          "Keep-Alive",
	HdrXForwardedFor:      "X-Forwarded-For",
	HdrXRealIP:            "X-Real-IP",
	HdrAccept:             "Accept",
	HdrAcceptLanguage:     "Accept-Language",
	HdrDepth:              "Depth",
	HdrDestination:        "Destination",
	HdrOverwrite:          "Overwrite",
	HdrDate:               "Date",
	HdrCookie:             "Cookie",
	HdrStatus:             "Status",
	HdrLastModified:       "Last-Modified",
	HdrETag:               "ETag",
	HdrServer:             "Server",
	HdrWWWAuthenticate:    "WWW-Authenticate",
	HdrLocation:           "Location",
	HdrRefresh:            "Refresh",
	HdrSetCookie:          "Set-Cookie",
	HdrContentDisposition: "Content-Disposition",
	HdrCacheControl:       "Cache-Control",
	HdrExpires:            "Expires",
	HdrAcceptRanges:       "Accept-Ranges",
	HdrVary:               "Vary",
	HdrLink:               "Link",
	HdrXAccelExpires:      "X-Accel-Expires",
	HdrXAccelRedirect:     "X-Accel-Redirect",
	HdrXAccelLimitRate:    "X-Accel-Limit-Rate",
	HdrXAccelBuffering:    "X-Accel-Buffering",
	HdrXAccelCharset:      "X-Accel-Charset",
	HdrContentEncoding:    "Content-Encoding",
}

// String returns the header's canonical name, or "" for HdrOther.
func (k KnownHeader) String() string {
	if k < numKnown {
		return knownNames[k]
	}
	return ""
}

// knownTableBits sizes the lookup table. With the two multipliers in
// knownHash, the names above land in distinct slots of 2^8 (checked at
// init), so a lookup is one probe and one case-insensitive comparison.
const knownTableBits = 8

// knownHash mixes the length and three characters of a lower-cased name;
// it is cheap enough to run on every header line.
func knownHash(n int, first, mid, last byte) uint32 {
	h := uint32(n)*0x58d07675 ^ uint32(first)<<16 ^ uint32(mid)<<8 ^ uint32(last)
	h *= 0x1959b9ef
	return h >> (32 - knownTableBits)
}

// knownLower holds the lower-case names, and knownTable maps hash slots to
// them; both are built once at init and read-only afterwards.
var knownLower, knownTable = func() (low [numKnown]string, t [1 << knownTableBits]KnownHeader) {
	for id := KnownHeader(1); id < numKnown; id++ {
		name := []byte(knownNames[id])
		for i := range name {
			name[i] = lower(name[i])
		}
		h := knownHash(len(name), name[0], name[len(name)/2], name[len(name)-1])
		if t[h] != HdrOther {
			panic("httpparse: known header hash collision: " + knownNames[id] + " and " + knownNames[t[h]])
		}
		t[h] = id
		low[id] = string(name)
	}
	return low, t
}()

// LookupHeader returns the KnownHeader for name, compared without regard to
// ASCII case, or HdrOther.
func LookupHeader(name []byte) KnownHeader {
	n := len(name)
	if n < 2 || n > 19 {
		return HdrOther
	}
	id := knownTable[knownHash(n, lower(name[0]), lower(name[n/2]), lower(name[n-1]))]
	if id != HdrOther && equalFoldLower(name, knownLower[id]) {
		return id
	}
	return HdrOther
}
