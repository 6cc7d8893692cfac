package ssi

import (
	"bytes"
	"strconv"

	"gresty/errlog"
	"gresty/http"
	"gresty/internal/strftime"
)

// Flags of evaluate.
const (
	// addPrefix makes a relative result relative to the directory of the
	// request's URI (include's virtual= and file=).
	addPrefix = 1
)

// findVariable returns the document variable name (lower case): $0..$9
// are the captures of the last matching regex, as long as it set them
// (the value returned for those is a copy: assigning to it changes
// nothing, as in nginx); other names are the document's own variables.
func (c *ctx) findVariable(r *http.Request, name []byte) *variable {
	sh := sharedOf(r)
	if len(name) == 1 && name[0] >= '0' && name[0] <= '9' {
		if i := int(name[0] - '0'); i < sh.ncaptures {
			v := &variable{name: name}
			if s, e := sh.captures[2*i], sh.captures[2*i+1]; s >= 0 && e >= s {
				v.value = sh.subject[s:e]
			} else {
				v.value = []byte{}
			}
			return v
		}
	}
	for _, v := range sh.vars {
		if bytes.Equal(v.name, name) {
			return v
		}
	}
	return nil
}

// variable returns the value of $name (lower case) in the document: its
// own variables first, then the request's. failed reports a variable
// that could not be evaluated.
func (c *ctx) variable(r *http.Request, name []byte) (value []byte, found, failed bool) {
	if v := c.findVariable(r, name); v != nil {
		return v.value, true, false
	}
	switch string(name) {
	case "date_local", "date_gmt":
		// evaluated here rather than through the variable so that a
		// format giving nothing is the error it is in nginx.
		v, ok := formatDate(r, name[5] == 'g')
		if !ok {
			return nil, false, true
		}
		return v, true, false
	}
	v, ok := r.LookupVariable(string(name))
	return v, ok, false
}

// evaluate expands the variables of a command's value, as
// ngx_http_ssi_evaluate_string: $name and ${name} are replaced by their
// values (not found ones by nothing), a backslash before \, ', " or $
// quotes it, and any other backslash stays. Like nginx it works in place
// in text where it can (text is a parameter value the command owns): the
// names are lowered and literal parts unescaped there, which the error
// messages show. It returns the result and OK, ssiError (logged) or
// Error.
func (c *ctx) evaluate(r *http.Request, text []byte, flags int) ([]byte, int) {
	if bytes.IndexByte(text, '$') < 0 {
		var out []byte
		if flags&addPrefix != 0 && (len(text) == 0 || text[0] != '/') {
			if prefix := uriDir(r.URI); len(prefix) > 0 {
				out = make([]byte, 0, len(prefix)+len(text))
				out = append(out, prefix...)
				return unescapeLiteral(out, text), http.OK
			}
		}
		return unescapeLiteral(text[:0], text), http.OK
	}
	var parts [][]byte
	size := 0
	i := 0
	for i < len(text) {
		var part []byte
		if text[i] == '$' {
			i++
			if i == len(text) {
				return nil, invalidVariable(r, text)
			}
			bracket := false
			if text[i] == '{' {
				bracket = true
				i++
				if i == len(text) {
					return nil, invalidVariable(r, text)
				}
			}
			start := i
			end := -1
			for ; i < len(text); i++ {
				ch := text[i]
				if ch == '}' && bracket {
					end = i
					i++
					bracket = false
					break
				}
				if ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '_' {
					continue
				}
				break
			}
			if end < 0 {
				end = i
			}
			name := text[start:end]
			if bracket {
				r.Logf(errlog.Error, "the closing bracket in \"%s\" variable is missing", name)
				return nil, ssiError
			}
			if len(name) == 0 {
				return nil, invalidVariable(r, text)
			}
			lowerInPlace(name)
			v, found, failed := c.variable(r, name)
			if failed {
				return nil, http.Error
			}
			if !found {
				continue
			}
			part = v
		} else {
			// a literal part, unescaped in place up to the next
			// unquoted '$'.
			start := i
			w := i
			quoted := false
			for ; i < len(text); i++ {
				ch := text[i]
				if !quoted {
					if ch == '\\' {
						quoted = true
						continue
					}
					if ch == '$' {
						break
					}
				} else {
					quoted = false
					if ch != '\\' && ch != '\'' && ch != '"' && ch != '$' {
						text[w] = '\\'
						w++
					}
				}
				text[w] = ch
				w++
			}
			part = text[start:w]
		}
		parts = append(parts, part)
		size += len(part)
	}
	var prefix []byte
	if flags&addPrefix != 0 {
		for _, p := range parts {
			if len(p) != 0 {
				if p[0] != '/' {
					prefix = uriDir(r.URI)
				}
				break
			}
		}
	}
	out := make([]byte, 0, len(prefix)+size)
	out = append(out, prefix...)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out, http.OK
}

func invalidVariable(r *http.Request, text []byte) int {
	r.Logf(errlog.Error, "invalid variable name in \"%s\"", text)
	return ssiError
}

// unescapeLiteral appends text to dst with its backslash quoting
// resolved; dst may be text[:0].
func unescapeLiteral(dst, text []byte) []byte {
	quoted := false
	for _, ch := range text {
		if !quoted {
			if ch == '\\' {
				quoted = true
				continue
			}
		} else {
			quoted = false
			if ch != '\\' && ch != '\'' && ch != '"' && ch != '$' {
				dst = append(dst, '\\')
			}
		}
		dst = append(dst, ch)
	}
	return dst
}

// uriDir returns uri up to and including its last '/', empty when it has
// none.
func uriDir(uri []byte) []byte {
	return uri[:bytes.LastIndexByte(uri, '/')+1]
}

// dateVariable is $date_local and $date_gmt (data: whether GMT): the
// current time in the "config timefmt" of the request's document.
func dateVariable(r *http.Request, data any) ([]byte, bool) {
	return formatDate(r, data.(bool))
}

// dateBufSize is nginx's buffer for a formatted date (the NUL included).
const dateBufSize = 2048

// timefmtQuirks are the readings of a timefmt that SSI has always given
// where they depart from glibc's.
const timefmtQuirks = strftime.LaxModifiers | strftime.RawUnknown | strftime.ExactWidth |
	strftime.ZoneWidthSign | strftime.ZoneSwapCase

// formatDate formats the loop's current time with the timefmt of r's
// document (the default one outside documents); false when the format
// gives nothing, which nginx treats as an error.
func formatDate(r *http.Request, gmt bool) ([]byte, bool) {
	now := r.Conn.Loop().Now()
	f := defaultTimefmt
	if c := ctxOf(r); c != nil && c.timefmt != nil {
		f = c.timefmt
	}
	if len(f) == 2 && f[0] == '%' && f[1] == 's' {
		return strconv.AppendInt(nil, now.Unix(), 10), true
	}
	if !gmt {
		now = now.Local()
	}
	out, ok := strftime.Append(nil, f, now, strftime.Options{Size: dateBufSize, GMT: gmt, Quirks: timefmtQuirks})
	if !ok || len(out) == 0 {
		return nil, false
	}
	return out, true
}
