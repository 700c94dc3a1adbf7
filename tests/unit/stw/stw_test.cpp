// tests/unit/stw/stw_test.cpp — stop-the-world: Ps idle, running, in blocking
// calls and in io_uring waits; nested and concurrent stops; the hog report;
// pause histograms against the internal record; set_procs under load; the
// goroutine dump; config reload accepted and refused.
//
// No timing assertions beyond generous bounds: these run two at a time on
// two cores. "Stopped" is checked by state (P status, counters that do not
// move), not by durations.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "../../temp_file.hpp"
#include "../wait_until.hpp"
#include "gmp/gmp.hpp"
#include "io/ring.hpp"
#include "sched/sched.hpp"
#include "sched/syscall.hpp"
#include "stw/stw.hpp"

namespace {

using namespace std::chrono_literals;
using gmp::stw::Reason;

gmp::Config cfg(int procs) {
  gmp::Config c;
  c.procs = procs;
  c.pin = false;
  return c;
}

struct Runtime {
  explicit Runtime(int procs) { EXPECT_EQ(gmp::start(cfg(procs)).message(), ""); }
  ~Runtime() { gmp::stop(); }
};

bool all_stopped() {
  using namespace gmp::detail;
  for (int i = 0; i < sched.nprocs; i++) {
    if (sched.allp[i]->status.load() != PStatus::kStopped) return false;
  }
  return true;
}

using gmp::testing::wait_until;

// Busy goroutines with preempt points; count their iterations.
struct Busy {
  std::atomic<bool> quit{false};
  std::atomic<std::uint64_t> iters{0};
  std::atomic<int> running{0};
  std::atomic<int> done{0};
  void spawn(int n) {
    for (int i = 0; i < n; i++) {
      gmp::go([this] {
        running.fetch_add(1);
        while (!quit.load(std::memory_order_relaxed)) {
          for (int k = 0; k < 200; k++) asm volatile("" ::: "memory");
          iters.fetch_add(1, std::memory_order_relaxed);
          gmp::preempt_point();
        }
        done.fetch_add(1);
      });
    }
  }
  void finish(int n) {
    quit.store(true);
    EXPECT_TRUE(wait_until([&] { return done.load() == n; }));
  }
};

TEST(Stw, IdleWorldStopsAndCounts) {
  Runtime rt(2);
  for (int i = 0; i < 50; i++) {
    gmp::stw::stop_the_world(Reason::kUser);
    EXPECT_TRUE(all_stopped());
    EXPECT_TRUE(gmp::stw::world_stopped());
    gmp::stw::start_the_world();
  }
  EXPECT_FALSE(gmp::stw::world_stopped());
  EXPECT_EQ(gmp::stw::generation(), 50u);
  auto st = gmp::stw::pause_stats(Reason::kUser);
  EXPECT_EQ(st.stopping.count(), 50u);
  EXPECT_EQ(st.total.count(), 50u);
  EXPECT_LE(st.stopping.max, st.total.max);
  EXPECT_EQ(gmp::stw::last_pause().generation, 50u);
  // The runtime still runs goroutines afterwards.
  std::atomic<int> ran{0};
  gmp::WaitGroup wg;
  wg.add(10);
  for (int i = 0; i < 10; i++) gmp::go([&] { ran++; wg.done(); });
  wg.wait();
  EXPECT_EQ(ran.load(), 10);
}

TEST(Stw, RunningGoroutinesStopAtSafePoints) {
  Runtime rt(2);
  Busy b;
  b.spawn(4);
  ASSERT_TRUE(wait_until([&] { return b.running.load() == 4; }));
  for (int i = 0; i < 100; i++) {
    gmp::stw::stop_the_world(Reason::kUser);
    EXPECT_TRUE(all_stopped());
    std::uint64_t a = b.iters.load();
    for (int k = 0; k < 2000; k++) asm volatile("" ::: "memory");
    EXPECT_EQ(b.iters.load(), a) << "a goroutine ran while the world was stopped";
    gmp::stw::start_the_world();
  }
  std::uint64_t before = b.iters.load();
  EXPECT_TRUE(wait_until([&] { return b.iters.load() > before + 1000; }));
  b.finish(4);
}

// Stops the world n times from a goroutine (its own P stops first); returns
// how many of those stops saw every P stopped.
int stops_from_a_goroutine(int n) {
  std::atomic<int> ok{0};
  gmp::WaitGroup wg;
  wg.add(1);
  gmp::go([&] {
    for (int i = 0; i < n; i++) {
      gmp::stw::stop_the_world(Reason::kUser);
      if (all_stopped()) ok++;
      gmp::stw::start_the_world();
      gmp::yield();
    }
    wg.done();
  });
  wg.wait();
  return ok.load();
}

TEST(Stw, StopFromAGoroutine) {
  Runtime rt(2);
  Busy b;
  b.spawn(2);
  EXPECT_EQ(stops_from_a_goroutine(100), 100);
  b.finish(2);
}

// A goroutine held in a gmp::blocking call (its M blocked outside the
// runtime) until `release` is set; `in_call` once it is inside, `returned`
// once the goroutine is past the call.
struct HeldCall {
  struct Flags {
    std::atomic<bool> release{false}, in_call{false}, returned{false};
  } flags;
  void start() {
    gmp::go([this] {
      gmp::blocking([this] {
        flags.in_call.store(true);
        while (!flags.release.load()) std::this_thread::sleep_for(100us);
        return 0;
      });
      flags.returned.store(true);
    });
  }
};

TEST(Stw, PInBlockingCallCountsAsStoppedWithoutWaiting) {
  Runtime rt(2);
  HeldCall call;
  auto& [release, in_call, returned] = call.flags;
  call.start();
  ASSERT_TRUE(wait_until([&] { return in_call.load(); }));
  for (int i = 0; i < 20; i++) {
    gmp::stw::stop_the_world(Reason::kUser);
    EXPECT_TRUE(all_stopped());
    gmp::stw::start_the_world();
  }
  EXPECT_FALSE(returned.load()) << "the stop waited for the blocking call";
  // The call returns while the world is stopped: its goroutine waits for the restart.
  gmp::stw::stop_the_world(Reason::kUser);
  release.store(true);
  std::this_thread::sleep_for(5ms);
  EXPECT_FALSE(returned.load());
  EXPECT_TRUE(all_stopped());
  gmp::stw::start_the_world();
  // The call's M got its own P back: no P is left "in a blocking call" with
  // the ended call's token (sysmon would retake it later, possibly while it
  // idled: a P on the idle list twice, another lost).
  for (int i = 0; i < gmp::detail::sched.nprocs; i++) {
    EXPECT_NE(gmp::detail::sched.allp[i]->status.load(), gmp::detail::PStatus::kSyscall) << "P " << i;
  }
  EXPECT_TRUE(wait_until([&] { return returned.load(); }));
}

// Ms whose P stops for a goroutine stopper spin (Config::spin) for the
// restart and get their P straight back; with spin 0, or a thread stopper,
// they park as before. Either way the world restarts and work goes on.
TEST(Stw, StoppedMsSpinForAGoroutineStopper) {
  for (auto spin : {std::chrono::nanoseconds(10ms), std::chrono::nanoseconds(0)}) {
    gmp::Config c = cfg(2);
    c.spin = spin;
    ASSERT_EQ(gmp::start(c).message(), "");
    Busy b;
    b.spawn(2);
    ASSERT_TRUE(wait_until([&] { return b.running.load() == 2; }));
    for (int i = 0; i < 20; i++) {  // a thread stopper: nobody spins
      gmp::stw::stop_the_world(Reason::kUser);
      gmp::stw::start_the_world();
    }
    EXPECT_EQ(gmp::detail::stw_spin_handoffs(), 0u);
    EXPECT_EQ(stops_from_a_goroutine(50), 50);
    if (spin.count() > 0) {
      EXPECT_GT(gmp::detail::stw_spin_handoffs(), 0u);
    } else {
      EXPECT_EQ(gmp::detail::stw_spin_handoffs(), 0u);
    }
    std::uint64_t before = b.iters.load();
    EXPECT_TRUE(wait_until([&] { return b.iters.load() > before + 1000; }));
    b.finish(2);
    gmp::stop();
  }
}

// A blocking call that returns while the world is stopped waits for a P;
// the restart gives that M its own P back, whichever P it is, and leaves no
// P "in a blocking call" for a call that has ended.
TEST(Stw, CallReturningDuringAStopGetsItsOwnP) {
  Runtime rt(4);
  for (int round = 0; round < 6; round++) {
    HeldCall call;
    auto& [release, in_call, returned] = call.flags;
    call.start();
    ASSERT_TRUE(wait_until([&] { return in_call.load(); }));
    gmp::stw::stop_the_world(Reason::kUser);
    release.store(true);
    // The call has returned and its M waits for a P (no P is free).
    EXPECT_TRUE(wait_until([&] { return gmp::detail::syscall_waiters() == 1; }));
    gmp::stw::start_the_world();
    for (int i = 0; i < gmp::detail::sched.nprocs; i++) {
      EXPECT_NE(gmp::detail::sched.allp[i]->status.load(), gmp::detail::PStatus::kSyscall) << "round " << round << " P " << i;
    }
    ASSERT_TRUE(wait_until([&] { return returned.load(); }));
  }
}

// A goroutine that loops on gmp::blocking and reaches no other safe point
// stops at its next call (Note [Stop requests and blocking calls] in
// sched/syscall.cpp), and does not run while the world is stopped.
TEST(Stw, GoroutineLoopingOnBlockingCallsStops) {
  Runtime rt(2);
  gmp::stw::set_hog_report_threshold(5s);
  std::atomic<bool> quit{false}, done{false};
  std::atomic<std::uint64_t> calls{0};
  gmp::go([&] {
    while (!quit.load(std::memory_order_relaxed)) {
      gmp::blocking([] { return 0; });
      calls.fetch_add(1, std::memory_order_relaxed);
    }
    done.store(true);
  });
  ASSERT_TRUE(wait_until([&] { return calls.load() > 100; }));
  for (int i = 0; i < 50; i++) {
    gmp::stw::stop_the_world(Reason::kUser);
    EXPECT_TRUE(all_stopped());
    std::uint64_t a = calls.load();
    for (int k = 0; k < 2000; k++) asm volatile("" ::: "memory");
    EXPECT_EQ(calls.load(), a) << "the goroutine ran while the world was stopped";
    gmp::stw::start_the_world();
  }
  EXPECT_EQ(stops_from_a_goroutine(50), 50);
  EXPECT_EQ(gmp::stw::hog_reports(), 0u);
  std::uint64_t before = calls.load();
  EXPECT_TRUE(wait_until([&] { return calls.load() > before + 100; }));
  quit.store(true);
  EXPECT_TRUE(wait_until([&] { return done.load(); }));
  gmp::stw::set_hog_report_threshold(10ms);
}

// Stops while Ps change hands through blocking calls (sysmon hands a P to a
// parked M, a returning call waits for a P, a stop takes back a P handed to
// an M or to a waiter that has not run yet: Note [P in transit] in
// sched/idle.cpp): every stop completes and nothing is lost.
TEST(Stw, StopsWhilePsChangeHandsLoseNothing) {
  Runtime rt(2);
  std::atomic<bool> quit{false};
  std::atomic<int> sleepers_done{0};
  std::atomic<std::uint64_t> calls{0};
  for (int i = 0; i < 2; i++) {
    gmp::go([&] {
      while (!quit.load(std::memory_order_relaxed)) {
        gmp::blocking([] { return usleep(100); });
        calls.fetch_add(1, std::memory_order_relaxed);
      }
      sleepers_done.fetch_add(1);
    });
  }
  // Before the busy goroutines: a sleeper back from its call may then wait
  // for a P until a restart or their end (docs/STW.md, "Known limits").
  EXPECT_TRUE(wait_until([&] { return calls.load() > 10; }));
  Busy b;
  b.spawn(2);
  EXPECT_TRUE(wait_until([&] { return b.running.load() == 2; }));
  EXPECT_EQ(stops_from_a_goroutine(200), 200);
  for (int i = 0; i < 30; i++) {
    gmp::stw::stop_the_world(Reason::kUser);
    EXPECT_TRUE(all_stopped());
    gmp::stw::start_the_world();
  }
  quit.store(true);
  b.finish(2);
  EXPECT_TRUE(wait_until([&] { return sleepers_done.load() == 2; }));
  // Every P is back in service: idle (counted) or running, none left stopped.
  using namespace gmp::detail;
  EXPECT_TRUE(wait_until([&] { return sched.npidle.load() == sched.nprocs; })) << "npidle " << sched.npidle.load();
  EXPECT_EQ(syscall_waiters(), 0);
}

// A P that startm has handed to a parked M which has not run yet (its
// futex wake-up is on the way) is taken back by the stopper instead of
// waited for (Note [P in transit] in sched/idle.cpp). The hand-off is made
// here without the wake-up, so the M would never claim it.
TEST(Stw, PHandedToAnMThatHasNotRunIsTakenBack) {
  using namespace gmp::detail;
  Runtime rt(2);
  ASSERT_TRUE(wait_until([&] {
    LockGuard lk(sched.lock);
    return sched.npidle.load() == 2 && sched.midle != nullptr;
  }));
  M* mp = nullptr;
  {
    LockGuard lk(sched.lock);
    P* pp = pidle_get_locked(nullptr);
    mp = sched.midle;
    sched.midle = mp->idle_link;
    mp->idle_link = nullptr;
    mp->idle = false;
    handoff_locked(mp, pp);  // as startm does, but no wake-up
  }
  std::atomic<bool> stopped{false}, restart{false};
  std::thread stopper([&] {  // the thread that stops the world restarts it
    gmp::stw::stop_the_world(Reason::kUser);
    stopped.store(true);
    while (!restart.load()) std::this_thread::sleep_for(100us);
    gmp::stw::start_the_world();
  });
  bool in_time = wait_until([&] { return stopped.load(); }, 5s);
  EXPECT_TRUE(in_time) << "the stop waited for the M to claim its P";
  if (!in_time) {  // let the M claim it so that the stop completes
    mp->park.wakeup();
    io_wake_m(mp);
    ASSERT_TRUE(wait_until([&] { return stopped.load(); }));
  }
  EXPECT_TRUE(all_stopped());
  {
    LockGuard lk(sched.lock);
    EXPECT_EQ(mp->nextp, nullptr);
  }
  restart.store(true);
  stopper.join();
  // The M, woken as startm would, finds nothing handed to it and parks again.
  mp->park.wakeup();
  io_wake_m(mp);
  EXPECT_TRUE(wait_until([&] {
    LockGuard lk(sched.lock);
    return mp->idle;
  }));
  // Both Ps are back in service.
  std::atomic<int> ran{0};
  gmp::WaitGroup wg;
  wg.add(8);
  for (int i = 0; i < 8; i++) {
    gmp::go([&] {
      ran.fetch_add(1);
      wg.done();
    });
  }
  wg.wait();
  EXPECT_EQ(ran.load(), 8);
  EXPECT_TRUE(wait_until([&] { return sched.npidle.load() == 2; }));
}

TEST(Stw, PInIoUringWait) {
  Runtime rt(2);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::atomic<int> got{-1};
  gmp::go([&] {
    char c = 0;
    auto r = gmp::io::read(fds[0], &c, 1);
    got.store(r ? static_cast<int>(c) : -2);
  });
  std::this_thread::sleep_for(10ms);
  for (int i = 0; i < 20; i++) {
    gmp::stw::stop_the_world(Reason::kUser);
    EXPECT_TRUE(all_stopped());
    gmp::stw::start_the_world();
  }
  EXPECT_EQ(got.load(), -1);
  char c = 'x';
  ASSERT_EQ(write(fds[1], &c, 1), 1);
  EXPECT_TRUE(wait_until([&] { return got.load() == 'x'; }));
  close(fds[0]);
  close(fds[1]);
}

TEST(Stw, NestedStopsOnlyRestartAtTheOutermost) {
  Runtime rt(2);
  gmp::stw::stop_the_world(Reason::kUser);
  gmp::stw::stop_the_world(Reason::kPoolSweep);
  gmp::stw::start_the_world();
  EXPECT_TRUE(gmp::stw::world_stopped());
  EXPECT_TRUE(all_stopped());
  gmp::stw::start_the_world();
  EXPECT_FALSE(gmp::stw::world_stopped());
  EXPECT_EQ(gmp::stw::generation(), 1u);
  EXPECT_EQ(gmp::stw::pause_stats(Reason::kUser).total.count(), 1u);
  EXPECT_EQ(gmp::stw::pause_stats(Reason::kPoolSweep).total.count(), 0u);
}

TEST(Stw, ConcurrentRequestsAreSerialized) {
  Runtime rt(2);
  Busy b;
  b.spawn(2);
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> finished{0};
  constexpr int kEach = 40;
  auto one = [&] {
    for (int i = 0; i < kEach; i++) {
      gmp::stw::stop_the_world(Reason::kUser);
      if (inside.fetch_add(1) != 0) overlaps++;
      if (!all_stopped()) overlaps++;
      inside.fetch_sub(1);
      gmp::stw::start_the_world();
    }
    finished++;
  };
  std::vector<std::thread> ts;
  for (int t = 0; t < 3; t++) ts.emplace_back(one);
  for (int g = 0; g < 3; g++) gmp::go(one);
  for (auto& t : ts) t.join();
  EXPECT_TRUE(wait_until([&] { return finished.load() == 6; }));
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(gmp::stw::generation(), 6u * kEach);
  EXPECT_EQ(gmp::stw::pause_stats(Reason::kUser).total.count(), 6u * kEach);
  b.finish(2);
}

TEST(Stw, HogWithoutSafePointIsReportedOnce) {
  Runtime rt(2);
  gmp::stw::set_hog_report_threshold(20ms);
  std::atomic<bool> spinning{false};
  std::atomic<bool> release{false};
  gmp::go([&] {
    spinning.store(true);
    while (!release.load(std::memory_order_relaxed)) asm volatile("" ::: "memory");  // no safe point
  });
  ASSERT_TRUE(wait_until([&] { return spinning.load(); }));
  testing::internal::CaptureStderr();
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    gmp::stw::stop_the_world(Reason::kUser);
    stopped.store(true);
    gmp::stw::start_the_world();
  });
  bool reported = wait_until([&] { return gmp::stw::hog_reports() == 1; });
  EXPECT_FALSE(stopped.load());
  release.store(true);
  stopper.join();
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(reported);
  EXPECT_EQ(gmp::stw::hog_reports(), 1u);
  EXPECT_NE(err.find("has not reached a safe point"), std::string::npos) << err;
  EXPECT_NE(err.find("stop-the-world (user, generation 1)"), std::string::npos) << err;
  EXPECT_GE(gmp::stw::last_pause().stopping_ns, 20'000'000u);
  gmp::stw::set_hog_report_threshold(10ms);
}

