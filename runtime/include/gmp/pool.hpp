// gmp/pool.hpp — the tiered memory pool.
//
// Tiers (pick by the object's lifetime, docs/POOL.md):
//   kFast    objects that live microseconds: per-P magazines, no locks;
//   kTxn     objects that live milliseconds: per-P cache with a TTL (60 ms);
//   kStable  long-lived objects: shared by all Ps (buddy pages, shared lists).
// Above the class limit (256 KiB) every request goes to jemalloc ("large").
// Any thread may allocate and free; a pointer may be freed on any thread, with
// or without its size, whatever tier it came from. Nothing here throws except
// make_pooled and Allocator (std::bad_alloc, as their contracts require).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "gmp/histogram.hpp"
#include "gmp/status.hpp"

namespace gmp::pool {

enum class Tier : std::uint8_t { kFast = 0, kTxn = 1, kStable = 2 };

inline constexpr std::size_t kMaxClassSize = 256 * 1024;  // larger: jemalloc
inline constexpr std::size_t kMaxAlign = 64;              // larger: jemalloc (allocate_aligned)

// Never returns null except when jemalloc itself is out of memory.
// (Inline: the fast tier's hit path is in gmp/detail/pool_inline.hpp.)
[[nodiscard]] inline void* allocate(std::size_t size, Tier tier = Tier::kFast) noexcept;
// REQUIRES: align is a power of two.
[[nodiscard]] inline void* allocate_aligned(std::size_t size, std::size_t align, Tier tier = Tier::kFast) noexcept;
// REQUIRES: p came from allocate*/make_pooled/Allocator, or is null.
inline void deallocate(void* p) noexcept;
// size: as allocated, or any other value (a hint: checked, a wrong one costs
// only speed).
inline void deallocate(void* p, std::size_t size) noexcept;

// Recycles the calling P's (or thread's) expired txn objects now.
void sweep() noexcept;

// Configuration (TOML, docs/POOL.md). Each is ok or one line naming the
// file, line and key, what is wrong and what would be right.
Status check_config(const std::string& path);  // validate only
Status load_config(const std::string& path);   // validate and apply (before or while running)
// Overrides arena.hugepages ("auto", "hugetlb", "thp", "off").
// REQUIRES: before the pool's first use.
Status set_hugepages(const std::string& mode);
// Turns checked mode on or off (docs/POOL.md, "Checked mode": double, invalid
// and foreign frees are fatal, freed objects are poisoned and verified).
// Overrides the build's default (on in Debug and sanitizer builds),
// GMP_POOL_CHECKED and checks.enabled. Ok, or why not.
// REQUIRES: before the pool's first use.
Status set_checked(bool on);
// Initialises the pool now (else: on first use). Ok, or why it could not
// (then every allocation goes to jemalloc, counted as fallbacks); the caller
// reports it (an implicit init on first use prints it instead).
Status init();

struct ClassStats {
  std::size_t size = 0;
  std::uint64_t hits = 0, misses = 0, refills = 0, flushes = 0, frees = 0, remote_frees = 0, fallbacks = 0,
                leaked = 0, bytes_in_use = 0, bytes_cached = 0;
};
struct TierStats {
  const char* name = "";
  ClassStats total;                 // size = 0
  std::vector<ClassStats> classes;  // one per size class, in order
  // Sampled allocation latency of this tier, ns (every stats.sample_every-th
  // allocation of each class; gmp/histogram.hpp).
  HistogramSnapshot latency;
};
struct Stats {
  TierStats tiers[3];
  std::uint64_t large_allocs = 0, large_frees = 0, large_bytes_in_use = 0;
  std::string hugepage_mode;        // effective mode of the arena
  std::uint64_t arena_reserved = 0, arena_committed = 0, arena_released = 0;
  std::uint64_t arena_release_calls = 0;
  // Chunks the kernel refused to commit mid-run (ENOMEM; the allocations
  // that needed them went to jemalloc as fallbacks) and the last refusal's
  // strerror ("" when none).
  std::uint64_t arena_grow_refusals = 0;
  std::string arena_grow_error;
  std::uint64_t arena_rss = 0, arena_huge = 0;  // /proc/self/smaps over the arena
  double hugepage_coverage = 0;     // arena_huge / (committed - released)
  std::uint64_t span_bytes = 0;     // taken by the central lists from the buddy
  std::uint64_t buddy_free_bytes = 0;
  std::uint64_t foreign_caches = 0;
  bool txn_degraded = false;
  std::uint64_t degrade_events = 0;
  // Over every tier's latency samples (max is exact).
  std::uint64_t samples = 0, p50_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
  std::string init_error;
  // Checked mode is on: every call takes the slow path and is checked.
  bool checked = false;
  // Why the inline free has no slot map and takes the slow path ("" when it
  // has one; runtime/src/mem/slot_map.hpp).
  std::string slot_map_error;
};
// Totals over every P and thread. read_smaps: also read /proc/self/smaps.
Stats stats(bool read_smaps = true);
// One line for a start banner: mode, coverage, arena size.
std::string banner();

}  // namespace gmp::pool

