// Command nethttp is the net/http peer of the benchmark: a hello server
// written as a Go programmer would, to show where gresty stands among Go
// servers. It answers every request with 200 and the -body text.
package main

import (
	"flag"
	"log"
	"net/http"
	"strconv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	body := flag.String("body", "hello\n", "response body")
	flag.Parse()
	b := []byte(*body)
	n := strconv.Itoa(len(b))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// setting the header map directly skips the canonicalisation
		// Header().Set would do on every request.
		hdr := w.Header()
		hdr["Content-Type"] = []string{"text/plain"}
		hdr["Content-Length"] = []string{n}
		w.Write(b)
	})
	log.Fatal(http.ListenAndServe(*addr, h))
}
