module gmprt/bench/park

go 1.19
