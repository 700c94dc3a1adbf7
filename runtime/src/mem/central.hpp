// mem/central.hpp — the central lists: one per (tier, size class), shared by
// all Ps, fed by carving spans from the buddy allocator.
//
// Per-P caches refill from and flush to these in batches (one lock per
// batch), and remote frees arrive here in batches too. The fast tier's lists
// also have a transfer cache (tcmalloc's name): a bounded stack of pointers
// that magazines flush batches into and refill batches from with a memcpy,
// without touching the objects, so objects freed on one P and allocated on
// another move between them without a cache line of theirs changing hands;
// only what does not fit (or comes from a txn or stable cache) is linked
// through the objects on `head`. A span is carved
// lazily with a bump pointer (no write to an object before it is handed
// out); its pages are tagged in the arena's page map with the class, tier
// and home (the cache that carved it), which is how deallocate finds an
// object's class and decides whether a free is local or remote.
//
// Spans stay with their (tier, class) for the life of the process: objects
// are reused, and whole 2 MiB units go back to the kernel only through the
// stable tier's buddy blocks. (Returning empty spans needs per-span counts;
// see docs/POOL.md, "Limits".)
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "mem/buddy.hpp"
#include "mem/object_link.hpp"
#include "mem/size_class.hpp"
#include "mem/yield_lock.hpp"

namespace gmp::detail::mem {

enum class TierId : std::uint8_t { kFast = 0, kTxn = 1, kStable = 2, kLarge = 3 };
inline constexpr int kNumTiers = 4;
inline constexpr int kNumListTiers = 3;  // tiers with central lists

// A fast class's transfer cache starts with room for kXferMinCap pointers
// (allocated on the class's first flush) and doubles when a flush does not
// fit, up to kXferMaxCap pointers (8 MiB) and while it would hold at most
// kXferMaxObjectBytes of objects: 1 Mi pointers for classes up to 64 B,
// 65536 for 1 KiB. Beyond that a flush links its objects onto `head`
// (docs/POOL.md, "Magazines and the transfer cache").
inline constexpr std::uint32_t kXferMinCap = 512;
inline constexpr std::uint32_t kXferMaxCap = 1u << 20;
inline constexpr std::size_t kXferMaxObjectBytes = std::size_t{64} << 20;
constexpr std::uint32_t xfer_max_cap(std::size_t class_size) {
  std::uint32_t cap = kXferMinCap;
  while (cap < kXferMaxCap && std::size_t{cap} * 2 * class_size <= kXferMaxObjectBytes) cap *= 2;
  return cap;
}
static_assert(xfer_max_cap(16) == kXferMaxCap && xfer_max_cap(64) == kXferMaxCap && xfer_max_cap(1024) == 65536 &&
              xfer_max_cap(256 * 1024) == kXferMinCap);

struct alignas(64) CentralList {
  YieldLock mu;
  void* head GMP_GUARDED_BY(mu) = nullptr;
  void** xfer GMP_GUARDED_BY(mu) = nullptr;     // xfer_cap entries or null (fast tier only)
  std::uint32_t xfer_n GMP_GUARDED_BY(mu) = 0;  // objects in xfer[0, xfer_n)
  std::uint32_t xfer_cap GMP_GUARDED_BY(mu) = 0;
  std::uintptr_t bump GMP_GUARDED_BY(mu) = 0;  // next uncarved object of the current span
  std::uintptr_t bump_end GMP_GUARDED_BY(mu) = 0;
  // Written under mu, read by stats without it.
  std::atomic<std::uint64_t> count{0};         // objects on `head` and in `xfer`
  std::atomic<std::uint64_t> carved_bytes{0};  // bytes handed out of spans, ever
  std::atomic<std::uint64_t> span_bytes{0};    // bytes of spans taken from the buddy
};

class Central {
 public:
  // Before other threads reach the pool (or with none in it): writes the
  // lists without their locks.
  void init(Arena* arena, Buddy* buddy) noexcept GMP_NO_THREAD_SAFETY_ANALYSIS;
  // Moves up to `want` objects into *out (never blocks on anything but the
  // list's lock and, when carving, the buddy's). *carved is set when a new
  // span had to be taken. Returns the count; 0 when the arena is exhausted.
  std::uint32_t fetch(TierId tier, int cls, std::uint32_t want, std::uint32_t home, Chain* out,
                      bool* carved) noexcept;
  // REQUIRES: c is a non-empty chain of free objects of (tier, cls).
  void put(TierId tier, int cls, const Chain& c) noexcept;
  // The fast tier's array forms: up to `want` pointers into out[] (the
  // transfer cache first, then `head`, then a new span), and n pointers from
  // in[] (into the transfer cache while it has room, the rest onto `head`).
  std::uint32_t fetch_array(int cls, std::uint32_t want, std::uint32_t home, void** out, bool* carved) noexcept;
  void put_array(int cls, void* const* in, std::uint32_t n) noexcept;
  // Frees the transfer caches' arrays. REQUIRES: no other thread uses the
  // pool (reset_for_test).
  void free_xfer() noexcept GMP_NO_THREAD_SAFETY_ANALYSIS;
  // Checked mode: every span is filled with the free pattern when carved
  // (mem/checked.hpp). REQUIRES: before any carving (init).
  void set_fill_spans(bool on) noexcept { fill_spans_ = on; }

  CentralList& list(TierId tier, int cls) noexcept { return lists_[static_cast<int>(tier)][cls]; }

 private:
  // Carves up to `want` objects of a new or the current span; each goes to emit(p).
  template <class Emit>
  std::uint32_t carve(CentralList& l, TierId tier, int cls, std::uint32_t want, std::uint32_t home, bool* carved,
                      Emit emit) noexcept GMP_REQUIRES(l.mu);
  Arena* arena_ = nullptr;
  Buddy* buddy_ = nullptr;
  bool fill_spans_ = false;  // set at init only
  CentralList lists_[kNumListTiers][kNumClasses];
};

}  // namespace gmp::detail::mem
