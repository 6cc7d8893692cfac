package httpparse_test

import (
	"errors"
	"fmt"
	"io"

	"gresty/httpparse"
)

func ExampleRequest_Parse() {
	var r httpparse.Request
	cfg := &httpparse.Config{} // nginx's defaults
	r.Reset(cfg)

	// The head arrives in two reads; the connection keeps appending.
	buf := []byte("GET /a/./b%20c?x=1 HTTP/1.1\r\nHost: Example.com\r\n")
	fmt.Println(r.Parse(buf) == httpparse.NeedMore)
	buf = append(buf, "Cookie: id=7\r\n\r\nbody"...)
	if r.Parse(buf) != httpparse.Done {
		fmt.Println(r.Status(), r.Reason())
		return
	}
	fmt.Printf("%v %q %q %q\n", r.Method, r.Path(), r.Args(), r.Server())
	id, _ := httpparse.CookieValue(r.Get(httpparse.HdrCookie), []byte("id"))
	fmt.Printf("cookie id=%s, body starts with %q\n", id, buf[r.HeadLen():])

	// A rejected head carries nginx's status and log text.
	r.Reset(cfg)
	r.Parse([]byte("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"))
	fmt.Println(r.Status(), r.Reason())
	// Output:
	// true
	// GET "/a/b c" "x=1" "example.com"
	// cookie id=7, body starts with "body"
	// 400 client sent duplicate host header
}

func ExampleChunkedDecoder_Decode() {
	d := httpparse.ChunkedDecoder{MaxSize: 1 << 20}
	in := []byte("5\r\nhello\r\n6;ext\r\n world\r\n0\r\n\r\nNEXT")
	for {
		n, data, err := d.Decode(in)
		in = in[n:]
		if len(data) > 0 {
			fmt.Printf("data %q\n", data)
		}
		if errors.Is(err, io.EOF) {
			fmt.Printf("done: %d bytes, %q follows\n", d.Size(), in)
			return
		}
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	// Output:
	// data "hello"
	// data " world"
	// done: 11 bytes, "NEXT" follows
}
