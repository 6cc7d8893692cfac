package static

import "strings"

//go:generate go run gen_mimetypes.go /etc/nginx/mime.types

// MimeTypes returns the extension-to-type table of MimeTypesConf as the
// types block builds it: extensions in lower case, a later line winning
// over an earlier one for the same extension. Each call builds a new map.
func MimeTypes() map[string]string {
	m := map[string]string{}
	body := MimeTypesConf[strings.IndexByte(MimeTypesConf, '{')+1 : strings.LastIndexByte(MimeTypesConf, '}')]
	for _, line := range strings.Split(body, ";") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		for _, ext := range f[1:] {
			m[strings.ToLower(ext)] = f[0]
		}
	}
	return m
}
