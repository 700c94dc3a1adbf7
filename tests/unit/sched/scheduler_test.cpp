// Scheduler behaviour, parameterised over 1, 2, 4 and 8 Ps (more Ps than
// this machine's cores must work too).
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <set>
#include <thread>

#include "gmp/gmp.hpp"
#include "sched/sched.hpp"

namespace {

using namespace std::chrono_literals;

class WithProcs : public testing::TestWithParam<int> {
 protected:
  gmp::Config cfg() const {
    gmp::Config c;
    c.procs = GetParam();
    c.pin = false;  // more Ps than CPUs: do not fight over cores
    return c;
  }
};

INSTANTIATE_TEST_SUITE_P(Procs, WithProcs, testing::Values(1, 2, 4, 8),
                         [](const testing::TestParamInfo<int>& info) { return std::to_string(info.param) + "P"; });

TEST_P(WithProcs, RunReturnsMainsResult) {
  EXPECT_EQ(gmp::run(cfg(), [] { return 7; }), 7);
  EXPECT_FALSE(gmp::running());
}

TEST_P(WithProcs, EveryGoroutineRunsExactlyOnce) {
  constexpr int kN = 20000;
  std::vector<std::atomic<int>> ran(kN);
  int rc = gmp::run(cfg(), [&] {
    gmp::WaitGroup wg;
    wg.add(kN);
    for (int i = 0; i < kN; i++) {
      gmp::go([&, i] {
        ran[i].fetch_add(1);
        wg.done();
      });
    }
    wg.wait();
    return 0;
  });
  ASSERT_EQ(rc, 0);
  for (int i = 0; i < kN; i++) ASSERT_EQ(ran[i].load(), 1) << "goroutine " << i;
}

TEST_P(WithProcs, YieldingGoroutinesAllFinish) {
  constexpr int kN = 64, kYields = 2000;
  std::atomic<long> yields{0};
  gmp::run(cfg(), [&] {
    gmp::WaitGroup wg;
    wg.add(kN);
    for (int i = 0; i < kN; i++) {
      gmp::go([&] {
        for (int k = 0; k < kYields; k++) {
          gmp::yield();
          yields.fetch_add(1, std::memory_order_relaxed);
        }
        wg.done();
      });
    }
    wg.wait();
    return 0;
  });
  EXPECT_EQ(yields.load(), long{kN} * kYields);
}

// errno is per thread; a goroutine that migrates between Ms at switches must
// keep its own. Read and written out of line: glibc declares
// __errno_location const, so code that touches errno on both sides of a
// switch may use the old thread's address (docs/API.md, "errno and
// thread_local").
[[gnu::noipa]] void set_errno(int e) { errno = e; }
[[gnu::noipa]] int get_errno() { return errno; }

TEST_P(WithProcs, ErrnoIsKeptAcrossSwitches) {
  constexpr int kN = 32;
  std::atomic<int> wrong{0};
  gmp::run(cfg(), [&] {
    gmp::WaitGroup wg;
    wg.add(kN);
    for (int i = 0; i < kN; i++) {
      gmp::go([&, i] {
        for (int k = 0; k < 500; k++) {
          set_errno(1000 + i);
          gmp::yield();
          if (get_errno() != 1000 + i) wrong.fetch_add(1);
        }
        wg.done();
      });
    }
    wg.wait();
    return 0;
  });
  EXPECT_EQ(wrong.load(), 0);
}

TEST_P(WithProcs, SpawnMoveOnlyArgumentsAndJoinResults) {
  gmp::run(cfg(), [] {
    auto p = std::make_unique<int>(41);
    auto h = gmp::spawn([](std::unique_ptr<int> v) { return *v + 1; }, std::move(p));
    EXPECT_EQ(h.join(), 42);
    std::vector<gmp::JoinHandle<int>> hs;
    for (int i = 0; i < 100; i++) hs.push_back(gmp::spawn([i] { return i * i; }));
    long sum = 0;
    for (auto& x : hs) sum += x.join();
    EXPECT_EQ(sum, 328350);
    auto v = gmp::spawn([] {});
    v.join();
    return 0;
  });
}

TEST_P(WithProcs, SpawnFromPlainThreadsGoesThroughGlobalQueue) {
  ASSERT_EQ(gmp::start(cfg()).message(), "");
  constexpr int kThreads = 4, kPer = 2000;
  std::atomic<int> ran{0};
  gmp::WaitGroup wg;
  wg.add(kThreads * kPer);
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; t++) {
    ts.emplace_back([&] {
      EXPECT_FALSE(gmp::in_goroutine());
      for (int i = 0; i < kPer; i++) {
        gmp::go([&] {
          EXPECT_TRUE(gmp::in_goroutine());
          EXPECT_NE(gmp::current_id(), 0u);
          ran.fetch_add(1);
          wg.done();
        });
      }
    });
  }
  for (auto& t : ts) t.join();
  wg.wait();  // a plain thread waits on the futex path
  EXPECT_EQ(ran.load(), kThreads * kPer);
  EXPECT_GE(gmp::sched_stats().goroutines_created, static_cast<uint64_t>(kThreads * kPer));
  gmp::stop();
}

