package http

// The $upstream_* variables of ngx_http_upstream_module: one value per
// try, joined with ", ", and " : " between the groups of a request that
// went to more than one upstream (an X-Accel-Redirect or error_page to
// another proxied location).

import "strconv"

// UpstreamVariables returns the upstream module's variables, for its
// Preconfiguration to add.
func UpstreamVariables() []*Variable {
	nc := VarNoCacheable
	return []*Variable{
		{Name: "upstream_addr", Flags: nc, Get: func(r *Request, _ any) ([]byte, bool) {
			return upstreamStatesVar(r, func(dst []byte, s *UpstreamState) []byte { return append(dst, s.Peer...) })
		}},
		{Name: "upstream_status", Flags: nc, Get: func(r *Request, _ any) ([]byte, bool) {
			return upstreamStatesVar(r, func(dst []byte, s *UpstreamState) []byte {
				if s.Status == 0 {
					return append(dst, '-')
				}
				return strconv.AppendInt(dst, int64(s.Status), 10)
			})
		}},
		{Name: "upstream_connect_time", Flags: nc, Get: msVar(func(s *UpstreamState) int64 { return s.ConnectTime })},
		{Name: "upstream_header_time", Flags: nc, Get: msVar(func(s *UpstreamState) int64 { return s.HeaderTime })},
		{Name: "upstream_response_time", Flags: nc, Get: msVar(func(s *UpstreamState) int64 { return s.ResponseTime })},
		{Name: "upstream_response_length", Flags: nc, Get: lenVar(func(s *UpstreamState) int64 { return s.ResponseLength })},
		{Name: "upstream_bytes_received", Flags: nc, Get: lenVar(func(s *UpstreamState) int64 { return s.BytesReceived })},
		{Name: "upstream_bytes_sent", Flags: nc, Get: lenVar(func(s *UpstreamState) int64 { return s.BytesSent })},
		{Name: "upstream_http_", Flags: nc | VarPrefix, Get: func(r *Request, data any) ([]byte, bool) {
			u := r.UpstreamRequest()
			if u == nil {
				return nil, false
			}
			return u.UpstreamHeader(data.(string))
		}},
		{Name: "upstream_trailer_", Flags: nc | VarPrefix, Get: func(r *Request, data any) ([]byte, bool) {
			return nil, false
		}},
		{Name: "upstream_cookie_", Flags: nc | VarPrefix, Get: func(r *Request, data any) ([]byte, bool) {
			u := r.UpstreamRequest()
			if u == nil {
				return nil, false
			}
			return u.UpstreamCookie(data.(string))
		}},
	}
}

func msVar(f func(*UpstreamState) int64) func(r *Request, _ any) ([]byte, bool) {
	return func(r *Request, _ any) ([]byte, bool) {
		return upstreamStatesVar(r, func(dst []byte, s *UpstreamState) []byte {
			ms := f(s)
			if ms == -1 {
				return append(dst, '-')
			}
			if ms < 0 {
				ms = 0
			}
			return fmtMsec(dst, ms)
		})
	}
}

func lenVar(f func(*UpstreamState) int64) func(r *Request, _ any) ([]byte, bool) {
	return func(r *Request, _ any) ([]byte, bool) {
		return upstreamStatesVar(r, func(dst []byte, s *UpstreamState) []byte {
			return strconv.AppendInt(dst, f(s), 10)
		})
	}
}

// upstreamStatesVar joins one value per state as nginx's upstream
// variables do: ", " before a try, " : " before a group separator, which
// itself prints nothing.
func upstreamStatesVar(r *Request, one func(dst []byte, s *UpstreamState) []byte) ([]byte, bool) {
	u := r.UpstreamRequest()
	if u == nil || len(u.states) == 0 {
		return nil, false
	}
	st := u.states
	var b []byte
	i := 0
	for {
		b = one(b, &st[i])
		i++
		if i == len(st) {
			break
		}
		if st[i].HasPeer {
			b = append(b, ", "...)
			continue
		}
		b = append(b, " : "...)
		i++
		if i == len(st) {
			break
		}
	}
	if b == nil {
		b = []byte{}
	}
	return b, true
}
