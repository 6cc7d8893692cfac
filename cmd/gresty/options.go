package main

import (
	"fmt"
	"io"
)

// options are nginx's command-line flags.
type options struct {
	help, version, configure bool
	test, dump, quiet        bool
	prefix                   string
	prefixSet                bool
	errorLog                 string
	errorLogSet              bool
	confFile                 string
	confParams               string
	signal                   string
}

// parseOptions reads argv as ngx_get_options does: flags may be grouped
// ("-tq"), a flag's value may be attached ("-p/srv/") or be the next word,
// and the messages on error are nginx's.
func parseOptions(args []string, stderr io.Writer, prog string) (*options, bool) {
	o := &options{}
	fail := func(format string, a ...any) (*options, bool) {
		fmt.Fprintf(stderr, "%s: %s\n", prog, fmt.Sprintf(format, a...))
		return nil, false
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) == 0 || a[0] != '-' {
			return fail("invalid option: \"%s\"", a)
		}
		p := a[1:]
	flags:
		for len(p) > 0 {
			c := p[0]
			p = p[1:]
			// value takes the rest of this word, or the next word.
			value := func() (string, bool) {
				if p != "" {
					v := p
					p = ""
					return v, true
				}
				if i+1 < len(args) {
					i++
					return args[i], true
				}
				return "", false
			}
			switch c {
			case '?', 'h':
				o.version, o.help = true, true
			case 'v':
				o.version = true
			case 'V':
				o.version, o.configure = true, true
			case 't':
				o.test = true
			case 'T':
				o.test, o.dump = true, true
			case 'q':
				o.quiet = true
			case 'p':
				v, ok := value()
				if !ok {
					return fail("option \"-p\" requires directory name")
				}
				o.prefix, o.prefixSet = v, true
				break flags
			case 'e':
				v, ok := value()
				if !ok {
					return fail("option \"-e\" requires file name")
				}
				o.errorLog, o.errorLogSet = v, true
				break flags
			case 'c':
				v, ok := value()
				if !ok {
					return fail("option \"-c\" requires file name")
				}
				o.confFile = v
				break flags
			case 'g':
				v, ok := value()
				if !ok {
					return fail("option \"-g\" requires parameter")
				}
				o.confParams = v
				break flags
			case 's':
				v, ok := value()
				if !ok {
					return fail("option \"-s\" requires parameter")
				}
				switch v {
				case "stop", "quit", "reopen", "reload":
					o.signal = v
				default:
					return fail("invalid option: \"-s %s\"", v)
				}
				break flags
			default:
				return fail("invalid option: \"%c\"", c)
			}
		}
	}
	return o, true
}