TEST(Stw, HistogramsMatchTheInternalRecord) {
  Runtime rt(2);
  Busy b;
  b.spawn(2);
  std::uint64_t sum_stop = 0, sum_total = 0, max_stop = 0, max_total = 0;
  for (int i = 0; i < 60; i++) {
    Reason r = i % 3 == 0 ? Reason::kPoolSweep : Reason::kUser;
    gmp::stw::stop_the_world(r);
    gmp::stw::start_the_world();
    auto lp = gmp::stw::last_pause();
    EXPECT_EQ(lp.generation, static_cast<std::uint64_t>(i + 1));
    EXPECT_EQ(lp.reason, r);
    EXPECT_LE(lp.stopping_ns, lp.total_ns);
    if (r == Reason::kUser) {
      sum_stop += lp.stopping_ns;
      sum_total += lp.total_ns;
      max_stop = std::max(max_stop, lp.stopping_ns);
      max_total = std::max(max_total, lp.total_ns);
    }
  }
  auto st = gmp::stw::pause_stats(Reason::kUser);
  EXPECT_EQ(st.stopping.count(), 40u);
  EXPECT_EQ(st.stopping.sum, sum_stop);
  EXPECT_EQ(st.total.sum, sum_total);
  EXPECT_EQ(st.stopping.max, max_stop);
  EXPECT_EQ(st.total.max, max_total);
  std::uint64_t n = 0;
  for (auto c : st.total.counts) n += c;
  EXPECT_EQ(n, 40u);
  EXPECT_LE(st.total.quantile(0.5), st.total.quantile(0.99));
  EXPECT_LE(st.total.quantile(0.99), max_total);
  EXPECT_EQ(gmp::stw::pause_stats(Reason::kPoolSweep).total.count(), 20u);
  b.finish(2);
}

