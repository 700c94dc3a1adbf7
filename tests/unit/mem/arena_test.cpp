// Hugepage modes and their fallbacks (forced through a fake kernel), the
// real THP and hugetlb paths when the machine has them, and the rule that
// memory goes back to the kernel only in whole 2 MiB units.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "pool_fixture.hpp"

namespace gmp::detail::mem {
namespace {

using gmp::pool::Tier;

// The real kernel, except what a test switches off; records releases.
class FakeKernel : public PageSource {
 public:
  bool hugetlb_ok = false;
  // With hugetlb_ok: how many hugetlb mappings succeed before the pages run
  // out (-1: never). They are emulated with small pages (nothing reserved).
  int hugetlb_left = -1;
  bool thp_ok = true;
  // How many commits of small pages (mprotect of the reservation to
  // read-write, the kernel's commit charge) succeed before the kernel
  // refuses them with ENOMEM (-1: never).
  int small_left = -1;
  int small_refused = 0;
  std::vector<std::pair<std::uintptr_t, std::size_t>> dontneed;
  std::vector<int> advices;

  std::vector<int> map_flags;

  void* map(void* addr, std::size_t len, int prot, int flags, int* err) noexcept override {
    map_flags.push_back(flags);
    if ((flags & MAP_HUGETLB) && (!hugetlb_ok || hugetlb_left == 0)) {
      *err = ENOMEM;
      return nullptr;
    }
    if ((flags & MAP_HUGETLB) && hugetlb_left > 0) {
      --hugetlb_left;
      flags &= ~(MAP_HUGETLB | (0x3f << MAP_HUGE_SHIFT));
    }
    return system_page_source().map(addr, len, prot, flags, err);
  }
  int unmap(void* a, std::size_t l) noexcept override { return system_page_source().unmap(a, l); }
  int move(void* o, std::size_t l, void* to) noexcept override { return system_page_source().move(o, l, to); }
  int protect(void* a, std::size_t l, int p) noexcept override {
    if (p != PROT_NONE && small_left == 0) {
      ++small_refused;
      return -ENOMEM;
    }
    if (p != PROT_NONE && small_left > 0) --small_left;
    return system_page_source().protect(a, l, p);
  }
  int advise(void* a, std::size_t l, int adv) noexcept override {
    advices.push_back(adv);
    if (adv == MADV_HUGEPAGE && !thp_ok) return -EINVAL;
    if (adv == MADV_DONTNEED) dontneed.emplace_back(reinterpret_cast<std::uintptr_t>(a), l);
    return system_page_source().advise(a, l, adv);
  }
  bool thp_available() noexcept override { return thp_ok; }
  int smaps(std::uintptr_t b, std::uintptr_t e, SmapsTotals* o) noexcept override {
    return system_page_source().smaps(b, e, o);
  }
};

// The fake outlives the pool that uses it: TearDown puts the real kernel back.
class HugeModes : public ::testing::Test {
 protected:
  void TearDown() override { reset_for_test(small_config(), nullptr); }
  FakeKernel k;
};
using Release = HugeModes;

PoolConfig with_mode(HugeMode m) {
  PoolConfig c = small_config();
  c.hugepages = m;
  c.chunk_bytes = 4u << 20;
  c.max_bytes = 64u << 20;
  return c;
}

TEST_F(HugeModes, ForcedHugetlbWithoutReservedPagesIsAClearError) {
  std::string err = reset_for_test(with_mode(HugeMode::kHugetlb), &k);
  EXPECT_NE(err.find("hugetlb"), std::string::npos) << err;
  EXPECT_NE(err.find("nr_hugepages"), std::string::npos) << err;
  // The pool still serves every request (from jemalloc), counted.
  void* p = gmp::pool::allocate(64);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(gmp::pool::stats(false).tiers[0].total.fallbacks, 1u);
  gmp::pool::deallocate(p);
}

TEST_F(HugeModes, ForcedThpWhenThpIsOffIsAClearError) {
  k.thp_ok = false;
  std::string err = reset_for_test(with_mode(HugeMode::kThp), &k);
  EXPECT_NE(err.find("thp"), std::string::npos) << err;
}

TEST_F(HugeModes, AutoFallsBackFromHugetlbToThp) {
  ASSERT_EQ(reset_for_test(with_mode(HugeMode::kAuto), &k), "");
  EXPECT_EQ(state().arena.mode(), HugeMode::kThp);
}

// The real kernel's hugetlb attempt (it fails here unless pages are
// reserved) never maps MAP_FIXED over the reservation: a failed MAP_FIXED
// has already unmapped the range, and another thread's mmap could land in
// the hole (jemalloc did, and its metadata was zeroed by the re-reservation).
TEST_F(HugeModes, AHugetlbAttemptNeverOpensAHoleInTheReservation) {
  k.hugetlb_ok = true;  // pass MAP_HUGETLB through to the kernel
  ASSERT_EQ(reset_for_test(with_mode(HugeMode::kAuto), &k), "");
  for (int f : k.map_flags) EXPECT_FALSE((f & MAP_FIXED) && (f & MAP_HUGETLB)) << "flags " << f;
  // Every page of the reservation is still mapped: nothing else can be put there.
  const auto& a = state().arena;
  for (std::size_t off = 0; off < a.reserved_bytes(); off += 2u << 20) {
    void* probe = mmap(reinterpret_cast<void*>(a.base() + off), 4096, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    EXPECT_EQ(probe, MAP_FAILED) << "hole at +" << off;
    if (probe != MAP_FAILED) munmap(probe, 4096);
  }
}

TEST_F(HugeModes, AutoFallsBackToSmallPagesWithoutThp) {
  k.thp_ok = false;
  ASSERT_EQ(reset_for_test(with_mode(HugeMode::kAuto), &k), "");
  EXPECT_EQ(state().arena.mode(), HugeMode::kOff);
}

TEST_F(HugeModes, OffAsksForNoHugepages) {
  ASSERT_EQ(reset_for_test(with_mode(HugeMode::kOff), &k), "");
  EXPECT_EQ(state().arena.mode(), HugeMode::kOff);
  bool nohuge = false;
  for (int a : k.advices) nohuge |= a == MADV_NOHUGEPAGE;
  EXPECT_TRUE(nohuge);
}

TEST_F(HugeModes, RealThpCoversTheArena) {
  if (!system_page_source().thp_available()) GTEST_SKIP() << "THP is disabled on this machine ([never])";
  ASSERT_EQ(reset_for_test(with_mode(HugeMode::kThp), nullptr), "");
  auto s = gmp::pool::stats(true);
  EXPECT_EQ(s.hugepage_mode, "thp");
  if (s.hugepage_coverage < 0.5)
    GTEST_SKIP() << "THP granted only " << s.hugepage_coverage * 100 << "% (memory fragmented / defrag off)";
  EXPECT_GE(s.hugepage_coverage, 0.9);
  std::string b = gmp::pool::banner();
  EXPECT_NE(b.find("hugepages=thp"), std::string::npos) << b;
}

// Sets vm.nr_hugepages for the test and restores it.
class NrHugepages {
 public:
  explicit NrHugepages(int n) {
    std::ifstream in("/proc/sys/vm/nr_hugepages");
    in >> old_;
    ok_ = write(n) && read() >= n;
  }
  ~NrHugepages() { write(old_); }
  bool ok() const { return ok_; }

 private:
  static bool write(int n) {
    std::ofstream out("/proc/sys/vm/nr_hugepages");
    out << n;
    out.flush();
    return static_cast<bool>(out);
  }
  static int read() {
    std::ifstream in("/proc/sys/vm/nr_hugepages");
    int v = 0;
    in >> v;
    return v;
  }
  int old_ = 0;
  bool ok_ = false;
};

TEST_F(HugeModes, RealHugetlbWithReservedPages) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to reserve hugetlb pages (vm.nr_hugepages)";
  {
    NrHugepages reserve(8);
    if (!reserve.ok()) GTEST_SKIP() << "could not reserve 8 hugetlb pages";
    ASSERT_EQ(reset_for_test(with_mode(HugeMode::kHugetlb), nullptr), "");
    EXPECT_EQ(state().arena.mode(), HugeMode::kHugetlb);
    void* p = gmp::pool::allocate(1000, Tier::kFast);
    std::memset(p, 1, 1000);
    auto s = gmp::pool::stats(true);
    EXPECT_EQ(s.hugepage_mode, "hugetlb");
    EXPECT_GT(s.arena_huge, 0u);
    gmp::pool::deallocate(p);
    ASSERT_EQ(reset_for_test(small_config(), nullptr), "");  // unmap before the reservation is dropped
  }
}

TEST_F(Release, OnlyWhole2MiBUnitsGoBackToTheKernel) {
  PoolConfig c = with_mode(HugeMode::kOff);
  c.retain_bytes = 2u << 20;  // keep one whole unit
  ASSERT_EQ(reset_for_test(c, &k), "");
  std::vector<void*> v;
  for (int i = 0; i < 24; ++i) v.push_back(gmp::pool::allocate(200000 + i, Tier::kStable));  // 256 KiB blocks
  for (void* p : v) std::memset(p, 3, 200000);
  for (std::size_t i = 0; i < v.size(); i += 2) gmp::pool::deallocate(v[i]);  // fragment first
  EXPECT_TRUE(k.dontneed.empty()) << "no partial unit may be released";
  for (std::size_t i = 1; i < v.size(); i += 2) gmp::pool::deallocate(v[i]);
  ASSERT_FALSE(k.dontneed.empty());
  for (auto [addr, len] : k.dontneed) {
    EXPECT_EQ(len, 2u << 20);
    EXPECT_EQ(addr % (2u << 20), 0u);
  }
  auto s = gmp::pool::stats(false);
  EXPECT_EQ(s.arena_released % (2u << 20), 0u);
  EXPECT_EQ(s.arena_release_calls, k.dontneed.size());
  // A released unit comes back into use.
  void* p = gmp::pool::allocate(2u << 17, Tier::kStable);
  std::memset(p, 1, 2u << 17);
  gmp::pool::deallocate(p);
}

// Drill: the reserved hugepages run out mid-run (the fake kernel grants two
// hugetlb chunks, then ENOMEM). In auto mode the next chunks are THP and
// nothing else changes; in forced hugetlb mode the arena stops growing and
// the rest is served by jemalloc, counted as fallbacks. Either way every
// allocation is served, every object keeps what was written to it, and
// every free balances.
void churn_through_exhaustion(bool expect_fallbacks) {
  std::vector<void*> v;
  for (int i = 0; i < 24 * 1024; ++i) {  // 24 MiB of 1 KiB txn objects: six 4 MiB chunks
    auto* p = static_cast<std::uint32_t*>(gmp::pool::allocate(1024, Tier::kTxn));
    ASSERT_NE(p, nullptr) << i;
    p[0] = static_cast<std::uint32_t>(i);
    p[255] = ~static_cast<std::uint32_t>(i);
    v.push_back(p);
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto* p = static_cast<std::uint32_t*>(v[i]);
    ASSERT_EQ(p[0], i);
    ASSERT_EQ(p[255], ~static_cast<std::uint32_t>(i));
  }
  auto s = st();
  EXPECT_EQ(s.tiers[1].total.fallbacks > 0, expect_fallbacks) << s.tiers[1].total.fallbacks;
  for (void* p : v) gmp::pool::deallocate(p, 1024);
  s = st();
  EXPECT_EQ(live_objects(s.tiers[1]), 0);
  EXPECT_EQ(s.large_allocs, s.large_frees);
}

TEST_F(HugeModes, DrillHugepagesExhaustedMidRunAutoGoesOnWithThp) {
  k.hugetlb_ok = true;
  k.hugetlb_left = 2;
  ASSERT_EQ(reset_for_test(with_mode(HugeMode::kAuto), &k), "");
  EXPECT_EQ(state().arena.mode(), HugeMode::kHugetlb);
  churn_through_exhaustion(/*expect_fallbacks=*/false);
  EXPECT_EQ(k.hugetlb_left, 0);
  EXPECT_GT(state().arena.committed_bytes(), 8u << 20);  // grew past the two hugetlb chunks
}

TEST_F(HugeModes, DrillHugepagesExhaustedMidRunForcedHugetlbFallsBackToJemalloc) {
  k.hugetlb_ok = true;
  k.hugetlb_left = 2;
  ASSERT_EQ(reset_for_test(with_mode(HugeMode::kHugetlb), &k), "");
  churn_through_exhaustion(/*expect_fallbacks=*/true);
  EXPECT_EQ(state().arena.committed_bytes(), 8u << 20);  // two chunks, no more
}

// Drill: the kernel refuses the arena's small-page commits mid-run (what
// vm.overcommit_memory=2 past CommitLimit, or a cgroup at its limit, does to
// the mprotect that commits a chunk): three chunks, then ENOMEM. The pool
// keeps serving from jemalloc as counted fallbacks, every object keeps its
// contents, every free balances, the stats and one line say why, and when
// the kernel grants memory again the arena grows again.
void drill_small_pages_refused(FakeKernel& k, HugeMode mode) {
  k.small_left = 3;
  ASSERT_EQ(reset_for_test(with_mode(mode), &k), "");
  testing::internal::CaptureStderr();
  churn_through_exhaustion(/*expect_fallbacks=*/true);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(state().arena.committed_bytes(), 12u << 20);  // three chunks, no more
  EXPECT_GT(k.small_refused, 0);
  auto s = st();
  EXPECT_EQ(s.arena_grow_refusals, static_cast<std::uint64_t>(k.small_refused));
  EXPECT_NE(s.arena_grow_error.find("Cannot allocate memory"), std::string::npos) << s.arena_grow_error;
  // One line, however many refusals.
  std::size_t at = err.find("gmp pool: the kernel refused to commit");
  ASSERT_NE(at, std::string::npos) << err;
  EXPECT_EQ(err.find("gmp pool: the kernel refused to commit", at + 1), std::string::npos) << err;
  EXPECT_NE(err.find("jemalloc"), std::string::npos) << err;
  // Memory comes back: the arena grows again, in the mode it had.
  HugeMode before = state().arena.mode();
  k.small_left = -1;
  void* p = gmp::pool::allocate(1024, Tier::kTxn);
  std::vector<void*> v;
  for (int i = 0; i < 16 * 1024; ++i) v.push_back(gmp::pool::allocate(1024, Tier::kTxn));
  EXPECT_GT(state().arena.committed_bytes(), 12u << 20);
  EXPECT_EQ(state().arena.mode(), before);
  for (void* q : v) gmp::pool::deallocate(q, 1024);
  gmp::pool::deallocate(p, 1024);
  EXPECT_EQ(live_objects(st().tiers[1]), 0);
}

TEST_F(HugeModes, DrillSmallPagesRefusedMidRunOffFallsBackToJemalloc) { drill_small_pages_refused(k, HugeMode::kOff); }

// In auto mode (THP here) a refused commit is not a reason to give up on
// THP: the refusal is the kernel's memory, not its hugepages.
TEST_F(HugeModes, DrillSmallPagesRefusedMidRunAutoKeepsThpForLaterChunks) {
  if (!k.thp_ok) GTEST_SKIP();
  drill_small_pages_refused(k, HugeMode::kAuto);
  std::size_t n = 0;
  for (int a : k.advices) n += a == MADV_HUGEPAGE;
  EXPECT_GT(n, 3u) << "chunks after the refusals are THP again";
}

}  // namespace
}  // namespace gmp::detail::mem
