// workloads/pingpong.cpp — two goroutines bouncing a value over two
// unbuffered channels N times (benchmark B3): reports ns per round trip, and
// checks every value came back incremented in order.
#include <chrono>
#include <cstdio>

#include "gmp/gmp.hpp"
#include "sched/latency.hpp"
#include "workload.hpp"

namespace {

using gmp::tools::Cli;

struct Options {
  std::int64_t count = 1'000'000, repeat = 1;
};

void declare(Cli& c, Options& o) {
  c.integer("--count", o.count, 1, 10'000'000'000, "N", "round trips per run");
  c.integer("--repeat", o.repeat, 1, 1000, "N", "runs (figures are from the fastest)");
}

std::string help() { return gmp::tools::workload_help<Options>("pingpong", declare); }

std::string parse(int argc, char** argv, Options* o) {
  Cli c("pingpong");
  declare(c, *o);
  return gmp::tools::parse_workload_options(c, argc, argv);
}

std::string check(int argc, char** argv) {
  Options o;
  return parse(argc, argv, &o);
}

int pingpong_main(int argc, char** argv, gmp::tools::Summary& out) {
  Options o;
  if (std::string err = parse(argc, argv, &o); !err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 2;
  }
  double best_ns = 1e300;
  bool ok = true;
  for (std::int64_t r = 0; r < o.repeat && ok; r++) {
    gmp::Chan<std::int64_t> ping, pong;
    auto echo = gmp::spawn([ping, pong] {
      std::int64_t n = 0;
      while (auto v = ping.recv()) {
        pong.send(*v + 1);
        n++;
      }
      return n;
    });
    auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < o.count; i++) {
      ping.send(i);
      if (pong.recv() != i + 1) {
        ok = false;
        break;
      }
    }
    double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    ping.close();
    std::int64_t echoed = echo.join();
    if (echoed != o.count) ok = false;
    if (ns < best_ns) best_ns = ns;
  }
  out.set("round_trips", o.count);
  out.set("best_ms", best_ns / 1e6);
  out.set("ns_per_roundtrip", best_ns / static_cast<double>(o.count));
  // The runtime's own sampled scheduling latency (sched/latency.hpp), the
  // figure gmptrace's runq unit reports from the sched_latency probe.
  gmp::detail::SchedLatencyHist lat = gmp::detail::sched_latency_snapshot();
  out.set("sched_latency_samples", lat.count);
  out.set("sched_latency_sum_ns", lat.sum_ns);
  out.set("sched_latency_probed", lat.probed);
  out.set("sched_latency_probed_sum_ns", lat.probed_sum_ns);
  if (!ok) {
    std::fprintf(stderr, "pingpong: a value came back wrong or the echo goroutine lost one\n");
    return 1;
  }
  return 0;
}

const gmp::tools::WorkloadRegistration reg{
    {"pingpong", "two goroutines bouncing a value over unbuffered channels (ns per round trip)", help,
     pingpong_main, check}};

}  // namespace
