// on_each_p: a function run once on every P without stopping the world
// (Note [Safe-point functions] in sched/safepoint.cpp).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "gmp/gmp.hpp"
#include "sched/sched.hpp"

namespace {

using namespace std::chrono_literals;
using gmp::detail::P;

constexpr int kMaxP = 8;
std::atomic<int> runs[kMaxP];
void count_run(P* pp) { runs[pp->id].fetch_add(1); }

void reset() {
  for (auto& r : runs) r.store(0);
}

TEST(SafePoint, EveryIdleAndRunningPRunsItOnceWithoutAStop) {
  gmp::run({.procs = 4, .pin = false}, [] {
    reset();
    std::atomic<bool> quit{false};
    gmp::WaitGroup wg;
    // Two Ps busy with goroutines that only pass safe points, the rest idle.
    for (int i = 0; i < 2; i++) {
      wg.add(1);
      gmp::go([&] {
        while (!quit.load(std::memory_order_relaxed)) gmp::preempt_point();
        wg.done();
      });
    }
    std::this_thread::sleep_for(20ms);
    const std::uint64_t gen = gmp::stw::generation();
    int lagging = gmp::detail::on_each_p(count_run, 5'000'000'000);
    EXPECT_EQ(lagging, 0);
    for (int i = 0; i < 4; i++) EXPECT_EQ(runs[i].load(), 1) << "P " << i;
    EXPECT_EQ(gmp::stw::generation(), gen) << "the world was stopped";
    // A second request runs it once more on each, not twice.
    EXPECT_EQ(gmp::detail::on_each_p(count_run, 5'000'000'000), 0);
    for (int i = 0; i < 4; i++) EXPECT_EQ(runs[i].load(), 2) << "P " << i;
    quit.store(true);
    wg.wait();
    // The request is over: switches take the fast path again.
    EXPECT_EQ(gmp::detail::sched.stop_requested.load() & gmp::detail::kStopRequestedSafePoint, 0u);
    return 0;
  });
}

TEST(SafePoint, APInABlockingCallIsNotWaitedForAndRunsItWhenItSchedules) {
  gmp::run({.procs = 1, .pin = false}, [] {
    reset();
    // The only P's goroutine is in a blocking call: the P is in kSyscall
    // until sysmon retakes it (then idle, or running the main goroutine).
    std::atomic<bool> in_call{false}, done{false};
    gmp::WaitGroup wg;
    wg.add(1);
    gmp::go([&] {
      gmp::blocking([&] {
        in_call.store(true);
        while (!done.load()) usleep(1000);
        return 0;
      });
      wg.done();
    });
    while (!in_call.load()) gmp::sleep_for(1ms);
    // The caller is a plain thread; this goroutine waits on the runtime's
    // own primitives, so the P is never held by a raw blocking call.
    std::atomic<int> lagging{-1};
    std::thread t([&] { lagging.store(gmp::detail::on_each_p(count_run, 200'000'000)); });
    while (lagging.load() < 0) gmp::sleep_for(1ms);
    t.join();
    // Whichever state the P was in, fn ran once, or runs once when the P
    // next schedules.
    EXPECT_GE(lagging.load(), 0);
    EXPECT_LE(lagging.load(), 1);
    done.store(true);
    wg.wait();
    for (int i = 0; i < 2000 && runs[0].load() == 0; i++) gmp::sleep_for(1ms);
    EXPECT_EQ(runs[0].load(), 1);
    return 0;
  });
}

}  // namespace
