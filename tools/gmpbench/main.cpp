// gmpbench — microbenchmarks of gmprt and its in-process peers, on Google
// Benchmark. Each bench_<area>.cpp registers its own benchmarks; run
// `gmpbench --benchmark_list_tests` to see them, and scripts/bench.sh for the
// side-by-side tables against Go and the other peers.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
