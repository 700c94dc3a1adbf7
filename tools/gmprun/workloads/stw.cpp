// workloads/stw.cpp — stop-the-world under load: busy goroutines on every P
// (compute loops with a preempt point every few µs and pool allocation
// churn), goroutines in io_uring reads and in gmp::blocking calls, while a
// driver stops the world --rate times a second for --duration (every
// --sweep-every-th is a pool sweep instead, the others stop with reason
// "user"). Summary: count and stopping/total p50, p99, max in µs per
// reason; a pool sweep stops nobody (each P sweeps its own cache between two
// goroutines), so its line is the driver's wait for the hand-off.
// The Go peer with the same load shape is tests/bench/go/stw/.
//
// The driver is a goroutine woken by the runtime's timers (as Go's
// runtime.GC caller is): its own P counts as stopped at once and it keeps
// its M, so with every P busy no extra thread needs a CPU. --driver thread
// drives from a plain std::thread (an admin thread, a signal handler's
// helper): a third runnable thread on a machine whose Ms fill every CPU
// (docs/STW.md, "Who stops the world").
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "gmp/gmp.hpp"
#include "workload.hpp"

namespace {

using gmp::tools::Cli;

struct Options {
  std::int64_t rate = 100, duration_ns = 5'000'000'000, busy = -1, io = 1, blocking = 1, sweep_every = 10;
  std::string driver = "goroutine";
  bool thread_driver = false;  // from --driver
};

void declare(Cli& c, Options& o) {
  c.integer("--rate", o.rate, 1, 100000, "N", "stops per second");
  c.duration("--duration", o.duration_ns, "how long to run");
  c.integer("--busy", o.busy, 0, 100000, "N", "busy goroutines (compute + pool churn)").default_str("one per P");
  c.integer("--io", o.io, 0, 10000, "N", "goroutine pairs ping-ponging a byte over a pipe with gmp::io");
  c.integer("--blocking", o.blocking, 0, 10000, "N", "goroutines looping on gmp::blocking(200 us sleep)");
  c.integer("--sweep-every", o.sweep_every, 0, 1'000'000, "N", "every Nth stop is a pool sweep (0: never)");
  c.text("--driver", o.driver, "KIND", "who stops the world: goroutine (timer-driven) or thread");
}

std::string help() { return gmp::tools::workload_help<Options>("stw", declare); }

std::string parse(int argc, char** argv, Options* o) {
  Cli c("stw");
  declare(c, *o);
  if (std::string err = gmp::tools::parse_workload_options(c, argc, argv); !err.empty()) return err;
  if (o->driver != "goroutine" && o->driver != "thread") {
    return c.fail("--driver must be goroutine or thread, not '" + o->driver + "'");
  }
  o->thread_driver = o->driver == "thread";
  if (o->duration_ns <= 0 || o->duration_ns > 3'600'000'000'000) {
    return c.fail("--duration must be from 1ns to 1h (like 5s)");
  }
  return "";
}

std::string check(int argc, char** argv) {
  Options o;
  return parse(argc, argv, &o);
}

void busy_loop(const std::atomic<bool>* quit, std::atomic<std::uint64_t>* work) {
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;
  std::uint64_t n = 0;
  while (!quit->load(std::memory_order_relaxed)) {
    // ~1-3 µs of compute, then a safe point.
    for (int i = 0; i < 400; i++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
    void* a = gmp::pool::allocate(64 + (x & 255), gmp::pool::Tier::kFast);
    void* b = gmp::pool::allocate(512, gmp::pool::Tier::kTxn);
    static_cast<volatile char*>(a)[0] = static_cast<char>(x);
    gmp::pool::deallocate(a);
    gmp::pool::deallocate(b);
    n++;
    gmp::preempt_point();
  }
  work->fetch_add(n + (x & 1), std::memory_order_relaxed);
}

void line(gmp::tools::Summary& out, gmp::stw::Reason r) {
  auto st = gmp::stw::pause_stats(r);
  if (st.total.count() == 0) return;
  std::string key = gmp::stw::reason_name(r);
  for (auto& c : key) c = c == ' ' ? '_' : c;
  auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  // Stops whose total was over the 200 µs goal (to a bucket: within ~6 %).
  std::uint64_t over = 0;
  for (std::size_t i = 1; i < st.total.counts.size(); i++) {
    if (st.total.layout.upper(static_cast<int>(i) - 1) >= 200'000) over += st.total.counts[i];
  }
  out.set(key + "_count", st.total.count());
  out.set(key + "_stopping_p50_us", us(st.stopping.quantile(0.5)));
  out.set(key + "_stopping_p99_us", us(st.stopping.quantile(0.99)));
  out.set(key + "_stopping_max_us", us(st.stopping.max));
  out.set(key + "_total_p50_us", us(st.total.quantile(0.5)));
  out.set(key + "_total_p99_us", us(st.total.quantile(0.99)));
  out.set(key + "_total_max_us", us(st.total.max));
  out.set(key + "_total_over_200us", over);
  out.set(key + "_total_sum_ns", st.total.sum);  // gmptrace's stw_total sum agrees (tests/bpf)
  std::fprintf(stderr, "stw %-14s count %6llu  stopping p50 %7.1f p99 %7.1f max %8.1f us  total p50 %7.1f p99 %7.1f max %8.1f us  over 200 us %llu\n",
               gmp::stw::reason_name(r), static_cast<unsigned long long>(st.total.count()), us(st.stopping.quantile(0.5)),
               us(st.stopping.quantile(0.99)), us(st.stopping.max), us(st.total.quantile(0.5)),
               us(st.total.quantile(0.99)), us(st.total.max), static_cast<unsigned long long>(over));
}

// Pool sweeps: each P sweeps its own cache between two goroutines (no
// pause); this is how long the driver waited for all of them.
void sweep_line(gmp::tools::Summary& out, std::vector<std::int64_t> ns, std::int64_t lagging) {
  if (ns.empty()) return;
  std::sort(ns.begin(), ns.end());
  auto q = [&](double f) { return static_cast<double>(ns[static_cast<std::size_t>(f * (ns.size() - 1))]) / 1000.0; };
  out.set("pool_sweeps", static_cast<std::int64_t>(ns.size()));
  out.set("pool_sweep_pause_us", 0);
  out.set("pool_sweep_handoff_p50_us", q(0.5));
  out.set("pool_sweep_handoff_p99_us", q(0.99));
  out.set("pool_sweep_handoff_max_us", static_cast<double>(ns.back()) / 1000.0);
  out.set("pool_sweep_lagging_ps", lagging);
  std::fprintf(stderr, "pool sweep     count %6zu  no pause: every P swept its own cache; the caller waited p50 %7.1f p99 "
               "%7.1f max %8.1f us; Ps left to sweep later %lld\n",
               ns.size(), q(0.5), q(0.99), static_cast<double>(ns.back()) / 1000.0, static_cast<long long>(lagging));
}

// Stops over the slow-stop threshold, by cause (docs/STW.md, "Slow stops
// explained"), and the last few in words.
void slow_lines(gmp::tools::Summary& out) {
  std::uint64_t total = 0;
  std::string by_cause;
  for (int i = 0; i < static_cast<int>(gmp::stw::SlowCause::kCount); i++) {
    const auto c = static_cast<gmp::stw::SlowCause>(i);
    const std::uint64_t n = gmp::stw::slow_stops(c);
    out.set(std::string("slow_") + gmp::stw::slow_cause_name(c), n);
    total += n;
    if (n > 0) by_cause += " " + std::string(gmp::stw::slow_cause_name(c)) + " " + std::to_string(n);
  }
  out.set("slow_stops", total);
  const long long limit_us = static_cast<long long>(gmp::config().stw_slow.count() / 1000);
  out.set("slow_threshold_us", static_cast<std::int64_t>(limit_us));
  if (limit_us == 0) {
    std::fprintf(stderr, "stw slow stops: not explained (--stw-slow 0s)\n");
    return;
  }
  std::fprintf(stderr, "stw slow stops (>= %lld us): %llu%s\n", limit_us, static_cast<unsigned long long>(total),
               by_cause.empty() ? "" : (":" + by_cause).c_str());
  const std::vector<gmp::stw::SlowStop> recent = gmp::stw::recent_slow_stops();
  const std::size_t from = recent.size() > 5 ? recent.size() - 5 : 0;
  for (std::size_t i = from; i < recent.size(); i++) std::fprintf(stderr, "  %s\n", gmp::stw::describe(recent[i]).c_str());
}

int stw_main(int argc, char** argv, gmp::tools::Summary& out) {
  Options o;
  if (std::string err = parse(argc, argv, &o); !err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 2;
  }
  const std::int64_t busy = o.busy >= 0 ? o.busy : gmp::procs();
  std::atomic<bool> quit{false};
  std::atomic<std::uint64_t> work{0}, io_msgs{0}, blocking_calls{0};
  gmp::WaitGroup wg;
  for (std::int64_t i = 0; i < busy; i++) {
    wg.add(1);
    gmp::go([&] {
      busy_loop(&quit, &work);
      wg.done();
    });
  }
  std::vector<int> fds;
  for (std::int64_t i = 0; i < o.io; i++) {
    int ab[2], ba[2];
    if (pipe(ab) != 0 || pipe(ba) != 0) {
      std::perror("stw: pipe");
      return 1;
    }
    fds.insert(fds.end(), {ab[0], ab[1], ba[0], ba[1]});
    wg.add(2);
    gmp::go([&, r = ba[0], w = ab[1]] {  // pinger
      char c = 'p';
      while (!quit.load(std::memory_order_relaxed)) {
        if (!gmp::io::write(w, &c, 1) || !gmp::io::read(r, &c, 1)) break;
        io_msgs.fetch_add(1, std::memory_order_relaxed);
        gmp::sleep_for(std::chrono::microseconds(100));
      }
      char z = 'q';
      (void)gmp::io::write(w, &z, 1);
      wg.done();
    });
    gmp::go([&, r = ab[0], w = ba[1]] {  // ponger: echoes until 'q'
      char c = 0;
      while (gmp::io::read(r, &c, 1) && c != 'q') {
        if (!gmp::io::write(w, &c, 1)) break;
      }
      wg.done();
    });
  }
  for (std::int64_t i = 0; i < o.blocking; i++) {
    wg.add(1);
    gmp::go([&] {
      while (!quit.load(std::memory_order_relaxed)) {
        gmp::blocking([] { return usleep(200); });
        blocking_calls.fetch_add(1, std::memory_order_relaxed);
      }
      wg.done();
    });
  }

  // The driver: stops the world at start + k * period, k = 1, 2, ... for
  // the duration. Then sets quit itself: a goroutine back from a blocking
  // call waits for a P that busy Ps never free, so nobody else would.
  const std::int64_t period = 1'000'000'000 / o.rate;
  std::int64_t stops = 0;
  std::vector<std::int64_t> sweep_ns;  // the driver's only
  std::int64_t sweep_lagging = 0;
  auto stop_once = [&](std::int64_t k) {
    if (o.sweep_every > 0 && k % o.sweep_every == 0) {
      gmp::stw::SweepResult sr = gmp::stw::sweep_pools();
      sweep_ns.push_back(sr.took_ns);
      sweep_lagging += sr.lagging_ps;
    } else {
      gmp::stw::stop_the_world(gmp::stw::Reason::kUser);
      gmp::stw::start_the_world();
    }
    stops++;
  };
  std::thread driver;
  if (o.thread_driver) {
    driver = std::thread([&] {
      timespec next;
      clock_gettime(CLOCK_MONOTONIC, &next);
      const std::int64_t start = next.tv_sec * 1'000'000'000LL + next.tv_nsec;
      for (std::int64_t k = 1; k * period <= o.duration_ns; k++) {
        std::int64_t t = start + k * period;
        next.tv_sec = t / 1'000'000'000;
        next.tv_nsec = t % 1'000'000'000;
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
        stop_once(k);
      }
      quit.store(true);
    });
  } else {
    wg.add(1);
    gmp::go([&] {
      const gmp::TimePoint start = gmp::Clock::now();
      for (std::int64_t k = 1; k * period <= o.duration_ns; k++) {
        gmp::sleep_until(start + std::chrono::nanoseconds(k * period));
        stop_once(k);
      }
      quit.store(true);
      wg.done();
    });
  }
  wg.wait();
  if (driver.joinable()) driver.join();  // it has finished: it set quit
  for (int fd : fds) close(fd);

  out.set("rate", o.rate);
  out.set("duration_s", static_cast<double>(o.duration_ns) / 1e9);
  out.set("busy", busy);
  out.set("driver", o.thread_driver ? "thread" : "goroutine");
  out.set("stops", stops);
  out.set("busy_iterations", work.load());
  out.set("io_roundtrips", io_msgs.load());
  out.set("blocking_calls", blocking_calls.load());
  out.set("stw_hog_reports", gmp::stw::hog_reports());
  const gmp::stw::BoostStats boost = gmp::stw::boost_stats();
  const char* boost_state = gmp::config().stw_boost.count() == 0 ? "off" : boost.permitted ? "on" : "not_permitted";
  out.set("stw_boost", boost_state);
  out.set("stw_boost_expired", boost.expired);
  std::fprintf(stderr, "stw boost %s: %llu Ms raised, %llu refused, %llu dropped at the bound\n", boost_state,
               static_cast<unsigned long long>(boost.boosts), static_cast<unsigned long long>(boost.failures),
               static_cast<unsigned long long>(boost.expired));
  line(out, gmp::stw::Reason::kUser);
  line(out, gmp::stw::Reason::kPoolSweep);  // none since sweeps stopped stopping the world
  sweep_line(out, sweep_ns, sweep_lagging);
  slow_lines(out);
  return 0;
}

const gmp::tools::WorkloadRegistration reg{
    {"stw", "stop the world N times a second under busy, io and blocking goroutines; pause percentiles", help,
     stw_main, check}};

}  // namespace
