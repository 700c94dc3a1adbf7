// mem/cache.hpp — a per-P (or per-foreign-thread) cache: the fast tier's
// magazines, the txn tier's LRU lists, the txn remote-free buffers and the
// counters.
//
// Ownership: a Cache is used only by its owner — the M currently holding P
// `home` (a goroutine reaches another P only through a switch, and pool code
// never switches), or the one foreign thread that acquired it. So nothing in
// it is locked and nothing on its lists is atomic; counters are owner-written
// relaxed atomics (stats.hpp), and list lengths and magazine tops likewise,
// for stats readers.
#pragma once

#include <cstdint>

#include "mem/central.hpp"
#include "mem/object_link.hpp"
#include "mem/stats.hpp"
#include "gmp/histogram.hpp"
#include "gmp/pool.hpp"

namespace gmp::detail::mem {

// The fast tier's magazines are FastFront::fast (gmp/detail/pool_inline.hpp), shared with
// the inline hit path in that header; a Cache is-a FastFront so that
// fast_front() and current_cache() convert with a static_cast.
static_assert(kFrontClasses == kNumClasses, "gmp/detail/pool_inline.hpp's FastFront must have a slot per class");

// Doubly linked, newest at mru, oldest at lru.
struct TxnList {
  TxnNode* mru = nullptr;  // owner only
  TxnNode* lru = nullptr;  // owner only
  Counter count;
};

// FastFront: home (P id, or kForeignHomeBase + slot; set once),
// sample_countdown and fast[] (the fast tier's magazines), all owner only.
struct alignas(64) Cache : FastFront {
  std::uint32_t txn_frees_since_sweep = 0;  // owner only
  std::uint64_t rng = 0x9E3779B97F4A7C15ull;  // owner only (fault drill)
  TxnList txn[kNumClasses];
  Chain remote[kNumClasses];  // txn objects homed elsewhere, waiting for a batch; owner only
  Counter remote_count[kNumClasses];  // mirrors remote[..].n for stats
  ClassCounters ctr[kNumTiers][kNumClasses];
  LargeCounters large;
  // Sampled allocation latency per tier (ns); owner-written (record()).
  gmp::Histogram latency[3];  // fast, txn, stable
};

inline constexpr std::uint32_t kForeignHomeBase = 256;  // homes >= this are foreign-thread caches

}  // namespace gmp::detail::mem
