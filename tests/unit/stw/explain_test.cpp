// tests/unit/stw/explain_test.cpp — slow stops explained (Note [Slow stops
// explained] in stw/explain.cpp): each cause the runtime can be made to
// produce on purpose — a goroutine without a safe point, its M held off its
// CPU by a SCHED_FIFO thread, the scheduler lock held by another thread, a
// stopper that keeps the world stopped, accounting that cannot be read — and
// the threshold (0 is off; a fast stop is not recorded).
//
// Bounds, not timings (ctest -j2 on two cores): a cause is checked against
// the numbers it was derived from, and where load could move a stop into a
// neighbouring class (a goroutine spinning on a shared CPU is partly
// runnable) the test tries a few stops and asks for one in the expected class.
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "../wait_until.hpp"
#include "two_cpus.hpp"
#include "gmp/gmp.hpp"
#include "sched/sched.hpp"
#include "stw/explain.hpp"

namespace {

using namespace std::chrono_literals;
using gmp::stw::Reason;
using gmp::stw::SlowCause;
using gmp::testing::wait_until;

void spin_for(std::chrono::microseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) asm volatile("" ::: "memory");
}

std::uint64_t all_slow() {
  std::uint64_t n = 0;
  for (int i = 0; i < static_cast<int>(SlowCause::kCount); i++) n += gmp::stw::slow_stops(static_cast<SlowCause>(i));
  return n;
}

using gmp::testing::two_cpus;

// Unpinned: nobody is raised, the causes stay as made. Pinned (the tests
// with a SCHED_FIFO thread): the boost stays on so that the goroutine
// stopper runs its stop raised (no other process's thread delays it under
// load); the laggard's raise to FIFO 1 does not preempt the FIFO 2 thread.
gmp::Config config(bool pin, const std::vector<int>& cpus = {}) {
  gmp::Config c;
  c.procs = 2;
  c.pin = pin;
  c.cpus = cpus;
  if (!pin) c.stw_boost = std::chrono::nanoseconds(0);
  return c;
}

// One stop by a plain thread while a goroutine spins `hold` without a safe
// point (on a P the stopper does not need). Returns the stop's record, or a
// default one if none was kept.
gmp::stw::SlowStop stop_against_spinner(std::chrono::microseconds hold) {
  std::atomic<bool> spinning{false}, release{false}, done{false};
  gmp::go([&] {
    spinning.store(true);
    while (!release.load(std::memory_order_relaxed)) asm volatile("" ::: "memory");  // no safe point
    done.store(true);
  });
  EXPECT_TRUE(wait_until([&] { return spinning.load(); }));
  const std::uint64_t before = all_slow();
  std::thread stopper([&] {
    gmp::stw::stop_the_world(Reason::kUser);
    gmp::stw::start_the_world();
  });
  EXPECT_TRUE(wait_until([] { return gmp::stw::world_stopped(); }));  // the stop waits for the spinner from here
  std::this_thread::sleep_for(hold);
  release.store(true);
  stopper.join();
  EXPECT_TRUE(wait_until([&] { return done.load(); }));
  auto recent = gmp::stw::recent_slow_stops();
  if (all_slow() == before || recent.empty()) return {};
  return recent.back();
}

