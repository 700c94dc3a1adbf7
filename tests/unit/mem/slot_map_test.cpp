// The slot map (Note [The slot map], runtime/src/mem/slot_map.hpp): reserved
// read-only over the whole address space, writable only over the arena,
// zero everywhere but the pages of fast-tier spans, zeroed when the arena
// goes, and the pool exact without it.
#include <errno.h>
#include <sys/mman.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "mem/slot_map.hpp"
#include "pool_fixture.hpp"

namespace gmp::detail::mem {
namespace {

using gmp::pool::Tier;

std::uint16_t entry(const void* p) {
  return g_inline.slot_map.load()[reinterpret_cast<std::uintptr_t>(p) >> kInlinePageShift];
}

// The permissions ("r--p", "rw-p", ...) of the mapping that holds addr, from
// /proc/self/maps; "" if none does.
std::string perms_at(const void* addr) {
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long lo = 0, hi = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &lo, &hi, perms) == 3 && a >= lo && a < hi) return perms;
  }
  return "";
}

TEST_F(PoolTest, SlotMapIsZeroOutsideFastSpans) {
  const std::uint16_t* map = g_inline.slot_map.load();
  ASSERT_NE(map, nullptr);
  EXPECT_EQ(st().slot_map_error, "");
  int on_stack = 0;
  static int in_data = 0;
  void* large = gmp::pool::allocate(300 * 1024, Tier::kFast);  // jemalloc's
  void* fast = gmp::pool::allocate(64, Tier::kFast);
  void* txn = gmp::pool::allocate(64, Tier::kTxn);
  void* stable = gmp::pool::allocate(64, Tier::kStable);
  void* block = gmp::pool::allocate(16384, Tier::kStable);  // whole buddy pages
  EXPECT_EQ(entry(nullptr), 0u);
  EXPECT_EQ(entry(&on_stack), 0u);
  EXPECT_EQ(entry(&in_data), 0u);
  EXPECT_EQ(entry(large), 0u);
  EXPECT_EQ(entry(fast), fast_slot_offset(class_of(64)));
  EXPECT_EQ(entry(txn), 0u);
  EXPECT_EQ(entry(stable), 0u);
  EXPECT_EQ(entry(block), 0u);
  // The highest page below 2^47 has an entry too (reads the zero page).
  EXPECT_EQ(map[(std::uintptr_t{1} << (kInlineAddressBits - kInlinePageShift)) - 1], 0u);
  for (void* p : {large, fast, txn, stable, block}) gmp::pool::deallocate(p);
  auto s = st();
  EXPECT_EQ(s.large_frees, 1u);
  for (const auto& t : s.tiers) EXPECT_EQ(live_objects(t), 0) << t.name;
}

TEST_F(PoolTest, SlotMapIsWritableOnlyOverTheArena) {
  void* fast = gmp::pool::allocate(64, Tier::kFast);
  const std::uint16_t* map = g_inline.slot_map.load();
  int on_stack = 0;
  EXPECT_EQ(perms_at(&map[reinterpret_cast<std::uintptr_t>(fast) >> kInlinePageShift]), "rw-p");
  EXPECT_EQ(perms_at(&map[reinterpret_cast<std::uintptr_t>(&on_stack) >> kInlinePageShift]), "r--p");
  gmp::pool::deallocate(fast);
}

TEST_F(PoolTest, ResetZeroesTheOldArenasEntries) {
  void* fast = gmp::pool::allocate(64, Tier::kFast);
  const std::uint16_t* map = g_inline.slot_map.load();
  const std::uint16_t* e = &map[reinterpret_cast<std::uintptr_t>(fast) >> kInlinePageShift];
  ASSERT_NE(*e, 0u);
  gmp::pool::deallocate(fast);
  // The fixture's next pool; the old arena's range may or may not be reused.
  ASSERT_EQ(reset_for_test(small_config(), nullptr), "");
  EXPECT_EQ(g_inline.slot_map.load(), map);  // one map per process
  EXPECT_EQ(*e, 0u);
}

// The pool as it runs when the map cannot be had: every inline free takes
// the slow path, and the accounting stays exact.
class NoSlotMap : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(reset_for_test(small_config(), nullptr, /*without_slot_map=*/true), ""); }
  void TearDown() override { reset_for_test(small_config(), nullptr); }
};

