// Tiers, class boundaries, TTL/LRU, batches, cross-P and foreign-thread
// frees with exact accounting, stable blocks, large objects, the API.
#include <chrono>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "gmp/gmp.hpp"
#include "pool_fixture.hpp"
#include "sched/sched.hpp"

namespace gmp::detail::mem {
namespace {

using gmp::pool::Tier;
using namespace std::chrono_literals;

TEST_F(PoolTest, FastTierMissThenLifoHit) {
  void* a = gmp::pool::allocate(16, Tier::kFast);
  ASSERT_NE(a, nullptr);
  gmp::pool::deallocate(a);
  void* b = gmp::pool::allocate(16, Tier::kFast);
  EXPECT_EQ(a, b);
  auto s = st();
  const auto& c = s.tiers[0].classes[0];
  EXPECT_EQ(c.misses, 1u);
  EXPECT_EQ(c.refills, 1u);
  EXPECT_EQ(c.hits, 1u);
  EXPECT_EQ(c.frees, 1u);
  EXPECT_EQ(c.bytes_in_use, 16u);
  EXPECT_EQ(c.bytes_cached, 31u * 16);  // the rest of the first batch of 32
  gmp::pool::deallocate(b);
}

TEST_F(PoolTest, ClassBoundariesRouteToTheRightClassAndTier) {
  struct Case { std::size_t size; Tier tier; int tier_idx; std::size_t cls_size; };
  const Case cases[] = {
      {1, Tier::kFast, 0, 16},          {16, Tier::kFast, 0, 16},        {17, Tier::kFast, 0, 32},
      {128, Tier::kFast, 0, 128},       {129, Tier::kFast, 0, 160},      {1024, Tier::kFast, 0, 1024},
      {1025, Tier::kFast, 1, 1280},     {16, Tier::kTxn, 1, 32},         {262144, Tier::kTxn, 1, 262144},
      {4096, Tier::kStable, 2, 4096},   {100, Tier::kStable, 2, 112},    {262144, Tier::kStable, 2, 262144},
  };
  for (const Case& k : cases) {
    ASSERT_EQ(reset_for_test(small_config(), nullptr), "");
    void* p = gmp::pool::allocate(k.size, k.tier);
    ASSERT_NE(p, nullptr);
    std::memset(p, 0xAB, k.size);
    auto s = st();
    int cls = class_of(k.cls_size);
    const auto& c = s.tiers[k.tier_idx].classes[cls];
    EXPECT_EQ(c.hits + c.misses, 1u) << k.size;
    EXPECT_GE(c.bytes_in_use, k.cls_size) << k.size;
    gmp::pool::deallocate(p, k.size);
    EXPECT_EQ(st().tiers[k.tier_idx].classes[cls].bytes_in_use, 0u) << k.size;
  }
}

TEST_F(PoolTest, AboveTheClassLimitGoesToJemalloc) {
  void* p = gmp::pool::allocate(262145, Tier::kFast);
  ASSERT_NE(p, nullptr);
  auto s = st();
  EXPECT_EQ(s.large_allocs, 1u);
  EXPECT_GE(s.large_bytes_in_use, 262145u);
  for (const auto& t : s.tiers) EXPECT_EQ(t.total.hits + t.total.misses, 0u);
  gmp::pool::deallocate(p);
  s = st();
  EXPECT_EQ(s.large_frees, 1u);
  EXPECT_EQ(s.large_bytes_in_use, 0u);
}

TEST_F(PoolTest, AlignedAllocationsAreAligned) {
  for (std::size_t a : {16u, 32u, 64u, 128u, 4096u}) {
    for (std::size_t sz : {1u, 40u, 100u, 3000u}) {
      void* p = gmp::pool::allocate_aligned(sz, a, Tier::kFast);
      ASSERT_NE(p, nullptr);
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % a, 0u) << a << " " << sz;
      gmp::pool::deallocate(p);
    }
  }
}

class FastFlushTest : public PoolTest {
  PoolConfig config() override { return magazine_config(16, 64); }
};

TEST_F(FastFlushTest, OverflowGoesBackInBatches) {
  std::vector<void*> v;
  for (int i = 0; i < 200; ++i) v.push_back(gmp::pool::allocate(48, Tier::kFast));
  auto s = st();
  const auto& c0 = s.tiers[0].classes[class_of(48)];
  EXPECT_EQ(c0.refills, 13u);  // ceil(200 / 16)
  for (void* p : v) gmp::pool::deallocate(p);
  s = st();
  const auto& c = s.tiers[0].classes[class_of(48)];
  EXPECT_EQ(c.bytes_in_use, 0u);
  // 208 objects were taken; at most 64 (+1 before a flush) stay local.
  EXPECT_EQ(c.bytes_cached, 208u * 48);
  EXPECT_GE(c.flushes, (208u - 65u) / 16u);
  EXPECT_LE(fast_held(*cache_for_test(), class_of(48)), 64u);
}

class TxnTest : public PoolTest {
  PoolConfig config() override {
    PoolConfig c = small_config();
    c.txn_ttl_ms = 40;
    c.txn_batch = 4;
    c.txn_sweep_every = 1'000'000;  // sweeps only when the test asks
    return c;
  }
};

TEST_F(TxnTest, AllocationTakesTheNewestObject) {
  void* a = gmp::pool::allocate(64, Tier::kTxn);
  void* b = gmp::pool::allocate(64, Tier::kTxn);
  gmp::pool::deallocate(a);
  gmp::pool::deallocate(b);
  EXPECT_EQ(gmp::pool::allocate(64, Tier::kTxn), b);
  EXPECT_EQ(gmp::pool::allocate(64, Tier::kTxn), a);
  gmp::pool::deallocate(a);
  gmp::pool::deallocate(b);
}

TEST_F(TxnTest, ExpiredObjectsAreRecycledOldestFirstInBatches) {
  const int cls = class_of(64);
  std::vector<void*> old, young;
  // Drain the first refill's extras into "old" so the local list is exactly ours.
  for (int i = 0; i < 10; ++i) old.push_back(gmp::pool::allocate(64, Tier::kTxn));
  for (int i = 0; i < 3; ++i) young.push_back(gmp::pool::allocate(64, Tier::kTxn));
  Cache* c = cache_for_test();
  std::uint64_t before_local = c->txn[cls].count.get();
  for (void* p : old) gmp::pool::deallocate(p);
  gmp::pool::sweep();  // nothing has expired yet
  EXPECT_EQ(c->txn[cls].count.get(), before_local + 10);
  std::this_thread::sleep_for(30ms);
  // Read before the young are freed: stats() walks every cache, slow under
  // TSan, and must not eat into the young ones' TTL.
  auto flushes0 = st().tiers[1].classes[cls].flushes;
  std::uint64_t central0 = state().central.list(TierId::kTxn, cls).count.load();
  for (void* p : young) gmp::pool::deallocate(p);
  std::this_thread::sleep_for(20ms);  // old: >= 50 ms, young: ~20 ms, TTL 40 ms
  gmp::pool::sweep();
  std::uint64_t recycled = state().central.list(TierId::kTxn, cls).count.load() - central0;
  EXPECT_GE(recycled, 10u);                          // every old one
  EXPECT_EQ(c->txn[cls].count.get(), 3u);            // the young ones stay
  EXPECT_EQ(st().tiers[1].classes[cls].flushes - flushes0, (recycled + 3) / 4);  // batches of 4
  // The survivors are the young ones, newest first.
  EXPECT_EQ(gmp::pool::allocate(64, Tier::kTxn), young[2]);
  EXPECT_EQ(gmp::pool::allocate(64, Tier::kTxn), young[1]);
  EXPECT_EQ(gmp::pool::allocate(64, Tier::kTxn), young[0]);
  for (void* p : young) gmp::pool::deallocate(p);
}

class TxnSweepEveryTest : public PoolTest {
  PoolConfig config() override {
    PoolConfig c = small_config();
    c.txn_ttl_ms = 5;
    c.txn_batch = 32;
    c.txn_sweep_every = 8;
    return c;
  }
};

TEST_F(TxnSweepEveryTest, EveryNthFreeSweeps) {
  const int cls = class_of(256);
  std::vector<void*> v;
  for (int i = 0; i < 8; ++i) v.push_back(gmp::pool::allocate(256, Tier::kTxn));
  Cache* c = cache_for_test();
  c->txn_frees_since_sweep = 0;
  for (int i = 0; i < 7; ++i) gmp::pool::deallocate(v[i]);
  std::this_thread::sleep_for(20ms);
  std::uint64_t flushes0 = st().tiers[1].classes[cls].flushes;
  gmp::pool::deallocate(v[7]);  // the 8th free sweeps: everything older than 5 ms goes, in one batch
  EXPECT_EQ(st().tiers[1].classes[cls].flushes - flushes0, 1u);
  EXPECT_EQ(c->txn[cls].count.get(), 1u);
}

// Txn objects freed on another thread are remote frees (back to the central
// list); fast objects have no home and go to the freeing thread's magazine.
TEST_F(PoolTest, ForeignThreadFreesAreExact) {
  constexpr int kN = 1000;
  std::vector<void*> v(kN);
  std::atomic<int> step{0};
  // The producer stays alive while the consumer frees, so each has its own
  // cache (an exited thread's cache is handed to the next foreign thread).
  std::thread producer([&] {
    for (int i = 0; i < kN; ++i) v[i] = gmp::pool::allocate(i % 2 ? 24 : 200, i % 3 ? Tier::kFast : Tier::kTxn);
    step.store(1);
    while (step.load() != 2) std::this_thread::yield();
  });
  std::thread consumer([&] {
    while (step.load() != 1) std::this_thread::yield();
    for (void* p : v) gmp::pool::deallocate(p);
    step.store(2);
  });
  consumer.join();
  producer.join();
  auto s = st();
  EXPECT_EQ(s.tiers[1].total.remote_frees, static_cast<std::uint64_t>((kN + 2) / 3));  // i % 3 == 0: txn
  EXPECT_EQ(s.tiers[0].total.remote_frees, 0u);
  EXPECT_EQ(s.tiers[0].total.frees + s.tiers[1].total.frees, static_cast<std::uint64_t>(kN));
  EXPECT_EQ(live_objects(s.tiers[0]), 0);
  EXPECT_EQ(live_objects(s.tiers[1]), 0);
  // Everything carved is cached somewhere (both threads exited: their caches were drained).
  for (int t = 0; t < 2; ++t) {
    std::uint64_t carved = 0;
    for (int cls = 0; cls < kNumClasses; ++cls)
      carved += state().central.list(static_cast<TierId>(t), cls).carved_bytes.load();
    EXPECT_EQ(s.tiers[t].total.bytes_cached, carved);
    EXPECT_EQ(s.tiers[t].total.bytes_in_use, 0u);
  }
  EXPECT_GE(s.foreign_caches, 2u);
}

TEST_F(PoolTest, CrossPFreesUnderTheRuntimeAreExact) {
  constexpr int kBatches = 64, kPer = 256;
  std::atomic<int> other_p{0};
  int rc = gmp::run(gmp::Config{.procs = 2, .pin = true, .cpus = {}}, [&] {
    std::vector<gmp::JoinHandle<void>> hs;
    for (int b = 0; b < kBatches; ++b) {
      auto* objs = new std::vector<void*>();
      int home = current_p_id();
      for (int i = 0; i < kPer; ++i) objs->push_back(gmp::pool::allocate(16 + (i % 8) * 16, Tier::kFast));
      hs.push_back(gmp::spawn([objs, home, &other_p] {
        if (current_p_id() != home) other_p.fetch_add(1);
        for (void* p : *objs) gmp::pool::deallocate(p);
        delete objs;
      }));
      if (b % 8 == 7) gmp::yield();
    }
    for (auto& h : hs) h.join();
    return 0;
  });
  ASSERT_EQ(rc, 0);
  auto s = st();
  EXPECT_EQ(live_objects(s.tiers[0]), 0);
  EXPECT_EQ(s.tiers[0].total.bytes_in_use, 0u);
  EXPECT_EQ(s.tiers[0].total.hits + s.tiers[0].total.misses, static_cast<std::uint64_t>(kBatches * kPer));
  EXPECT_EQ(s.tiers[0].total.remote_frees, 0u);  // fast objects: the freeing P keeps them
  RecordProperty("freed_on_another_p", other_p.load());
  EXPECT_EQ(s.tiers[0].total.frees, static_cast<std::uint64_t>(kBatches * kPer));
  std::uint64_t carved = 0;
  for (int cls = 0; cls < kNumClasses; ++cls) carved += state().central.list(TierId::kFast, cls).carved_bytes.load();
  EXPECT_EQ(s.tiers[0].total.bytes_cached, carved);
}

TEST_F(PoolTest, StableBlocksAndSmallStableObjects) {
  std::size_t free0 = state().buddy.free_bytes();
  void* small = gmp::pool::allocate(100, Tier::kStable);
  void* block = gmp::pool::allocate(8192, Tier::kStable);
  void* odd = gmp::pool::allocate(5000, Tier::kStable);  // an 8 KiB block
  ASSERT_TRUE(small && block && odd);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(block) % 8192, 0u);
  std::memset(block, 1, 8192);
  std::memset(odd, 1, 5000);
  gmp::pool::deallocate(block);
  gmp::pool::deallocate(odd);
  gmp::pool::deallocate(small);
  auto s = st();
  EXPECT_EQ(s.tiers[2].total.bytes_in_use, 0u);
  // Only the small object's span stays out of the buddy.
  EXPECT_EQ(state().buddy.free_bytes(), free0 - span_bytes(class_of(100)));
}