// The classification agrees with the numbers it was made from.
void expect_consistent(const gmp::stw::SlowStop& s) {
  switch (s.cause) {
    case SlowCause::kMPreempted:
      EXPECT_GE(s.runnable_ns * 2, s.window_ns);
      EXPECT_LT(s.on_cpu_ns, 1'000'000u);
      EXPECT_EQ(s.cause_ns, s.runnable_ns);
      break;
    case SlowCause::kNoSafePoint:  // half the window on a CPU, or 1 ms
      EXPECT_TRUE(s.on_cpu_ns * 2 >= s.window_ns || s.on_cpu_ns >= 1'000'000u) << s.on_cpu_ns << " " << s.window_ns;
      EXPECT_EQ(s.cause_ns, s.on_cpu_ns);
      break;
    case SlowCause::kMBlocked:
      EXPECT_LT(s.runnable_ns * 2, s.window_ns);
      EXPECT_LT(s.on_cpu_ns * 2, s.window_ns);
      EXPECT_LT(s.on_cpu_ns, 1'000'000u);
      EXPECT_EQ(s.cause_ns, s.window_ns - s.on_cpu_ns - s.runnable_ns);
      break;
    default:
      break;
  }
  EXPECT_LE(s.on_cpu_ns, s.window_ns);
  EXPECT_LE(s.runnable_ns, s.window_ns);
  EXPECT_LE(s.stopping_ns, s.total_ns);
  EXPECT_FALSE(gmp::stw::describe(s).empty());
}

// Whatever a test leaves: the runtime stopped, the default threshold.
class StwExplain : public ::testing::Test {
 protected:
  void TearDown() override {
    gmp::stop();
    gmp::stw::set_slow_stop_threshold(200us);
    gmp::stw::set_hog_report_threshold(10ms);
    gmp::detail::stw_explain_set_proc_root("/proc");
  }
};

TEST_F(StwExplain, GoroutineWithoutSafePointIsNamed) {
  ASSERT_EQ(gmp::start(config(false)).message(), "");
  gmp::stw::set_slow_stop_threshold(200us);
  bool seen = false;
  for (int attempt = 0; attempt < 5 && !seen; attempt++) {
    gmp::stw::SlowStop s = stop_against_spinner(3ms);
    ASSERT_NE(s.generation, 0u) << "a 3 ms stop was not recorded";
    EXPECT_EQ(s.reason, Reason::kUser);
    EXPECT_GE(s.total_ns, 200'000u);
    expect_consistent(s);
    if (s.cause != SlowCause::kNoSafePoint) std::fprintf(stderr, "attempt %d: %s\n", attempt, gmp::stw::describe(s).c_str());
    if (s.cause == SlowCause::kNoSafePoint) {
      seen = true;
      EXPECT_GE(s.p, 0);
      EXPECT_GE(s.m, 0);
      EXPECT_GT(s.tid, 0);
      EXPECT_GT(s.window_ns, 1'000'000u);
      const std::string line = gmp::stw::describe(s);
      EXPECT_NE(line.find("without reaching a safe point"), std::string::npos) << line;
      EXPECT_NE(line.find("stop-the-world (user, generation"), std::string::npos) << line;
    }
  }
  EXPECT_TRUE(seen) << "no stop against a spinning goroutine was classified no_safe_point in 5 tries";
  EXPECT_GE(gmp::stw::slow_stops(SlowCause::kNoSafePoint), 1u);
  gmp::stop();
}

// The M a stop waits for is held off its CPU by a SCHED_FIFO 2 thread of this
// process pinned there, woken by that M's own goroutine once the stop is
// requested (so the M is preempted in the goroutine's code, holding no
// runtime lock): it is runnable, off its CPU, until the thread is done. The
// stopper is a goroutine on the other P (its own P counts as stopped).
// Returns the laggard's thread id, 0 when SCHED_FIFO is not permitted.
int stop_against_fifo_thread(const std::vector<int>& cpus, std::chrono::microseconds hold) {
  const int efd = eventfd(0, EFD_CLOEXEC);
  EXPECT_GE(efd, 0);
  EXPECT_EQ(gmp::start(config(true, cpus)).message(), "");
  std::atomic<int> lag_cpu{-1}, lag_tid{0};
  std::atomic<bool> lag_done{false};
  gmp::go([&] {
    lag_tid.store(static_cast<int>(gettid()));
    lag_cpu.store(sched_getcpu());
    while (!gmp::stw::world_stopped()) asm volatile("" ::: "memory");  // no safe point until the stop
    const std::uint64_t one = 1;
    (void)!write(efd, &one, sizeof one);  // the FIFO thread takes this CPU here
    gmp::preempt_point();
    lag_done.store(true);
  });
  EXPECT_TRUE(wait_until([&] { return lag_cpu.load() >= 0; }));
  std::atomic<int> hog_state{0};  // 1: waiting at FIFO on the laggard's CPU; -1: not permitted
  std::thread hog([&] {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(lag_cpu.load(), &set);
    sched_param sp{};
    sp.sched_priority = 2;  // above the boost's FIFO 1: a raised laggard is still held off
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0 ||
        sched_setscheduler(0, SCHED_FIFO, &sp) != 0) {
      hog_state.store(-1);
      return;
    }
    hog_state.store(1);
    std::uint64_t v = 0;
    if (read(efd, &v, sizeof v) == sizeof v && v == 1) spin_for(hold);  // that CPU is ours alone
  });
  EXPECT_TRUE(wait_until([&] { return hog_state.load() != 0; }));
  std::atomic<bool> stopped{false};
  gmp::go([&] {  // with or without the FIFO thread: the laggard needs the stop to finish
    gmp::stw::stop_the_world(Reason::kUser);
    gmp::stw::start_the_world();
    stopped.store(true);
  });
  EXPECT_TRUE(wait_until([&] { return stopped.load() && lag_done.load(); }));
  hog.join();
  close(efd);
  return hog_state.load() > 0 ? lag_tid.load() : 0;
}