namespace gmp {

// What the pool can hold as one tiered object.
template <class T>
concept PoolAligned = alignof(T) <= pool::kMaxAlign;
template <class T>
concept PoolSized = sizeof(T) <= pool::kMaxClassSize;
template <class T>
concept Poolable = std::is_object_v<T> && !std::is_array_v<T> && !std::is_abstract_v<T> &&
                   std::is_nothrow_destructible_v<T> && PoolAligned<T> && PoolSized<T>;

// Destroys and frees a pooled object. Stateless: the pool finds the tier.
template <class T>
struct PoolDeleter {
  void operator()(T* p) const noexcept {
    p->~T();
    pool::deallocate(p, sizeof(T));
  }
};
template <class T>
using pooled_ptr = std::unique_ptr<T, PoolDeleter<T>>;

template <class T, class... Args>
pooled_ptr<T> make_pooled_in(pool::Tier tier, Args&&... args) {
  static_assert(!std::is_array_v<T>, "gmp::make_pooled: arrays are not poolable; use std::vector<T, gmp::pool::Allocator<T>>");
  static_assert(!std::is_abstract_v<T>, "gmp::make_pooled: T is abstract; pool a concrete type");
  static_assert(PoolAligned<T>, "gmp::make_pooled: T is over-aligned; the pool supports alignof(T) <= 64 (gmp::pool::kMaxAlign)");
  static_assert(PoolSized<T>, "gmp::make_pooled: T is larger than the class limit of 256 KiB (gmp::pool::kMaxClassSize); use std::make_unique (jemalloc serves large objects)");
  static_assert(std::is_nothrow_destructible_v<T>, "gmp::make_pooled: T's destructor may throw; the pool's deleter is noexcept");
  static_assert(Poolable<T>);
  void* mem = pool::allocate_aligned(sizeof(T), alignof(T), tier);
  if (mem == nullptr) throw std::bad_alloc();
  try {
    return pooled_ptr<T>(::new (mem) T(std::forward<Args>(args)...));
  } catch (...) {
    pool::deallocate(mem, sizeof(T));
    throw;
  }
}
template <class T, class... Args>
pooled_ptr<T> make_pooled(Args&&... args) {
  return make_pooled_in<T>(pool::Tier::kFast, std::forward<Args>(args)...);
}

}  // namespace gmp

namespace gmp::pool {

// A std allocator over the pool. Any size works (large blocks go to
// jemalloc); TierV is the tier of the container's blocks.
template <class T, Tier TierV = Tier::kTxn>
struct Allocator {
  using value_type = T;
  template <class U>
  struct rebind {
    using other = Allocator<U, TierV>;
  };
  Allocator() noexcept = default;
  template <class U>
  Allocator(const Allocator<U, TierV>&) noexcept {}
  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    void* p = allocate_aligned(n * sizeof(T), alignof(T), TierV);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept { pool::deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const Allocator<U, TierV>&) const noexcept { return true; }
};

}  // namespace gmp::pool

// The inline definitions of allocate and deallocate (internals).
#include "gmp/detail/pool_inline.hpp"
