// tests/unit/mem/pool_fixture.hpp — a fresh pool per test, and accounting helpers.
#pragma once

#include <gtest/gtest.h>

#include <cstring>

#include "gmp/pool.hpp"
#include "mem/pool_state.hpp"
#include "mem/pool_test_hooks.hpp"

namespace gmp::detail::mem {

inline PoolConfig small_config() {
  PoolConfig c;
  c.hugepages = HugeMode::kOff;
  c.chunk_bytes = 8u << 20;
  c.max_bytes = 256u << 20;
  c.retain_bytes = 0;
  c.sample_every = 0;
  return c;
}

class PoolTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(reset_for_test(config(), nullptr), ""); }
  virtual PoolConfig config() { return small_config(); }
};

// allocs - frees over a tier, in objects.
inline std::int64_t live_objects(const gmp::pool::TierStats& t) {
  return static_cast<std::int64_t>(t.total.hits + t.total.misses) - static_cast<std::int64_t>(t.total.frees);
}

}  // namespace gmp::detail::mem
