module gmprt/bench/http_hello

go 1.19
