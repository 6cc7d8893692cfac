package echo

import (
	"os"
	"strconv"

	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// execLocation is echo_location (wait) and echo_location_async: a GET
// subrequest for the URI, with the second argument or the URI's own query
// as its arguments.
func execLocation(r *http.Request, ctx *reqCtx, args [][]byte, wait bool) int {
	location := args[0]
	if len(location) == 0 {
		return http.Error
	}
	var urlArgs []byte
	hasArgs := len(args) > 1
	if hasArgs {
		urlArgs = args[1]
	}
	path, qargs, ok := r.ParseUnsafeURI(location)
	if !ok {
		name := "echo_location_async"
		if wait {
			name = "echo_location"
		}
		r.Logf(errlog.Debug, "%s sees unsafe uri: \"%s\"", name, location)
		return http.Error
	}
	if len(qargs) > 0 && !hasArgs {
		urlArgs = qargs
	}
	rc := sendHeaderIfNeeded(r, ctx)
	if rc == http.Error || rc > http.OK || r.HeaderOnly {
		return rc
	}
	var o http.SubrequestOptions
	if wait {
		o.Post = postSubrequest(&reqCtx{})
	}
	sr, err := r.Subrequest(path, urlArgs, o)
	if err != nil {
		return http.Error
	}
	sr.FreshVariables()
	if wait {
		return http.Again
	}
	return http.OK
}

// postSubrequest returns the handler that wakes the parent's commands
// when the subrequest it waits for finishes. srCtx keeps it from running
// twice.
func postSubrequest(srCtx *reqCtx) func(sr *http.Request, rc int) int {
	return func(sr *http.Request, rc int) int {
		if srCtx.ranPostSubrequest {
			return rc
		}
		srCtx.ranPostSubrequest = true
		pr := sr.Parent
		prCtx := getCtx(pr)
		if prCtx == nil {
			return http.Error
		}
		prCtx.waiting, prCtx.done = false, true
		pr.SetWriteHandler(resume)
		// a subrequest that is not the active one and still holds
		// output will not wake its parent when it finishes: do it now.
		if !sr.Active() && sr.HasPostponed() {
			pr.Post()
		}
		return rc
	}
}

// subrequestSpec is a parsed echo_subrequest: method, location, query and
// body.
type subrequestSpec struct {
	method     httpparse.Method
	methodName string
	location   []byte
	query      []byte
	body       *http.RequestBody
	bodyLen    int64
	bodyFile   *os.File
}

// execSubrequest is echo_subrequest (wait) and echo_subrequest_async:
// METHOD LOCATION [-q QUERY] [-b BODY | -f FILE].
func execSubrequest(r *http.Request, ctx *reqCtx, args [][]byte, wait bool) int {
	spec, rc := parseSpec(r, args)
	if rc != http.OK {
		return rc
	}
	path, qargs, ok := r.ParseUnsafeURI(spec.location)
	if !ok {
		name := "echo_subrequest_async"
		if wait {
			name = "echo_subrequest"
		}
		r.Logf(errlog.Debug, "%s sees unsafe uri: \"%s\"", name, spec.location)
		spec.close()
		return http.Error
	}
	if len(qargs) > 0 && spec.query == nil {
		spec.query = qargs
	}
	rc = sendHeaderIfNeeded(r, ctx)
	if rc == http.Error || rc > http.OK || r.HeaderOnly {
		spec.close()
		return rc
	}
	var srCtx *reqCtx
	o := http.SubrequestOptions{Method: spec.method, MethodName: spec.methodName}
	if wait {
		srCtx = &reqCtx{}
		o.Post = postSubrequest(srCtx)
	}
	sr, err := r.Subrequest(path, spec.query, o)
	if err != nil {
		spec.close()
		return http.Error
	}
	if srCtx != nil {
		sr.SetCtx(Module.TypeIndex, srCtx)
	}
	if spec.method == httpparse.MethodHEAD {
		sr.HeaderOnly = true
	}
	sr.FreshVariables()
	if spec.body != nil {
		if f := spec.bodyFile; f != nil {
			sr.AddCleanup(func() { f.Close() })
		}
		sr.Body = spec.body
		setContentLength(sr, r, spec.bodyLen)
	}
	if wait {
		return http.Again
	}
	return http.OK
}

func (s *subrequestSpec) close() {
	if s.bodyFile != nil {
		s.bodyFile.Close()
	}
}

// parseSpec reads the method, location and options of echo_subrequest.
func parseSpec(r *http.Request, args [][]byte) (*subrequestSpec, int) {
	s := &subrequestSpec{location: args[1]}
	if len(s.location) == 0 {
		return nil, http.Error
	}
	var body, file []byte
	var target *[]byte
	expecting := true
	for _, a := range args[2:] {
		if !expecting {
			*target = a
			target = nil
			expecting = true
			continue
		}
		switch string(a) {
		case "-q":
			target = &s.query
		case "-b":
			target = &body
		case "-f":
			target = &file
		default:
			r.Logf(errlog.Error, "unknown option for echo_subrequest*: %s", a)
			return nil, http.Error
		}
		expecting = false
	}
	switch {
	case len(body) > 0:
		s.body = http.NewMemoryBody(body)
		s.bodyLen = int64(len(body))
	case len(file) > 0:
		name := r.Conn.Server().Config().Cycle().FullName(string(file), false)
		f, err := os.Open(name)
		if err != nil {
			r.Logf(errlog.Error, "open() \"%s\" failed %s", name, errlog.Errno(err))
			return nil, http.Error
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			r.Logf(errlog.Error, "fstat() \"%s\" failed %s", name, errlog.Errno(err))
			return nil, http.Error
		}
		s.body = http.NewFileBody(f, fi.Size())
		s.bodyLen = fi.Size()
		s.bodyFile = f
	}
	s.method, s.methodName = parseMethod(args[0])
	return s, http.OK
}

// methods are the names echo_subrequest knows, case-sensitively; others
// go as an unknown method with the name as given.
var methods = map[string]httpparse.Method{
	"GET": httpparse.MethodGET, "PUT": httpparse.MethodPUT, "POST": httpparse.MethodPOST,
	"HEAD": httpparse.MethodHEAD, "COPY": httpparse.MethodCOPY, "MOVE": httpparse.MethodMOVE,
	"LOCK": httpparse.MethodLOCK, "MKCOL": httpparse.MethodMKCOL, "TRACE": httpparse.MethodTRACE,
	"DELETE": httpparse.MethodDELETE, "UNLOCK": httpparse.MethodUNLOCK, "OPTIONS": httpparse.MethodOPTIONS,
	"PROPFIND": httpparse.MethodPROPFIND, "PROPPATCH": httpparse.MethodPROPPATCH,
}

func parseMethod(name []byte) (httpparse.Method, string) {
	if m, ok := methods[string(name)]; ok {
		return m, m.String()
	}
	return httpparse.MethodUnknown, string(name)
}

var contentLengthName = []byte("Content-Length")

// setContentLength gives a subrequest with its own body a Content-Length
// header of its length, followed by the parent's other headers.
func setContentLength(sr, parent *http.Request, n int64) {
	in := make([]http.Header, 0, len(parent.In)+1)
	in = append(in, http.Header{Name: contentLengthName, Value: strconv.AppendInt(nil, n, 10), Known: httpparse.HdrContentLength})
	for _, h := range parent.In {
		if len(h.Name) == len(contentLengthName) && httpparse.LookupHeader(h.Name) == httpparse.HdrContentLength {
			continue
		}
		in = append(in, h)
	}
	sr.In = in
	sr.ContentLength = n
}
