// http_hello: the Go 1.19 net/http peer of `gmprun http` (same routes and
// bodies: GET / -> Hello, World!, GET /json -> {"message":"Hello, World!"}).
// Run with GOMAXPROCS=1 for the one-core comparison (scripts/bench-http.sh).
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	flag.Parse()
	hello := []byte("Hello, World!")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Server", "go")
		w.Write(hello)
	})
	http.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Server", "go")
		json.NewEncoder(w).Encode(map[string]string{"message": "Hello, World!"})
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