TEST_P(WithProcs, JoinFromPlainThread) {
  ASSERT_EQ(gmp::start(cfg()).message(), "");
  auto h = gmp::spawn([] {
    for (int i = 0; i < 100; i++) gmp::yield();
    return std::string("done");
  });
  EXPECT_EQ(h.join(), "done");
  gmp::stop();
}

// Go's fairness case: two goroutines respawning each other through runnext
// must not starve a third one queued behind them (the 10 ms time slice is
// shared by runnext chains, and the global queue is checked every 61 ticks).
TEST_P(WithProcs, RespawningPairCannotStarveAThird) {
  std::atomic<bool> third_ran{false};
  std::atomic<long> hops{0};
  gmp::run(cfg(), [&] {
    gmp::WaitGroup wg;
    wg.add(1);
    struct Pinger {
      static void hop(std::atomic<bool>* stop, std::atomic<long>* hops, gmp::WaitGroup* wg) {
        hops->fetch_add(1, std::memory_order_relaxed);
        if (stop->load(std::memory_order_acquire)) {
          wg->done();
          return;
        }
        gmp::go(hop, stop, hops, wg);
      }
    };
    // The third goes first, so the pair's runnext chain pushes it to the ring.
    gmp::go([&] { third_ran.store(true, std::memory_order_release); });
    gmp::go(Pinger::hop, &third_ran, &hops, &wg);
    wg.wait();
    return 0;
  });
  EXPECT_TRUE(third_ran.load());
  EXPECT_GT(hops.load(), 0);
}

TEST_P(WithProcs, GoroutinesSpreadOverPs) {
  if (GetParam() == 1) GTEST_SKIP() << "one P";
  std::set<int> ps;
  std::mutex mu;
  gmp::run(cfg(), [&] {
    gmp::WaitGroup wg;
    wg.add(GetParam() * 8);
    for (int i = 0; i < GetParam() * 8; i++) {
      gmp::go([&] {
        // Busy (with safe points) until goroutines were seen on two Ps, or
        // 5 s: other Ps must steal from the spawner's queue.
        auto until = std::chrono::steady_clock::now() + 5s;
        for (;;) {
          {
            std::lock_guard<std::mutex> lk(mu);
            ps.insert(gmp::detail::getp()->id);
            if (ps.size() >= 2) break;
          }
          if (std::chrono::steady_clock::now() > until) break;
          gmp::preempt_point();
        }
        wg.done();
      });
    }
    wg.wait();
    return 0;
  });
  EXPECT_GE(ps.size(), 2u) << "work stealing should have moved goroutines to other Ps";
}

TEST(Scheduler, StartTwiceIsRefused) {
  ASSERT_EQ(gmp::start({.procs = 1}).message(), "");
  EXPECT_EQ(gmp::start({.procs = 1}).message(), "the runtime is already running");
  gmp::stop();
}

TEST(Scheduler, ConfigValidationNamesTheProblem) {
  EXPECT_NE(gmp::validate({.procs = -1}).message().find("procs -1 is out of range"), std::string::npos);
  EXPECT_NE(gmp::validate({.procs = 1, .stack_size = 1024}).message().find("stack size 1 KiB is out of range"),
            std::string::npos);
  gmp::Config c;
  c.cpus = {4095};
  EXPECT_NE(gmp::validate(c).message().find("CPU 4095 is not available"), std::string::npos);
  gmp::Config lead;
  lead.timer_lead = std::chrono::milliseconds(2);
  EXPECT_NE(gmp::validate(lead).message().find("timer lead must be from 0 to 1 ms"), std::string::npos);
  lead.timer_lead = std::chrono::nanoseconds(-1);
  EXPECT_NE(gmp::validate(lead).message().find("timer lead must be from 0 to 1 ms"), std::string::npos);
  EXPECT_EQ(gmp::validate({}).message(), "");
  EXPECT_NE(gmp::start({.procs = 1000}).message(), "");
  EXPECT_FALSE(gmp::running());
}

TEST(Scheduler, StopDiscardsParkedGoroutinesAndDestroysUnstartedClosures) {
  auto alive = std::make_shared<int>(1);
  ASSERT_EQ(gmp::start({.procs = 1, .pin = false}).message(), "");
  // Never destroyed, on purpose: after stop() its waiter list points at
  // discarded goroutines, and destroying a WaitGroup with waiters is fatal.
  // Kept reachable (a volatile static: no destructor runs before
  // LeakSanitizer looks, and the store is not optimised away) so that it is
  // not reported.
  static gmp::WaitGroup* volatile kept = nullptr;
  auto* never = new gmp::WaitGroup;
  kept = never;
  never->add(1);
  std::atomic<int> parked{0};
  for (int i = 0; i < 10; i++) {
    gmp::go([&] {
      parked.fetch_add(1);
      never->wait();
    });
  }
  while (parked.load() < 10) std::this_thread::sleep_for(1ms);
  gmp::stop();
  // Parked goroutines are gone; a closure that never ran was destroyed.
  ASSERT_EQ(gmp::start({.procs = 1, .pin = false}).message(), "");
  EXPECT_EQ(gmp::sched_stats().goroutines_live, 0u);
  gmp::stop();
  (void)alive;
}