TEST(StwHistogram, IsTheRuntimeHistogram) {
  // Pauses use the one histogram type: its layout, `le` bounds and quantiles.
  auto st = gmp::stw::pause_stats(Reason::kUser);
  EXPECT_EQ(st.total.layout.sub_bits, gmp::Histogram::kLayout.sub_bits);
  EXPECT_EQ(st.total.counts.size(), static_cast<std::size_t>(gmp::Histogram::kBuckets));
}

// set_procs up and down while goroutines send messages: every message
// arrives exactly once and every goroutine finishes.
TEST(SetProcs, UpAndDownUnderLoadLosesNothing) {
  Runtime rt(2);
  const std::uint64_t live0 = gmp::sched_stats().goroutines_live;
  constexpr int kSenders = 200;
  constexpr int kMsgs = 200;
  gmp::Chan<int> ch(64);
  std::atomic<int> senders_done{0};
  Busy b;
  b.spawn(3);
  for (int s = 0; s < kSenders; s++) {
    gmp::go([&, s] {
      for (int m = 0; m < kMsgs; m++) {
        ch.send(s * kMsgs + m);
        if (m % 16 == 0) gmp::sleep_for(50us);
      }
      senders_done++;
    });
  }
  std::vector<int> seen(kSenders * kMsgs, 0);
  std::atomic<bool> recv_done{false};
  gmp::go([&] {
    for (int i = 0; i < kSenders * kMsgs; i++) {
      int v = ch.recv().value();
      seen[v]++;
    }
    recv_done.store(true);
  });
  const int sizes[] = {4, 1, 3, 2, 5, 1, 2};
  for (int round = 0; round < 3; round++) {
    for (int n : sizes) {
      EXPECT_EQ(gmp::set_procs(n).message(), "");
      EXPECT_EQ(gmp::procs(), n);
      std::this_thread::sleep_for(2ms);
    }
  }
  EXPECT_TRUE(wait_until([&] { return recv_done.load(); }, 60s));
  EXPECT_EQ(senders_done.load(), kSenders);
  int bad = 0;
  for (int c : seen) bad += c != 1;
  EXPECT_EQ(bad, 0);
  b.finish(3);
  EXPECT_TRUE(wait_until([&] { return gmp::sched_stats().goroutines_live == live0; }));
  EXPECT_GE(gmp::stw::pause_stats(Reason::kProcResize).total.count(), 21u);
  EXPECT_NE(gmp::set_procs(0).message(), "");
  EXPECT_NE(gmp::set_procs(100000).message(), "");
}

