// parked_rss — resident memory per parked goroutine in gmprt; the Go peer is
// tests/bench/go/parked_rss. Starts the runtime (2 Ps), spawns N goroutines
// (default 1M) that each wait on one WaitGroup, waits until all are parked,
// and prints the growth of the resident set (/proc/self/statm) per
// goroutine, plus the page tables (VmPTE, not counted in RSS), as one
// logfmt line:
//
//   parked_rss runtime=gmp goroutines=N rss_before_kib=… rss_parked_kib=… bytes_per_goroutine=… pte_kib=…
//
// A parked goroutine costs the pages of its stack mapping that were touched:
// the G descriptor and the closure live at the top of the stack, so a G that
// did not recurse costs one 4 KiB page (sched/g.hpp, stack/stack.hpp).
// Usage: gmp_parked_rss [N] [stack_kib]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>

#include "gmp/gmp.hpp"

namespace {

long rss_kib() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  f >> size >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

long status_kib(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const std::string k = std::string(key) + ":";
  while (std::getline(f, line)) {
    if (line.compare(0, k.size(), k) == 0) return std::strtol(line.c_str() + k.size(), nullptr, 10);
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 1'000'000;
  gmp::Config cfg;
  cfg.procs = 2;
  if (argc > 2) cfg.stack_size = static_cast<std::size_t>(std::strtol(argv[2], nullptr, 10)) * 1024;
  if (n <= 0) {
    std::fprintf(stderr, "parked_rss: N must be a positive number of goroutines, got '%s'\n", argv[1]);
    return 2;
  }
  if (gmp::Status st = gmp::start(cfg); !st.ok()) {
    std::fprintf(stderr, "parked_rss: gmp::start: %s\n", st.message().c_str());
    return 1;
  }
  const long before = rss_kib();
  const long pte_before = status_kib("VmPTE");
  std::atomic<long> parked{0};
  gmp::WaitGroup block;
  gmp::WaitGroup done;
  block.add(1);
  done.add(n);
  for (long i = 0; i < n; i++) {
    gmp::go([&] {
      parked.fetch_add(1, std::memory_order_relaxed);
      block.wait();
      done.done();
    });
  }
  while (parked.load(std::memory_order_relaxed) < n) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the last ones reach wait()
  const long after = rss_kib();
  const long pte_after = status_kib("VmPTE");
  std::printf(
      "parked_rss runtime=gmp goroutines=%ld stack_kib=%zu rss_before_kib=%ld rss_parked_kib=%ld "
      "bytes_per_goroutine=%.0f pte_kib=%ld\n",
      n, gmp::config().stack_size / 1024, before, after, static_cast<double>(after - before) * 1024.0 / n,
      pte_after - pte_before);
  std::fflush(stdout);
  block.done();
  done.wait();
  gmp::stop();
  return 0;
}