TEST(Scheduler, StacksAreReusedNotRemapped) {
  gmp::run({.procs = 1, .pin = false}, [] {
    for (int round = 0; round < 3; round++) {
      gmp::WaitGroup wg;
      wg.add(100);
      for (int i = 0; i < 100; i++) gmp::go([&] { wg.done(); });
      wg.wait();
    }
    // 100 live at most at once (+ main): the cache serves the later rounds.
    EXPECT_LE(gmp::sched_stats().stacks_mapped, 110u);
    return 0;
  });
}

// Note [Stack scavenging]: a burst's stacks are cached on exit (no release
// on the exit path), the scavenger gives back what stays unused beyond the
// retained 1024 a class, and stop unmaps every slab.
TEST(Scheduler, StacksOfABurstAreScavengedLaterAndAllGoAtStop) {
  constexpr int kBurst = 4000;
  gmp::run({.procs = 1, .pin = false}, [] {
    std::uint64_t released0 = gmp::sched_stats().stacks_released;
    gmp::Chan<int> gate;
    gmp::WaitGroup parked, done;
    parked.add(kBurst);
    done.add(kBurst);
    for (int i = 0; i < kBurst; i++) {
      gmp::go([&] {
        parked.done();
        (void)gate.recv();
        done.done();
      });
    }
    parked.wait();
    EXPECT_GE(gmp::sched_stats().stacks_mapped, static_cast<std::uint64_t>(kBurst));
    gate.close();
    done.wait();
    // Right after the burst the exits only cached their stacks: whatever is
    // no longer mapped was given back by the scavenger (a slow machine, or a
    // sanitizer build, can take longer than its 1 s period to wake the burst).
    EXPECT_GE(gmp::sched_stats().stacks_mapped + (gmp::sched_stats().stacks_released - released0),
              static_cast<std::uint64_t>(kBurst));
    // The scavenger acts after a whole period (1 s) of disuse; wait for it
    // with a deadline far beyond that (this is not a timing check).
    std::uint64_t want = kBurst - 1024 - 64 * 2;
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (gmp::sched_stats().stacks_released - released0 < want && std::chrono::steady_clock::now() < deadline) {
      gmp::sleep_for(20ms);
    }
    EXPECT_GE(gmp::sched_stats().stacks_released - released0, want);
    // What is left cached is about the retained 1024 (and the P's own 64).
    EXPECT_LE(gmp::sched_stats().stacks_mapped, 1024u + 64u + 16u);
    // Reuse after a release works: released ranges are handed out again.
    gmp::WaitGroup again;
    again.add(kBurst);
    for (int i = 0; i < kBurst; i++) gmp::go([&] { again.done(); });
    again.wait();
    return 0;
  });
  // After stop, nothing is mapped.
  EXPECT_EQ(gmp::sched_stats().stacks_mapped, 0u);
}

// Note [Waking Ms]: an M that has just given its P back, or woke for a
// timer, is about to look for work; a start in that window hands it the P
// instead of making a thread. A producer that sleeps between sends on one P
// and a consumer on the other (the `orders` shape) hit that window every few
// hundred wake-ups: 2 Ps ended with 4 Ms. No goroutine here blocks in the
// kernel, so 2 Ps need exactly 2 Ms.
TEST(Scheduler, TwoPsWithoutBlockingCallsKeepTwoMs) {
  gmp::run({.procs = 2, .pin = false}, [] {
    gmp::Chan<int> c(16);
    gmp::WaitGroup wg;
    wg.add(2);
    gmp::go([&] {
      for (int i = 0; i < 20000; i++) {
        if (i % 4 == 0) gmp::sleep_for(std::chrono::microseconds(20));
        c.send(i);
      }
      c.close();
      wg.done();
    });
    gmp::go([&] {
      while (c.recv()) {}
      wg.done();
    });
    wg.wait();
    EXPECT_EQ(gmp::detail::sched.mcount.load(), 2);
    return 0;
  });
}

TEST(Scheduler, PinnedMsRunOnTheirCpus) {
  gmp::run({.procs = 1, .pin = true}, [] {
    cpu_set_t set;
    CPU_ZERO(&set);
    EXPECT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
    EXPECT_EQ(CPU_COUNT(&set), 1);
    EXPECT_EQ(sched_getcpu(), gmp::config().cpus[0]);
    return 0;
  });
}

TEST(Scheduler, CustomStackSizeGetsItsClass) {
  gmp::run({.procs = 1, .pin = false, .stack_size = 64 * 1024}, [] {
    EXPECT_EQ(gmp::config().stack_size, 64u * 1024);
    EXPECT_EQ(gmp::detail::getg()->stack.size(), 64u * 1024);
    return 0;
  });
}

}  // namespace
