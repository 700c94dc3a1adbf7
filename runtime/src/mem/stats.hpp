// mem/stats.hpp — the pool's counters (its sampled latency histograms are
// gmp::Histogram, one per tier, in each Cache).
//
// Every counter lives in the cache (per P, or per foreign thread) whose owner
// updates it, as a relaxed atomic written only by that owner (load + store,
// no read-modify-write: no lock prefix on the fast path) and read by stats()
// from any thread. Totals are exact once the owners are quiescent; while they
// run each field is exact but the set is not a snapshot.
#pragma once

#include <atomic>
#include <cstdint>

#include "gmp/pool.hpp"  // Counter (shared with the inline fast path)

namespace gmp::detail::mem {

// The fast tier's hits and frees are derived (FastSlot in gmp/detail/pool_inline.hpp, which
// the inline path updates: fast_hits = taken - misses, fast_frees = held -
// mag_in + mag_out + hits); its other counters are here.
struct ClassCounters {
  Counter hits;          // served from the local cache
  Counter misses;        // needed a refill (or the shared list/buddy for stable)
  Counter refills;       // batches fetched from a central list
  Counter flushes;       // batches sent to a central list (overflow, TTL expiry, remote)
  Counter frees;         // frees of this tier/class made on this cache's thread
  Counter remote_frees;  // ... of objects homed on another cache
  Counter fallbacks;     // allocations sent to jemalloc (exhaustion, degrade)
  Counter leaked;        // fault drill: txn frees not recycled
  Counter mag_in;        // fast tier: objects refills put in the magazine
  Counter mag_out;       // fast tier: objects flushed out of the magazine
  // Fast tier: allocations the magazine served (hits + misses) in the class's
  // completed sampling periods; fast_taken adds the current period's.
  // Written on slow paths only (a period's end, an allocation that was
  // counted down but fell back to jemalloc).
  Counter taken_base;
  Counter block_bytes_alloc;  // stable buddy blocks only (variable size)
  Counter block_bytes_free;
};

struct LargeCounters {
  Counter allocs, frees, alloc_bytes, free_bytes;
};

}  // namespace gmp::detail::mem
