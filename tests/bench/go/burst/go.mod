module gmprt/bench/burst

go 1.19
