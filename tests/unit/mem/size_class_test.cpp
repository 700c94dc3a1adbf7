#include <gtest/gtest.h>

#include "mem/buddy.hpp"
#include "mem/size_class.hpp"

namespace gmp::detail::mem {

TEST(SizeClass, EverySizeMapsToTheSmallestClassHoldingIt) {
  for (std::size_t s = 1; s <= kMaxClassSize; ++s) {
    int c = class_of(s);
    ASSERT_GE(kClassSize[c], s) << s;
    if (c > 0) ASSERT_LT(kClassSize[c - 1], s) << s;
  }
}

TEST(SizeClass, Boundaries) {
  EXPECT_EQ(class_of(1), 0);
  EXPECT_EQ(class_of(16), 0);
  EXPECT_EQ(class_of(17), 1);
  EXPECT_EQ(class_of(128), 7);
  EXPECT_EQ(class_of(129), 8);
  EXPECT_EQ(kClassSize[class_of(129)], 160u);
  EXPECT_EQ(class_of(kMaxClassSize), kNumClasses - 1);
  EXPECT_EQ(class_for(kMaxClassSize + 1, 16), -1);
}

TEST(SizeClass, AlignedClassesAreMultiplesOfTheAlignment) {
  for (std::size_t a : {32u, 64u}) {
    for (std::size_t s = 1; s <= 70000; s += 37) {
      int c = class_for(s, a);
      ASSERT_GE(c, 0);
      EXPECT_EQ(kClassSize[c] % a, 0u);
      EXPECT_GE(kClassSize[c], s);
    }
  }
  EXPECT_EQ(class_for(16, 128), -1);
}

TEST(SizeClass, WasteIsBounded) {
  for (int c = 1; c < kNumClasses; ++c) {
    double worst = static_cast<double>(kClassSize[c] - kClassSize[c - 1] - 1) / kClassSize[c];
    EXPECT_LE(worst, 0.5) << kClassSize[c];
    if (kClassSize[c] > 128) EXPECT_LE(worst, 0.25) << kClassSize[c];
  }
}

TEST(SizeClass, SpansHoldAtLeastEightObjects) {
  for (int c = 0; c < kNumClasses; ++c) {
    EXPECT_GE(span_bytes(c) / kClassSize[c], 8u);
    EXPECT_LE(span_bytes(c), kHugePageSize);
  }
  EXPECT_EQ(order_for(4096), 0);
  EXPECT_EQ(order_for(4097), 1);
  EXPECT_EQ(order_for(2u << 20), 9);
}

}  // namespace gmp::detail::mem
