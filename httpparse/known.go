package httpparse

import "encoding/binary"

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

// knownWord is a name prepared for a word-at-a-time comparison: the name's
// bytes as little-endian words (head, middle, tail for names of 8 bytes or
// more; one word for shorter ones) and, for each, the bits to set in the
// candidate before comparing: 0x20 at letters, so that ASCII case does not
// matter, and nothing at '-', which must match exactly.
type knownWord struct {
	w, m [3]uint64
}

// knownTable maps hash slots to names, and knownWords holds each name ready
// for comparison; both are built once at init and read-only afterwards.
var knownTable, knownWords = func() (t [1 << knownTableBits]KnownHeader, words [numKnown]knownWord) {
	for id := KnownHeader(1); id < numKnown; id++ {
		name := []byte(knownNames[id])
		mask := make([]byte, len(name))
		for i, c := range name {
			name[i] = lower(c)
			if name[i] >= 'a' && name[i] <= 'z' {
				mask[i] = 0x20
			}
		}
		h := knownHash(len(name), name[0], name[len(name)/2], name[len(name)-1])
		if t[h] != HdrOther {
			panic("httpparse: known header hash collision: " + knownNames[id] + " and " + knownNames[t[h]])
		}
		t[h] = id
		words[id].w = nameWords(name)
		words[id].m = nameWords(mask)
	}
	return t, words
}()

// nameWords loads a name (2 to 19 bytes) as the words knownWord compares.
func nameWords(b []byte) (w [3]uint64) {
	n := len(b)
	if n < 8 {
		for i := n - 1; i >= 0; i-- {
			w[0] = w[0]<<8 | uint64(b[i])
		}
		return w
	}
	w[0] = binary.LittleEndian.Uint64(b)
	if n > 16 {
		w[1] = binary.LittleEndian.Uint64(b[8:])
	}
	w[2] = binary.LittleEndian.Uint64(b[n-8:])
	return w
}

// LookupHeader returns the KnownHeader for name, compared without regard to
// ASCII case, or HdrOther.
func LookupHeader(name []byte) KnownHeader {
	n := len(name)
	if n < 2 || n > 19 {
		return HdrOther
	}
	// c|0x20 lower-cases the letters and keeps '-', the only other byte
	// in known names; other bytes only pick a slot whose name won't match.
	id := knownTable[knownHash(n, name[0]|0x20, name[n/2]|0x20, name[n-1]|0x20)]
	if id == HdrOther || len(knownNames[id]) != n {
		return HdrOther
	}
	k := &knownWords[id]
	if n < 8 {
		var w uint64
		for i := n - 1; i >= 0; i-- {
			w = w<<8 | uint64(name[i])
		}
		if w|k.m[0] != k.w[0] {
			return HdrOther
		}
		return id
	}
	if binary.LittleEndian.Uint64(name)|k.m[0] != k.w[0] ||
		binary.LittleEndian.Uint64(name[n-8:])|k.m[2] != k.w[2] ||
		(n > 16 && binary.LittleEndian.Uint64(name[8:])|k.m[1] != k.w[1]) {
		return HdrOther
	}
	return id
}
