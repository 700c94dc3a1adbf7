// The pool's checked mode (Note [Checked mode], mem/checked.hpp): the inline
// paths stay unpublished, correct use is never reported, and each misuse —
// double free on every tier, a pointer inside an object, a foreign pointer,
// a write after free — ends the process with one line naming the pointer.
#include <jemalloc/jemalloc.h>
#include <stdlib.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "pool_fixture.hpp"

namespace gmp::detail::mem {
namespace {

using gmp::pool::Tier;

PoolConfig checked_config() {
  PoolConfig c = small_config();
  c.checked = true;
  return c;
}

class CheckedTest : public PoolTest {
 protected:
  PoolConfig config() override { return checked_config(); }
};

// The address as fatal()'s %p writes it, for a death test's regex.
std::string hex(const void* p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", p);
  return buf;
}

bool all_bytes(const void* p, std::size_t n, unsigned char v) {
  for (std::size_t i = 0; i < n; ++i)
    if (static_cast<const unsigned char*>(p)[i] != v) return false;
  return true;
}

TEST_F(CheckedTest, InlinePathsAreNotPublished) {
  EXPECT_TRUE(st().checked);
  EXPECT_EQ(g_inline.slot_map.load(), nullptr);
  for (std::size_t n = 0; n <= kInlineMaxSize; ++n) ASSERT_EQ(g_inline.slot_of[n].load(), 0) << n;
  // And the unchecked pool publishes them (the same test's control).
  ASSERT_EQ(reset_for_test(small_config(), nullptr), "");
  EXPECT_FALSE(st().checked);
  EXPECT_NE(g_inline.slot_map.load(), nullptr);
  EXPECT_NE(g_inline.slot_of[64].load(), 0);
}

TEST_F(CheckedTest, CorrectUseOnEveryTierIsNotReportedAndCountsStayExact) {
  const std::size_t sizes[] = {1, 16, 24, 64, 100, 256, 1000, 1024, 1500, 4096, 5000, 65536, 262144, 300000};
  const Tier tiers[] = {Tier::kFast, Tier::kTxn, Tier::kStable};
  for (int round = 0; round < 3; ++round) {
    std::vector<std::pair<void*, std::size_t>> live;
    for (Tier t : tiers)
      for (std::size_t n : sizes)
        for (int i = 0; i < 40; ++i) {
          void* p = gmp::pool::allocate(n, t);
          ASSERT_NE(p, nullptr);
          std::memset(p, 0x11 * (i % 15 + 1), n);  // every byte the caller owns
          live.emplace_back(p, n);
        }
    void* a = gmp::pool::allocate_aligned(100, 64, Tier::kFast);
    ASSERT_EQ(reinterpret_cast<std::uintptr_t>(a) % 64, 0u);
    live.emplace_back(a, 100);
    // Half sized, half not; every other one on another thread (a foreign cache).
    std::vector<std::pair<void*, std::size_t>> mine, other;
    for (std::size_t i = 0; i < live.size(); ++i) (i % 2 ? other : mine).push_back(live[i]);
    std::thread th([&] {
      for (auto [p, n] : other) gmp::pool::deallocate(p, n);
    });
    for (std::size_t i = 0; i < mine.size(); ++i) {
      if (i % 2) gmp::pool::deallocate(mine[i].first, mine[i].second);
      else gmp::pool::deallocate(mine[i].first);
    }
    th.join();
  }
  auto s = st();
  for (int t = 0; t < 3; ++t) EXPECT_EQ(live_objects(s.tiers[t]), 0) << t;
  EXPECT_EQ(s.large_allocs, s.large_frees);
}

TEST_F(CheckedTest, NewObjectsReadAsAllocJunkAndNothingOfTheLastUser) {
  void* p = gmp::pool::allocate(64, Tier::kFast);
  EXPECT_TRUE(all_bytes(p, 64, kAllocJunk));  // a fresh span's object
  std::memset(p, 0x42, 64);
  gmp::pool::deallocate(p);
  void* q = gmp::pool::allocate(64, Tier::kFast);
  ASSERT_EQ(q, p);  // LIFO
  EXPECT_TRUE(all_bytes(q, 64, kAllocJunk));
  gmp::pool::deallocate(q);
  void* t = gmp::pool::allocate(200, Tier::kTxn);
  EXPECT_TRUE(all_bytes(t, 200, kAllocJunk));
  gmp::pool::deallocate(t);
}

TEST_F(CheckedTest, FreedObjectsHoldTheFreePatternPastTheirLinks) {
  void* p = gmp::pool::allocate(64, Tier::kFast);
  void* keep = gmp::pool::allocate(64, Tier::kFast);  // the class stays in use
  gmp::pool::deallocate(p);
  // Read what a use after free would read (not a write: the next allocation
  // would report it). Under ASan the object is poisoned: look without it.
  GMP_MEM_UNPOISON(p, 64);
  EXPECT_TRUE(all_bytes(static_cast<char*>(p) + 8, 56, kFreeJunk));
  GMP_MEM_POISON(p, 64);
  gmp::pool::deallocate(keep);
}

using CheckedDeathTest = CheckedTest;

TEST_F(CheckedDeathTest, DoubleFreeOfAFastObject) {
  void* p = gmp::pool::allocate(64, Tier::kFast);
  gmp::pool::deallocate(p);
  EXPECT_EXIT(gmp::pool::deallocate(p), ::testing::ExitedWithCode(70),
              "runtime: pool: double free of " + hex(p) + ": the 64-byte fast-tier object there is already free");
  EXPECT_EXIT(gmp::pool::deallocate(p, 64), ::testing::ExitedWithCode(70), "double free of " + hex(p));
}

TEST_F(CheckedDeathTest, DoubleFreeOnEveryOtherTierAndOfALargeObject) {
  void* t = gmp::pool::allocate(100, Tier::kTxn);
  gmp::pool::deallocate(t);
  EXPECT_EXIT(gmp::pool::deallocate(t), ::testing::ExitedWithCode(70),
              "double free of " + hex(t) + ": the 112-byte txn-tier object there is already free");
  void* s = gmp::pool::allocate(100, Tier::kStable);
  gmp::pool::deallocate(s);
  EXPECT_EXIT(gmp::pool::deallocate(s), ::testing::ExitedWithCode(70),
              "double free of " + hex(s) + ": the 112-byte stable-tier object");
  void* b = gmp::pool::allocate(8192, Tier::kStable);  // a buddy block
  gmp::pool::deallocate(b);
  EXPECT_EXIT(gmp::pool::deallocate(b), ::testing::ExitedWithCode(70), "double free of " + hex(b));
  void* l = gmp::pool::allocate(1 << 20);  // above the class limit: jemalloc
  gmp::pool::deallocate(l);
  EXPECT_EXIT(gmp::pool::deallocate(l), ::testing::ExitedWithCode(70),
              "invalid free of " + hex(l) + ": not a pointer the pool returned .*freed twice");
}

TEST_F(CheckedDeathTest, APointerInsideAnObject) {
  auto* p = static_cast<char*>(gmp::pool::allocate(64, Tier::kFast));
  EXPECT_EXIT(gmp::pool::deallocate(p + 16), ::testing::ExitedWithCode(70),
              "invalid free of " + hex(p + 16) + ": not the start of an object \\(16 bytes into the 64-byte "
              "fast-tier object at " + hex(p) + "\\)");
  EXPECT_EXIT(gmp::pool::deallocate(p + 1), ::testing::ExitedWithCode(70),
              "invalid free of " + hex(p + 1) + ": not the start of an object \\(1 bytes into");
  gmp::pool::deallocate(p);  // the object itself is still live and fine
}

TEST_F(CheckedDeathTest, AForeignPointer) {
  void* m = ::malloc(64);
  EXPECT_EXIT(gmp::pool::deallocate(m), ::testing::ExitedWithCode(70),
              "invalid free of " + hex(m) + ": not a pointer the pool returned \\(outside its arena");
  ::free(m);
  void* j = mallocx(64, 0);  // jemalloc's, not the pool's
  EXPECT_EXIT(gmp::pool::deallocate(j, 64), ::testing::ExitedWithCode(70), "invalid free of " + hex(j));
  dallocx(j, 0);
  int on_stack = 0;
  EXPECT_EXIT(gmp::pool::deallocate(&on_stack), ::testing::ExitedWithCode(70), "invalid free of " + hex(&on_stack));
}

TEST_F(CheckedDeathTest, AWriteAfterFreeIsFoundByTheNextAllocation) {
#if defined(GMP_MEM_ASAN)
  GTEST_SKIP() << "ASan reports the write itself first (the free object is poisoned)";
#else
  auto* p = static_cast<char*>(gmp::pool::allocate(64, Tier::kFast));
  gmp::pool::deallocate(p);
  p[40] = 'x';  // the misuse under test
  EXPECT_EXIT((void)gmp::pool::allocate(64, Tier::kFast), ::testing::ExitedWithCode(70),
              "runtime: pool: use after free: the 64-byte fast-tier object at " + hex(p) +
                  " was written after its free \\(byte 40 is 0x78, not the free pattern 0xdf\\)");
  p[40] = static_cast<char>(kFreeJunk);  // mended: the next allocation takes it
  gmp::pool::deallocate(gmp::pool::allocate(64, Tier::kFast));
  // The txn tier, past its 24 link bytes.
  auto* t = static_cast<char*>(gmp::pool::allocate(128, Tier::kTxn));
  gmp::pool::deallocate(t);
  t[100] = 0;
  EXPECT_EXIT((void)gmp::pool::allocate(128, Tier::kTxn), ::testing::ExitedWithCode(70),
              "use after free: the 128-byte txn-tier object at " + hex(t) + " .*byte 100 is 0x00");
  t[100] = static_cast<char>(kFreeJunk);
#endif
}

TEST_F(CheckedTest, CannotChangeOnARunningPoolAndSetCheckedSaysSo) {
  (void)gmp::pool::init();
  PoolConfig c = current_config();
  c.checked = false;
  EXPECT_EQ(apply_config(c),
            "checks.enabled cannot change on a running pool (checked mode is on); set it before the pool's first use "
            "(GMP_POOL_CHECKED, pool::set_checked or a config loaded before)");
  EXPECT_NE(gmp::pool::set_checked(false).message().find("checked mode off: checks.enabled cannot change"),
            std::string::npos);
  EXPECT_EQ(gmp::pool::set_checked(true).message(), "");  // no change: fine
  EXPECT_TRUE(st().checked);
}

TEST(CheckedConfig, KeyParsesAndRefusesANonBoolean) {
  PoolConfig c;
  c.checked = false;
  EXPECT_EQ(parse_config("[checks]\nenabled = true\n", "p.toml", &c), "");
  EXPECT_TRUE(c.checked);
  EXPECT_EQ(parse_config("[checks]\nenabled = false\n", "p.toml", &c), "");
  EXPECT_FALSE(c.checked);
  EXPECT_EQ(parse_config("[checks]\nenabled = 1\n", "p.toml", &c),
            "p.toml:2: checks.enabled: expected a boolean, got a integer; use true or false");
  EXPECT_EQ(parse_config("[checks]\nlevel = 2\n", "p.toml", &c),
            "p.toml:2: checks.level: unknown key; see docs/POOL.md for the keys of [checks]");
}

TEST(CheckedConfig, EnvironmentSwitch) {
  const char* old = std::getenv("GMP_POOL_CHECKED");
  std::string saved = old ? old : "";
  for (const char* on : {"1", "on", "true"}) {
    setenv("GMP_POOL_CHECKED", on, 1);
    EXPECT_EQ(checked_from_env(), 1) << on;
  }
  for (const char* off : {"0", "off", "false"}) {
    setenv("GMP_POOL_CHECKED", off, 1);
    EXPECT_EQ(checked_from_env(), 0) << off;
  }
  setenv("GMP_POOL_CHECKED", "maybe", 1);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(checked_from_env(), -1);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "gmp pool: GMP_POOL_CHECKED=maybe: not a switch; use 1 or 0 (on/off); ignored\n");
  unsetenv("GMP_POOL_CHECKED");
  EXPECT_EQ(checked_from_env(), -1);
  if (old) setenv("GMP_POOL_CHECKED", saved.c_str(), 1);
}

}  // namespace
}  // namespace gmp::detail::mem
