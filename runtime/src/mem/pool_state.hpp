// mem/pool_state.hpp — the pool's process-wide state and the internal API
// between its files (tiers, remote frees, large objects, stats).
//
// Lifetime: initialised once, lazily on first use or by configure(); never
// torn down while the process runs (tests may reset it when quiescent).
// Live tunables are relaxed atomics: apply_config writes them under
// PoolState::cfg_mu, owners read them on their paths, and a stale read only
// delays a change by one operation.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include <string>
#include <vector>
#include "gmp/detail/thread_annotations.hpp"

#include "mem/arena.hpp"
#include "mem/buddy.hpp"
#include "mem/cache.hpp"
#include "mem/central.hpp"
#include "mem/config.hpp"

namespace gmp::detail::mem {

inline constexpr int kMaxPools = 256;  // == sched kMaxProcs (checked in pool.cpp)

struct Tunables {
  std::atomic<std::uint32_t> max_size{kMaxClassSize};
  std::atomic<std::uint32_t> fast_max_size{1024};
  std::atomic<std::uint32_t> fast_batch{32};
  std::atomic<std::uint32_t> txn_batch{32};
  std::atomic<std::uint32_t> txn_sweep_every{64};
  std::atomic<std::uint32_t> sample_every{1024};
  std::atomic<std::int64_t> txn_ttl_ns{60'000'000};
  std::atomic<std::uint32_t> fast_cap[kNumClasses];
  std::atomic<std::uint32_t> txn_cap[kNumClasses];
  std::atomic<std::uint32_t> leak_ppm{0};  // fault drill: txn frees leaked, parts per million
  std::atomic<std::uint64_t> detect_min_bytes{4u << 20};
  std::atomic<std::uint32_t> detect_lost_permille{250};
};

struct PoolState {
  std::atomic<int> phase{0};  // 0 not started, 1 ready, 2 failed (all via jemalloc)
  // Checked mode is on (Note [Checked mode], mem/checked.hpp): set by init
  // from cfg.checked before phase leaves 0, never changed while running.
  std::atomic<bool> checked{false};
  ThreadMutex cfg_mu;
  PoolConfig cfg GMP_GUARDED_BY(cfg_mu);
  std::string init_error GMP_GUARDED_BY(cfg_mu);     // set once when phase becomes 2
  PageSource* src GMP_GUARDED_BY(cfg_mu) = nullptr;  // before init only
  // The process's slot map (Note [The slot map]): reserved at the first init
  // and never unmapped (frees may run during exit); null while it could not
  // be, slot_map_error saying why.
  std::uint16_t* slot_map GMP_GUARDED_BY(cfg_mu) = nullptr;
  std::string slot_map_error GMP_GUARDED_BY(cfg_mu);
  bool slot_map_off_for_test GMP_GUARDED_BY(cfg_mu) = false;  // reset_for_test(..., without_slot_map)
  Arena arena;
  Buddy buddy;
  Central central;
  Tunables tun;
  std::atomic<bool> txn_degraded{false};
  std::atomic<std::uint64_t> degrade_events{0};
  std::atomic<std::uint64_t> lost_bytes_at_degrade{0};
  // Carved txn bytes when a check first saw a loss over the thresholds; 0:
  // no loss pending confirmation (Note [Loss detection under a racy scan]).
  std::atomic<std::uint64_t> txn_loss_seen_at{0};
  Cache pcache[kMaxPools];  // indexed by P id; owner: the M holding that P
  // Foreign-thread caches: created on a thread's first use, parked on exit
  // (lists flushed) and handed to the next foreign thread. Never freed, so
  // their counters stay in the totals.
  ThreadMutex foreign_mu;
  std::vector<Cache*> foreign_all GMP_GUARDED_BY(foreign_mu);
  std::vector<Cache*> foreign_idle GMP_GUARDED_BY(foreign_mu);
};

PoolState& state() noexcept;

// Initialises with the current cfg if not yet done. Returns true when the
// arena is usable.
// report: print an init failure (see init_locked).
bool ensure_init(bool report = true) noexcept;
inline bool ready() noexcept { return state().phase.load(std::memory_order_acquire) == 1 || ensure_init(); }

// The calling thread's cache: its P's, or a foreign-thread cache; null only
// during thread exit after the foreign cache was parked. (fast_front() in
// gmp/detail/pool_inline.hpp is the same without the P-count bookkeeping.)
Cache* current_cache() noexcept;
// Records that P `id`'s cache is in use (stats' and the leak check's range).
void note_p_cache(int id) noexcept;
// PoolState::pcache, published when the state is created (null before).
extern std::atomic<Cache*> g_pcache;
// 1 + the highest P id whose cache was ever used: pcache entries at or
// above it have nothing to count (stats read only those below).
int p_caches_seen() noexcept;
// This thread's foreign cache, or null (no P-less use yet, or parked at exit).
// Owner: this thread; set by acquire_foreign, cleared by its exit guard.
extern thread_local Cache* t_foreign_cache;
Cache* acquire_foreign() noexcept;
// Points this thread's gmp_pool_t_front at f (null: &g_no_front). Owner: this
// thread (mem/current_p.cpp).
void set_tls_front(FastFront* f) noexcept;
// The calling thread's P id, or -1 (mem/current_p.cpp: the one scheduler seam).
int current_p_id() noexcept;

// ---- tiers (fast_tier.cpp, txn_tier.cpp, stable_tier.cpp) -------------------
void* fast_alloc(Cache* c, int cls) noexcept;
// fast_alloc, counted down on the class's sampling countdown (FastSlot) and
// timed when it reaches 0 (pool.cpp). Every fast-tier allocation of the slow
// path goes through here, so the countdown counts them all.
void* fast_alloc_counted(Cache* c, int cls) noexcept;
// A fast-tier object, whichever cache carved it (fast_tier.cpp, "Ownership").
void fast_free(Cache* c, void* p, int cls) noexcept;
// Sends every object of c's magazine for cls to the central list.
void drain_fast(Cache* c, int cls) noexcept;
// Frees every magazine array of c. REQUIRES: c is drained or thrown away, and
// its owner is not running pool code (reset_for_test).
void free_magazines(Cache* c) noexcept;
// Objects in c's magazine for cls; the allocations its magazine served
// (hits + misses), its hits and its frees (derived; FastSlot). Any thread:
// exact when c's owner is quiescent.
std::uint64_t fast_held(const Cache& c, int cls) noexcept;
std::uint64_t fast_taken(const Cache& c, int cls) noexcept;
std::uint64_t fast_hits(const Cache& c, int cls) noexcept;
std::uint64_t fast_frees(const Cache& c, int cls) noexcept;
std::uint64_t fast_frees(const Cache& c, int cls, std::uint64_t held) noexcept;  // held: fast_held(c, cls)
void* txn_alloc(Cache* c, int cls) noexcept;
void txn_free(Cache* c, void* p, int cls) noexcept;
// Recycles expired txn objects (all classes) to the central lists in batches.
void txn_sweep(Cache* c, std::int64_t now_ns) noexcept;
void* stable_alloc(Cache* c, std::size_t size, int cls) noexcept;
void stable_free(Cache* c, void* p, std::uint32_t info) noexcept;

// ---- remote_free.cpp ---------------------------------------------------------
// A txn object homed on another cache: buffered, sent to the central list in
// batches. (Fast-tier objects have no home: fast_free.)
void remote_free(Cache* c, int cls, void* p) noexcept;
void flush_remote(Cache* c, int cls) noexcept;
// Flushes every list of c to the central lists (foreign thread exit, reset).
void drain_cache(Cache* c) noexcept;

// ---- large.cpp ---------------------------------------------------------------
void* large_alloc(Cache* c, std::size_t size, std::size_t align) noexcept;
void large_free(Cache* c, void* p) noexcept;
// jemalloc instead of a tier (arena exhausted, tier degraded): counted.
void* fallback_alloc(Cache* c, TierId tier, int cls, int reason) noexcept;
inline constexpr int kFallbackExhausted = 1;
inline constexpr int kFallbackDegraded = 2;
inline constexpr int kFallbackNoArena = 3;

// ---- leak detection (pool.cpp) -----------------------------------------------
// Called after a txn refill carved a new span: compares what the txn tier
// took from spans with what is in use or cached; degrades on a loss.
void check_txn_growth() noexcept;

}  // namespace gmp::detail::mem
