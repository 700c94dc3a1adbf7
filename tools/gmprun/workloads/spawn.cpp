// workloads/spawn.cpp — spawn N goroutines and join them all, optionally from
// several spawner goroutines at once.
#include <chrono>
#include <cstdio>

#include "gmp/gmp.hpp"
#include "workload.hpp"

namespace {

using gmp::tools::Cli;

struct Options {
  std::int64_t count = 1'000'000, spawners = 1;
};

void declare(Cli& c, Options& o) {
  c.integer("--count", o.count, 1, 1'000'000'000, "N", "goroutines to spawn and join");
  c.integer("--spawners", o.spawners, 1, 4096, "N", "goroutines spawning in parallel (count is split among them)");
}

std::string help() { return gmp::tools::workload_help<Options>("spawn", declare); }

std::string parse(int argc, char** argv, Options* o) {
  Cli c("spawn");
  declare(c, *o);
  return gmp::tools::parse_workload_options(c, argc, argv);
}

std::string check(int argc, char** argv) {
  Options o;
  return parse(argc, argv, &o);
}

int spawn_main(int argc, char** argv, gmp::tools::Summary& out) {
  Options o;
  if (std::string err = parse(argc, argv, &o); !err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 2;
  }
  const std::int64_t count = o.count, spawners = o.spawners;
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
