package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// requestBytes is the request wrk sends for the scenario, as wrk writes
// it (Host is the address as given in the URL).
func requestBytes(s *Scenario, host string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n", s.Path, host)
	for _, h := range s.Headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// checkServer sends the scenario's request (Pipeline copies in one write)
// to addr and judges each response with the scenario's Check.
func checkServer(s *Scenario, addr string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	n := max(1, s.Pipeline)
	if _, err := c.Write(bytes.Repeat(requestBytes(s, addr), n)); err != nil {
		return err
	}
	br := bufio.NewReader(c)
	for i := 1; i <= n; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return fmt.Errorf("response %d of %d: %v", i, n, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("response %d of %d: body: %v", i, n, err)
		}
		r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: body, Close: resp.Close}
		if err := s.Check(r); err != nil {
			if n == 1 {
				return err
			}
			return fmt.Errorf("response %d of %d: %v", i, n, err)
		}
	}
	return nil
}