TEST(SetProcs, FromAGoroutineOnARemovedP) {
  Runtime rt(4);
  std::atomic<int> result{-1};
  gmp::go([&] {
    // Whatever P this runs on, shrinking to 1 must leave it on P 0.
    std::string err = gmp::set_procs(1).message();
    int on = gmp::detail::getp()->id;
    std::string err2 = gmp::set_procs(4).message();
    result.store(err.empty() && err2.empty() && on == 0 ? 1 : 0);
  });
  EXPECT_TRUE(wait_until([&] { return result.load() >= 0; }));
  EXPECT_EQ(result.load(), 1);
  EXPECT_EQ(gmp::procs(), 4);
}

// A P whose ring has operations waiting (a read on an empty pipe, as a
// server's accept waits) is removed all the same: the operations are
// cancelled there and run again on the Ps that remain, and each still gets
// its data (Note [Draining a removed P's ring] in io/ring.cpp). set_procs
// used to refuse after 1 s ("P 2 has 3 io operations in flight").
TEST(SetProcs, RemovesAPWhoseRingHasOperationsWaiting) {
  Runtime rt(4);
  if (!gmp::io::uring_enabled()) GTEST_SKIP() << "io_uring is not used here: no ring to drain";
  constexpr int kMax = 256;
  int pipes[kMax][2];
  std::atomic<int> got[kMax];
  int started = 0;
  auto waiting_off_p0 = [] {
    std::uint32_t n = 0;
    for (int i = 1; i < gmp::procs(); i++) n += gmp::detail::io_inflight(gmp::detail::sched.allp[i]);
    return n;
  };
  // Readers until 32 wait on Ps other than 0 (a goroutine started from this
  // thread runs on whichever P takes it first). Many on one removed P: the
  // cancels wake them together, and those still queued when the P goes
  // resume on P 0 after the removal (the ring they left no longer marked).
  while (started < kMax && waiting_off_p0() < 32) {
    int i = started++;
    ASSERT_EQ(pipe2(pipes[i], O_CLOEXEC), 0);
    got[i].store(-1);
    gmp::go([&, i] {
      char c = 0;
      auto r = gmp::io::read(pipes[i][0], &c, 1);
      got[i].store(r.ok() && r.value() == 1 ? c : -2);
    });
    ASSERT_TRUE(wait_until([&] {
      std::uint32_t n = 0;
      for (int p = 0; p < gmp::procs(); p++) n += gmp::detail::io_inflight(gmp::detail::sched.allp[p]);
      return n == static_cast<std::uint32_t>(started);
    }));
  }
  const std::uint32_t off_p0 = waiting_off_p0();
  ASSERT_GT(off_p0, 0u) << "no reader waited off P 0 in " << started << " tries";
  const std::uint64_t migrated0 = gmp::io::io_stats().migrated;
  // Busy goroutines that reach a safe point only every 2 ms: a removed P's
  // M then reaps the cancelled reads at a switch and stops for the next
  // attempt before it runs their readers, which wake only after the
  // removal, on P 0.
  std::atomic<bool> stop_spinning{false};
  std::atomic<int> spinning{0};
  for (int i = 0; i < 3; i++) {
    gmp::go([&] {
      spinning.fetch_add(1);
      while (!stop_spinning.load()) {
        auto end = std::chrono::steady_clock::now() + 2ms;
        while (std::chrono::steady_clock::now() < end) {}
        gmp::yield();
      }
      spinning.fetch_sub(1);
    });
  }
  ASSERT_TRUE(wait_until([&] { return spinning.load() == 3; }));

  EXPECT_EQ(gmp::set_procs(1).message(), "");
  stop_spinning.store(true);
  ASSERT_TRUE(wait_until([&] { return spinning.load() == 0; }));
  EXPECT_EQ(gmp::procs(), 1);
  EXPECT_GE(gmp::io::io_stats().migrated - migrated0, off_p0);
  // Every reader waits again, now on P 0, and none has returned.
  EXPECT_TRUE(wait_until(
      [&] { return gmp::detail::io_inflight(gmp::detail::sched.allp[0]) == static_cast<std::uint32_t>(started); }));
  for (int i = 0; i < started; i++) EXPECT_EQ(got[i].load(), -1) << "reader " << i << " returned early";

  for (int i = 0; i < started; i++) {
    char c = static_cast<char>('a' + i % 26);
    ASSERT_EQ(::write(pipes[i][1], &c, 1), 1);
  }
  EXPECT_TRUE(wait_until([&] {
    for (int i = 0; i < started; i++) {
      if (got[i].load() == -1) return false;
    }
    return true;
  }));
  for (int i = 0; i < started; i++) EXPECT_EQ(got[i].load(), 'a' + i % 26) << "reader " << i;
  EXPECT_EQ(gmp::set_procs(4).message(), "");
  for (auto& p : pipes) {
    if (&p - pipes < started) {
      ::close(p[0]);
      ::close(p[1]);
    }
  }
}

