module gmprt/bench/sched

go 1.19
