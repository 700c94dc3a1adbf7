// bench_sched.cpp — scheduler microbenchmarks of gmprt and of Boost.Fiber,
// side by side in one binary (the Go peers are tests/bench/go/sched; the
// table that joins them is printed by scripts/bench.sh).
//
// What is measured (definitions: docs/BENCH-DEFINITIONS.md):
//   YieldPair      B2: two goroutines on one P each yield K/2 times; one op
//                  is one G→G switch (Go: runtime.Gosched at GOMAXPROCS=1).
//   SpawnJoin      B4: a goroutine spawns one goroutine and joins it, K times
//                  (create + first run + exit + join), at 2 Ps. Two flavours:
//                  gmp::spawn(...).join() and gmp::go + WaitGroup (the exact
//                  shape of the Go peer: go f(); wg.Wait()).
//   Skynet1M       B8 (skynet): the 10-wide tree of 1,111,111 goroutines summing
//                  0..999999 (checked: 499999500000), at 2 Ps; one op is one
//                  goroutine of the tree.
//   WakeCrossP     docs/BENCH-DEFINITIONS.md, WakeCrossP: two
//                  long-lived goroutines on different Ps of a 2-P runtime. The
//                  waker never yields (it busy-waits), so the wakee can only
//                  run on its own P. Per sample the wakee parks
//                  (detail::wait), the waker waits until the wakee's P is in
//                  the requested state, reads CLOCK_MONOTONIC and wakes it;
//                  the wakee reads the clock as soon as it runs. Reported:
//                  p50/p99 of wake → running, in ns.
//                    /spinning: Config::spin = 10 ms; woken while the target
//                               P's M is spinning in find_runnable.
//                    /parked:   Config::spin = 0; woken 200 µs after the
//                               target P went idle (its M is in futex sleep).
//
// How: each benchmark starts the runtime once (per Google Benchmark run, not
// per iteration) and stops it at the end. One iteration is a batch of K ops
// timed inside the runtime with CLOCK_MONOTONIC (manual time), so the
// hand-off between the benchmark thread and the runtime is not counted. The
// per-op figure is the counter `ns_per_op` (total batch time / total ops);
// the latency benchmarks report `p50_ns` / `p99_ns` instead. Use a fixed
// runtime per repetition (--benchmark_min_time) and several repetitions;
// scripts/bench.sh takes the medians. Nothing here asserts on timing.
//
// Boost.Fiber peers run on the benchmark thread with the default round_robin
// scheduler (one thread: Boost.Fiber has no cross-thread spawn+join at 2
// threads without its work_stealing algorithm, whose global state cannot be
// reset between runs, boostorg/fiber#217). Boost skynet is the same tree
// with fiber + join, Boost's default launch::post and a 2-page
// fixedsize_stack (as in Boost's skynet_join example), but 100k leaves
// (111,111 fibers) instead of 1M: round_robin's FIFO runs the tree breadth
// first, so the whole tree is alive at once — 1M leaves take ~8 GiB of RSS
// and ~15 s per run here. launch::dispatch overflows 2-page stacks.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "gmp/detail/wait.hpp"
#include "gmp/gmp.hpp"
#include "sched/sched.hpp"

// After the runtime's headers: Boost.Fiber defines a function-like macro
// cpu_relax(), which would clobber gmp::detail::cpu_relax (so this file uses
// spin_pause below instead).
#include <boost/fiber/all.hpp>

