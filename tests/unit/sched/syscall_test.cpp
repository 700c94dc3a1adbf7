// gmp::blocking (sched/syscall.cpp): entering a call is a safe point, and a
// goroutine whose call returned while its P was handed away (a "syscall
// waiter") still finishes when the runtime stops.
//
// No timing assertions: these run two at a time on two cores.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "../wait_until.hpp"
#include "gmp/gmp.hpp"
#include "sched/sched.hpp"
#include "sched/syscall.hpp"

namespace {

using gmp::testing::wait_until;

// One P, unpinned: the goroutines below share it.
gmp::Config one_p() {
  gmp::Config c;
  c.pin = false;
  c.procs = 1;
  return c;
}

// Entering gmp::blocking is a safe point: a goroutine asked to yield (by
// sysmon's time slice or a stop-the-world) yields before its call, so the
// goroutine queued behind it on the only P runs first. Before, the request
// waited for some later safe point, and a stop for the stopper to find the
// P in the call.
TEST(Blocking, EnteringACallIsASafePoint) {
  ASSERT_EQ(gmp::start(one_p()).message(), "");
  std::atomic<bool> queued_ran{false}, done{false}, ran_before_call{false};
  gmp::go([&] {
    gmp::go([&] { queued_ran.store(true); });  // behind us on this P (runnext)
    gmp::detail::getg()->preempt.store(gmp::detail::kPreemptYield);  // as sysmon does
    gmp::blocking([&] {
      ran_before_call.store(queued_ran.load());
      return 0;
    });
    done.store(true);
  });
  ASSERT_TRUE(wait_until([&] { return done.load(); }));
  EXPECT_TRUE(ran_before_call.load()) << "the goroutine entered its call without yielding";
  gmp::stop();
}

// A goroutine in gmp::blocking until release, then returned; and a busy
// goroutine queued behind it on the only P (sysmon hands the P to another
// M, which runs it): busy(spin) runs spin() until it returns false.
struct CallBehindBusy {
  std::atomic<bool> release{false}, in_call{false}, returned{false}, busy_running{false};

  template <class Spin>
  void start(Spin spin) {
    gmp::go([this] {
      gmp::blocking([this] {
        in_call.store(true);
        while (!release.load()) std::this_thread::sleep_for(std::chrono::microseconds(100));
        return 0;
      });
      returned.store(true);
    });
    ASSERT_TRUE(wait_until([&] { return in_call.load(); }));
    gmp::go([this, spin] {
      busy_running.store(true);
      while (spin()) {
      }
    });
    ASSERT_TRUE(wait_until([&] { return busy_running.load(); }));
    release.store(true);
  }
};

// The runtime stops while a goroutine back from a blocking call waits for a
// P that a busy goroutine holds: the waiter is woken (it no longer polls),
// runs on once that P is let go, and gmp::stop returns.
TEST(Blocking, WaiterFinishesWhenTheRuntimeStops) {
  ASSERT_EQ(gmp::start(one_p()).message(), "");
  CallBehindBusy c;
  // The busy goroutine runs until the runtime stops, without a safe point,
  // so its M never looks for another goroutine and never hands the P to the
  // waiter (a goroutine with safe points would: WaiterGetsThePFromABusyGoroutine).
  c.start([] {
    asm volatile("" ::: "memory");
    return !gmp::detail::sched.stopping.load(std::memory_order_relaxed);
  });
  ASSERT_TRUE(wait_until([&] { return gmp::detail::syscall_waiters() == 1; }));
  EXPECT_FALSE(c.returned.load());
  gmp::stop();
  EXPECT_TRUE(c.returned.load());
  EXPECT_EQ(gmp::detail::syscall_waiters(), 0);
}

// Note [Waiters before the run queue] (sched/find.cpp): the P held by a
// busy goroutine with safe points goes to a goroutine back from
// gmp::blocking at the busy one's next switch (sysmon's time slice), not
// when the busy one ends. Before, the waiter waited for the P to go idle:
// here, until quit.
TEST(Blocking, WaiterGetsThePFromABusyGoroutine) {
  ASSERT_EQ(gmp::start(one_p()).message(), "");
  std::atomic<bool> quit{false};
  CallBehindBusy c;
  c.start([&quit] {
    gmp::preempt_point();
    return !quit.load(std::memory_order_relaxed);
  });
  EXPECT_TRUE(wait_until([&] { return c.returned.load(); })) << "the waiter never got the P";
  EXPECT_FALSE(quit.load());
  quit.store(true);
  gmp::stop();
  EXPECT_EQ(gmp::detail::syscall_waiters(), 0);
}

// A goroutine that loops on short blocking calls keeps its P through the
// calls' fast path and passes no other safe point: sysmon's time slice still
// ends for it (the slice counts the time its P spends in calls), and it
// yields at its next call, so the goroutine queued behind it runs. Before,
// the slice clock restarted whenever sysmon found the P in a call, so the
// queued goroutine ran only when sysmon happened to retake the P.
TEST(Blocking, GoroutineLoopingOnCallsSharesItsP) {
  ASSERT_EQ(gmp::start(one_p()).message(), "");
  std::atomic<bool> quit{false}, looping{false}, queued_ran{false};
  std::atomic<std::uint64_t> calls{0};
  gmp::go([&] {
    while (!quit.load(std::memory_order_relaxed)) {
      gmp::blocking([] { return 0; });
      calls.fetch_add(1, std::memory_order_relaxed);
      looping.store(true, std::memory_order_relaxed);
    }
  });
  ASSERT_TRUE(wait_until([&] { return looping.load(); }));
  gmp::go([&] { queued_ran.store(true); });  // from a thread: the global queue
  EXPECT_TRUE(wait_until([&] { return queued_ran.load(); }, std::chrono::seconds(10)))
      << "the queued goroutine never ran; " << calls.load() << " calls";
  quit.store(true);
  gmp::stop();
}

}  // namespace
