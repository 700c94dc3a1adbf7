// mem/pool_test_hooks.hpp — internal entry points for tests and tools.
#pragma once

#include <string>

#include "mem/cache.hpp"
#include "mem/config.hpp"
#include "mem/page_source.hpp"

namespace gmp::detail::mem {

// Throws the pool away and starts a new one with cfg over src (null: the
// kernel). Returns the init error or "". without_slot_map: the new pool runs
// as if the slot map could not be had (every inline free takes the slow
// path). REQUIRES: no live pool objects, no other thread using the pool.
std::string reset_for_test(const PoolConfig& cfg, PageSource* src, bool without_slot_map = false);
// The calling thread's cache.
Cache* cache_for_test() noexcept;
// Applies a config (the +15 % rule when running). Returns "" or why not.
std::string apply_config(const PoolConfig& next);
PoolConfig current_config();

}  // namespace gmp::detail::mem
