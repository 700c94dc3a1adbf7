module gmprt/bench/chan

go 1.19