class ArenaGrowthTest : public PoolTest {
  PoolConfig config() override {
    PoolConfig c = small_config();
    c.chunk_bytes = 2u << 20;
    c.max_bytes = 8u << 20;
    return c;
  }
};

TEST_F(ArenaGrowthTest, GrowsByChunksThenFallsBackWithoutFailing) {
  std::vector<void*> v;
  for (int i = 0; i < 40; ++i) {  // 40 x 256 KiB = 10 MiB > 8 MiB of arena
    void* p = gmp::pool::allocate(256 * 1024, Tier::kStable);
    ASSERT_NE(p, nullptr);
    std::memset(p, 7, 4096);
    v.push_back(p);
  }
  auto s = st();
  EXPECT_EQ(s.arena_committed, 8u << 20);
  EXPECT_EQ(state().buddy.grows(), 3u);
  EXPECT_GT(s.tiers[2].total.fallbacks, 0u);
  EXPECT_EQ(s.tiers[2].total.fallbacks + s.tiers[2].total.misses, 40u);
  for (void* p : v) gmp::pool::deallocate(p);
  s = st();
  EXPECT_EQ(s.tiers[2].total.bytes_in_use, 0u);
  EXPECT_EQ(s.large_bytes_in_use, 0u);
}

// A fast allocation whose refill finds no memory falls back to jemalloc: it
// was counted down on its class's countdown but the magazine served nothing,
// so the derived hits and frees stay exact.
TEST_F(ArenaGrowthTest, AFastRefillWithoutMemoryFallsBackAndKeepsTheCountsExact) {
  std::vector<void*> blocks;
  while (st().tiers[2].total.fallbacks == 0) blocks.push_back(gmp::pool::allocate(256 * 1024, Tier::kStable));
  const int cls = class_of(48);
  void* p = gmp::pool::allocate(48, Tier::kFast);  // no span to carve
  ASSERT_NE(p, nullptr);
  void* q = gmp::pool::allocate(48, Tier::kFast);
  auto s = st();
  EXPECT_EQ(s.tiers[0].classes[cls].fallbacks, 2u);
  EXPECT_EQ(s.tiers[0].classes[cls].hits, 0u);
  EXPECT_EQ(s.tiers[0].classes[cls].misses, 0u);
  gmp::pool::deallocate(p);
  gmp::pool::deallocate(q);
  for (void* b : blocks) gmp::pool::deallocate(b);
  s = st();
  EXPECT_EQ(s.tiers[0].classes[cls].frees, 0u);  // jemalloc's: large frees
  EXPECT_EQ(s.large_bytes_in_use, 0u);
  EXPECT_EQ(live_objects(s.tiers[0]), 0);
  // Memory again: the class's next allocation is a refill, then hits.
  std::vector<void*> v;
  for (int i = 0; i < 5; ++i) v.push_back(gmp::pool::allocate(48, Tier::kFast));
  s = st();
  EXPECT_EQ(s.tiers[0].classes[cls].misses, 1u);
  EXPECT_EQ(s.tiers[0].classes[cls].hits, 4u);
  for (void* o : v) gmp::pool::deallocate(o);
  EXPECT_EQ(st().tiers[0].classes[cls].frees, 5u);
}

