package headersmore

import (
	"strings"

	"gresty/conf"
	"gresty/core"
	"gresty/http"
)

// isSpace is C's isspace in the "C" locale, which the original's parsers
// use.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// parseOutput is more_set_headers and more_clear_headers: header
// arguments with -s and -t options in any order.
func parseOutput(p *core.Parser, d *conf.Directive, lc *LocConf, clear bool) error {
	cf := p.Ext.(*http.Conf)
	cmd := &command{}
	name := d.Name
	args := d.Args
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "" {
			continue
		}
		if a[0] != '-' {
			hv, err := parseHeader(p, name, a, clear, outputSetters, setOutput)
			if err != nil {
				return err
			}
			cmd.headers = append(cmd.headers, hv)
			continue
		}
		if len(a) == 2 && (a[1] == 't' || a[1] == 's') {
			if i == len(args)-1 {
				return confError("%s: option -%c takes an argument.", name, a[1])
			}
			i++
			if a[1] == 't' {
				cmd.types = parseTypes(args[i], cmd.types)
				continue
			}
			st, err := parseStatuses(name, args[i], cmd.statuses)
			if err != nil {
				return err
			}
			cmd.statuses = st
			continue
		}
		return confError("%s: invalid option name: \"%s\"", name, a)
	}
	lc.cmds = append(lc.cmds, cmd)
	cf.MainConfOf(Module).(*mainConf).requiresFilter = true
	return nil
}

// parseInput is more_set_input_headers and more_clear_input_headers:
// header arguments with -t and -r options.
func parseInput(p *core.Parser, d *conf.Directive, lc *LocConf, clear bool) error {
	cf := p.Ext.(*http.Conf)
	cmd := &command{input: true}
	name := d.Name
	args := d.Args
	replace := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "" {
			continue
		}
		if a[0] != '-' {
			hv, err := parseHeader(p, name, a, clear, inputSetters, setInput)
			if err != nil {
				return err
			}
			cmd.headers = append(cmd.headers, hv)
			continue
		}
		if len(a) == 2 {
			if a[1] == 't' {
				if i == len(args)-1 {
					return confError("%s: option -t takes an argument.", name)
				}
				i++
				cmd.types = parseTypes(args[i], cmd.types)
				continue
			}
			if a[1] == 'r' {
				replace = true
				continue
			}
		}
		return confError("%s: invalid option name: \"%s\"", name, a)
	}
	for _, hv := range cmd.headers {
		hv.replace = replace
	}
	lc.cmds = append(lc.cmds, cmd)
	cf.MainConfOf(Module).(*mainConf).requiresHandler = true
	return nil
}

// parseHeader splits "Name: value" (the colon or blanks end the name;
// any run of colons and blanks follows it) and compiles the value. As
// the original, the name is counted from the start of the argument even
// when blanks precede it.
func parseHeader(p *core.Parser, dname, raw string, clear bool, setters map[string]setFunc, generic setFunc) (*headerVal, error) {
	keyLen, valStart := 0, -1
	endOfKey := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if keyLen == 0 {
			if !isSpace(c) {
				keyLen = 1
			}
			continue
		}
		if !endOfKey {
			if c == ':' || isSpace(c) {
				endOfKey = true
				continue
			}
			keyLen++
			continue
		}
		if valStart < 0 {
			if c == ':' || isSpace(c) {
				continue
			}
			valStart = i
			break
		}
	}
	if keyLen == 0 {
		return nil, confError("%s: no key found in the header argument: %s", dname, raw)
	}
	key := raw[:keyLen]
	hv := &headerVal{key: []byte(key), wildcard: key[len(key)-1] == '*'}
	if hv.wildcard && len(key) < 2 {
		return nil, confError("%s: wildcard key too short: %s", dname, raw)
	}
	hv.set = setters[strings.ToLower(key)]
	if hv.set == nil {
		hv.set = generic
	}
	if clear || valStart < 0 {
		return hv, nil
	}
	value := raw[valStart:]
	t, err := http.CompileTemplateP(p, value)
	if err != nil {
		return nil, err
	}
	hv.value = t
	if t.Static() {
		hv.isStatic = true
		hv.static = []byte(value)
	}
	return hv, nil
}

// parseStatuses reads the -s list: numbers separated by blanks.
func parseStatuses(dname, s string, out []int) ([]int, error) {
	cur := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if cur < 0 {
			if isSpace(c) {
				continue
			}
			if c < '0' || c > '9' {
				return nil, confError("%s: invalid digit \"%c\" found in the status code list \"%s\"", dname, c, s)
			}
			out = append(out, int(c-'0'))
			cur = len(out) - 1
			continue
		}
		if isSpace(c) {
			cur = -1
			continue
		}
		if c < '0' || c > '9' {
			return nil, confError("%s: invalid digit \"%c\" found in the status code list \"%s\"", dname, c, s)
		}
		out[cur] = out[cur]*10 + int(c-'0')
	}
	return out, nil
}

// parseTypes reads the -t list: types separated by blanks or ';'.
func parseTypes(s string, out [][]byte) [][]byte {
	start := -1
	for i := 0; i <= len(s); i++ {
		sep := i == len(s) || isSpace(s[i]) || s[i] == ';'
		if sep {
			if start >= 0 {
				out = append(out, []byte(s[start:i]))
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return out
}
