// Drill: more completions at once than a ring's completion queue holds.
// Each P's ring has 8192 CQ entries; with IORING_FEAT_NODROP the kernel
// keeps the completions that do not fit on its overflow list (flagged
// IORING_SQ_CQ_OVERFLOW) instead of dropping them, and hands them over as
// the CQ is reaped (docs/SOAK.md, "Drills").
#include <gtest/gtest.h>
#include <time.h>

#include <atomic>
#include <chrono>

#include "gmp/gmp.hpp"
#include "gmp/io.hpp"

namespace {

// 12 000 goroutines on one P sleep until the same instant (io_uring
// timeouts); meanwhile the main goroutine sleeps past it in a raw system
// call, so its P reaps nothing, and with COOP_TASKRUN the kernel posts
// every expired timeout when that thread returns from the call: 12 000 at
// once into 8192 entries. Every goroutine must wake, each once, with its
// timeout's result.
TEST(CqOverflow, MoreCompletionsThanTheCqHoldsAreAllDelivered) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "TSan counts each goroutine as a thread and stops at 8128; this needs 12 000 at once";
#endif
  gmp::Config c;
  c.procs = 1;
  c.pin = false;
  bool skipped = false, inconclusive = false;
  gmp::io::IoStats before{}, after{};
  constexpr int kN = 12000;
  std::atomic<int> woke{0}, bad{0};
  int rc = gmp::run(c, [&]() -> int {
    if (!gmp::io::uring_enabled()) {
      skipped = true;
      return 0;
    }
    before = gmp::io::io_stats();
    // The goroutines wait at a gate, so that making them (slow on a loaded
    // machine) is not inside the deadline; then each submits its timeout.
    gmp::WaitGroup gate, wg;
    gate.add(1);
    wg.add(kN);
    std::int64_t at_ns = 0;  // written before the gate opens
    std::atomic<int> submitted{0};
    for (int i = 0; i < kN; i++) {
      gmp::go([&] {
        gate.wait();
        submitted.fetch_add(1, std::memory_order_relaxed);
        auto at = gmp::io::Deadline(std::chrono::nanoseconds(at_ns));
        if (!gmp::io::sleep_until(at).ok()) bad.fetch_add(1);
        woke.fetch_add(1);
        wg.done();
      });
    }
    at_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                gmp::io::after(std::chrono::milliseconds(1500)).time_since_epoch())
                .count();
    gate.done();
    // One P: the goroutines run (and submit their timeouts) in turn.
    while (submitted.load() < kN) gmp::yield();
    gmp::yield();  // the last one parks (its timeout is submitted with the switch)
    if (woke.load() != 0) {
      inconclusive = true;  // the deadline passed before every timeout was submitted
      wg.wait();
      return 0;
    }
    // Past the deadline in a raw call: the P reaps nothing meanwhile.
    const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 gmp::io::after(std::chrono::nanoseconds(0)).time_since_epoch())
                                 .count();
    const std::int64_t nap = at_ns - now + 100'000'000;
    timespec ts{nap / 1'000'000'000, nap % 1'000'000'000};
    nanosleep(&ts, nullptr);
    wg.wait();
    after = gmp::io::io_stats();
    return 0;
  });
  if (skipped) GTEST_SKIP() << "io_uring is not available here";
  if (inconclusive) GTEST_SKIP() << "the machine was too slow: the deadline passed before every timeout was submitted";
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(woke.load(), kN);
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GE(after.completed - before.completed, static_cast<std::uint64_t>(kN));
  EXPECT_EQ(after.in_flight, 0u);
  // The completions did overflow the CQ (else this drilled nothing).
  EXPECT_GT(after.cq_overflows, before.cq_overflows);
}

}  // namespace
