// The runtime's short lock (sync/spin_lock.hpp): mutual exclusion and no lost
// wake-up of a sleeping waiter, with the asymmetric unlock (plain store, the
// sleeper's membarrier) and with the fallback (seq_cst unlock), and the
// detection of which one this kernel allows (Note [Asymmetric unlock]).
#include <gtest/gtest.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "sync/spin_lock.hpp"

namespace {

using gmp::detail::SpinLock;
using gmp::detail::ShortLockWord;
using namespace std::chrono_literals;

bool kernel_has_private_expedited() {
  long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0u, 0);
  return cmds >= 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0;
}

TEST(ShortLock, AsymmetricUnlockExactlyWhereTheKernelOffersIt) {
  // Registered at load time iff the kernel offers expedited private
  // membarriers (registration itself cannot fail after a positive query
  // unless the process is out of memory).
  EXPECT_EQ(gmp::detail::short_lock_asymmetric, kernel_has_private_expedited());
  std::printf("short lock unlock: %s\n",
              gmp::detail::short_lock_asymmetric ? "asymmetric (membarrier)" : "seq_cst fallback");
}

// Threads hammer one lock; every 32nd critical section holds it for 300 us,
// long enough for the others to give up spinning and sleep. Exact count,
// some sleeper seen, and no hang (a lost wake-up would leave a thread asleep
// with the lock free: the watchdog turns that into a failure, not a stall).
void hammer(bool asymmetric) {
  bool saved = gmp::detail::short_lock_asymmetric;
  gmp::detail::short_lock_asymmetric = asymmetric;  // no lock is held by anyone now
  constexpr int kThreads = 4, kIters = 3000;
  ShortLockWord w{0};
  long counter = 0;  // guarded by w (TSan checks)
  std::atomic<int> max_sleepers{0};
  std::atomic<int> done{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; t++) {
    ts.emplace_back([&] {
      for (int i = 0; i < kIters; i++) {
        gmp::detail::short_lock(w);
        counter++;
        if (i % 32 == 0) {
          std::this_thread::sleep_for(300us);
          int s = static_cast<int>(gmp::detail::sleeper_bucket(w).n.load(std::memory_order_relaxed));
          if (s > max_sleepers.load(std::memory_order_relaxed)) max_sleepers.store(s, std::memory_order_relaxed);
        }
        gmp::detail::short_unlock(w);
      }
      done.fetch_add(1);
    });
  }
  auto deadline = std::chrono::steady_clock::now() + 120s;
  while (done.load() < kThreads) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "short lock: %d of %d threads still waiting after 120 s with the lock %s: lost wake-up\n",
                   kThreads - done.load(), kThreads, w.load() != 0 ? "held" : "free");
      std::abort();
    }
    std::this_thread::sleep_for(5ms);
  }
  for (auto& t : ts) t.join();
  gmp::detail::short_lock_asymmetric = saved;
  EXPECT_EQ(counter, long{kThreads} * kIters);
  EXPECT_GT(max_sleepers.load(), 0) << "no waiter ever slept: the slow path was not exercised";
  EXPECT_EQ(w.load(), 0u);
  EXPECT_EQ(gmp::detail::sleeper_bucket(w).n.load(), 0u);
}

TEST(ShortLock, SleepersAreWokenWithTheAsymmetricUnlock) {
  if (!kernel_has_private_expedited()) GTEST_SKIP() << "no expedited private membarrier on this kernel";
  hammer(true);
}

TEST(ShortLock, SleepersAreWokenWithTheFallbackUnlock) { hammer(false); }

// The membarrier registration is the address space's: a fork() child inherits
// it, so its sleepers' barriers work (a failed barrier is fatal, exit != 0).
TEST(ShortLock, SleepersInAForkedChildStillWork) {
  if (!kernel_has_private_expedited()) GTEST_SKIP() << "no expedited private membarrier on this kernel";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    hammer(true);
    _exit(testing::Test::HasFailure() ? 1 : 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
}

TEST(ShortLock, TryLockFailsWhileHeldAndSucceedsAfter) {
  SpinLock l;
  l.lock();
  bool got = true;
  std::thread([&] { got = l.try_lock(); }).join();
  EXPECT_FALSE(got);
  l.unlock();
  std::thread([&] { got = l.try_lock(); }).join();
  EXPECT_TRUE(got);
  l.unlock();
}

}  // namespace
