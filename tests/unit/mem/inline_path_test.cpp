// The inline fast path of gmp/pool.hpp: its class table, exact accounting of
// inline hits and frees against the slow path's counters, the cap and
// sampling hand-offs to the slow path, and goroutines that allocate on one P,
// yield, and free on another (Note [Inline path and migrating goroutines]).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gmp/gmp.hpp"
#include "gmp/stw.hpp"
#include "pool_fixture.hpp"

namespace gmp::detail::mem {
namespace {

using gmp::pool::Tier;

TEST(InlineClassTable, MatchesClassOfForEveryInlineSize) {
  static FastFront f;
  for (std::size_t size = 0; size <= kInlineMaxSize; ++size) {
    std::size_t idx = (size + 15) >> 4;
    ASSERT_EQ(kInlineClassOf[idx], class_of(size == 0 ? 1 : size)) << size;
    ASSERT_EQ(reinterpret_cast<char*>(&f) + kInlineSlotOffset[idx],
              reinterpret_cast<char*>(&f.fast[class_of(size == 0 ? 1 : size)]))
        << size;
  }
}

TEST_F(PoolTest, InlineHitsAndFreesAreExact) {
  // First allocation misses (slow path, refill of 32); the rest hit inline.
  constexpr int kN = 20;
  std::vector<void*> v;
  for (int i = 0; i < kN; ++i) v.push_back(gmp::pool::allocate(48, Tier::kFast));
  for (void* p : v) std::memset(p, 0x5A, 48);
  auto s = st();
  const auto& c = s.tiers[0].classes[class_of(48)];
  EXPECT_EQ(c.misses, 1u);
  EXPECT_EQ(c.hits, static_cast<std::uint64_t>(kN - 1));
  EXPECT_EQ(c.bytes_in_use, kN * 48u);
  EXPECT_EQ(c.bytes_cached, (32u - kN) * 48);
  for (void* p : v) gmp::pool::deallocate(p, 48);
  s = st();
  const auto& d = s.tiers[0].classes[class_of(48)];
  EXPECT_EQ(d.frees, static_cast<std::uint64_t>(kN));
  EXPECT_EQ(d.remote_frees, 0u);
  EXPECT_EQ(d.bytes_in_use, 0u);
  EXPECT_EQ(d.bytes_cached, 32u * 48);
  // LIFO: the last freed comes back first, through the inline path.
  void* again = gmp::pool::allocate(40, Tier::kFast);  // same class as 48
  EXPECT_EQ(again, v.back());
  gmp::pool::deallocate(again);
}

TEST_F(PoolTest, InlinePathRespectsFastMaxSizeAndTiers) {
  PoolConfig c = small_config();
  c.fast_max_size = 100;  // not a class boundary: 100 B is class 112 > 100, so txn
  ASSERT_EQ(reset_for_test(c, nullptr), "");
  // The inline limit is 96 (the largest class <= 100): 96 is served, 97 not.
  EXPECT_NE(g_inline.slot_of[96].load(), 0u);
  EXPECT_EQ(g_inline.slot_of[97].load(), 0u);
  // The size-indexed table: a class's slot up to the limit, the miss slot above.
  for (std::size_t n = 0; n <= kInlineMaxSize; ++n)
    ASSERT_EQ(g_inline.slot_of[n].load(), n <= 96 ? fast_slot_offset(class_of(n == 0 ? 1 : n)) : 0u) << n;
  void* a = gmp::pool::allocate(100, Tier::kFast);
  void* b = gmp::pool::allocate(96, Tier::kFast);
  void* t = gmp::pool::allocate(32, Tier::kTxn);
  // The inline free's page word: the class's slot on a fast page, the miss
  // slot on the others.
  auto page_slot = [](void* p) { return g_inline.slot_map.load()[reinterpret_cast<std::uintptr_t>(p) >> kInlinePageShift]; };
  void* big = gmp::pool::allocate(8192, Tier::kStable);
  EXPECT_EQ(page_slot(b), fast_slot_offset(class_of(96)));
  EXPECT_EQ(page_slot(a), 0u);
  EXPECT_EQ(page_slot(t), 0u);
  EXPECT_EQ(page_slot(big), 0u);
  gmp::pool::deallocate(big);
  auto s = st();
  EXPECT_EQ(s.tiers[1].total.hits + s.tiers[1].total.misses, 2u);  // 100 B and the txn request
  EXPECT_EQ(s.tiers[0].total.hits + s.tiers[0].total.misses, 1u);
  gmp::pool::deallocate(a);
  gmp::pool::deallocate(b);
  gmp::pool::deallocate(t);
  s = st();
  EXPECT_EQ(live_objects(s.tiers[0]), 0);
  EXPECT_EQ(live_objects(s.tiers[1]), 0);
}

class InlineCapTest : public PoolTest {
 protected:
  PoolConfig config() override {
    PoolConfig c = magazine_config(8, 16);
    c.sample_every = 4;
    return c;
  }
};

TEST_F(InlineCapTest, OverCapFreesAndSamplesGoToTheSlowPath) {
  constexpr int kN = 100;
  std::vector<void*> v;
  for (int i = 0; i < kN; ++i) v.push_back(gmp::pool::allocate(64, Tier::kFast));
  for (void* p : v) gmp::pool::deallocate(p);
  auto s = st();
  const auto& c = s.tiers[0].classes[class_of(64)];
  EXPECT_EQ(c.hits + c.misses, static_cast<std::uint64_t>(kN));
  EXPECT_EQ(c.frees, static_cast<std::uint64_t>(kN));
  EXPECT_GT(c.flushes, 0u);
  EXPECT_LE(fast_held(*cache_for_test(), class_of(64)), 16u);
  EXPECT_EQ(c.bytes_in_use, 0u);
  EXPECT_EQ(c.bytes_cached, carved(TierId::kFast));
  // Every 4th allocation was sampled (slow path), inline hits included.
  EXPECT_GE(s.samples, static_cast<std::uint64_t>(kN / 4 - 1));
}

// The countdown is shared by the inline and the slow path: exactly every
// sample_every-th allocation is timed (the 1st, 5th, 9th, ... here), hits
// and misses alike, and each allocation is counted once.
TEST_F(InlineCapTest, EveryNthAllocationIsSampledExactly) {
  constexpr int kN = 101;
  std::vector<void*> v;
  for (int i = 0; i < kN; ++i) {
    v.push_back(gmp::pool::allocate(32, Tier::kFast));
    if (i % 3 == 2) {  // mix in inline frees and re-allocations
      gmp::pool::deallocate(v.back());
      v.back() = gmp::pool::allocate(32, Tier::kFast);
    }
  }
  const std::uint64_t allocs = kN + kN / 3;
  auto s = st();
  EXPECT_EQ(s.samples, (allocs + 3) / 4);
  EXPECT_EQ(s.tiers[0].classes[class_of(32)].hits + s.tiers[0].classes[class_of(32)].misses, allocs);
  for (void* p : v) gmp::pool::deallocate(p);
  EXPECT_EQ(live_objects(st().tiers[0]), 0);
}

// Each fast class counts its own allocations (FastSlot::countdown): its 1st,
// 5th, 9th, ... are sampled whatever the other classes do, and the
// allocations of other tiers share the cache's countdown. One countdown for
// all would have sampled ceil(23 / 4) = 6 of these.
TEST_F(InlineCapTest, EachClassIsSampledEveryNthOfItsOwnAllocations) {
  std::vector<void*> v;
  for (int i = 0; i < 10; ++i) {
    v.push_back(gmp::pool::allocate(32, Tier::kFast));  // hits after the first, inline
    v.push_back(gmp::pool::allocate(64, Tier::kFast));
    if (i < 3) v.push_back(gmp::pool::allocate(32, Tier::kTxn));
  }
  auto s = st();
  EXPECT_EQ(s.samples, 3u + 3u + 1u);  // 32 B: 1st, 5th, 9th; 64 B: the same; txn: 1st
  for (int cls : {class_of(32), class_of(64)}) {
    EXPECT_EQ(s.tiers[0].classes[cls].hits + s.tiers[0].classes[cls].misses, 10u);
    EXPECT_EQ(fast_taken(*cache_for_test(), cls), 10u);
  }
  for (void* p : v) gmp::pool::deallocate(p);
  s = st();
  EXPECT_EQ(s.tiers[0].classes[class_of(32)].frees, 10u);
  EXPECT_EQ(s.tiers[0].classes[class_of(64)].frees, 10u);
  EXPECT_EQ(live_objects(s.tiers[0]), 0);
  EXPECT_EQ(live_objects(s.tiers[1]), 0);
}

// stats.sample_every = 0 times nothing (small_config), the first allocation
// of a class or of a cache included; the allocations are still counted.
TEST_F(PoolTest, SampleEveryZeroSamplesNothing) {
  std::vector<void*> v;
  for (std::size_t n = 16; n <= 1024; n += 16) v.push_back(gmp::pool::allocate(n, Tier::kFast));
  v.push_back(gmp::pool::allocate(64, Tier::kTxn));
  v.push_back(gmp::pool::allocate(64, Tier::kStable));
  auto s = st();
  EXPECT_EQ(s.samples, 0u);
  EXPECT_EQ(s.tiers[0].total.hits + s.tiers[0].total.misses, 64u);
  for (void* p : v) gmp::pool::deallocate(p);
  EXPECT_EQ(live_objects(st().tiers[0]), 0);
}

// A long sampling period (more allocations than a u16 holds) with objects
// kept live across its ends: exactly every sample_every-th allocation of the
// class is timed, and every allocation and free is counted once, with
// sampling and without it (0: the countdown set to UINT32_MAX).
TEST_F(PoolTest, LongSamplingPeriodsAreExact) {
  constexpr std::uint64_t kEvery = 70000;
  for (std::uint32_t every : {static_cast<std::uint32_t>(kEvery), 0u}) {
    PoolConfig c = small_config();
    c.sample_every = every;
    ASSERT_EQ(reset_for_test(c, nullptr), "");
    const std::uint64_t allocs = 2 * kEvery + 2;
    // Allocation n (from 1) is timed iff n % kEvery == 1: checked past
    // 2^16, just before the 2nd sample and at it.
    auto samples_after = [&](std::uint64_t n) { return every == 0 ? 0 : (n + kEvery - 1) / kEvery; };
    std::vector<void*> keep;
    for (std::uint64_t n = 1; n <= allocs; ++n) {
      void* p = gmp::pool::allocate(32, Tier::kFast);
      ASSERT_NE(p, nullptr);
      if (n % 1000 == 0) {
        keep.push_back(p);  // some stay live across the periods' ends
      } else {
        gmp::pool::deallocate(p, 32);
      }
      if (n == 65537 || n == kEvery || n == kEvery + 1) ASSERT_EQ(st().samples, samples_after(n)) << every << " at " << n;
    }
    auto s = st();
    const auto& k = s.tiers[0].classes[class_of(32)];
    EXPECT_EQ(s.samples, samples_after(allocs)) << every;
    EXPECT_EQ(k.hits + k.misses, allocs) << every;
    EXPECT_EQ(fast_taken(*cache_for_test(), class_of(32)), allocs) << every;
    EXPECT_EQ(k.bytes_in_use, keep.size() * 32) << every;
    for (void* p : keep) gmp::pool::deallocate(p, 32);
    s = st();
    EXPECT_EQ(s.tiers[0].classes[class_of(32)].frees, allocs) << every;
    EXPECT_EQ(live_objects(s.tiers[0]), 0) << every;
  }
}

TEST_F(PoolTest, NullAndForeignPointersTakeTheSlowPath) {
  gmp::pool::deallocate(nullptr);
  void* big = gmp::pool::allocate(300 * 1024, Tier::kFast);
  ASSERT_NE(big, nullptr);
  gmp::pool::deallocate(big);
  void* stable = gmp::pool::allocate(64, Tier::kStable);
  gmp::pool::deallocate(stable);
  auto s = st();
  EXPECT_EQ(s.large_frees, 1u);
  EXPECT_EQ(s.tiers[2].total.bytes_in_use, 0u);
  EXPECT_EQ(s.tiers[0].total.frees, 0u);
}

// deallocate(p, size) takes its slot from the size and confirms it with the
// page's entry in the slot map: any wrong hint still frees into the right
// class (or tier), exactly once.
TEST_F(PoolTest, SizedFreeWithAWrongHintIsExact) {
  void* a = gmp::pool::allocate(48, Tier::kFast);
  void* b = gmp::pool::allocate(48, Tier::kFast);
  void* c = gmp::pool::allocate(48, Tier::kFast);
  void* d = gmp::pool::allocate(48, Tier::kFast);
  void* t = gmp::pool::allocate(48, Tier::kTxn);
  gmp::pool::deallocate(a, 200);     // another inline class
  gmp::pool::deallocate(b, 5000);    // above the inline limit
  gmp::pool::deallocate(c, 0);       // the 16 B class
  gmp::pool::deallocate(d, 48);      // right
  gmp::pool::deallocate(t, 48);      // right size, other tier
  gmp::pool::deallocate(nullptr, 48);
  auto s = st();
  const auto& k = s.tiers[0].classes[class_of(48)];
  EXPECT_EQ(k.frees, 4u);
  EXPECT_EQ(k.bytes_in_use, 0u);
  EXPECT_EQ(s.tiers[0].classes[class_of(200)].frees, 0u);
  EXPECT_EQ(s.tiers[0].classes[class_of(16)].frees, 0u);
  EXPECT_EQ(live_objects(s.tiers[1]), 0);
  // All four went to the 48 B magazine, LIFO.
  EXPECT_EQ(gmp::pool::allocate(48, Tier::kFast), d);
  EXPECT_EQ(gmp::pool::allocate(48, Tier::kFast), c);
  EXPECT_EQ(gmp::pool::allocate(48, Tier::kFast), b);
  EXPECT_EQ(gmp::pool::allocate(48, Tier::kFast), a);
  for (void* p : {a, b, c, d}) gmp::pool::deallocate(p, 48);
}

// Goroutines allocate on one P, yield (a switch point: they may resume on
// another M and P), check their objects, and free. Each inline call must use
// the cache of the P it runs on at that moment: any stale cache pointer would
// hand one object to two goroutines (the tag check) or break the counts.
TEST_F(PoolTest, GoroutinesThatMigrateBetweenAllocateAndFreeAreExact) {
  constexpr int kG = 32, kRounds = 200, kPer = 8;
  std::atomic<int> migrated{0}, corrupted{0};
  int rc = gmp::run(gmp::Config{.procs = 2, .pin = true, .cpus = {}}, [&] {
    std::vector<gmp::JoinHandle<void>> hs;
    for (int g = 0; g < kG; ++g) {
      hs.push_back(gmp::spawn([g, &migrated, &corrupted] {
        for (int r = 0; r < kRounds; ++r) {
          void* objs[kPer];
          std::uint64_t tag = (static_cast<std::uint64_t>(g) << 32) | static_cast<std::uint32_t>(r);
          int before = current_p_id();
          for (int i = 0; i < kPer; ++i) {
            std::size_t size = 16 + static_cast<std::size_t>((g + i) % 16) * 16;
            objs[i] = gmp::pool::allocate(size, Tier::kFast);
            std::memcpy(objs[i], &tag, sizeof tag);
          }
          gmp::yield();
          if (current_p_id() != before) migrated.fetch_add(1, std::memory_order_relaxed);
          for (int i = 0; i < kPer; ++i) {
            std::uint64_t got;
            std::memcpy(&got, objs[i], sizeof got);
            if (got != tag) corrupted.fetch_add(1, std::memory_order_relaxed);
            gmp::pool::deallocate(objs[i]);
          }
        }
      }));
    }
    for (auto& h : hs) h.join();
    return 0;
  });
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(corrupted.load(), 0);
  auto s = st();
  EXPECT_EQ(s.tiers[0].total.hits + s.tiers[0].total.misses, static_cast<std::uint64_t>(kG) * kRounds * kPer);
  EXPECT_EQ(s.tiers[0].total.frees, static_cast<std::uint64_t>(kG) * kRounds * kPer);
  EXPECT_EQ(live_objects(s.tiers[0]), 0);
  EXPECT_EQ(s.tiers[0].total.bytes_in_use, 0u);
  EXPECT_EQ(s.tiers[0].total.bytes_cached, carved(TierId::kFast));
  EXPECT_EQ(s.tiers[0].total.remote_frees, 0u);  // a migrated goroutine's frees are its new P's
  RecordProperty("migrated_rounds", migrated.load());
}

// One inline-sized allocation's effect on a cache's counters for its class.
std::uint64_t served(const Cache& c, int cls) { return fast_hits(c, cls) + c.ctr[0][cls].misses.get(); }

// A thread that is not an M: no front until its first call (the inline path
// sees g_no_front and goes slow), then its own foreign cache, whose lists the
// inline path pops and pushes.
TEST_F(PoolTest, ForeignThreadGetsItsFrontOnFirstUseAndHitsInline) {
  std::atomic<bool> ok_before{false}, ok_after{false};
  std::uint64_t hits_delta = 0, frees_delta = 0;
  std::thread t([&] {
    ok_before = tls_front() == &g_no_front;
    void* first = gmp::pool::allocate(64, Tier::kFast);  // slow: creates the cache, refills
    Cache* mine = cache_for_test();
    ok_after = tls_front() == mine && mine->home >= kForeignHomeBase;
    const int cls = class_of(64);
    std::uint64_t h0 = fast_hits(*mine, cls), f0 = fast_frees(*mine, cls);
    void* second = gmp::pool::allocate(64, Tier::kFast);  // inline hit
    gmp::pool::deallocate(second);                        // inline free
    gmp::pool::deallocate(first);
    hits_delta = fast_hits(*mine, cls) - h0;
    frees_delta = fast_frees(*mine, cls) - f0;
  });
  t.join();
  EXPECT_TRUE(ok_before.load());
  EXPECT_TRUE(ok_after.load());
  EXPECT_EQ(hits_delta, 1u);
  EXPECT_EQ(frees_delta, 2u);
  auto s = st();
  EXPECT_EQ(live_objects(s.tiers[0]), 0);
  EXPECT_EQ(s.tiers[0].total.bytes_cached, carved(TierId::kFast));
}

// On a runtime thread the inline front is the cache of the P the goroutine
// runs on at that moment, after every yield (which may move it to another M
// and P): each allocation is counted on exactly that P's cache.
TEST_F(PoolTest, InlineFrontFollowsTheGoroutinesP) {
  constexpr int kG = 8, kRounds = 500;
  const int cls = class_of(96);
  std::atomic<int> wrong_front{0}, wrong_cache{0}, migrated{0};
  int rc = gmp::run(gmp::Config{.procs = 2, .pin = true, .cpus = {}}, [&] {
    std::vector<gmp::JoinHandle<void>> hs;
    for (int g = 0; g < kG; ++g) {
      hs.push_back(gmp::spawn([&] {
        int last = -1;
        for (int r = 0; r < kRounds; ++r) {
          int pid = current_p_id();
          if (last >= 0 && pid != last) migrated.fetch_add(1, std::memory_order_relaxed);
          last = pid;
          Cache& pc = state().pcache[pid];
          // No switch between here and the check: this goroutine owns pc.
          std::uint64_t before = served(pc, cls);
          void* p = gmp::pool::allocate(96, Tier::kFast);
          if (served(pc, cls) != before + 1) wrong_cache.fetch_add(1, std::memory_order_relaxed);
          if (tls_front() != &pc) wrong_front.fetch_add(1, std::memory_order_relaxed);
          gmp::yield();
          gmp::pool::deallocate(p);
        }
      }));
    }
    for (auto& h : hs) h.join();
    return 0;
  });
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(wrong_cache.load(), 0);
  EXPECT_EQ(wrong_front.load(), 0);
  auto s = st();
  EXPECT_EQ(s.tiers[0].total.hits + s.tiers[0].total.misses, static_cast<std::uint64_t>(kG) * kRounds);
  EXPECT_EQ(live_objects(s.tiers[0]), 0);
  RecordProperty("migrations", migrated.load());
}

// Inside gmp::blocking the P may be handed to another M while the call runs,
// so the call's allocations must not use the P's cache (two Ms would share
// it): the M is a foreign thread until exitsyscall, then back on the P's.
TEST_F(PoolTest, BlockingCallDoesNotUseItsPsCache) {
  const int cls = class_of(96);
  int wrong = 0;
  std::uint64_t in_call_served = 0;
  int rc = gmp::run(gmp::Config{.procs = 1, .pin = false, .cpus = {}}, [&] {
    const int pid = current_p_id();
    Cache& pc = state().pcache[pid];
    void* warm = gmp::pool::allocate(96, Tier::kFast);  // the front is the P's now
    if (tls_front() != &pc) wrong++;
    std::uint64_t before = served(pc, cls);
    std::vector<void*> held;
    gmp::blocking([&] {
      if (tls_front() == &pc) wrong++;
      for (int i = 0; i < 100; ++i) held.push_back(gmp::pool::allocate(96, Tier::kFast));
      usleep(30'000);  // long enough for sysmon to hand the P off
      for (void* q : held) gmp::pool::deallocate(q);
      return 0;
    });
    in_call_served = served(pc, cls) - before;
    void* after = gmp::pool::allocate(96, Tier::kFast);
    if (tls_front() != &pc) wrong++;
    gmp::pool::deallocate(after);
    gmp::pool::deallocate(warm);
    return 0;
  });
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(in_call_served, 0u) << "the blocking call allocated from its P's cache";
  EXPECT_EQ(live_objects(st().tiers[0]), 0);
}

// The stw caller whose P is removed by set_procs moves to P 0 without an
// acquirep (stw/procresize.cpp move_caller): its inline path must leave the
// removed P's cache (drain_cache resets the front) and use P 0's.
TEST_F(PoolTest, InlineFrontLeavesAPRemovedUnderTheCaller) {
  const int cls = class_of(64);
  std::atomic<bool> claimed{false}, done{false};
  std::atomic<int> front_before_ok{0}, front_after_ok{0}, moved_to_p0{0};
  std::uint64_t p1_served_during = 0, p0_served_during = 0;
  std::string resize_err;
  int rc = gmp::run(gmp::Config{.procs = 2, .pin = true, .cpus = {}}, [&] {
    // Goroutines yield until one finds itself on P 1; that one is the test.
    std::vector<gmp::JoinHandle<void>> hs;
    for (int g = 0; g < 4; ++g) {
      hs.push_back(gmp::spawn([&] {
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!done.load() && std::chrono::steady_clock::now() < until) {
          if (current_p_id() == 1 && !claimed.exchange(true)) break;
          gmp::yield();
        }
        if (done.load() || current_p_id() != 1) return;
        void* warm = gmp::pool::allocate(64, Tier::kFast);
        gmp::pool::deallocate(warm);
        if (tls_front() == &state().pcache[1]) front_before_ok = 1;
        resize_err = gmp::set_procs(1).message();  // this goroutine is the caller: it moves to P 0
        done = true;
        if (!resize_err.empty()) return;
        if (current_p_id() == 0) moved_to_p0 = 1;
        std::uint64_t p1 = served(state().pcache[1], cls), p0 = served(state().pcache[0], cls);
        void* a = gmp::pool::allocate(64, Tier::kFast);
        void* b = gmp::pool::allocate(64, Tier::kFast);
        p1_served_during = served(state().pcache[1], cls) - p1;
        p0_served_during = served(state().pcache[0], cls) - p0;
        if (tls_front() == &state().pcache[0]) front_after_ok = 1;
        gmp::pool::deallocate(a);
        gmp::pool::deallocate(b);
      }));
    }
    for (auto& h : hs) h.join();
    return 0;
  });
  ASSERT_EQ(rc, 0);
  if (!done.load()) GTEST_SKIP() << "no goroutine ran on P 1";
  ASSERT_EQ(resize_err, "");
  EXPECT_EQ(front_before_ok.load(), 1);
  EXPECT_EQ(moved_to_p0.load(), 1);
  EXPECT_EQ(p1_served_during, 0u);
  EXPECT_EQ(p0_served_during, 2u);
  EXPECT_EQ(front_after_ok.load(), 1);
  auto s = st();
  EXPECT_EQ(live_objects(s.tiers[0]), 0);
}

}  // namespace
}  // namespace gmp::detail::mem
