// bench_chan.cpp — channel, select, mutex and timer benchmarks of gmprt and
// Boost.Fiber in one binary (Go peer: tests/bench/go/chan/chan_test.go; the
// joined table: scripts/bench-chan.sh). Definitions (docs/BENCH-DEFINITIONS.md):
//   ChanPingPong/P   B3: main <-> echo goroutine over two unbuffered
//                    channels; one op = one round trip; P = 1 or 2.
//   ChanProdCons/cap Go's ChanProdCons{0,10,100}: `procs` producer/consumer
//                    pairs on one channel of capacity cap; one op = one value.
//   Select/k         a goroutine receives through select over k unbuffered
//                    channels fed round-robin by one sender; one op = one value.
//   MutexContended   B10: procs goroutines x lock/incr/unlock.
//   Sleep1ms         B9: sleep_for(1ms) repeatedly; p50/p99 overshoot in ns.
// Each batch is timed inside the runtime (manual time); ns_per_op counter.
#include <benchmark/benchmark.h>
#include <sys/prctl.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <vector>

#include "base/clock.hpp"
#include "gmp/gmp.hpp"

#include <boost/fiber/all.hpp>

namespace {

using gmp::detail::nanotime;

gmp::Config cfg_for(int procs) {
  gmp::Config c;
  c.procs = procs;
  c.pin = true;
  c.report_hogs = false;
  return c;
}

template <class Body>
void run_batches(benchmark::State& state, int procs, std::int64_t k, Body body) {
  if (gmp::Status st = gmp::start(cfg_for(procs)); !st.ok()) {
    state.SkipWithError(st.message().c_str());
    return;
  }
  std::int64_t total_ns = 0, total_ops = 0;
  for (auto _ : state) {
    std::int64_t ns = 0;
    gmp::WaitGroup wg;
    wg.add(1);
    gmp::go([&] {
      ns = body(k);
      wg.done();
    });
    wg.wait();
    total_ns += ns;
    total_ops += k;
    state.SetIterationTime(static_cast<double>(ns) * 1e-9);
  }
  gmp::stop();
  state.counters["ns_per_op"] = static_cast<double>(total_ns) / static_cast<double>(total_ops);
}

void BM_GmpChanPingPong(benchmark::State& state) {
  run_batches(state, static_cast<int>(state.range(0)), 100000, [](std::int64_t k) {
    gmp::Chan<int> ping, pong;
    gmp::go([ping, pong] {
      while (auto v = ping.recv()) pong.send(*v);
    });
    std::int64_t t0 = nanotime();
    for (std::int64_t i = 0; i < k; i++) {
      ping.send(1);
      pong.recv();
    }
    std::int64_t ns = nanotime() - t0;
    ping.close();
    return ns;
  });
}
BENCHMARK(BM_GmpChanPingPong)->Arg(1)->Arg(2)->UseManualTime();

void BM_GmpChanProdCons(benchmark::State& state) {
  std::size_t cap = static_cast<std::size_t>(state.range(0));
  run_batches(state, 2, 200000, [cap](std::int64_t k) {
    gmp::Chan<int> ch(cap);
    int pairs = gmp::procs();
    gmp::WaitGroup wg;
    wg.add(2 * pairs);
    std::int64_t t0 = nanotime();
    for (int p = 0; p < pairs; p++) {
      gmp::go([&, ch] {
        for (std::int64_t i = 0; i < k / pairs; i++) ch.send(1);
        ch.send(0);
        wg.done();
      });
      gmp::go([&, ch] {
        while (*ch.recv() != 0) {
        }
        wg.done();
      });
    }
    wg.wait();
    return nanotime() - t0;
  });
}
BENCHMARK(BM_GmpChanProdCons)->Arg(0)->Arg(10)->Arg(100)->UseManualTime();

void BM_GmpSelect(benchmark::State& state) {
  int nch = static_cast<int>(state.range(0));
  run_batches(state, 1, 100000, [nch](std::int64_t k) {
    std::vector<gmp::Chan<int>> c(static_cast<std::size_t>(nch));
    gmp::go([c, k] {
      for (std::int64_t i = 0; i < k; i++) c[static_cast<std::size_t>(i) % c.size()].send(1);
    });
    std::int64_t t0 = nanotime();
    auto f = [](std::optional<int>) {};
    for (std::int64_t i = 0; i < k; i++) {
      if (nch == 2) gmp::select(gmp::on_recv(c[0], f), gmp::on_recv(c[1], f));
      else gmp::select(gmp::on_recv(c[0], f), gmp::on_recv(c[1], f), gmp::on_recv(c[2], f), gmp::on_recv(c[3], f));
    }
    return nanotime() - t0;
  });
}
BENCHMARK(BM_GmpSelect)->Arg(2)->Arg(4)->UseManualTime();

void BM_GmpMutexContended(benchmark::State& state) {
  run_batches(state, 2, 1000000, [](std::int64_t k) {
    gmp::Mutex mu;
    long counter = 0;
    int n = gmp::procs();
    gmp::WaitGroup wg;
    wg.add(n);
    std::int64_t t0 = nanotime();
    for (int g = 0; g < n; g++) {
      gmp::go([&] {
        for (std::int64_t i = 0; i < k / n; i++) {
          mu.lock();
          counter++;
          mu.unlock();
        }
        wg.done();
      });
    }
    wg.wait();
    benchmark::DoNotOptimize(counter);
    return nanotime() - t0;
  });
}
BENCHMARK(BM_GmpMutexContended)->UseManualTime();

// lead: Config::timer_lead (the default; 0 = sleep until the deadline).
void sleep_1ms(benchmark::State& state, std::chrono::nanoseconds lead) {
  gmp::Config cfg = cfg_for(2);
  cfg.timer_lead = lead;
  if (gmp::Status st = gmp::start(cfg); !st.ok()) {
    state.SkipWithError(st.message().c_str());
    return;
  }
  std::vector<std::int64_t> over;
  for (auto _ : state) {
    std::int64_t ov = 0;
    gmp::WaitGroup wg;
    wg.add(1);
    gmp::go([&] {
      std::int64_t t0 = nanotime();
      gmp::sleep_for(std::chrono::milliseconds(1));
      ov = nanotime() - t0 - 1'000'000;
      wg.done();
    });
    wg.wait();
    over.push_back(ov);
    state.SetIterationTime((1'000'000 + ov) * 1e-9);
  }
  // What the timer lead cost: CPU spun per sleep (Note [Timer lead]).
  gmp::SchedStats st = gmp::sched_stats();
  state.counters["lead_spin_ns_per_sleep"] =
      over.empty() ? 0.0 : static_cast<double>(st.timer_lead_spin_ns) / static_cast<double>(over.size());
  gmp::stop();
  std::sort(over.begin(), over.end());
  auto at = [&](std::size_t permille) { return static_cast<double>(over[over.size() * permille / 1000]); };
  state.counters["p50_overshoot_ns"] = at(500);
  state.counters["p90_overshoot_ns"] = at(900);
  state.counters["p99_overshoot_ns"] = at(990);
  state.counters["p999_overshoot_ns"] = at(999);
  state.counters["max_overshoot_ns"] = static_cast<double>(over.back());
  // Where the tail lies: a coarse histogram of overshoots on stderr (the
  // table reads stdout/JSON), so a run under load shows whether p99 is a
  // few late wake-ups (vCPU preemption) or a shifted distribution.
  constexpr std::int64_t kEdgesUs[] = {10, 20, 50, 100, 200, 500, 1000, 2000};
  std::size_t counts[std::size(kEdgesUs) + 1] = {};
  for (std::int64_t ov : over) {
    std::size_t b = 0;
    while (b < std::size(kEdgesUs) && ov >= kEdgesUs[b] * 1000) b++;
    counts[b]++;
  }
  std::fprintf(stderr, "Sleep1ms (timer lead <= %lld us) overshoot histogram (%zu sleeps):",
               static_cast<long long>(lead.count() / 1000), over.size());
  for (std::size_t b = 0; b <= std::size(kEdgesUs); b++) {
    if (b < std::size(kEdgesUs)) std::fprintf(stderr, " <%lldus:%zu", static_cast<long long>(kEdgesUs[b]), counts[b]);
    else std::fprintf(stderr, " >=%lldus:%zu", static_cast<long long>(kEdgesUs[b - 1]), counts[b]);
  }
  std::fprintf(stderr, "\n");
}
void BM_GmpSleep1ms(benchmark::State& state) { sleep_1ms(state, gmp::Config{}.timer_lead); }
void BM_GmpSleep1msNoLead(benchmark::State& state) { sleep_1ms(state, std::chrono::nanoseconds(0)); }
BENCHMARK(BM_GmpSleep1ms)->UseManualTime()->Iterations(2000);
BENCHMARK(BM_GmpSleep1msNoLead)->UseManualTime()->Iterations(2000);

// The OS floor under Sleep1ms: a plain thread's clock_nanosleep(1ms) with the
// timer slack our Ms use (1 ns). Overshoot here is the kernel's (and, in a
// VM, the hypervisor's) wake-up latency: what a runtime that sleeps until the
// deadline (Sleep1msNoLead) cannot beat, and what the timer lead hides.
void BM_ThreadSleep1ms(benchmark::State& state) {
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  std::vector<std::int64_t> over;
  for (auto _ : state) {
    std::int64_t t0 = nanotime();
    timespec d{0, 1'000'000};
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &d, &d) != 0) {
    }
    std::int64_t ov = nanotime() - t0 - 1'000'000;
    over.push_back(ov);
    state.SetIterationTime((1'000'000 + ov) * 1e-9);
  }
  prctl(PR_SET_TIMERSLACK, 50'000UL, 0, 0, 0);
  std::sort(over.begin(), over.end());
  state.counters["p50_overshoot_ns"] = static_cast<double>(over[over.size() / 2]);
  state.counters["p99_overshoot_ns"] = static_cast<double>(over[over.size() * 99 / 100]);
}
BENCHMARK(BM_ThreadSleep1ms)->UseManualTime()->Iterations(2000);