TEST(Dump, ListsEveryGoroutineWithStateAndWaitReason) {
  Runtime rt(2);
  gmp::Chan<int> ch;
  std::atomic<std::uint64_t> waiter_id{0};
  gmp::go([&] {
    waiter_id.store(gmp::current_id());
    (void)ch.recv();
  });
  ASSERT_TRUE(wait_until([&] { return waiter_id.load() != 0; }));
  std::this_thread::sleep_for(20ms);
  char path[] = "/tmp/gmp_stw_dumpXXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  int n = gmp::stw::dump_goroutines(fd);
  close(fd);
  std::ifstream f(path);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::remove(path);
  EXPECT_GE(n, 1);
  EXPECT_NE(text.find("goroutine dump (stop-the-world generation 1)"), std::string::npos) << text;
  EXPECT_NE(text.find("SCHED: procs=2"), std::string::npos) << text;
  EXPECT_NE(text.find("P 0: status=stopped"), std::string::npos) << text;
  EXPECT_NE(text.find("P 1: status=stopped"), std::string::npos) << text;
  // Parse the waiter's block: "goroutine ID [waiting: REASON, N ms, P k]:" then "created by ...".
  std::string head = "goroutine " + std::to_string(waiter_id.load()) + " [waiting: ";
  auto at = text.find(head);
  ASSERT_NE(at, std::string::npos) << text;
  auto eol = text.find('\n', at);
  std::string line = text.substr(at, eol - at);
  EXPECT_NE(line.find("chan"), std::string::npos) << line;
  EXPECT_NE(line.find(" ms"), std::string::npos) << line;
  EXPECT_NE(line.find(", P "), std::string::npos) << line;
  EXPECT_EQ(text.compare(eol + 1, 11, "created by "), 0) << text.substr(eol + 1, 60);
  EXPECT_EQ(gmp::stw::pause_stats(Reason::kGoroutineDump).total.count(), 1u);
  ch.close();
}

