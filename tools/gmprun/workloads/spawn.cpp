// workloads/spawn.cpp — spawn N goroutines and join them all, optionally from
// several spawner goroutines at once.
#include <chrono>
#include <cstdio>

#include "common/args.hpp"
#include "gmp/gmp.hpp"
#include "workload.hpp"

namespace {

using gmp::tools::Args;

void declare(Args& a) {
  a.option("count", "N", "goroutines to spawn and join", "1000000");
  a.option("spawners", "N", "goroutines spawning in parallel (count is split among them)", "1");
}

std::string help() {
  Args a("spawn");
  declare(a);
  return a.help();
}

std::string parse(int argc, char** argv, std::int64_t* count, std::int64_t* spawners) {
  Args a("spawn");
  declare(a);
  if (std::string err = a.parse(argc, argv, 1, false); !err.empty()) return err;
  *count = a.i64("count", 1, 1'000'000'000);
  *spawners = a.i64("spawners", 1, 4096);
  return a.error();
}

std::string check(int argc, char** argv) {
  std::int64_t c, s;
  return parse(argc, argv, &c, &s);
}

int spawn_main(int argc, char** argv, gmp::tools::Summary& out) {
  std::int64_t count = 0, spawners = 0;
  if (std::string err = parse(argc, argv, &count, &spawners); !err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 2;
  }
  std::atomic<std::int64_t> ran{0};
  auto t0 = std::chrono::steady_clock::now();
  gmp::WaitGroup all;
  all.add(spawners);
  for (std::int64_t s = 0; s < spawners; s++) {
    std::int64_t mine = count / spawners + (s < count % spawners ? 1 : 0);
    gmp::go([&ran, &all, mine] {
      gmp::WaitGroup wg;
      wg.add(mine);
      for (std::int64_t i = 0; i < mine; i++) {
        gmp::go([&ran, &wg] {
          ran.fetch_add(1, std::memory_order_relaxed);
          wg.done();
        });
      }
      wg.wait();
      all.done();
    });
  }
  all.wait();
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  out.set("spawned", count);
  out.set("ran", ran.load());
  out.set("ns_per_op", ms * 1e6 / static_cast<double>(count));
  return ran.load() == count ? 0 : 1;
}

const gmp::tools::WorkloadRegistration reg{{"spawn", "spawn and join N goroutines", help, spawn_main, check}};

}  // namespace