TEST_F(StwExplain, MHeldOffItsCpuIsPreempted) {
  auto cpus = two_cpus();
  if (cpus.empty()) GTEST_SKIP() << "needs two CPUs";
  gmp::stw::set_slow_stop_threshold(200us);
  const int lag_tid = stop_against_fifo_thread(cpus, 3ms);
  if (lag_tid == 0) GTEST_SKIP() << "SCHED_FIFO not permitted here";
  auto recent = gmp::stw::recent_slow_stops();
  ASSERT_FALSE(recent.empty()) << "the stop behind a FIFO thread was not recorded";
  const gmp::stw::SlowStop& s = recent.back();
  expect_consistent(s);
  EXPECT_EQ(s.cause, SlowCause::kMPreempted) << gmp::stw::describe(s);
  EXPECT_EQ(s.tid, lag_tid) << gmp::stw::describe(s);
  EXPECT_NE(gmp::stw::describe(s).find("runnable but off its CPU"), std::string::npos);
}

// The hog report does not blame a goroutine whose M cannot run.
TEST_F(StwExplain, HogReportNamesTheMHeldOffItsCpu) {
  auto cpus = two_cpus();
  if (cpus.empty()) GTEST_SKIP() << "needs two CPUs";
  gmp::stw::set_hog_report_threshold(10ms);
  testing::internal::CaptureStderr();
  const int lag_tid = stop_against_fifo_thread(cpus, 40ms);
  const std::string err = testing::internal::GetCapturedStderr();
  if (lag_tid == 0) GTEST_SKIP() << "SCHED_FIFO not permitted here";
  auto recent = gmp::stw::recent_slow_stops();
  const std::string last = recent.empty() ? std::string("no slow stop") : gmp::stw::describe(recent.back());
  EXPECT_EQ(gmp::stw::hog_reports(), 1u) << last;
  EXPECT_NE(err.find("(thread " + std::to_string(lag_tid) + ") has been runnable but off its CPU"), std::string::npos)
      << err << last;
  EXPECT_EQ(err.find("has not reached a safe point"), std::string::npos) << err;
}