TEST(Reload, AcceptedAndRefused) {
  Runtime rt(2);
  ASSERT_EQ(gmp::pool::init().message(), "");
  void* p = gmp::pool::allocate(64, gmp::pool::Tier::kTxn);
  gmp::pool::deallocate(p);
  using gmp::testing::TempFile;
  TempFile ok_file("[txn]\nttl_ms = 40\n", "gmp_stw_cfg");
  const std::string& ok = ok_file.path();
  EXPECT_EQ(gmp::stw::reload_config(ok).message(), "");
  EXPECT_EQ(gmp::stw::pause_stats(Reason::kConfigReload).total.count(), 1u);
  // Invalid: refused before stopping anything.
  TempFile bad("[txn]\nttl_ms = 300\n", "gmp_stw_cfg");
  std::string err = gmp::stw::reload_config(bad.path()).message();
  EXPECT_NE(err.find("txn.ttl_ms"), std::string::npos) << err;
  EXPECT_EQ(gmp::stw::pause_stats(Reason::kConfigReload).total.count(), 1u);
  // Growing pool memory by more than 15 %: refused under the stop, old config kept.
  TempFile big(
      "[txn]\ncapacity = 200000\nmax_class_bytes = 4000000000\n[fast]\ncapacity = 100000\nmax_class_bytes = 4000000000\n",
      "gmp_stw_cfg");
  err = gmp::stw::reload_config(big.path()).message();
  EXPECT_NE(err.find("change refused"), std::string::npos) << "[" << err << "]";
  EXPECT_EQ(gmp::stw::reload_config(ok).message(), "");
}

