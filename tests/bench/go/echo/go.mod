module gmprt/bench/echo

go 1.19