TEST_F(PoolTest, MakePooledAndContainers) {
  struct Obj {
    int a;
    std::string s;
    Obj(int x, std::string y) : a(x), s(std::move(y)) {}
  };
  auto p = gmp::make_pooled<Obj>(7, "seven");
  EXPECT_EQ(p->a, 7);
  EXPECT_EQ(p->s, "seven");
  static_assert(sizeof(gmp::pooled_ptr<Obj>) == sizeof(void*), "stateless deleter");
  struct alignas(64) Line { char c[64]; };
  auto l = gmp::make_pooled_in<Line>(Tier::kStable);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(l.get()) % 64, 0u);
  std::vector<int, gmp::pool::Allocator<int>> vec;
  for (int i = 0; i < 200000; ++i) vec.push_back(i);  // grows through every class into jemalloc
  EXPECT_EQ(vec[199999], 199999);
  std::map<int, int, std::less<int>, gmp::pool::Allocator<std::pair<const int, int>, Tier::kFast>> m;
  for (int i = 0; i < 1000; ++i) m[i] = i;
  EXPECT_EQ(m.size(), 1000u);
  static_assert(gmp::Poolable<Obj> && gmp::Poolable<Line>);
  static_assert(!gmp::Poolable<int[4]>);
  struct alignas(128) Wide { char c; };
  static_assert(!gmp::Poolable<Wide>);
  struct Huge { char c[300 * 1024]; };
  static_assert(!gmp::Poolable<Huge>);
}

TEST_F(PoolTest, SampledLatencyIsRecorded) {
  PoolConfig c = small_config();
  c.sample_every = 4;
  ASSERT_EQ(reset_for_test(c, nullptr), "");
  for (int i = 0; i < 400; ++i) gmp::pool::deallocate(gmp::pool::allocate(32));
  auto s = st();
  EXPECT_EQ(s.samples, 100u);
  EXPECT_GT(s.p99_ns, 0u);
  EXPECT_LE(s.p50_ns, s.p99_ns);
}

}  // namespace
}  // namespace gmp::detail::mem
