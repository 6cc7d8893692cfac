package httpparse

// InvalidHeader returns what nginx quotes after "upstream sent invalid
// header": the offending line from its start up to the byte that broke
// it, and that byte (header_name_start to header_end). line aliases the
// buffer given to Parse; both are zero unless Parse failed on a header.
func (r *Response) InvalidHeader() (line []byte, bad byte) {
	if r.phase != phaseFailed || r.failure != UpstreamInvalidHeader {
		return nil, 0
	}
	start, end := r.line.nameStart, r.line.valEnd
	if start < 0 || start > len(r.buf) {
		return nil, 0
	}
	if end < start || end >= len(r.buf) {
		end = r.pos
		if end >= len(r.buf) {
			return r.buf[start:len(r.buf):len(r.buf)], 0
		}
	}
	return r.buf[start:end:end], r.buf[end]
}
