// The fault drill (txn frees leaked -> detected -> degraded to jemalloc) and
// ASan poisoning of freed pool memory.
#include <vector>

#include "pool_fixture.hpp"

namespace gmp::detail::mem {
namespace {

using gmp::pool::Tier;

TEST(FaultDrill, LeakedTxnFreesAreDetectedAndTheTierDegrades) {
  PoolConfig c = small_config();
  c.txn_leak_percent = 30;
  c.detect_min_bytes = 1u << 20;
  c.detect_lost_fraction = 0.2;
  ASSERT_EQ(reset_for_test(c, nullptr), "");
  testing::internal::CaptureStderr();
  std::uint64_t allocated = 0;
  for (int i = 0; i < 20000 && !gmp::pool::stats(false).txn_degraded; ++i) {
    void* p = gmp::pool::allocate(1024, Tier::kTxn);
    ASSERT_NE(p, nullptr);  // no allocation ever fails
    allocated++;
    gmp::pool::deallocate(p);
  }
  std::string log = testing::internal::GetCapturedStderr();
  auto s = gmp::pool::stats(false);
  ASSERT_TRUE(s.txn_degraded);
  EXPECT_EQ(s.degrade_events, 1u);
  EXPECT_NE(log.find("degrading txn allocations to jemalloc"), std::string::npos) << log;
  EXPECT_GT(s.tiers[1].total.leaked, 0u);
  // After the degrade, txn allocations come from jemalloc, counted; frees of
  // both kinds still work and nothing is lost from the accounting.
  std::vector<void*> v;
  for (int i = 0; i < 100; ++i) v.push_back(gmp::pool::allocate(1024, Tier::kTxn));
  for (void* p : v) ASSERT_NE(p, nullptr);
  auto s2 = gmp::pool::stats(false);
  EXPECT_EQ(s2.tiers[1].total.fallbacks - s.tiers[1].total.fallbacks, 100u);
  for (void* p : v) gmp::pool::deallocate(p);
  auto s3 = gmp::pool::stats(false);
  EXPECT_EQ(s3.large_bytes_in_use, 0u);
  EXPECT_EQ(live_objects(s3.tiers[1]), 0);
  // Other tiers are untouched.
  void* f = gmp::pool::allocate(64, Tier::kFast);
  EXPECT_EQ(gmp::pool::stats(false).tiers[0].total.fallbacks, 0u);
  gmp::pool::deallocate(f);
}

// Note [Loss detection under a racy scan]: one scan that sees a loss (here
// faked: frees added to this cache's counters, as a scan held off its CPU
// between two caches would see them) marks the tier suspect and does not
// degrade it; a check without the loss clears the mark; a loss larger than
// everything carved is ignored; a loss seen again after more carving
// degrades.
TEST(FaultDrill, OneMisreadDoesNotDegrade) {
  PoolConfig c = small_config();
  c.detect_min_bytes = 1u << 20;
  c.detect_lost_fraction = 0.2;
  ASSERT_EQ(reset_for_test(c, nullptr), "");
  PoolState& ps = state();
  const int cls = class_of(1024);
  std::vector<void*> v;
  for (int i = 0; i < 4000; ++i) v.push_back(gmp::pool::allocate(1024, Tier::kTxn));  // ~4 MiB carved, live
  ClassCounters& k = cache_for_test()->ctr[1][cls];
  auto carved_txn = [&] { return ps.central.list(TierId::kTxn, cls).carved_bytes.load(); };
  const std::uint64_t misread = 2000;  // 2 MB of objects "freed" but nowhere cached: over both thresholds
  k.frees.add(misread);
  check_txn_growth();
  EXPECT_FALSE(ps.txn_degraded.load());
  EXPECT_EQ(ps.txn_loss_seen_at.load(), carved_txn());
  check_txn_growth();  // no carving since: not a second sighting
  EXPECT_FALSE(ps.txn_degraded.load());
  k.frees.sub(misread);
  check_txn_growth();  // the loss is gone: the mark too
  EXPECT_EQ(ps.txn_loss_seen_at.load(), 0u);
  k.frees.add(1'000'000);  // 1 GB "lost" of ~4 MB carved: a misread, not even a mark
  check_txn_growth();
  EXPECT_EQ(ps.txn_loss_seen_at.load(), 0u);
  EXPECT_FALSE(ps.txn_degraded.load());
  k.frees.sub(1'000'000);
  // A loss that persists across carving degrades.
  k.frees.add(misread);
  check_txn_growth();
  for (int i = 0; i < 2000; ++i) v.push_back(gmp::pool::allocate(1024, Tier::kTxn));  // carves, and checks
  EXPECT_TRUE(ps.txn_degraded.load());
  EXPECT_EQ(ps.degrade_events.load(), 1u);
  k.frees.sub(misread);
  for (void* p : v) gmp::pool::deallocate(p);
}

TEST(FaultDrill, NoLeakNoDegrade) {
  PoolConfig c = small_config();
  c.detect_min_bytes = 1u << 20;
  ASSERT_EQ(reset_for_test(c, nullptr), "");
  std::vector<void*> v;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 500; ++i) v.push_back(gmp::pool::allocate(1024 + round * 512, Tier::kTxn));
    for (void* p : v) gmp::pool::deallocate(p);
    v.clear();
  }
  EXPECT_FALSE(gmp::pool::stats(false).txn_degraded);
}

#if defined(GMP_MEM_ASAN)
TEST(Asan, UseAfterFreeOfPoolMemoryIsCaught) {
  ASSERT_EQ(reset_for_test(small_config(), nullptr), "");
  for (Tier t : {Tier::kFast, Tier::kTxn, Tier::kStable}) {
    EXPECT_DEATH(
        {
          auto* p = static_cast<volatile char*>(gmp::pool::allocate(64, t));
          gmp::pool::deallocate(const_cast<char*>(p));
          p[8] = 1;
        },
        "use-after-poison");
  }
}
#else
TEST(Asan, UseAfterFreeOfPoolMemoryIsCaught) { GTEST_SKIP() << "needs the sanitizer build (GMP_SANITIZE=address)"; }
#endif

}  // namespace
}  // namespace gmp::detail::mem
