module gmprt/bench/orders

go 1.19
