// Command fasthttp is the fasthttp peer of the benchmark: the fastest
// common Go HTTP/1.1 server, answering every request with 200 and the
// -body text.
package main

import (
	"flag"
	"log"

	"github.com/valyala/fasthttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	body := flag.String("body", "hello\n", "response body")
	flag.Parse()
	b := []byte(*body)
	s := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType("text/plain")
			ctx.SetBody(b)
		},
		Name: "fasthttp",
	}
	log.Fatal(s.ListenAndServe(*addr))
}
