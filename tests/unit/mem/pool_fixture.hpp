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
  // The tests' counts are those of the inline paths, which checked mode
  // turns off (on by default in Debug and sanitizer builds); checked_test.cpp
  // turns it on.
  c.checked = false;
  return c;
}

// small_config with small magazines: refills and flushes of `batch`, at most
// `capacity` objects per class.
inline PoolConfig magazine_config(std::uint32_t batch, std::uint32_t capacity) {
  PoolConfig c = small_config();
  c.fast_batch = batch;
  c.fast_capacity = capacity;
  return c;
}

class PoolTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(reset_for_test(config(), nullptr), ""); }
  virtual PoolConfig config() { return small_config(); }
};

// Counters only (no /proc/self/smaps read).
inline gmp::pool::Stats st() { return gmp::pool::stats(false); }

// Bytes the central lists of a tier handed out of spans, ever.
inline std::uint64_t carved(TierId t) {
  std::uint64_t b = 0;
  for (int cls = 0; cls < kNumClasses; ++cls) b += state().central.list(t, cls).carved_bytes.load();
  return b;
}

// allocs - frees over a tier, in objects.
inline std::int64_t live_objects(const gmp::pool::TierStats& t) {
  return static_cast<std::int64_t>(t.total.hits + t.total.misses) - static_cast<std::int64_t>(t.total.frees);
}

}  // namespace gmp::detail::mem
