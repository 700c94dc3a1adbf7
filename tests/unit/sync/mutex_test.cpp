// Mutex, RWMutex, CondVar, Once, Semaphore: exclusion, hand-off, starvation
// bound, fatal misuse; on 1, 2, 4 Ps.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>

#include "gmp/gmp.hpp"
#include "procs_fixture.hpp"

namespace {

using namespace std::chrono_literals;

class SyncP : public gmp_test::ProcsTest {};
INSTANTIATE_TEST_SUITE_P(Procs, SyncP, gmp_test::procs_values(), gmp_test::procs_name);

TEST_P(SyncP, MutexExcludes) {
  constexpr int kG = 8, kIters = 20000;
  long counter = 0;  // unsynchronised except by the mutex (TSan checks)
  gmp::run(cfg(), [&] {
    gmp::Mutex mu;
    gmp::WaitGroup wg;
    wg.add(kG);
    for (int g = 0; g < kG; g++) {
      gmp::go([&] {
        for (int i = 0; i < kIters; i++) {
          mu.lock();
          counter++;
          if (i % 64 == 0) gmp::yield();  // hold it across a switch sometimes
          mu.unlock();
        }
        wg.done();
      });
    }
    wg.wait();
    EXPECT_TRUE(mu.try_lock());
    EXPECT_FALSE(mu.try_lock());
    mu.unlock();
    return 0;
  });
  EXPECT_EQ(counter, static_cast<long>(kG) * kIters);
}

// A waiter cannot be starved by barging lockers for much longer than the
// 1 ms starvation threshold: bound generously (scheduling noise on a loaded
// 2-core VM), but far below "forever".
TEST_P(SyncP, MutexStarvationBound) {
  std::atomic<long> max_wait_ns{0};
  gmp::run(cfg(), [&] {
    gmp::Mutex mu;
    std::atomic<bool> stop{false};
    gmp::WaitGroup wg;
    constexpr int kHogs = 3;
    wg.add(kHogs + 1);
    for (int h = 0; h < kHogs; h++) {
      gmp::go([&] {
        while (!stop.load(std::memory_order_relaxed)) {
          mu.lock();
          auto t = std::chrono::steady_clock::now();
          while (std::chrono::steady_clock::now() - t < 20us) {
          }
          mu.unlock();
          gmp::preempt_point();
        }
        wg.done();
      });
    }
    gmp::go([&] {
      auto end = std::chrono::steady_clock::now() + 200ms;
      while (std::chrono::steady_clock::now() < end) {
        auto t0 = std::chrono::steady_clock::now();
        mu.lock();
        long w = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
        mu.unlock();
        if (w > max_wait_ns.load()) max_wait_ns.store(w);
        gmp::yield();
      }
      stop.store(true);
      wg.done();
    });
    wg.wait();
    return 0;
  });
  EXPECT_LT(max_wait_ns.load(), 100'000'000) << "a waiter waited " << max_wait_ns.load() / 1000 << " us";
}

TEST_P(SyncP, RWMutexReadersShareWritersExclude) {
  gmp::run(cfg(), [] {
    gmp::RWMutex rw;
    std::atomic<int> readers{0}, writers{0}, max_readers{0};
    std::atomic<bool> bad{false};
    gmp::WaitGroup wg;
    wg.add(12);
    for (int g = 0; g < 12; g++) {
      gmp::go([&, g] {
        for (int i = 0; i < 2000; i++) {
          if (g % 4 == 0) {
            rw.lock();
            if (writers.fetch_add(1) != 0 || readers.load() != 0) bad = true;
            gmp::yield();
            writers.fetch_sub(1);
            rw.unlock();
          } else {
            rw.lock_shared();
            int r = readers.fetch_add(1) + 1;
            if (writers.load() != 0) bad = true;
            if (r > max_readers.load()) max_readers.store(r);
            gmp::yield();
            readers.fetch_sub(1);
            rw.unlock_shared();
          }
        }
        wg.done();
      });
    }
    wg.wait();
    EXPECT_FALSE(bad.load());
    EXPECT_TRUE(rw.try_lock());
    EXPECT_FALSE(rw.try_lock_shared());
    rw.unlock();
    EXPECT_TRUE(rw.try_lock_shared());
    EXPECT_FALSE(rw.try_lock());
    rw.unlock_shared();
    return 0;
  });
}

TEST_P(SyncP, CondVarProducerConsumer) {
  gmp::run(cfg(), [] {
    gmp::Mutex mu;
    gmp::CondVar cv;
    int queue = 0, consumed = 0;
    bool done = false;
    gmp::WaitGroup wg;
    wg.add(4);
    for (int c = 0; c < 4; c++) {
      gmp::go([&] {
        mu.lock();
        for (;;) {
          cv.wait(mu, [&] { return queue > 0 || done; });
          if (queue == 0 && done) break;
          queue--;
          consumed++;
        }
        mu.unlock();
        wg.done();
      });
    }
    for (int i = 0; i < 5000; i++) {
      mu.lock();
      queue++;
      mu.unlock();
      cv.notify_one();
      if (i % 16 == 0) gmp::yield();
    }
    mu.lock();
    done = true;
    mu.unlock();
    cv.notify_all();
    wg.wait();
    EXPECT_EQ(consumed, 5000);
    return 0;
  });
}

TEST_P(SyncP, OnceRunsExactlyOnce) {
  std::atomic<int> ran{0};
  gmp::run(cfg(), [&] {
    gmp::Once once;
    gmp::WaitGroup wg;
    wg.add(50);
    for (int i = 0; i < 50; i++) {
      gmp::go([&] {
        once.call([&] {
          for (int k = 0; k < 5; k++) gmp::yield();  // others park meanwhile
          ran++;
        });
        EXPECT_EQ(ran.load(), 1);  // returns only after fn finished
        wg.done();
      });
    }
    wg.wait();
    EXPECT_TRUE(once.done());
    return 0;
  });
  EXPECT_EQ(ran.load(), 1);
}

TEST_P(SyncP, SemaphoreBoundsConcurrency) {
  gmp::run(cfg(), [] {
    gmp::Semaphore sem(3);
    std::atomic<int> inside{0}, max_inside{0};
    gmp::WaitGroup wg;
    wg.add(20);
    for (int g = 0; g < 20; g++) {
      gmp::go([&] {
        for (int i = 0; i < 200; i++) {
          sem.acquire();
          int n = inside.fetch_add(1) + 1;
          if (n > max_inside.load()) max_inside.store(n);
          gmp::yield();
          inside.fetch_sub(1);
          sem.release();
        }
        wg.done();
      });
    }
    wg.wait();
    EXPECT_LE(max_inside.load(), 3);
    EXPECT_EQ(sem.available(), 3);
    EXPECT_TRUE(sem.try_acquire(3));
    EXPECT_FALSE(sem.try_acquire());
    sem.release(3);
    return 0;
  });
}

TEST_P(SyncP, SemaphoreLargeRequestIsNotStarved) {
  gmp::run(cfg(), [] {
    gmp::Semaphore sem(0);
    gmp::Chan<int> got(1);
    gmp::go([&] {
      sem.acquire(5);
      got.send(5);
    });
    for (int i = 0; i < 10; i++) gmp::yield();
    // Small releases accumulate to the big request, in FIFO order.
    for (int i = 0; i < 5; i++) sem.release(1);
    EXPECT_EQ(got.recv(), 5);
    EXPECT_EQ(sem.available(), 0);
    return 0;
  });
}

TEST(SyncDeath, UnlockOfUnlockedMutex) {
  EXPECT_DEATH(
      {
        gmp::Mutex mu;
        mu.unlock();
      },
      "runtime: unlock of unlocked mutex");
}

TEST(SyncDeath, UnlockOfUnlockedRWMutex) {
  EXPECT_DEATH(
      {
        gmp::RWMutex rw;
        rw.unlock();
      },
      "runtime: unlock of unlocked RWMutex");
  EXPECT_DEATH(
      {
        gmp::RWMutex rw;
        rw.unlock_shared();
      },
      "runtime: unlock_shared of unlocked RWMutex");
}

TEST(SyncDeath, NegativeWaitGroup) {
  EXPECT_DEATH(
      {
        gmp::WaitGroup wg;
        wg.done();
      },
      "runtime: negative WaitGroup counter");
}

}  // namespace
