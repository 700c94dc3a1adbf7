// Goroutine stacks: guard pages, size classes, overflow reports.
#include "stack/stack.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <vector>

#include "gmp/gmp.hpp"
#include "sched/sched.hpp"

namespace gmp::detail {
namespace {

TEST(Stack, ClassesArePowersOfTwoFrom16K) {
  EXPECT_EQ(stack_class_for(1), 0);
  EXPECT_EQ(stack_class_for(16 * 1024), 0);
  EXPECT_EQ(stack_class_for(16 * 1024 + 1), 1);
  EXPECT_EQ(stack_class_bytes(stack_class_for(256 * 1024)), 256u * 1024);
  EXPECT_EQ(stack_class_for(kMaxStackBytes), kStackClasses - 1);
  EXPECT_EQ(stack_class_for(kMaxStackBytes + 1), -1);
}

TEST(Stack, MapsUsableMemoryAboveTheGuard) {
  Stack s;
  ASSERT_EQ(stack_map(2, &s), 0);
  EXPECT_EQ(s.size(), 64u * 1024);
  EXPECT_EQ(s.lo - s.map, static_cast<long>(kGuardBytes));
  s.lo[0] = 1;
  s.hi[-1] = 1;
  EXPECT_TRUE(s.guard_hit(reinterpret_cast<uintptr_t>(s.lo) - 1));
  EXPECT_FALSE(s.guard_hit(reinterpret_cast<uintptr_t>(s.lo)));
  stack_unmap(&s);
  EXPECT_EQ(s.map, nullptr);
}

// Resident pages of [p, p + bytes) (mincore).
std::size_t resident_pages(const char* p, std::size_t bytes) {
  std::vector<unsigned char> v(bytes / kPageSize);
  EXPECT_EQ(mincore(const_cast<char*>(p), bytes, v.data()), 0);
  std::size_t n = 0;
  for (unsigned char b : v) n += b & 1;
  return n;
}

TEST(Stack, ReleasingNeighboursGivesTheirMemoryBackAndKeepsTheirGuards) {
  if (!stack_guard_regions()) {
    Stack probe;
    ASSERT_EQ(stack_map(0, &probe), 0);
    stack_unmap(&probe);
  }
  if (!stack_guard_regions()) GTEST_SKIP() << "no MADV_GUARD_INSTALL (Linux < 6.13): stacks are single mappings";
  std::uint64_t before = stacks_mapped();
  Stack v[8];
  for (Stack& s : v) {
    ASSERT_EQ(stack_map(0, &s), 0);
    s.hi[-1] = 1;  // touch the top page, as a goroutine does
    s.lo[0] = 1;
  }
  EXPECT_EQ(stacks_mapped(), before + 8);
  Stack copy[8];
  for (int i = 0; i < 8; i++) copy[i] = v[i];
  stacks_release(v, 8);
  for (const Stack& s : v) EXPECT_EQ(s.map, nullptr);
  EXPECT_EQ(stacks_mapped(), before);
  for (const Stack& s : copy) EXPECT_EQ(resident_pages(s.lo, s.size()), 0u) << "memory still resident";
  // Handed out again: the same ranges (no new mapping), zero-filled, guarded.
  Stack again;
  ASSERT_EQ(stack_map(0, &again), 0);
  bool reused = false;
  for (const Stack& s : copy) reused |= s.map == again.map;
  EXPECT_TRUE(reused);
  EXPECT_EQ(again.hi[-1], 0);
  GTEST_FLAG_SET(death_test_style, "threadsafe");
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer catches the fault itself and exits with its own code.
  EXPECT_DEATH({ again.lo[-1] = 1; }, "SEGV on unknown address");
#else
  EXPECT_EXIT({ again.lo[-1] = 1; }, testing::KilledBySignal(SIGSEGV), "");
#endif
  stack_unmap(&again);
}

__attribute__((noinline)) int recurse(int n) {
  volatile char buf[1024];
  buf[0] = static_cast<char>(n);
  if (n == 0) return buf[0];
  return recurse(n - 1) + buf[0];
}

using StackDeathTest = testing::Test;

TEST_F(StackDeathTest, OverflowIsReportedWithGoroutineAndSize) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        gmp::run({.procs = 1, .pin = false, .stack_size = 64 * 1024}, [] {
          auto h = gmp::spawn([] { return recurse(1 << 20); });
          return h.join();
        });
      },
      "runtime: goroutine [0-9]+ stack overflow \\(stack 64 KiB\\)(.|\n)*goroutine [0-9]+ \\[");
}

TEST_F(StackDeathTest, OverflowIsCaughtWithMprotectGuardsToo) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        stack_force_mprotect_guards(true);
        gmp::run({.procs = 1, .pin = false, .stack_size = 32 * 1024}, [] {
          auto h = gmp::spawn([] { return recurse(1 << 20); });
          return h.join();
        });
      },
      "runtime: goroutine [0-9]+ stack overflow \\(stack 32 KiB\\)");
}

TEST(Stack, OrdinaryFaultsAreNotReportedAsOverflow) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the sanitizer reports the null store itself";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        gmp::run({.procs = 1, .pin = false}, [] {
          volatile int* p = nullptr;
          *p = 1;
          return 0;
        });
      },
      testing::KilledBySignal(SIGSEGV), testing::Not(testing::HasSubstr("stack overflow")));
}

TEST(Stack, UnhandledExceptionIsFatalWithGoroutineId) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        gmp::run({.procs = 1, .pin = false}, [] {
          auto h = gmp::spawn([]() -> int { throw std::runtime_error("boom"); });
          return h.join();
        });
      },
      "runtime: goroutine [0-9]+: unhandled exception: boom");
}

TEST(WaitGroupDeathTest, NegativeCounterIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        gmp::WaitGroup wg;
        wg.done();
      },
      "runtime: negative WaitGroup counter");
}

}  // namespace
}  // namespace gmp::detail
