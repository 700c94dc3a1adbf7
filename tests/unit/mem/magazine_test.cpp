// The fast tier's magazines and transfer caches: underflow refills a batch
// into the magazine, overflow sends the top batch to the transfer cache, a
// full transfer cache spills onto the linked central list, a live cap change
// refits the magazine, and fast-tier objects belong to whoever frees them
// (no remote frees, exact accounting across threads and Ps).
#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "gmp/gmp.hpp"
#include "pool_fixture.hpp"

namespace gmp::detail::mem {
namespace {

using gmp::pool::Tier;

// Transfer-cache entries of a fast class. REQUIRES: no thread uses the class.
std::uint32_t xfer_n(int cls) {
  CentralList& l = state().central.list(TierId::kFast, cls);
  std::lock_guard g(l.mu);
  return l.xfer_n;
}

class MagazineTest : public PoolTest {
 protected:
  PoolConfig config() override { return magazine_config(8, 16); }
  static constexpr std::size_t kSize = 64;
  const int cls_ = class_of(kSize);
};

TEST_F(MagazineTest, UnderflowRefillsOneBatchAndHitsPopTheRestLifo) {
  void* first = gmp::pool::allocate(kSize, Tier::kFast);  // miss: 8 fetched, 1 returned
  Cache* c = cache_for_test();
  EXPECT_EQ(fast_held(*c, cls_), 7u);
  std::vector<void*> v{first};
  for (int i = 0; i < 7; ++i) v.push_back(gmp::pool::allocate(kSize, Tier::kFast));
  EXPECT_EQ(fast_held(*c, cls_), 0u);
  auto s = st();
  EXPECT_EQ(s.tiers[0].classes[cls_].misses, 1u);
  EXPECT_EQ(s.tiers[0].classes[cls_].hits, 7u);
  v.push_back(gmp::pool::allocate(kSize, Tier::kFast));  // empty again: the second refill
  EXPECT_EQ(st().tiers[0].classes[cls_].refills, 2u);
  EXPECT_EQ(fast_held(*c, cls_), 7u);
  // LIFO: a freed object is the next one allocated.
  gmp::pool::deallocate(v[3]);
  EXPECT_EQ(gmp::pool::allocate(kSize, Tier::kFast), v[3]);
  for (void* p : v) gmp::pool::deallocate(p);
  s = st();
  EXPECT_EQ(live_objects(s.tiers[0]), 0);
  EXPECT_EQ(s.tiers[0].classes[cls_].bytes_cached, carved(TierId::kFast));
}

// The null sentinel (FastSlot): a slot without an array is kEmptyMagazine
// (nothing to pop: top[-1] is null; no room: top == limit), an array has a
// null word just below base, and the inline path pops that null when the
// magazine is empty and leaves the refill to the slow path with top unmoved.
TEST_F(MagazineTest, AnEmptyMagazinePopsTheNullSentinelAndRefills) {
  for (const FastFront* f : {static_cast<const FastFront*>(&g_no_front), static_cast<const FastFront*>(cache_for_test())}) {
    for (const FastSlot* m : {&f->miss, &f->fast[cls_]}) {
      EXPECT_EQ(m->top.load(), kEmptyMagazine);
      EXPECT_EQ(m->base.load(), kEmptyMagazine);
      EXPECT_EQ(m->limit, kEmptyMagazine);
      EXPECT_EQ(m->top.load()[-1], nullptr);
    }
  }
  Cache* c = cache_for_test();
  std::vector<void*> v;
  for (int i = 0; i < 8; ++i) v.push_back(gmp::pool::allocate(kSize, Tier::kFast));  // 1 miss, 7 hits
  const FastSlot& m = c->fast[cls_];
  ASSERT_NE(m.base.load(), kEmptyMagazine);
  EXPECT_EQ(m.limit - m.base.load(), 16);  // the cap; the sentinel is below base
  EXPECT_EQ(m.top.load(), m.base.load());  // empty
  EXPECT_EQ(m.base.load()[-1], nullptr);
  v.push_back(gmp::pool::allocate(kSize, Tier::kFast));  // pops the sentinel: the slow path refills
  EXPECT_EQ(fast_held(*c, cls_), 7u);
  auto s = st();
  EXPECT_EQ(s.tiers[0].classes[cls_].misses, 2u);
  EXPECT_EQ(s.tiers[0].classes[cls_].hits, 7u);
  for (void* p : v) EXPECT_NE(p, nullptr);
  std::set<void*> distinct(v.begin(), v.end());
  EXPECT_EQ(distinct.size(), v.size());
  // A refit (live cap change) moves the objects to a new array, sentinel included.
  for (int i = 0; i < 8; ++i) v.push_back(gmp::pool::allocate(kSize, Tier::kFast));  // 7 hits, a miss: 7 held
  PoolConfig more = current_config();
  more.fast_capacity = 32;
  ASSERT_EQ(apply_config(more), "");
  for (int i = 0; i < 10; ++i) gmp::pool::deallocate(v[i]);  // full at 16; the 10th refits to 32
  EXPECT_EQ(m.limit - m.base.load(), 32);
  EXPECT_EQ(m.base.load()[-1], nullptr);
  EXPECT_EQ(fast_held(*c, cls_), 17u);
  std::vector<void*> w;
  for (int i = 0; i < 17; ++i) w.push_back(gmp::pool::allocate(kSize, Tier::kFast));  // hits, down to the sentinel
  EXPECT_EQ(m.top.load(), m.base.load());
  for (void* p : w) gmp::pool::deallocate(p);
  for (std::size_t i = 10; i < v.size(); ++i) gmp::pool::deallocate(v[i]);
  s = st();
  EXPECT_EQ(s.tiers[0].classes[cls_].misses, 3u);
  EXPECT_EQ(live_objects(s.tiers[0]), 0);
  EXPECT_EQ(s.tiers[0].classes[cls_].bytes_cached, carved(TierId::kFast));
}

TEST_F(MagazineTest, OverflowSendsTheTopBatchToTheTransferCache) {
  std::vector<void*> v;
  for (int i = 0; i < 24; ++i) v.push_back(gmp::pool::allocate(kSize, Tier::kFast));  // 3 refills, magazine empty
  Cache* c = cache_for_test();
  ASSERT_EQ(fast_held(*c, cls_), 0u);
  for (int i = 0; i < 16; ++i) gmp::pool::deallocate(v[i]);
  EXPECT_EQ(fast_held(*c, cls_), 16u);  // full: cap 16
  EXPECT_EQ(xfer_n(cls_), 0u);
  std::uint64_t flushes0 = st().tiers[0].classes[cls_].flushes;
  gmp::pool::deallocate(v[16]);  // overflow: v[8..15] (the top 8) go to the transfer cache
  EXPECT_EQ(st().tiers[0].classes[cls_].flushes - flushes0, 1u);
  EXPECT_EQ(fast_held(*c, cls_), 9u);
  EXPECT_EQ(xfer_n(cls_), 8u);
  CentralList& l = state().central.list(TierId::kFast, cls_);
  std::set<void*> in_xfer(l.xfer, l.xfer + 8);
  EXPECT_EQ(in_xfer, std::set<void*>(v.begin() + 8, v.begin() + 16));
  EXPECT_EQ(l.head, nullptr);  // nothing was linked through an object
  for (int i = 17; i < 24; ++i) gmp::pool::deallocate(v[i]);
  auto s = st();
  EXPECT_EQ(live_objects(s.tiers[0]), 0);
  EXPECT_EQ(s.tiers[0].classes[cls_].bytes_cached, carved(TierId::kFast));
  EXPECT_EQ(s.tiers[0].classes[cls_].bytes_cached, (fast_held(*c, cls_) + xfer_n(cls_)) * kSize);
}

// A transfer cache starts at kXferMinCap pointers and doubles when a flush
// does not fit; nothing is linked through an object while it may grow.
TEST_F(MagazineTest, TheTransferCacheGrowsByDoubling) {
  constexpr std::size_t kBig = 1024;
  const int cls = class_of(kBig);
  CentralList& l = state().central.list(TierId::kFast, cls);
  constexpr int n = 3000;
  std::vector<void*> v;
  for (int i = 0; i < n; ++i) v.push_back(gmp::pool::allocate(kBig, Tier::kFast));
  std::vector<std::uint32_t> caps;
  for (void* p : v) {
    gmp::pool::deallocate(p);
    std::lock_guard g(l.mu);
    if (caps.empty() || caps.back() != l.xfer_cap) caps.push_back(l.xfer_cap);
  }
  EXPECT_EQ(caps, (std::vector<std::uint32_t>{0, kXferMinCap, 1024, 2048, 4096}));
  EXPECT_EQ(l.head, nullptr);
  EXPECT_EQ(xfer_n(cls) + fast_held(*cache_for_test(), cls), carved(TierId::kFast) / kBig);
}

// At its bound (xfer_max_cap) the rest of a flush is linked onto the central
// list, and a refill takes the transfer cache first, then the list: every
// object comes back exactly once.
class XferBoundTest : public PoolTest {
 protected:
  PoolConfig config() override {
    PoolConfig c = magazine_config(8, 16);
    c.fast_max_size = 256 * 1024;  // a class whose bound is small in objects
    return c;
  }
};

TEST_F(XferBoundTest, AFullTransferCacheSpillsOntoTheLinkedList) {
  constexpr std::size_t kHuge = 256 * 1024;
  const int cls = class_of(kHuge);
  const std::uint32_t max_cap = xfer_max_cap(kHuge);
  ASSERT_EQ(max_cap, kXferMinCap);  // 64 MiB bound: no doubling for 256 KiB objects
  CentralList& l = state().central.list(TierId::kFast, cls);
  const int n = static_cast<int>(max_cap) + 20;
  std::vector<void*> v;
  for (int i = 0; i < n; ++i) v.push_back(gmp::pool::allocate(kHuge, Tier::kFast));
  for (void* p : v) gmp::pool::deallocate(p);
  Cache* c = cache_for_test();
  EXPECT_EQ(xfer_n(cls), max_cap);
  EXPECT_NE(l.head, nullptr);  // the rest was linked
  EXPECT_EQ(l.count.load() + fast_held(*c, cls), carved(TierId::kFast) / kHuge);
  std::vector<void*> again;
  std::thread t([&] {
    for (int i = 0; i < n; ++i) again.push_back(gmp::pool::allocate(kHuge, Tier::kFast));
  });
  t.join();
  std::sort(v.begin(), v.end());
  std::sort(again.begin(), again.end());
  EXPECT_EQ(std::adjacent_find(again.begin(), again.end()), again.end()) << "an object was handed out twice";
  std::vector<void*> common;
  std::set_intersection(v.begin(), v.end(), again.begin(), again.end(), std::back_inserter(common));
  EXPECT_GE(common.size(), static_cast<std::size_t>(n) - fast_held(*c, cls));  // no new span while the lists had objects
  for (void* p : again) gmp::pool::deallocate(p);
  auto s = st();
  EXPECT_EQ(live_objects(s.tiers[0]), 0);
  EXPECT_EQ(s.tiers[0].total.bytes_cached, carved(TierId::kFast));
}

// Ownership moves with the free: objects another thread allocated and this
// one freed are this thread's to allocate again, with no miss and no remote
// free (docs/POOL.md, "Ownership").
TEST_F(MagazineTest, FreedObjectsBelongToTheFreeingThread) {
  std::vector<void*> v(8);  // one refill: the producer's magazine is empty when it exits
  std::thread producer([&] {
    for (void*& p : v) p = gmp::pool::allocate(kSize, Tier::kFast);
  });
  producer.join();  // its cache is drained and parked
  void* warm = gmp::pool::allocate(kSize, Tier::kFast);  // this thread's magazine exists
  gmp::pool::deallocate(warm);
  Cache* c = cache_for_test();
  const std::uint64_t held0 = fast_held(*c, cls_);
  for (void* p : v) gmp::pool::deallocate(p);
  auto s0 = st().tiers[0].classes[cls_];
  EXPECT_EQ(s0.remote_frees, 0u);
  ASSERT_EQ(held0, 8u);
  EXPECT_EQ(fast_held(*c, cls_), 16u);  // 8 + 8: full, no overflow
  std::vector<void*> mine;
  for (std::size_t i = 0; i < v.size(); ++i) mine.push_back(gmp::pool::allocate(kSize, Tier::kFast));
  auto s1 = st().tiers[0].classes[cls_];
  EXPECT_EQ(s1.misses, s0.misses);  // all hits
  EXPECT_EQ(s1.hits - s0.hits, v.size());
  std::sort(v.begin(), v.end());
  std::sort(mine.begin(), mine.end());
  EXPECT_EQ(mine, v);  // the objects the producer carved, reused here
  for (void* p : mine) gmp::pool::deallocate(p);
  EXPECT_EQ(live_objects(st().tiers[0]), 0);
}

// A live cap change applies at the magazine's next overflow (or refill):
// smaller sends what is above the new cap to the central list, larger keeps
// every object and makes room.
TEST_F(MagazineTest, ALiveCapChangeRefitsTheMagazine) {
  std::vector<void*> v;
  for (int i = 0; i < 40; ++i) v.push_back(gmp::pool::allocate(kSize, Tier::kFast));
  for (int i = 0; i < 16; ++i) gmp::pool::deallocate(v[i]);
  Cache* c = cache_for_test();
  ASSERT_EQ(fast_held(*c, cls_), 16u);
  PoolConfig more = current_config();
  more.fast_capacity = 32;
  ASSERT_EQ(apply_config(more), "");
  for (int i = 16; i < 32; ++i) gmp::pool::deallocate(v[i]);  // no flush: the magazine grew to 32
  EXPECT_EQ(fast_held(*c, cls_), 32u);
  EXPECT_EQ(xfer_n(cls_), 0u);
  PoolConfig fewer = current_config();
  fewer.fast_capacity = 8;
  ASSERT_EQ(apply_config(fewer), "");
  // A full magazine: refit to 8 (24 flushed), still full, so the top batch
  // of 8 goes too; then the push.
  gmp::pool::deallocate(v[32]);
  EXPECT_EQ(fast_held(*c, cls_), 1u);
  EXPECT_EQ(xfer_n(cls_), 32u);
  for (int i = 33; i < 40; ++i) gmp::pool::deallocate(v[i]);
  EXPECT_LE(fast_held(*c, cls_), 8u);
  auto s = st();
  EXPECT_EQ(live_objects(s.tiers[0]), 0);
  EXPECT_EQ(s.tiers[0].total.bytes_cached, carved(TierId::kFast));
}

// Stats read a magazine's length from another thread while its owner refits
// it again and again (live cap changes): the length read is always one the
// magazine could have (never a top of one array minus the base of another).
TEST_F(MagazineTest, StatsReadersNeverSeeATornMagazine) {
  std::atomic<Cache*> owner_cache{nullptr};
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> reads{0}, torn{0};
  std::thread owner([&] {
    std::vector<void*> v;
    for (int round = 0; round < 400; ++round) {
      for (int i = 0; i < 70; ++i) v.push_back(gmp::pool::allocate(kSize, Tier::kFast));
      owner_cache.store(cache_for_test());
      if (round % 8 == 0) {
        PoolConfig c = current_config();
        c.fast_capacity = c.fast_capacity == 16 ? 64 : 16;
        EXPECT_EQ(apply_config(c), "");
      }
      for (void* p : v) gmp::pool::deallocate(p);  // overflows refit the magazine to the new cap
      v.clear();
    }
    stop.store(true);
  });
  std::thread reader([&] {
    while (!stop.load()) {
      Cache* c = owner_cache.load();
      if (c == nullptr) continue;
      std::uint64_t h = fast_held(*c, cls_);
      reads.fetch_add(1, std::memory_order_relaxed);
      if (h > 64) torn.fetch_add(1, std::memory_order_relaxed);
    }
  });
  owner.join();
  reader.join();
  EXPECT_EQ(torn.load(), 0u);
  RecordProperty("reads", static_cast<int>(reads.load()));
  EXPECT_EQ(live_objects(st().tiers[0]), 0);
}

// Two Ps hand objects back and forth (each frees what the other allocated):
// every free is local to the freeing P, counted once, and in use + cached
// adds up to what was carved.
TEST_F(PoolTest, CrossPProducerConsumerIsExact) {
  constexpr int kRounds = 200, kPer = 64;
  std::atomic<std::uint64_t> allocated{0};
  int rc = gmp::run(gmp::Config{.procs = 2, .pin = true, .cpus = {}}, [&] {
    gmp::Chan<std::vector<void*>*> ch(4);
    auto consumer = gmp::spawn([&] {
      for (int r = 0; r < kRounds; ++r) {
        std::vector<void*>* b = *ch.recv();
        for (void* p : *b) gmp::pool::deallocate(p);
        delete b;
      }
    });
    for (int r = 0; r < kRounds; ++r) {
      auto* b = new std::vector<void*>();
      for (int i = 0; i < kPer; ++i) b->push_back(gmp::pool::allocate(16 + (i % 16) * 16, Tier::kFast));
      allocated.fetch_add(kPer);
      ch.send(b);
    }
    consumer.join();
    return 0;
  });
  ASSERT_EQ(rc, 0);
  auto s = st();
  EXPECT_EQ(s.tiers[0].total.hits + s.tiers[0].total.misses, allocated.load());
  EXPECT_EQ(s.tiers[0].total.frees, allocated.load());
  EXPECT_EQ(s.tiers[0].total.remote_frees, 0u);
  EXPECT_EQ(s.tiers[0].total.bytes_in_use, 0u);
  EXPECT_EQ(s.tiers[0].total.bytes_cached, carved(TierId::kFast));
}

}  // namespace
}  // namespace gmp::detail::mem
