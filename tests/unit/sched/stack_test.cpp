// Goroutine stacks: guard pages, size classes, overflow reports.
#include "stack/stack.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
