package regex

import (
	"sort"
	"strconv"
	"strings"
)

// describeOne runs one ngx.re.match-style call and renders the result as
// the Lua harness does: "nomatch", "err:TEXT", or the offsets of every
// group ("start-end", or "-" when unset), followed by the named captures
// as ngx.re.match would return them.
func describeOne(pat, subj, opts string, pos int) string {
	f, err := ParseOptions(opts)
	if err != nil {
		return "flags:" + err.Error()
	}
	re, err := Compile(pat, f)
	if err != nil {
		return escapeResult("err:" + err.(*Error).LuaText())
	}
	ov := make([]int, re.OvectorLen())
	n, err := re.MatchString(NewMatcher(), subj, pos, ov)
	if err != nil {
		return escapeResult("err:" + err.Error())
	}
	if n == 0 {
		return "nomatch"
	}
	parts := make([]string, 0, re.NumCaptures()+1)
	value := func(g int) (string, bool) {
		if g >= n || ov[2*g] < 0 {
			return "", false
		}
		return subj[ov[2*g]:ov[2*g+1]], true
	}
	for g := 0; g <= re.NumCaptures(); g++ {
		if g >= n || ov[2*g] < 0 {
			parts = append(parts, "-")
			continue
		}
		parts = append(parts, strconv.Itoa(ov[2*g])+"-"+strconv.Itoa(ov[2*g+1]))
	}
	out := strings.Join(parts, " ")
	if len(re.Names()) > 0 {
		// ngx.re.match fills named keys from the name table in order:
		// with D it collects the set values of a name in a list,
		// otherwise the last entry of a name wins.
		vals := map[string]string{}
		for _, e := range re.Names() {
			v, ok := value(e.Group)
			if f&DupNames != 0 {
				if ok {
					if old, seen := vals[e.Name]; seen {
						vals[e.Name] = old + "," + v
					} else {
						vals[e.Name] = v
					}
				}
				continue
			}
			if !ok {
				v = "false"
			}
			vals[e.Name] = v
		}
		var names []string
		for k, v := range vals {
			names = append(names, k+"="+v)
		}
		sort.Strings(names)
		if len(names) > 0 {
			out += " {" + strings.Join(names, " ") + "}"
		}
	}
	return escapeResult(out)
}

// describeAll iterates matches from pos the way ngx.re.gmatch and
// ngx.re.gsub do: after an empty match the next search starts one byte
// further on.
func describeAll(pat, subj, opts string, pos int) string {
	f, err := ParseOptions(opts)
	if err != nil {
		return "flags:" + err.Error()
	}
	re, err := Compile(pat, f)
	if err != nil {
		return escapeResult("err:" + err.(*Error).LuaText())
	}
	m := NewMatcher()
	ov := make([]int, re.OvectorLen())
	var parts []string
	for len(parts) < 200 {
		n, err := re.MatchString(m, subj, pos, ov)
		if err != nil {
			return escapeResult("err:" + err.Error())
		}
		if n == 0 {
			break
		}
		parts = append(parts, strconv.Itoa(ov[0])+"-"+strconv.Itoa(ov[1]))
		pos = ov[1]
		if ov[1] == ov[0] {
			pos++
			if pos > len(subj) {
				break
			}
		}
	}
	return "all:" + strings.Join(parts, ",")
}
