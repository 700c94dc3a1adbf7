// A user workload as gmprun loads it: built against gmp's headers only; the
// runtime's symbols come from gmprun. It spawns `argv[1]` goroutines (default
// 1000), joins them, prints what it saw, and fails if the count is wrong.
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "gmp/gmp.hpp"

extern "C" int gmp_main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  std::atomic<int> ran{0};
  gmp::WaitGroup wg;
  wg.add(n);
  for (int i = 0; i < n; i++) {
    gmp::go([&] {
      ran.fetch_add(1);
      gmp::yield();
      wg.done();
    });
  }
  wg.wait();
  std::printf("test_workload: in goroutine %llu, ran %d of %d goroutines on %d Ps\n",
              static_cast<unsigned long long>(gmp::current_id()), ran.load(), n, gmp::procs());
  return ran.load() == n ? 0 : 1;
}