// ---- Boost.Fiber peers (one thread, round_robin) ---------------------------

void BM_BoostChanPingPong(benchmark::State& state) {
  std::int64_t total = 0, ops = 0;
  for (auto _ : state) {
    constexpr std::int64_t k = 100000;
    boost::fibers::unbuffered_channel<int> ping, pong;
    boost::fibers::fiber echo([&] {
      int v;
      while (ping.pop(v) == boost::fibers::channel_op_status::success) pong.push(v);
    });
    std::int64_t t0 = nanotime();
    for (std::int64_t i = 0; i < k; i++) {
      ping.push(1);
      int v;
      pong.pop(v);
    }
    std::int64_t ns = nanotime() - t0;
    ping.close();
    echo.join();
    total += ns;
    ops += k;
    state.SetIterationTime(ns * 1e-9);
  }
  state.counters["ns_per_op"] = static_cast<double>(total) / static_cast<double>(ops);
}
BENCHMARK(BM_BoostChanPingPong)->UseManualTime();

void BM_BoostChanProdCons(benchmark::State& state) {
  // Boost's buffered_channel needs a power-of-2 capacity >= 2: 16 and 128
  // stand in for 10 and 100; 0 uses unbuffered_channel.
  int cap = static_cast<int>(state.range(0));
  std::int64_t total = 0, ops = 0;
  for (auto _ : state) {
    constexpr std::int64_t k = 200000;
    std::int64_t t0 = nanotime();
    if (cap == 0) {
      boost::fibers::unbuffered_channel<int> ch;
      boost::fibers::fiber prod([&] { for (std::int64_t i = 0; i < k; i++) ch.push(1); ch.close(); });
      int v;
      while (ch.pop(v) == boost::fibers::channel_op_status::success) {
      }
      prod.join();
    } else {
      boost::fibers::buffered_channel<int> ch(cap == 10 ? 16 : 128);
      boost::fibers::fiber prod([&] { for (std::int64_t i = 0; i < k; i++) ch.push(1); ch.close(); });
      int v;
      while (ch.pop(v) == boost::fibers::channel_op_status::success) {
      }
      prod.join();
    }
    std::int64_t ns = nanotime() - t0;
    total += ns;
    ops += k;
    state.SetIterationTime(ns * 1e-9);
  }
  state.counters["ns_per_op"] = static_cast<double>(total) / static_cast<double>(ops);
}
BENCHMARK(BM_BoostChanProdCons)->Arg(0)->Arg(10)->Arg(100)->UseManualTime();

}  // namespace