// Another thread holds sched.lock across the stop's first pass.
TEST_F(StwExplain, SchedLockHolderIsNamed) {
  ASSERT_EQ(gmp::start(config(false)).message(), "");
  gmp::stw::set_slow_stop_threshold(200us);
  std::atomic<int> holder_tid{0};
  std::atomic<bool> holding{false}, stopping{false};
  std::thread holder([&] {
    gmp::detail::LockGuard lk(gmp::detail::sched.lock);
    holder_tid.store(static_cast<int>(gettid()));
    holding.store(true);
    while (!stopping.load()) asm volatile("" ::: "memory");
    spin_for(2ms);  // from the moment the stopper goes for the lock
  });
  ASSERT_TRUE(wait_until([&] { return holding.load(); }));
  stopping.store(true);
  gmp::stw::stop_the_world(Reason::kUser);
  gmp::stw::start_the_world();
  holder.join();
  auto recent = gmp::stw::recent_slow_stops();
  ASSERT_FALSE(recent.empty());
  const gmp::stw::SlowStop& s = recent.back();
  EXPECT_EQ(s.cause, SlowCause::kSchedLock) << gmp::stw::describe(s);
  EXPECT_EQ(s.tid, holder_tid.load());
  EXPECT_EQ(s.m, -1);  // not an M
  EXPECT_FALSE(s.holder_sysmon);
  EXPECT_GE(s.cause_ns * 2, s.stopping_ns);
  EXPECT_NE(gmp::stw::describe(s).find("scheduler lock (held by thread " + std::to_string(holder_tid.load())),
            std::string::npos)
      << gmp::stw::describe(s);
  gmp::stop();
}

// The stopper keeps the world stopped: held, not a late P.
TEST_F(StwExplain, StopperHoldingTheWorldIsHeld) {
  ASSERT_EQ(gmp::start(config(false)).message(), "");
  gmp::stw::set_slow_stop_threshold(200us);
  std::atomic<bool> done{false};
  gmp::go([&] {
    gmp::stw::stop_the_world(Reason::kUser);
    spin_for(1ms);  // the caller's own work while stopped
    gmp::stw::start_the_world();
    done.store(true);
  });
  ASSERT_TRUE(wait_until([&] { return done.load(); }));
  auto recent = gmp::stw::recent_slow_stops();
  ASSERT_EQ(recent.size(), 1u);
  const gmp::stw::SlowStop& s = recent.back();
  EXPECT_EQ(s.cause, SlowCause::kHeld) << gmp::stw::describe(s);
  EXPECT_EQ(s.cause_ns, s.total_ns - s.stopping_ns);
  EXPECT_GE(s.cause_ns, 1'000'000u);
  EXPECT_EQ(gmp::stw::slow_stops(SlowCause::kHeld), 1u);
  gmp::stop();
}

// Threshold 0: nothing recorded, however slow; a fast stop never is.
TEST_F(StwExplain, ThresholdOffAndFastStops) {
  ASSERT_EQ(gmp::start(config(false)).message(), "");
  gmp::stw::set_slow_stop_threshold(0ns);
  (void)stop_against_spinner(1ms);
  EXPECT_EQ(all_slow(), 0u);
  EXPECT_TRUE(gmp::stw::recent_slow_stops().empty());
  gmp::stw::set_slow_stop_threshold(10s);
  gmp::stw::stop_the_world(Reason::kUser);
  gmp::stw::start_the_world();
  EXPECT_EQ(all_slow(), 0u);
  gmp::stw::set_slow_stop_threshold(200us);
  gmp::stop();
}

