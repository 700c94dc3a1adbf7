// One-P lock elision (sync/elided_lock.hpp, Note [One-P lock elision]): when
// it is on and off, that it still excludes once a thread that does not own
// the P shows up (a plain thread, a gmp::blocking body, select), epochs
// across set_procs and restarts, and misuse.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "gmp/gmp.hpp"
#include "sync/chan_core.hpp"
#include "sync/elided_lock.hpp"
#include "sync/spin_lock.hpp"

namespace {

using gmp::detail::ElidedLock;
using namespace std::chrono_literals;

gmp::Config one_p(bool elision = true) {
  gmp::Config c;
  c.procs = 1;
  c.pin = false;  // ctest runs two test processes at once on 2 cores
  c.lock_elision = elision;
  return c;
}

// Elision needs the asymmetric barrier (short_lock_test checks which one
// this kernel gives); without it every lock is the short lock.
bool elision_possible() { return gmp::detail::short_lock_asymmetric; }

TEST(LockElision, OnlyWithOnePAndOnlyForTheOwnersLocks) {
  if (!elision_possible()) GTEST_SKIP() << "no membarrier(PRIVATE_EXPEDITED): elision is off (tested below)";
  ASSERT_EQ(gmp::start(one_p()).message(), "");
  EXPECT_TRUE(gmp::sched_stats().lock_elision);
  ElidedLock made_outside;  // by a plain thread: never elided
  EXPECT_FALSE(made_outside.elided());
  gmp::Chan<int> done;
  gmp::go([&made_outside, done] {
    ElidedLock mine;
    EXPECT_TRUE(mine.elided());
    mine.lock();
    mine.unlock();
    made_outside.lock();  // a plain word taken by the owner: the locked path
    made_outside.unlock();
    EXPECT_TRUE(mine.elided());
    done.send(1);
  });
  EXPECT_EQ(done.recv(), 1);
  gmp::stop();
  EXPECT_FALSE(gmp::detail::elision_enabled());

  gmp::Config two = one_p();
  two.procs = 2;
  ASSERT_EQ(gmp::start(two).message(), "");
  EXPECT_FALSE(gmp::sched_stats().lock_elision);
  gmp::go([done] {
    ElidedLock l;
    EXPECT_FALSE(l.elided());
    done.send(2);
  });
  EXPECT_EQ(done.recv(), 2);
  gmp::stop();

  ASSERT_EQ(gmp::start(one_p(false)).message(), "");
  EXPECT_FALSE(gmp::sched_stats().lock_elision);
  gmp::go([done] {
    ElidedLock l;
    EXPECT_FALSE(l.elided());
    done.send(3);
  });
  EXPECT_EQ(done.recv(), 3);
  gmp::stop();
}

TEST(LockElision, WithoutTheBarrierItStaysOff) {
  bool saved = gmp::detail::short_lock_asymmetric;
  gmp::detail::short_lock_asymmetric = false;  // no lock is held by anyone now
  ASSERT_EQ(gmp::start(one_p()).message(), "");
  EXPECT_FALSE(gmp::sched_stats().lock_elision);
  gmp::Chan<int> ch(1);
  gmp::go([ch] {
    ElidedLock l;
    EXPECT_FALSE(l.elided());
    ch.send(1);
  });
  EXPECT_EQ(ch.recv(), 1);
  gmp::stop();
  gmp::detail::short_lock_asymmetric = saved;
}

// Goroutines on the one P and a plain thread add to one counter under an
// elided lock: the plain thread's first lock revokes elision, and from then
// on both sides exclude each other with the locked path. Exact count (a
// section that both entered would lose increments; TSan sees the counter).
TEST(LockElision, ForeignLockerRevokesAndStillExcludes) {
  if (!elision_possible()) GTEST_SKIP() << "elision is off on this kernel";
  const std::uint64_t before = gmp::detail::elision_revocations();
  ASSERT_EQ(gmp::start(one_p()).message(), "");
  constexpr int kGoroutines = 4, kForeign = 20000;
  std::unique_ptr<ElidedLock> lock;
  long counter = 0;
  std::atomic<long> by_goroutines{0};
  std::atomic<int> running{0};
  std::atomic<bool> foreign_done{false};
  gmp::Chan<int> made;
  gmp::WaitGroup wg;
  wg.add(kGoroutines);
  gmp::go([&] {
    lock = std::make_unique<ElidedLock>();
    EXPECT_TRUE(lock->elided());
    for (int g = 0; g < kGoroutines; g++) {
      gmp::go([&] {
        running.fetch_add(1);
        long mine = 0;
        // Until the plain thread is done: its first lock revokes while
        // these are in and out of elided sections.
        for (int i = 0; !foreign_done.load(std::memory_order_relaxed) || i < 1000; i++) {
          lock->lock();
          counter++;
          lock->unlock();
          mine++;
          if (i % 64 == 0) gmp::yield();  // interleave with the other goroutines
        }
        by_goroutines.fetch_add(mine);
        wg.done();
      });
    }
    made.send(1);
  });
  EXPECT_EQ(made.recv(), 1);
  while (running.load() < 1) std::this_thread::yield();
  std::thread foreign([&] {
    for (int i = 0; i < kForeign; i++) {
      lock->lock();
      counter++;
      lock->unlock();
    }
    foreign_done.store(true);
  });
  foreign.join();
  wg.wait();
  EXPECT_EQ(counter, by_goroutines.load() + kForeign);
  EXPECT_FALSE(lock->elided());
  EXPECT_FALSE(gmp::sched_stats().lock_elision);
  EXPECT_EQ(gmp::sched_stats().lock_elision_revocations, before + 1);
  gmp::stop();
}

// The body of gmp::blocking runs on an M that has let its P go: not the
// owner. Its channel operation must revoke rather than take the elided path.
TEST(LockElision, BlockingBodyIsNotTheOwner) {
  if (!elision_possible()) GTEST_SKIP() << "elision is off on this kernel";
  const std::uint64_t before = gmp::detail::elision_revocations();
  int rc = gmp::run(one_p(), [&] {
    gmp::Chan<int> ch(4);
    ch.send(1);
    EXPECT_TRUE(gmp::sched_stats().lock_elision);
    bool ok = gmp::blocking([&] { return ch.try_send(2); });
    EXPECT_TRUE(ok);
    EXPECT_FALSE(gmp::sched_stats().lock_elision);
    EXPECT_EQ(ch.recv(), 1);
    EXPECT_EQ(ch.recv(), 2);
    return 0;
  });
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(gmp::detail::elision_revocations(), before + 1);
}

// select from a plain thread over channels the owner made: it settles every
// word before it takes any lock (a revoker must not hold one), then works.
// Ping-pong between goroutines keeps the owner in elided sections meanwhile.
TEST(LockElision, PlainThreadSelectOverElidedChannels) {
  if (!elision_possible()) GTEST_SKIP() << "elision is off on this kernel";
  ASSERT_EQ(gmp::start(one_p()).message(), "");
  constexpr int kValues = 500;
  const std::uint64_t before = gmp::detail::elision_revocations();
  gmp::Chan<gmp::Chan<int>> handoff(2);
  std::atomic<bool> stop{false};
  gmp::WaitGroup wg;  // every goroutine returns before stop (a discarded one would leak its handles)
  wg.add(3);
  gmp::go([handoff, &stop, &wg] {
    gmp::Chan<int> a, b, ping, pong;
    EXPECT_TRUE(a.core()->lock.elided());
    handoff.send(a);
    handoff.send(b);
    gmp::go([ping, pong, &wg] {
      while (auto v = ping.recv()) pong.send(*v);
      wg.done();
    });
    gmp::go([a, b, &wg] {
      for (int i = 0; i < kValues; i++) (i % 2 == 0 ? a : b).send(i);
      wg.done();
    });
    long n = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      ping.send(1);
      n += *pong.recv();
      // Let the sender run now and then: woken by a plain thread it waits
      // in the global queue behind this pair's shared time slice.
      if (n % 64 == 0) gmp::sleep_for(20us);
    }
    ping.close();
    EXPECT_GT(n, 0);
    wg.done();
  });
  gmp::Chan<int> a = *handoff.recv(), b = *handoff.recv();
  long sum = 0;
  for (int i = 0; i < kValues; i++) {
    gmp::select(gmp::on_recv(a, [&](std::optional<int> v) { sum += *v; }),
                gmp::on_recv(b, [&](std::optional<int> v) { sum += *v; }));
  }
  stop.store(true);
  wg.wait();
  EXPECT_EQ(sum, long{kValues} * (kValues - 1) / 2);
  EXPECT_FALSE(gmp::sched_stats().lock_elision);
  EXPECT_EQ(gmp::detail::elision_revocations(), before + 1);
  EXPECT_FALSE(a.core()->lock.elided());
  gmp::stop();
}

