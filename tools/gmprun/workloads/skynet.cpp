// workloads/skynet.cpp — the skynet benchmark: a tree of goroutines, each
// spawning `div` children down to `size` leaves; leaf i returns i and each
// node returns the sum of its children (1M leaves, 10 wide: 499999500000).
#include <chrono>
#include <cstdio>

#include "gmp/gmp.hpp"
#include "workload.hpp"

namespace {

using gmp::tools::Cli;

struct Options {
  std::int64_t size = 1'000'000, div = 10, repeat = 1;
};

void declare(Cli& c, Options& o) {
  c.integer("--size", o.size, 1, 100'000'000, "N", "number of leaves (a power of --div)");
  c.integer("--div", o.div, 2, 64, "N", "children per node");
  c.integer("--repeat", o.repeat, 1, 1000, "N", "runs (figures are from the fastest)");
}

std::string help() { return gmp::tools::workload_help<Options>("skynet", declare); }

void node(std::int64_t* out, gmp::WaitGroup* parent, std::int64_t num, std::int64_t size, std::int64_t div) {
  if (size == 1) {
    *out = num;
    parent->done();
    return;
  }
  std::int64_t sums[64];
  gmp::WaitGroup wg;
  wg.add(div);
  std::int64_t step = size / div;
  for (std::int64_t i = 0; i < div; i++) gmp::go(node, &sums[i], &wg, num + i * step, step, div);
  wg.wait();
  std::int64_t total = 0;
  for (std::int64_t i = 0; i < div; i++) total += sums[i];
  *out = total;
  parent->done();
}

std::string parse(int argc, char** argv, Options* o) {
  Cli c("skynet");
  declare(c, *o);
  if (std::string err = gmp::tools::parse_workload_options(c, argc, argv); !err.empty()) return err;
  std::int64_t s = o->size;
  while (s > 1 && s % o->div == 0) s /= o->div;
  if (s != 1) {
    return c.fail("--size " + std::to_string(o->size) + " is not a power of --div " + std::to_string(o->div) +
                  " (like 1000000 with --div 10)");
  }
  return "";
}

std::string check(int argc, char** argv) {
  Options o;
  return parse(argc, argv, &o);
}

int skynet_main(int argc, char** argv, gmp::tools::Summary& out) {
  Options o;
  if (std::string err = parse(argc, argv, &o); !err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 2;
  }
  const std::int64_t size = o.size, div = o.div, repeat = o.repeat;
  std::int64_t expect = size * (size - 1) / 2;
  double best_ms = 1e300;
  std::int64_t result = 0;
  for (std::int64_t r = 0; r < repeat; r++) {
    auto t0 = std::chrono::steady_clock::now();
    gmp::WaitGroup wg;
    wg.add(1);
    gmp::go(node, &result, &wg, std::int64_t{0}, size, div);
    wg.wait();
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (ms < best_ms) best_ms = ms;
    if (result != expect) break;
  }
  // Goroutines in the tree: size * (1 + 1/div + 1/div^2 + …).
  std::int64_t nodes = 0;
  for (std::int64_t s = size; s >= 1; s /= div) nodes += size / s;
  out.set("result", result);
  out.set("expected", expect);
  out.set("goroutines_per_run", nodes);
  out.set("best_ms", best_ms);
  out.set("ns_per_op", best_ms * 1e6 / static_cast<double>(nodes));
  if (result != expect) {
    std::fprintf(stderr, "skynet: result %lld, expected %lld\n", static_cast<long long>(result),
                 static_cast<long long>(expect));
    return 1;
  }
  return 0;
}

const gmp::tools::WorkloadRegistration reg{
    {"skynet", "tree of 1M goroutines summing their leaf numbers (499999500000)", help, skynet_main, check}};

}  // namespace
