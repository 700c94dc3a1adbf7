module gmprt/bench/parkedrss

go 1.19
