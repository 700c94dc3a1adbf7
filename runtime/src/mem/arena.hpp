// mem/arena.hpp — the pool's address space: one reservation, committed in
// 2 MiB-aligned chunks, with a page map.
//
// Model: at init the arena reserves `max_bytes` of address space (PROT_NONE,
// MAP_NORESERVE), 2 MiB aligned, and commits chunks of `chunk_bytes` from its
// start as the buddy allocator asks for more (grow). Every pool object lives
// inside [base, base + max_bytes), so "is this pointer ours" is one compare,
// and its page's PageMeta (a parallel NORESERVE array, touched only for
// committed chunks) says which tier, class and P it belongs to.
//
// Hugepage modes (HugeMode): kHugetlb maps each chunk MAP_FIXED|MAP_HUGETLB
// (needs reserved pages, vm.nr_hugepages); kThp makes it read-write,
// MADV_HUGEPAGE, and pre-faults it (MADV_POPULATE_WRITE) so no fault — and no
// compaction stall — happens on an allocation path; kOff uses 4 KiB pages
// (MADV_NOHUGEPAGE, not pre-faulted). kAuto tries them in that order, per
// chunk. A forced mode that cannot be had is an init error.
//
// Invariant: memory goes back to the kernel only in whole 2 MiB units
// (release_unit), so a THP is never split by a partial MADV_DONTNEED
// (reference: one 4 KiB DONTNEED inside a THP splits it).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "mem/page_source.hpp"
#include "mem/size_class.hpp"

namespace gmp::detail::mem {

enum class HugeMode : std::uint8_t { kAuto, kHugetlb, kThp, kOff };
const char* huge_mode_name(HugeMode m) noexcept;
// Parses "auto", "hugetlb", "thp", "off". Returns false on anything else.
bool parse_huge_mode(const char* s, HugeMode* out) noexcept;

// Per-page metadata. `info` is set by whoever owns the page (central lists
// when carving a span, the buddy for blocks) under that owner's lock, and
// read without a lock by deallocate: a page's info only changes while no
// object on it is live, so a reader holding a live object sees a stable value.
// * "Guarded by the buddy lock" (here and in Arena) is in words, not
// GMP_GUARDED_BY: the lock is Buddy::mu_, a member of another object that
// the analysis cannot name from these declarations.
struct PageMeta {
  std::uint32_t info;  // see PageInfo
  std::uint32_t next;  // buddy free-list links (page indices); guarded by the buddy lock*
  std::uint32_t prev;
  std::uint8_t order;  // buddy: order of the free block headed here
  std::uint8_t flags;  // buddy: kPageFree, kPageReleased
};
inline constexpr std::uint8_t kPageFree = 1;      // head of a free buddy block
inline constexpr std::uint8_t kPageReleased = 2;  // head of a 2 MiB unit given back to the kernel

// PageInfo layout: cls (8) | tier (4) | order (4) | home (16).
inline constexpr std::uint32_t kInfoBlock = 0xFF;  // cls value of a stable buddy block
constexpr std::uint32_t make_info(std::uint32_t cls, std::uint32_t tier, std::uint32_t order, std::uint32_t home) {
  return cls | (tier << 8) | (order << 12) | (home << 16);
}
constexpr std::uint32_t info_cls(std::uint32_t i) { return i & 0xFF; }
constexpr std::uint32_t info_tier(std::uint32_t i) { return (i >> 8) & 0xF; }
constexpr std::uint32_t info_order(std::uint32_t i) { return (i >> 12) & 0xF; }
constexpr std::uint32_t info_home(std::uint32_t i) { return i >> 16; }

struct ArenaOptions {
  HugeMode mode = HugeMode::kAuto;
  std::size_t chunk_bytes = 32u << 20;  // multiple of 2 MiB
  std::size_t max_bytes = std::size_t{8} << 30;  // multiple of chunk_bytes
};

class Arena {
 public:
  // Reserves the address space and commits the first chunk. Returns "" or
  // one line saying what failed (a forced mode that cannot be had, say).
  // REQUIRES: not yet initialised.
  std::string init(const ArenaOptions& opt, PageSource* src);
  // Unmaps everything (tests). REQUIRES: no live objects.
  void destroy() noexcept;