// Without readable accounting the stop is still recorded, as unknown, and
// says why it cannot say more.
TEST_F(StwExplain, UnreadableAccountingIsUnknown) {
  ASSERT_EQ(gmp::start(config(false)).message(), "");
  gmp::stw::set_slow_stop_threshold(200us);
  gmp::detail::stw_explain_set_proc_root("/nonexistent-proc");
  // Under load the restart may take longer than stopping ("held" comes
  // first), or the stopper may be kept off its CPU until after the spinner
  // was released, so that its snapshot finds the P already stopped (no M to
  // observe): try a few stops for one where the P's M was looked at.
  gmp::stw::SlowStop s;
  for (int attempt = 0; attempt < 10; attempt++) {
    s = stop_against_spinner(2ms);
    ASSERT_NE(s.generation, 0u);
    if (s.cause != SlowCause::kHeld && s.m >= 0) break;
  }
  gmp::detail::stw_explain_set_proc_root("/proc");
  EXPECT_EQ(s.cause, SlowCause::kUnknown) << gmp::stw::describe(s);
  EXPECT_GE(s.m, 0);
  EXPECT_NE(gmp::stw::describe(s).find("schedstat not readable"), std::string::npos) << gmp::stw::describe(s);
  gmp::stop();
}

// Counts and the recent list are per run; the list keeps the last 16.
TEST_F(StwExplain, RecentKeepsTheLastSixteenAndResetsAtStart) {
  ASSERT_EQ(gmp::start(config(false)).message(), "");
  gmp::stw::set_slow_stop_threshold(1us);  // every stop counts
  for (int i = 0; i < 20; i++) {
    gmp::stw::stop_the_world(Reason::kUser);
    spin_for(5us);
    gmp::stw::start_the_world();
  }
  EXPECT_EQ(all_slow(), 20u);
  auto recent = gmp::stw::recent_slow_stops();
  ASSERT_EQ(recent.size(), 16u);
  for (std::size_t i = 1; i < recent.size(); i++) EXPECT_EQ(recent[i].generation, recent[i - 1].generation + 1);
  EXPECT_EQ(recent.back().generation, gmp::stw::generation());
  gmp::stop();
  gmp::stw::set_slow_stop_threshold(200us);
  ASSERT_EQ(gmp::start(config(false)).message(), "");
  EXPECT_EQ(all_slow(), 0u);
  EXPECT_TRUE(gmp::stw::recent_slow_stops().empty());
  gmp::stop();
}

TEST(StwExplainNames, ConfigValidation) {
  gmp::Config c;
  EXPECT_EQ(c.stw_slow, std::chrono::nanoseconds(200us));
  for (auto bad : {std::chrono::nanoseconds(-1), std::chrono::nanoseconds(999), std::chrono::nanoseconds(11s)}) {
    c.stw_slow = bad;
    EXPECT_EQ(gmp::validate(c).message(), "stw slow-stop threshold must be 0 (off) or from 1 us to 10 s")
        << bad.count();
  }
  for (auto ok : {std::chrono::nanoseconds(0), std::chrono::nanoseconds(1us), std::chrono::nanoseconds(10s)}) {
    c.stw_slow = ok;
    EXPECT_EQ(gmp::validate(c).message(), "") << ok.count();
  }
}

// gmp::start applies Config::stw_slow (here: every stop is slow).
TEST_F(StwExplain, ConfigThresholdAppliesAtStart) {
  gmp::Config c = config(false);
  c.stw_slow = 1us;
  ASSERT_EQ(gmp::start(c).message(), "");
  gmp::stw::stop_the_world(Reason::kUser);
  spin_for(5us);
  gmp::stw::start_the_world();
  EXPECT_EQ(all_slow(), 1u);
}

TEST(StwExplainNames, CauseNames) {
  EXPECT_STREQ(gmp::stw::slow_cause_name(SlowCause::kMPreempted), "m_preempted");
  EXPECT_STREQ(gmp::stw::slow_cause_name(SlowCause::kNoSafePoint), "no_safe_point");
  EXPECT_STREQ(gmp::stw::slow_cause_name(SlowCause::kHeld), "held");
  EXPECT_STREQ(gmp::stw::slow_cause_name(SlowCause::kUnknown), "unknown");
  EXPECT_STREQ(gmp::stw::slow_cause_name(SlowCause::kStopperWakeup), "stopper_wakeup");
  EXPECT_STREQ(gmp::stw::slow_cause_name(SlowCause::kCount), "?");
}

}  // namespace