TEST_F(NoSlotMap, EveryFreeIsExactThroughTheSlowPath) {
  EXPECT_EQ(g_inline.slot_map.load(), nullptr);
  auto s = st();
  EXPECT_NE(s.slot_map_error.find("inline frees take the slow path"), std::string::npos) << s.slot_map_error;
  EXPECT_NE(gmp::pool::banner().find(s.slot_map_error), std::string::npos) << gmp::pool::banner();
  std::vector<void*> v;
  for (int i = 0; i < 100; ++i) v.push_back(gmp::pool::allocate(48, Tier::kFast));
  void* txn = gmp::pool::allocate(48, Tier::kTxn);
  void* large = gmp::pool::allocate(300 * 1024, Tier::kFast);
  for (void* p : v) gmp::pool::deallocate(p, 48);
  gmp::pool::deallocate(txn, 48);
  gmp::pool::deallocate(large);
  gmp::pool::deallocate(nullptr);
  s = st();
  const auto& c = s.tiers[0].classes[class_of(48)];
  EXPECT_EQ(c.hits + c.misses, 100u);
  EXPECT_EQ(c.frees, 100u);
  EXPECT_EQ(live_objects(s.tiers[1]), 0);
  EXPECT_EQ(s.large_frees, 1u);
  // The objects came back to this thread's magazine: the next one is the last freed.
  void* again = gmp::pool::allocate(48, Tier::kFast);
  EXPECT_EQ(again, v.back());
  gmp::pool::deallocate(again);
}

TEST_F(NoSlotMap, TheMapComesBackAtTheNextInit) {
  ASSERT_EQ(reset_for_test(small_config(), nullptr), "");
  EXPECT_NE(g_inline.slot_map.load(), nullptr);
  EXPECT_EQ(st().slot_map_error, "");
}

// The kernel refusing the reservation (RLIMIT_AS, say).
class NoAddressSpace : public PageSource {
 public:
  void* map(void*, std::size_t, int, int, int* err) noexcept override {
    *err = ENOMEM;
    return nullptr;
  }
  int unmap(void*, std::size_t) noexcept override { return 0; }
  int move(void*, std::size_t, void*) noexcept override { return -ENOMEM; }
  int protect(void*, std::size_t, int) noexcept override { return -ENOMEM; }
  int advise(void*, std::size_t, int) noexcept override { return 0; }
  bool thp_available() noexcept override { return false; }
  int smaps(std::uintptr_t, std::uintptr_t, SmapsTotals*) noexcept override { return -ENOENT; }
};

TEST(SlotMap, ReservationFailureSaysWhy) {
  NoAddressSpace k;
  std::string why;
  EXPECT_EQ(map_slot_map(k, &why), nullptr);
  EXPECT_NE(why.find("cannot reserve the slot map"), std::string::npos) << why;
  EXPECT_NE(why.find(std::strerror(ENOMEM)), std::string::npos) << why;
}

// open/close on a map of its own, over a range whose entries start and end
// inside map pages (the partial pages at both ends are zeroed by hand).
TEST(SlotMap, CloseZeroesTheRangeAndMakesItReadOnly) {
  std::string why;
  std::uint16_t* map = map_slot_map(system_page_source(), &why);
  ASSERT_NE(map, nullptr) << why;
  const std::uintptr_t base = (std::uintptr_t{3} << 30) + 5 * 4096;  // entries from byte 1572874 + ...
  const std::size_t len = 9000 * 4096;                                 // 18000 bytes of entries: 5 map pages
  const std::size_t first = base >> kInlinePageShift, n = len >> kInlinePageShift;
  EXPECT_EQ(perms_at(&map[first]), "r--p");
  ASSERT_EQ(open_slot_range(system_page_source(), map, base, len), 0);
  EXPECT_EQ(perms_at(&map[first]), "rw-p");
  EXPECT_EQ(perms_at(&map[first + n - 1]), "rw-p");
  for (std::size_t i = 0; i < n; ++i) map[first + i] = static_cast<std::uint16_t>(i | 1);
  close_slot_range(system_page_source(), map, base, len);
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(map[first + i], 0u) << i;
  EXPECT_EQ(perms_at(&map[first]), "r--p");
  EXPECT_EQ(perms_at(&map[first + n - 1]), "r--p");
  ASSERT_EQ(system_page_source().unmap(map, kSlotMapBytes), 0);
}

}  // namespace
}  // namespace gmp::detail::mem
