// The inline fast path of gmp/pool.hpp: its class table, exact accounting of
// inline hits and frees against the slow path's counters, the cap and
// sampling hand-offs to the slow path, and goroutines that allocate on one P,
// yield, and free on another (Note [Inline path and migrating goroutines]).
#include <atomic>
#include <cstring>
#include <vector>

#include "gmp/gmp.hpp"
#include "pool_fixture.hpp"

namespace gmp::detail::mem {
namespace {

using gmp::pool::Tier;

gmp::pool::Stats st() { return gmp::pool::stats(false); }

std::uint64_t carved(TierId t) {
  std::uint64_t b = 0;
  for (int cls = 0; cls < kNumClasses; ++cls) b += state().central.list(t, cls).carved_bytes.load();
  return b;
}

TEST(InlineClassTable, MatchesClassOfForEveryInlineSize) {
  for (std::size_t size = 0; size <= kInlineMaxSize; ++size)
    ASSERT_EQ(kInlineClassOf[(size + 15) >> 4], class_of(size == 0 ? 1 : size)) << size;
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
  EXPECT_EQ(g_inline.inline_max.load(), 96u);
  void* a = gmp::pool::allocate(100, Tier::kFast);
  void* b = gmp::pool::allocate(96, Tier::kFast);
  void* t = gmp::pool::allocate(32, Tier::kTxn);
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
    PoolConfig c = small_config();
    c.fast_batch = 8;
    c.fast_capacity = 16;
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
  EXPECT_LE(cache_for_test()->fast[class_of(64)].count.get(), 16u);
  EXPECT_EQ(c.bytes_in_use, 0u);
  EXPECT_EQ(c.bytes_cached, carved(TierId::kFast));
  // Every 4th allocation was sampled (slow path), inline hits included.
  EXPECT_GE(s.samples, static_cast<std::uint64_t>(kN / 4 - 1));
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
  if (migrated.load() > 0) {
    EXPECT_GT(s.tiers[0].total.remote_frees, 0u);
  }
  RecordProperty("migrated_rounds", migrated.load());
}

}  // namespace
}  // namespace gmp::detail::mem