namespace {

using gmp::detail::nanotime;

inline void spin_pause() noexcept {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

constexpr std::int64_t kSkynetSize = 1'000'000;
constexpr std::int64_t kSkynetDiv = 10;
constexpr std::int64_t kSkynetNodes = 1'111'111;
constexpr std::int64_t kSkynetExpect = kSkynetSize * (kSkynetSize - 1) / 2;

// Starts the runtime for the lifetime of one benchmark run; an error skips
// the benchmark with the runtime's reason.
class RuntimeScope {
 public:
  RuntimeScope(benchmark::State& state, gmp::Config cfg) {
    st_ = gmp::start(cfg);
    if (!st_.ok()) state.SkipWithError(("gmp::start: " + st_.message()).c_str());
  }
  ~RuntimeScope() {
    if (st_.ok()) gmp::stop();
  }
  bool ok() const { return st_.ok(); }

 private:
  gmp::Status st_;
};

gmp::Config bench_config(int procs) {
  gmp::Config cfg;
  cfg.procs = procs;
  cfg.pin = true;
  cfg.report_hogs = false;
  return cfg;
}

// Runs `body` as a goroutine and blocks the calling (benchmark) thread until
// it returns; `body` returns the nanoseconds it measured.
template <class Body>
std::int64_t run_in_goroutine(Body body) {
  std::int64_t ns = 0;
  gmp::WaitGroup wg;
  wg.add(1);
  gmp::go([&] {
    ns = body();
    wg.done();
  });
  wg.wait();
  return ns;
}

// Accumulates batch times and op counts over a benchmark run and publishes
// ns_per_op at the end.
class OpTimer {
 public:
  void add(benchmark::State& state, std::int64_t ns, std::int64_t ops) {
    total_ns_ += ns;
    total_ops_ += ops;
    state.SetIterationTime(static_cast<double>(ns) * 1e-9);
  }
  void publish(benchmark::State& state) const {
    if (total_ops_ == 0) return;
    state.counters["ns_per_op"] = static_cast<double>(total_ns_) / static_cast<double>(total_ops_);
    state.SetItemsProcessed(total_ops_);
  }

 private:
  std::int64_t total_ns_ = 0;
  std::int64_t total_ops_ = 0;
};

// ---- YieldPair --------------------------------------------------------------

constexpr std::int64_t kYieldSwitches = 200'000;

void BM_GmpYieldPair(benchmark::State& state) {
  RuntimeScope rt(state, bench_config(1));
  if (!rt.ok()) return;
  OpTimer timer;
  for (auto _ : state) {
    std::int64_t ns = run_in_goroutine([] {
      gmp::WaitGroup peer_done;
      peer_done.add(1);
      gmp::go([&peer_done] {
        for (std::int64_t i = 0; i < kYieldSwitches / 2; i++) gmp::yield();
        peer_done.done();
      });
      std::int64_t t0 = nanotime();
      for (std::int64_t i = 0; i < kYieldSwitches / 2; i++) gmp::yield();
      peer_done.wait();
      return nanotime() - t0;
    });
    timer.add(state, ns, kYieldSwitches);
  }
  timer.publish(state);
}
BENCHMARK(BM_GmpYieldPair)->UseManualTime();

void BM_BoostYieldPair(benchmark::State& state) {
  OpTimer timer;
  for (auto _ : state) {
    std::int64_t t0 = nanotime();
    auto body = [] {
      for (std::int64_t i = 0; i < kYieldSwitches / 2; i++) boost::this_fiber::yield();
    };
    boost::fibers::fiber a(body);
    boost::fibers::fiber b(body);
    a.join();
    b.join();
    timer.add(state, nanotime() - t0, kYieldSwitches);
  }
  timer.publish(state);
}
BENCHMARK(BM_BoostYieldPair)->UseManualTime();

// ---- SpawnJoin --------------------------------------------------------------

constexpr std::int64_t kSpawns = 20'000;

void BM_GmpSpawnJoin(benchmark::State& state) {
  RuntimeScope rt(state, bench_config(2));
  if (!rt.ok()) return;
  OpTimer timer;
  for (auto _ : state) {
    std::int64_t ns = run_in_goroutine([] {
      std::int64_t t0 = nanotime();
      for (std::int64_t i = 0; i < kSpawns; i++) {
        auto h = gmp::spawn([] { benchmark::ClobberMemory(); });
        h.join();
      }
      return nanotime() - t0;
    });
    timer.add(state, ns, kSpawns);
  }
  timer.publish(state);
}
BENCHMARK(BM_GmpSpawnJoin)->UseManualTime();

void BM_GmpSpawnWaitGroup(benchmark::State& state) {
  RuntimeScope rt(state, bench_config(2));
  if (!rt.ok()) return;
  OpTimer timer;
  for (auto _ : state) {
    std::int64_t ns = run_in_goroutine([] {
      gmp::WaitGroup wg;
      std::int64_t t0 = nanotime();
      for (std::int64_t i = 0; i < kSpawns; i++) {
        wg.add(1);
        gmp::go([&wg] { wg.done(); });
        wg.wait();
      }
      return nanotime() - t0;
    });
    timer.add(state, ns, kSpawns);
  }
  timer.publish(state);
}
BENCHMARK(BM_GmpSpawnWaitGroup)->UseManualTime();

void BM_BoostSpawnJoin(benchmark::State& state) {
  OpTimer timer;
  for (auto _ : state) {
    std::int64_t t0 = nanotime();
    for (std::int64_t i = 0; i < kSpawns; i++) {
      boost::fibers::fiber f([] { benchmark::ClobberMemory(); });
      f.join();
    }
    timer.add(state, nanotime() - t0, kSpawns);
  }
  timer.publish(state);
}
BENCHMARK(BM_BoostSpawnJoin)->UseManualTime();

// ---- Skynet1M ---------------------------------------------------------------

void gmp_skynet(std::int64_t* out, gmp::WaitGroup* parent, std::int64_t num, std::int64_t size) {
  if (size == 1) {
    *out = num;
    parent->done();
    return;
  }
  std::int64_t sums[kSkynetDiv];
  gmp::WaitGroup wg;
  wg.add(kSkynetDiv);
  const std::int64_t step = size / kSkynetDiv;
  for (std::int64_t i = 0; i < kSkynetDiv; i++) gmp::go(gmp_skynet, &sums[i], &wg, num + i * step, step);
  wg.wait();
  std::int64_t total = 0;
  for (std::int64_t s : sums) total += s;
  *out = total;
  parent->done();
}

void BM_GmpSkynet(benchmark::State& state) {
  RuntimeScope rt(state, bench_config(2));
  if (!rt.ok()) return;
  OpTimer timer;
  for (auto _ : state) {
    std::int64_t result = 0;
    std::int64_t ns = run_in_goroutine([&result] {
      gmp::WaitGroup wg;
      wg.add(1);
      std::int64_t t0 = nanotime();
      gmp::go(gmp_skynet, &result, &wg, std::int64_t{0}, kSkynetSize);
      wg.wait();
      return nanotime() - t0;
    });
    if (result != kSkynetExpect) {
      state.SkipWithError(("skynet: wrong sum " + std::to_string(result)).c_str());
      return;
    }
    timer.add(state, ns, kSkynetNodes);
  }
  timer.publish(state);
}
BENCHMARK(BM_GmpSkynet)->UseManualTime()->Unit(benchmark::kMillisecond);

using BoostStack = boost::fibers::fixedsize_stack;

constexpr std::int64_t kBoostSkynetSize = 100'000;
constexpr std::int64_t kBoostSkynetNodes = 111'111;

std::int64_t boost_skynet(BoostStack& salloc, std::int64_t num, std::int64_t size) {
  if (size == 1) return num;
  std::int64_t sums[kSkynetDiv];
  boost::fibers::fiber children[kSkynetDiv];
  const std::int64_t step = size / kSkynetDiv;
  for (std::int64_t i = 0; i < kSkynetDiv; i++) {
    children[i] = boost::fibers::fiber(boost::fibers::launch::post, std::allocator_arg, salloc,
                                       [&salloc, &sums, i, num, step] {
                                         sums[i] = boost_skynet(salloc, num + i * step, step);
                                       });
  }
  std::int64_t total = 0;
  for (std::int64_t i = 0; i < kSkynetDiv; i++) {
    children[i].join();
    total += sums[i];
  }
  return total;
}

void BM_BoostSkynet(benchmark::State& state) {
  BoostStack salloc(2 * BoostStack::traits_type::page_size());
  OpTimer timer;
  for (auto _ : state) {
    std::int64_t result = 0;
    std::int64_t t0 = nanotime();
    boost::fibers::fiber root(boost::fibers::launch::post, std::allocator_arg, salloc,
                              [&] { result = boost_skynet(salloc, 0, kBoostSkynetSize); });
    root.join();
    std::int64_t ns = nanotime() - t0;
    if (result != kBoostSkynetSize * (kBoostSkynetSize - 1) / 2) {
      state.SkipWithError(("skynet: wrong sum " + std::to_string(result)).c_str());
      return;
    }
    timer.add(state, ns, kBoostSkynetNodes);
  }
  timer.publish(state);
}
BENCHMARK(BM_BoostSkynet)->UseManualTime()->Unit(benchmark::kMillisecond);

// ---- WakeCrossP -------------------------------------------------------------

enum class TargetState { kSpinning, kParked };

// Shared by the waker and the wakee of one batch. The wakee publishes its
// Waiter in `slot` from wait()'s commit (after its context is saved), so the
// waker never wakes a G that is still running.
struct WakeBench {
  TargetState target = TargetState::kSpinning;
  int samples = 0;
  std::atomic<gmp::detail::Waiter*> slot{nullptr};
  std::atomic<std::int64_t> t_wake{0};  // written before wake(): ordered by it
  std::atomic<bool> discard{false};      // the target was not in the asked state
  std::atomic<int> wakee_p{-1};
  std::atomic<bool> waker_running{false};
  std::atomic<int> done{0};
  std::vector<std::int64_t> lat_ns;  // wakee only, read after `done`
  std::int64_t wrong_p = 0;          // samples the wakee ran on the waker's P
  std::int64_t discarded = 0;        // samples not counted (see waker_main)
  int waker_p = -1;
};

bool publish_waiter(void* arg) {
  auto* w = static_cast<gmp::detail::Waiter*>(arg);
  auto* wb = static_cast<WakeBench*>(w->data);
  wb->slot.store(w, std::memory_order_release);
  return true;
}

void wakee_main(WakeBench* wb) {
  const int my_p = gmp::detail::getp()->id;
  wb->wakee_p.store(my_p, std::memory_order_release);
  for (int i = 0; i < wb->samples; i++) {
    gmp::detail::Waiter w;
    w.data = wb;
    gmp::detail::wait(w, gmp::detail::WaitReason::kUser, publish_waiter, &w);
    std::int64_t now = nanotime();
    std::int64_t t_wake = wb->t_wake.load(std::memory_order_acquire);
    if (wb->discard.load(std::memory_order_relaxed)) {
      wb->discarded++;
    } else {
      wb->lat_ns.push_back(now - t_wake);
      if (gmp::detail::getp()->id != my_p) wb->wrong_p++;
    }
  }
  wb->done.fetch_add(1, std::memory_order_release);
}

// Never yields: it must keep its P so that the wakee runs on the other one.
void waker_main(WakeBench* wb) {
  wb->waker_p = gmp::detail::getp()->id;
  wb->waker_running.store(true, std::memory_order_release);
  int target_p = -1;
  while ((target_p = wb->wakee_p.load(std::memory_order_acquire)) < 0) spin_pause();
  gmp::detail::P* tp = gmp::detail::sched.allp[target_p];
  for (int i = 0; i < wb->samples; i++) {
    gmp::detail::Waiter* w;
    while ((w = wb->slot.load(std::memory_order_acquire)) == nullptr) spin_pause();
    wb->slot.store(nullptr, std::memory_order_relaxed);
    bool discard = false;
    if (wb->target == TargetState::kSpinning) {
      // Spinning: the target M is in find_runnable's bounded spin. On a
      // loaded machine this thread can be descheduled for the whole spin
      // (10 ms); then the target parks, and that sample is not counted.
      while (!tp->searching.load(std::memory_order_acquire)) {
        if (tp->status.load(std::memory_order_acquire) == gmp::detail::PStatus::kIdle) {
          discard = true;
          break;
        }
        spin_pause();
      }
      std::int64_t until = nanotime() + 2'000;
      while (nanotime() < until) spin_pause();
      if (!tp->searching.load(std::memory_order_acquire)) discard = true;
    } else {
      // Parked: the target P is idle and its M has had time to futex-sleep.
      while (tp->status.load(std::memory_order_acquire) != gmp::detail::PStatus::kIdle) spin_pause();
      std::int64_t until = nanotime() + 200'000;
      while (nanotime() < until) spin_pause();
    }
    wb->discard.store(discard, std::memory_order_relaxed);
    wb->t_wake.store(nanotime(), std::memory_order_release);
    gmp::detail::wake(*w);
  }
  // Hold the P until the wakee has taken its last sample: exiting earlier
  // would let the last wake-up run here, on the waker's P.
  while (wb->done.load(std::memory_order_acquire) == 0) spin_pause();
  wb->done.fetch_add(1, std::memory_order_release);
}

std::int64_t percentile(std::vector<std::int64_t>& v, double q) {
  if (v.empty()) return 0;
  auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

void BM_GmpWakeCrossP(benchmark::State& state, TargetState target) {
  gmp::Config cfg = bench_config(2);
  cfg.spin = target == TargetState::kSpinning ? std::chrono::milliseconds(10) : std::chrono::nanoseconds(0);
  // The waker hogs its P on purpose; keep sysmon from asking it to yield.
  cfg.hog_threshold = std::chrono::seconds(100);
  RuntimeScope rt(state, cfg);
  if (!rt.ok()) return;
  const int samples = target == TargetState::kSpinning ? 2000 : 200;
  std::vector<std::int64_t> all;
  std::int64_t wrong_p = 0;
  std::int64_t discarded = 0;
  OpTimer timer;
  for (auto _ : state) {
    WakeBench wb;
    wb.target = target;
    wb.samples = samples;
    wb.lat_ns.reserve(static_cast<std::size_t>(samples));
    std::int64_t t0 = nanotime();
    // The waker first, so that it holds one P busy before the wakee is
    // queued: the wakee can then only be picked up by the other P.
    gmp::go(waker_main, &wb);
    while (!wb.waker_running.load(std::memory_order_acquire)) spin_pause();
    gmp::go(wakee_main, &wb);
    while (wb.done.load(std::memory_order_acquire) < 2) std::this_thread::sleep_for(std::chrono::microseconds(100));
    std::int64_t ns = nanotime() - t0;
    if (wb.wakee_p.load() == wb.waker_p) {
      state.SkipWithError("wake: waker and wakee ran on the same P");
      return;
    }
    all.insert(all.end(), wb.lat_ns.begin(), wb.lat_ns.end());
    wrong_p += wb.wrong_p;
    discarded += wb.discarded;
    timer.add(state, ns, samples);
  }
  timer.publish(state);
  state.counters["p50_ns"] = static_cast<double>(percentile(all, 0.50));
  state.counters["p99_ns"] = static_cast<double>(percentile(all, 0.99));
  state.counters["samples"] = static_cast<double>(all.size());
  // Samples the wakee ran on the waker's P (it was not woken cross-P).
  state.counters["ran_on_waker_p"] = static_cast<double>(wrong_p);
  // Samples the target was no longer spinning when woken (this thread was
  // descheduled for the whole spin window): not counted above.
  state.counters["discarded"] = static_cast<double>(discarded);
}
BENCHMARK_CAPTURE(BM_GmpWakeCrossP, spinning, TargetState::kSpinning)->UseManualTime();
BENCHMARK_CAPTURE(BM_GmpWakeCrossP, parked, TargetState::kParked)->UseManualTime();

}  // namespace
