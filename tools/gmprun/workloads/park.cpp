// workloads/park.cpp — many parked goroutines: spawn N goroutines that each
// block (on one channel, or on a WaitGroup), then release them all at once
// and wait for every one to finish. The shape of a server holding a
// goroutine per idle connection, then shutting down.
//
// Reports, per goroutine: spawn+park ns (from the first spawn until every
// goroutine has reached its blocking call), wake+finish ns (from the close,
// or the WaitGroup's last done(), until all have run to the end), and the
// resident memory a parked goroutine costs (RSS with all N parked, minus
// RSS before the first spawn, over N). tests/bench/go/park is the Go peer.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "gmp/gmp.hpp"
#include "workload.hpp"

namespace {

using gmp::tools::Cli;

struct Options {
  std::int64_t count = 1'000'000, repeat = 1;
  std::string on = "chan";
  bool on_chan = true;  // from --on
};

void declare(Cli& c, Options& o) {
  c.integer("--count", o.count, 1, 100'000'000, "N", "goroutines to park");
  c.text("--on", o.on, "WHAT",
         "what they block on: chan (a receive on one channel, then close) or wg (WaitGroup::wait)");
  c.integer("--repeat", o.repeat, 1, 1000, "N", "rounds (figures are from the fastest; RSS from the first)");
}

std::string help() { return gmp::tools::workload_help<Options>("park", declare); }

std::string parse(int argc, char** argv, Options* o) {
  Cli c("park");
  declare(c, *o);
  if (std::string err = gmp::tools::parse_workload_options(c, argc, argv); !err.empty()) return err;
  if (o->on != "chan" && o->on != "wg") return c.fail("--on '" + o->on + "' is not a blocking kind; use chan or wg");
  o->on_chan = o->on == "chan";
  return "";
}

std::string check(int argc, char** argv) {
  Options o;
  return parse(argc, argv, &o);
}

// Resident set size in bytes (statm's second field, in pages).
std::int64_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  std::int64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

struct Round {
  double park_ms = 0, wake_ms = 0;
  std::int64_t rss_delta = 0;
  std::int64_t finished = 0;
};

Round round(const Options& o) {
  using Clock = std::chrono::steady_clock;
  const std::int64_t n = o.count;
  gmp::Chan<int> gate;  // unbuffered: every receiver parks until close
  gmp::WaitGroup release;
  release.add(1);
  gmp::WaitGroup parked, finished;
  parked.add(n);
  finished.add(n);
  std::atomic<std::int64_t> ran{0};
  std::int64_t rss0 = rss_bytes();
  auto t0 = Clock::now();
  for (std::int64_t i = 0; i < n; i++) {
    if (o.on_chan) {
      gmp::go([&] {
        parked.done();
        (void)gate.recv();
        ran.fetch_add(1, std::memory_order_relaxed);
        finished.done();
      });
    } else {
      gmp::go([&] {
        parked.done();
        release.wait();
        ran.fetch_add(1, std::memory_order_relaxed);
        finished.done();
      });
    }
  }
  parked.wait();
  // parked.done() comes just before the blocking call: let the last ones
  // reach it (each yield runs the queue once round).
  for (int i = 0; i < 4; i++) gmp::yield();
  auto t1 = Clock::now();
  Round r;
  r.rss_delta = rss_bytes() - rss0;
  if (o.on_chan) {
    gate.close();
  } else {
    release.done();
  }
  finished.wait();
  auto t2 = Clock::now();
  r.park_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  r.wake_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  r.finished = ran.load();
  return r;
}

int park_main(int argc, char** argv, gmp::tools::Summary& out) {
  Options o;
  if (std::string err = parse(argc, argv, &o); !err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 2;
  }
  Round best;
  best.park_ms = best.wake_ms = 1e300;
  std::int64_t rss_first = 0;
  for (std::int64_t i = 0; i < o.repeat; i++) {
    Round r = round(o);
    if (i == 0) rss_first = r.rss_delta;
    if (r.finished != o.count) {
      std::fprintf(stderr, "park: %lld of %lld goroutines finished\n", static_cast<long long>(r.finished),
                   static_cast<long long>(o.count));
      return 1;
    }
    if (r.park_ms < best.park_ms) best.park_ms = r.park_ms;
    if (r.wake_ms < best.wake_ms) best.wake_ms = r.wake_ms;
  }
  double n = static_cast<double>(o.count);
  out.set("parked", o.count);
  out.set("park_ms", best.park_ms);
  out.set("wake_ms", best.wake_ms);
  out.set("park_ns_per_g", best.park_ms * 1e6 / n);
  out.set("wake_ns_per_g", best.wake_ms * 1e6 / n);
  out.set("rss_bytes_per_g", static_cast<double>(rss_first) / n);
  return 0;
}

const gmp::tools::WorkloadRegistration reg{
    {"park", "N goroutines block on a channel or WaitGroup, then are released at once", help, park_main, check}};

}  // namespace