// Epochs: set_procs(2) turns elision off (locks made before work from both
// Ps with the locked path), set_procs(1) back on for new locks only; a lock
// of a stopped runtime's epoch is a plain lock in the next run.
TEST(LockElision, EpochsAcrossSetProcsAndRestarts) {
  if (!elision_possible()) GTEST_SKIP() << "elision is off on this kernel";
  std::unique_ptr<ElidedLock> old_run;
  int rc = gmp::run(one_p(), [&] {
    auto first = std::make_unique<ElidedLock>();
    EXPECT_TRUE(first->elided());
    old_run = std::make_unique<ElidedLock>();
    EXPECT_EQ(gmp::set_procs(2).message(), "");
    EXPECT_FALSE(gmp::sched_stats().lock_elision);
    EXPECT_FALSE(first->elided());
    long counter = 0;
    gmp::WaitGroup wg;
    wg.add(4);
    for (int g = 0; g < 4; g++) {
      gmp::go([&] {
        for (int i = 0; i < 5000; i++) {
          first->lock();
          counter++;
          first->unlock();
        }
        wg.done();
      });
    }
    wg.wait();
    EXPECT_EQ(counter, 20000);
    EXPECT_EQ(gmp::set_procs(1).message(), "");
    EXPECT_TRUE(gmp::sched_stats().lock_elision);
    ElidedLock second;
    EXPECT_TRUE(second.elided());
    EXPECT_FALSE(first->elided());
    second.lock();
    first->lock();
    first->unlock();
    second.unlock();
    return 0;
  });
  EXPECT_EQ(rc, 0);
  rc = gmp::run(one_p(), [&] {
    EXPECT_FALSE(old_run->elided());
    old_run->lock();
    old_run->unlock();
    ElidedLock fresh;
    EXPECT_TRUE(fresh.elided());
    return 0;
  });
  EXPECT_EQ(rc, 0);
}

TEST(LockElisionDeath, TakingAnElidedLockTwiceIsFatal) {
  if (!elision_possible()) GTEST_SKIP() << "elision is off on this kernel";
  EXPECT_DEATH(gmp::run(one_p(),
                        [] {
                          ElidedLock l;
                          l.lock();
                          l.lock();
                          return 0;
                        }),
               "runtime: a channel lock was taken twice by the thread that holds it");
}

}  // namespace
