// Timers: 4-ary heap order, sleep ordering and "not early", Timer
// stop/reset, Ticker, after(), stealing of an idle P's timers, and the
// internal arm/cancel API; on 1, 2, 4 Ps. No tight timing assertions: only
// "not early" and generous upper bounds (figures are in the benchmarks).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.hpp"
#include "gmp/gmp.hpp"
#include "../sync/procs_fixture.hpp"
#include "timer/heap.hpp"
#include "timer/timer.hpp"

namespace {

using namespace std::chrono_literals;
using gmp::detail::TimerNode;

TEST(TimerHeap, PopsInDeadlineOrderWithRemovals) {
  std::mt19937 rng(1);
  std::vector<TimerNode> nodes(2000);
  gmp::detail::TimerHeap h;
  for (auto& n : nodes) {
    n.when = rng() % 100000;
    h.push(&n);
  }
  for (int i = 0; i < 2000; i += 3) h.remove(&nodes[i]);
  std::int64_t last = -1;
  std::size_t count = 0;
  while (!h.empty()) {
    TimerNode* t = h.top();
    EXPECT_GE(t->when, last);
    EXPECT_EQ(t->index, 0);
    last = t->when;
    h.pop();
    EXPECT_EQ(t->index, -1);
    count++;
  }
  EXPECT_EQ(count, 2000u - 667u);
}

class TimerP : public gmp_test::ProcsTest {};
INSTANTIATE_TEST_SUITE_P(Procs, TimerP, gmp_test::procs_values(), gmp_test::procs_name);

TEST_P(TimerP, SleepIsNeverEarly) {
  gmp::run(cfg(), [] {
    for (auto d : {1ms, 2ms, 5ms}) {
      auto t0 = std::chrono::steady_clock::now();
      gmp::sleep_for(d);
      auto dt = std::chrono::steady_clock::now() - t0;
      EXPECT_GE(dt, d);
      EXPECT_LT(dt, d + 1s);
    }
    return 0;
  });
}

// The timer lead (Note [Timer lead] in sched/idle.cpp) wakes an idle M early
// and spins: a sleep must still never end before its deadline, with the
// largest lead allowed and with none, for sleeps shorter and longer than it.
TEST_P(TimerP, SleepIsNeverEarlyWhateverTheTimerLead) {
  for (auto lead : {std::chrono::nanoseconds(1ms), std::chrono::nanoseconds(0)}) {
    gmp::Config c = cfg();
    c.timer_lead = lead;
    int early = 0;
    gmp::SchedStats st;
    gmp::run(c, [&] {
      std::mt19937 rng(7);
      for (int i = 0; i < 300; i++) {
        auto d = std::chrono::microseconds(20 + rng() % 2000);
        auto t0 = std::chrono::steady_clock::now();
        gmp::sleep_for(d);
        if (std::chrono::steady_clock::now() - t0 < d) early++;
      }
      st = gmp::sched_stats();
      return 0;
    });
    EXPECT_EQ(early, 0) << "timer lead " << lead.count() << " ns";
    // Every wake-up is at least a little late, so the M's estimate and
    // lead grow from the first sleep: with a lead some wake-ups spin.
    if (lead.count() > 0) {
      EXPECT_GT(st.timer_lead_wakeups, 0u);
      EXPECT_LE(st.timer_lead_spin_ns, st.timer_lead_wakeups * 1'000'000u) << "a spin is at most the lead";
    } else {
      EXPECT_EQ(st.timer_lead_wakeups, 0u);
    }
  }
}

TEST_P(TimerP, SleepersWakeInDeadlineOrder) {
  // Each sleeper records whether it went to sleep before its deadline and
  // whether it ran again before the next sleeper's deadline. Only those
  // "prompt" ones are ordered by the timers alone: on a loaded machine a
  // goroutine can start after its deadline, or two timers can both be due at
  // one poll (then the second readied runs first, from runnext, as in Go).
  struct Woke {
    int i;
    bool prompt;
  };
  constexpr int kN = 12;
  constexpr auto kStep = 20ms;
  std::vector<Woke> order;
  gmp::run(cfg(), [&] {
    gmp::Mutex mu;
    gmp::WaitGroup wg;
    wg.add(kN);
    auto base = gmp::Clock::now() + 20ms;
    for (int i = kN - 1; i >= 0; i--) {  // spawned in reverse order
      gmp::go([&, i] {
        const auto deadline = base + i * kStep;
        const bool early = gmp::Clock::now() < deadline;
        gmp::sleep_until(deadline);
        const auto woke = gmp::Clock::now();
        EXPECT_GE(woke, deadline);
        mu.lock();
        order.push_back({i, early && woke < deadline + kStep});
        mu.unlock();
        wg.done();
      });
    }
    wg.wait();
    return 0;
  });
  ASSERT_EQ(order.size(), static_cast<std::size_t>(kN));
  // One P runs its heap in deadline order. With several Ps the sleepers sit
  // on different Ps' heaps and wake independently, so only 1 P promises order.
  if (GetParam() != 1) return;
  std::vector<int> prompt;
  for (const Woke& w : order)
    if (w.prompt) prompt.push_back(w.i);
  if (prompt.size() < kN / 2) GTEST_SKIP() << "machine too loaded: only " << prompt.size() << " sleepers woke promptly";
  EXPECT_TRUE(std::is_sorted(prompt.begin(), prompt.end()));
}

TEST_P(TimerP, ManyConcurrentSleepersAllWake) {
  std::atomic<int> woke{0};
  gmp::run(cfg(), [&] {
    gmp::WaitGroup wg;
    wg.add(1000);
    for (int i = 0; i < 1000; i++) {
      gmp::go([&, i] {
        gmp::sleep_for(std::chrono::microseconds(100 + (i * 37) % 3000));
        woke++;
        wg.done();
      });
    }
    wg.wait();
    return 0;
  });
  EXPECT_EQ(woke.load(), 1000);
}

TEST_P(TimerP, TimerStopAndReset) {
  gmp::run(cfg(), [] {
    gmp::Timer t(1h);
    EXPECT_TRUE(t.stop());
    EXPECT_FALSE(t.stop());
    EXPECT_EQ(t.c().try_recv(), std::nullopt);
    auto t0 = gmp::Clock::now();
    EXPECT_FALSE(t.reset(3ms));
    auto fired = t.c().recv();
    EXPECT_TRUE(fired.has_value());
    EXPECT_GE(fired.value_or(gmp::TimePoint{}), t0 + 3ms);
    EXPECT_GE(gmp::Clock::now(), t0 + 3ms);
    EXPECT_FALSE(t.stop());  // already fired
    return 0;
  });
}

TEST_P(TimerP, TickerTicksAndStops) {
  gmp::run(cfg(), [] {
    auto t0 = gmp::Clock::now();  // before the ticker starts: its ticks are at start + k*2ms
    gmp::Ticker tk(2ms);
    gmp::TimePoint prev = t0;
    for (int i = 0; i < 5; i++) {
      auto v = tk.c().recv();
      EXPECT_TRUE(v.has_value());
      EXPECT_GT(v.value_or(gmp::TimePoint{}), prev);
      prev = v.value_or(prev);
    }
    EXPECT_GE(gmp::Clock::now(), t0 + 10ms);
    tk.stop();
    tk.c().try_recv();  // drop a tick that raced with stop
    gmp::sleep_for(10ms);
    EXPECT_EQ(tk.c().try_recv(), std::nullopt);
    return 0;
  });
}

TEST_P(TimerP, AfterInSelect) {
  gmp::run(cfg(), [] {
    gmp::Chan<int> never;
    auto t0 = gmp::Clock::now();
    int r = gmp::select(gmp::on_recv(never, [](std::optional<int>) {}),
                        gmp::on_recv(gmp::after(3ms), [](std::optional<gmp::TimePoint>) {}));
    EXPECT_EQ(r, 1);
    EXPECT_GE(gmp::Clock::now(), t0 + 3ms);
    return 0;
  });
}

// A timer on a P whose goroutine never switches (a hog): another P steals it.
TEST_P(TimerP, TimersOfAHoggedPAreStolen) {
  if (GetParam() < 2) GTEST_SKIP() << "needs a second P to steal";
  gmp::run(cfg(), [] {
    std::atomic<bool> fired{false};
    std::atomic<bool> armed{false};
    TimerNode t;
    t.fn = [](void* arg, std::int64_t) noexcept { static_cast<std::atomic<bool>*>(arg)->store(true); };
    t.arg = &fired;
    auto before = gmp::detail::timer_stats();
    gmp::Chan<int> done(1);
    gmp::go([&] {
      gmp::detail::timer_arm(&t, gmp::detail::nanotime() + 2'000'000);
      armed = true;
      // Hog this P (no safe point) until the timer fired elsewhere, or 3 s.
      auto end = std::chrono::steady_clock::now() + 3s;
      while (!fired.load() && std::chrono::steady_clock::now() < end) {
      }
      done.send(1);
    });
    done.recv();
    EXPECT_TRUE(fired.load());
    EXPECT_GT(gmp::detail::timer_stats().stolen, before.stolen);
    gmp::detail::timer_cancel(&t);
    return 0;
  });
}

// A ticker whose fn outlasts its period is not fired again until fn
// returns (Note [Ticker re-arm]): with two Ps the overdue ticker would
// otherwise be stolen and run beside itself, and a cancel could return
// while one of the two still ran.
TEST_P(TimerP, ATickerNeverRunsBesideItself) {
  if (GetParam() < 2) GTEST_SKIP() << "needs a second P to steal the overdue ticker";
  struct Probe {
    std::atomic<int> inflight{0}, most{0}, runs{0};
  } probe;
  gmp::run(cfg(), [&] {
    TimerNode t;
    t.period = 1'000'000;  // 1 ms; fn runs 10 ms
    t.fn = [](void* arg, std::int64_t) noexcept {
      auto* pr = static_cast<Probe*>(arg);
      int now = pr->inflight.fetch_add(1) + 1;
      int most = pr->most.load();
      while (now > most && !pr->most.compare_exchange_weak(most, now)) {
      }
      auto end = std::chrono::steady_clock::now() + 10ms;  // fn must not park: spin
      while (std::chrono::steady_clock::now() < end) {
      }
      pr->runs.fetch_add(1);
      pr->inflight.fetch_sub(1);
    };
    t.arg = &probe;
    gmp::detail::timer_arm(&t, gmp::detail::nanotime() + 1'000'000);
    for (int i = 0; i < 3000 && probe.runs.load() < 8; i++) gmp::sleep_for(1ms);
    EXPECT_TRUE(gmp::detail::timer_cancel(&t));
    EXPECT_EQ(probe.inflight.load(), 0) << "a fn still ran after timer_cancel returned";
    return 0;
  });
  EXPECT_GE(probe.runs.load(), 8);
  EXPECT_EQ(probe.most.load(), 1) << "the ticker's fn ran beside itself";
}

TEST_P(TimerP, CancelBeforeFire) {
  gmp::run(cfg(), [] {
    std::atomic<int> fired{0};
    std::vector<TimerNode> ts(100);
    for (auto& t : ts) {
      t.fn = [](void* arg, std::int64_t) noexcept { static_cast<std::atomic<int>*>(arg)->fetch_add(1); };
      t.arg = &fired;
      gmp::detail::timer_arm(&t, gmp::detail::nanotime() + 50'000'000);
    }
    for (auto& t : ts) EXPECT_TRUE(gmp::detail::timer_cancel(&t));
    gmp::sleep_for(60ms);
    EXPECT_EQ(fired.load(), 0);
    return 0;
  });
}

TEST_P(TimerP, PlainThreadTimerWakesIdleRuntime) {
  ASSERT_EQ(gmp::start(cfg()).message(), "");
  {
    auto t0 = gmp::Clock::now();
    gmp::Timer t(5ms);  // armed from a non-runtime thread: P 0's heap
    EXPECT_TRUE(t.c().recv().has_value());
    auto dt = gmp::Clock::now() - t0;
    EXPECT_GE(dt, 5ms);
    EXPECT_LT(dt, 1s);
    auto t1 = gmp::Clock::now();
    gmp::sleep_for(2ms);  // a plain thread sleeps itself
    EXPECT_GE(gmp::Clock::now() - t1, 2ms);
  }
  gmp::stop();
}

// A goroutine asleep when the runtime stops is discarded with its stack,
// where its timer node lives: stop disarms it, so the next run's M does not
// fire a dangling node (it did: SIGSEGV in run_due once the old deadline
// passed in the next run).
TEST(TimerRestart, TimersOfDiscardedGoroutinesDoNotFireInTheNextRun) {
  gmp::Config c;
  c.procs = 1;
  c.pin = false;
  ASSERT_EQ(gmp::start(c).message(), "");
  // Nothing the discarded goroutines hold may need freeing (a discarded
  // goroutine's frames never unwind): they report through an atomic.
  static std::atomic<int> asleep{0};
  asleep.store(0);
  gmp::go([] {
    asleep.fetch_add(1);
    gmp::sleep_for(40ms);  // still asleep at stop
  });
  gmp::go([] {
    asleep.fetch_add(1);
    gmp::select(gmp::on_timeout(40ms, [] {}));  // a select's timeout node, also on its stack
  });
  while (asleep.load() < 2) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(2ms);  // both parked
  gmp::stop();
  ASSERT_EQ(gmp::start(c).message(), "");
  gmp::Chan<int> done;
  gmp::go([done] {
    for (int i = 0; i < 8; i++) gmp::sleep_for(10ms);  // polls P 0's heap past the old deadlines
    done.send(1);
  });
  EXPECT_EQ(done.recv(), 1);
  gmp::stop();
}

}  // namespace