TEST(Sweep, ReclaimsExpiredTxnObjects) {
  Runtime rt(2);
  ASSERT_EQ(gmp::pool::init().message(), "");
  std::atomic<bool> done{false};
  gmp::go([&] {
    std::vector<void*> v;
    for (int i = 0; i < 200; i++) v.push_back(gmp::pool::allocate(128, gmp::pool::Tier::kTxn));
    for (void* p : v) gmp::pool::deallocate(p);
    done.store(true);
  });
  ASSERT_TRUE(wait_until([&] { return done.load(); }));
  std::this_thread::sleep_for(150ms);  // past the 60 ms TTL (and a 40 ms one)
  auto txn_flushes = [] {
    return gmp::pool::stats(false).tiers[static_cast<int>(gmp::pool::Tier::kTxn)].total.flushes;
  };
  const std::uint64_t flushes_before = txn_flushes();
  const std::uint64_t stops_before = gmp::stw::generation();
  auto r = gmp::stw::sweep_pools();
  EXPECT_LE(r.txn_cached_after, r.txn_cached_before);
  // The expired objects went back to the central lists (a flush).
  EXPECT_GT(txn_flushes(), flushes_before) << "nothing recycled; lagging " << r.lagging_ps;
  // No pause: the world was not stopped; each P swept its own cache (both
  // idle here, so the caller swept them under the scheduler lock).
  EXPECT_EQ(gmp::stw::pause_stats(Reason::kPoolSweep).total.count(), 0u);
  EXPECT_EQ(gmp::stw::generation(), stops_before);
  EXPECT_EQ(r.lagging_ps, 0);
  EXPECT_GT(r.took_ns, 0);
}

}  // namespace
