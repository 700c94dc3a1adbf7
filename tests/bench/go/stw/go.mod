module gmprt/bench/stw

go 1.19