  bool initialized() const noexcept { return base_ != 0; }
  bool contains(const void* p) const noexcept {
    return reinterpret_cast<std::uintptr_t>(p) - base_ < reserved_;
  }
  std::uintptr_t base() const noexcept { return base_; }
  std::size_t page_index(const void* p) const noexcept {
    return (reinterpret_cast<std::uintptr_t>(p) - base_) / kPageSize;
  }
  void* page_addr(std::size_t idx) const noexcept {
    return reinterpret_cast<void*>(base_ + idx * kPageSize);
  }
  PageMeta& meta(std::size_t idx) noexcept { return meta_[idx]; }

  // The slot map (Note [The slot map], slot_map.hpp): attach opens its
  // entries for the whole reservation (returns 0 or -errno; on failure the
  // arena works without it), destroy closes them.
  // REQUIRES (attach): initialised, no map attached.
  int attach_slot_map(std::uint16_t* map) noexcept;
  const std::uint16_t* slot_map() const noexcept { return slot_map_; }
  // What the inline free reads for pages [page, page + n): the byte offset of
  // the class's FastSlot in a FastFront (fast_slot_offset) on the pages of a
  // fast-tier span, 0 (the miss slot) on any other page. Written with the
  // pages' info, under the same rule (PageMeta). Fast-tier spans never go
  // back to the buddy, so a page that is not fast tier has never had a
  // nonzero slot. No-op without a map.
  void set_slot(std::size_t page, std::size_t n, std::uint16_t slot) noexcept {
    if (slot_map_ == nullptr) return;
    std::uint16_t* e = slot_map_ + (base_ >> kInlinePageShift) + page;
    for (std::size_t i = 0; i < n; ++i) e[i] = slot;
  }

  // Commits the next chunk; returns its first page index and sets *npages,
  // or returns -1 when max_bytes is reached or the kernel refuses.
  // REQUIRES: the buddy lock (grow is serialised by its only caller).
  std::int64_t grow(std::size_t* npages) noexcept;
  void set_chunk_bytes(std::size_t b) noexcept { chunk_bytes_.store(b, std::memory_order_relaxed); }

  // Gives one 2 MiB unit back to the kernel / takes it back into use.
  // REQUIRES: `first_page` is 2 MiB aligned; the unit is free in the buddy.
  void release_unit(std::size_t first_page) noexcept;
  void reuse_unit(std::size_t first_page) noexcept;

  // The mode of the first chunk (what the banner reports) and per-mode bytes.
  HugeMode mode() const noexcept { return mode_; }
  std::size_t committed_bytes() const noexcept { return committed_.load(std::memory_order_relaxed); }
  std::size_t released_bytes() const noexcept { return released_.load(std::memory_order_relaxed); }
  std::size_t reserved_bytes() const noexcept { return reserved_; }
  std::uint64_t release_calls() const noexcept { return release_calls_.load(std::memory_order_relaxed); }
  // Chunks the kernel refused to commit (Note [A refused chunk], arena.cpp)
  // and the errno of the last refusal (0: none).
  std::uint64_t grow_refusals() const noexcept { return grow_refusals_.load(std::memory_order_relaxed); }
  int grow_errno() const noexcept { return grow_errno_.load(std::memory_order_relaxed); }
  // Kernel view of the committed range (reads /proc/self/smaps).
  SmapsTotals smaps() const noexcept;

 private:
  int commit(std::uintptr_t addr, std::size_t len, HugeMode* used) noexcept;
  int prefault(std::uintptr_t addr, std::size_t len) noexcept;

  PageSource* src_ = nullptr;
  std::uintptr_t base_ = 0;      // set once at init
  std::size_t reserved_ = 0;     // set once at init
  std::uintptr_t map_lo_ = 0;    // the raw reservation (for destroy)
  std::size_t map_len_ = 0;
  PageMeta* meta_ = nullptr;     // set once at init
  std::uint16_t* slot_map_ = nullptr;  // set once after init (attach_slot_map), null without a map
  std::size_t meta_len_ = 0;
  HugeMode want_ = HugeMode::kAuto;
  HugeMode mode_ = HugeMode::kOff;
  HugeMode next_mode_ = HugeMode::kOff;      // what the next chunk tries first; guarded by the buddy lock*
  std::atomic<std::size_t> chunk_bytes_{0};  // atomic: set by apply_config, read by grow
  std::size_t frontier_ = 0;                 // committed prefix; guarded by the buddy lock*
  std::atomic<std::size_t> committed_{0};  // written under the buddy lock, read anywhere
  std::atomic<std::size_t> released_{0};
  std::atomic<std::uint64_t> release_calls_{0};
  std::atomic<std::uint64_t> grow_refusals_{0};  // written under the buddy lock, read anywhere
  std::atomic<int> grow_errno_{0};
};

}  // namespace gmp::detail::mem
