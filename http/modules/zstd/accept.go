package zstd

// AcceptsToken tells whether an Accept-Encoding value lists the coding
// name (any case) with a non-zero quality, as RFC 9110 section 12.5.3
// reads it: comma-separated codings, each with optional ";q=" weight. A
// malformed weight refuses the coding.
func AcceptsToken(ae []byte, name string) bool {
	i := 0
	for i < len(ae) {
		// one list element: skip separators and whitespace.
		for i < len(ae) && (ae[i] == ',' || ae[i] == ' ' || ae[i] == '\t') {
			i++
		}
		start := i
		for i < len(ae) && ae[i] != ',' && ae[i] != ';' && ae[i] != ' ' && ae[i] != '\t' {
			i++
		}
		tok := ae[start:i]
		match := equalFold(tok, name)
		q := true
		for i < len(ae) && ae[i] != ',' {
			// parameters
			for i < len(ae) && (ae[i] == ' ' || ae[i] == '\t' || ae[i] == ';') {
				i++
			}
			ps := i
			for i < len(ae) && ae[i] != ',' && ae[i] != ';' {
				i++
			}
			p := trimSpace(ae[ps:i])
			if len(p) >= 2 && (p[0] == 'q' || p[0] == 'Q') {
				v := trimSpace(p[1:])
				if len(v) == 0 || v[0] != '=' {
					q = false
					continue
				}
				q = qualityNonZero(trimSpace(v[1:]))
			}
		}
		if match {
			return q
		}
	}
	return false
}

// qualityNonZero parses a qvalue ("0", "0.5", "1.000") and tells whether
// it is above zero; anything else is refused.
func qualityNonZero(v []byte) bool {
	if len(v) == 0 || (v[0] != '0' && v[0] != '1') {
		return false
	}
	nonzero := v[0] == '1'
	if len(v) == 1 {
		return nonzero
	}
	if v[1] != '.' || len(v) > 5 {
		return false
	}
	for _, c := range v[2:] {
		if c < '0' || c > '9' {
			return false
		}
		if c != '0' {
			if v[0] == '1' {
				return false
			}
			nonzero = true
		}
	}
	return nonzero
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
