// mem/buddy.hpp — the stable tier's page allocator: a binary buddy system over
// the arena's 4 KiB pages, orders 0 (4 KiB) .. 9 (2 MiB), shared by all Ps.
//
// It hands out spans to the central lists and whole blocks to stable-tier
// objects of 4 KiB and more. Free blocks are kept in out-of-band lists
// (PageMeta::next/prev) so a free page is never written (ASan keeps it
// poisoned). When a free coalesces into a whole 2 MiB unit and more than
// `retain_bytes` of whole free units exist, the unit goes back to the
// kernel — whole, so a hugepage is never split (Arena invariant).
// Released units sit at the tail of the order-9 list and are taken last.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mem/arena.hpp"
#include "mem/yield_lock.hpp"

namespace gmp::detail::mem {

inline constexpr int kMaxOrder = 9;  // 2 MiB = 512 pages
inline constexpr std::uint32_t kNoPage = 0xFFFFFFFFu;

// The order of the smallest block holding `bytes`. REQUIRES: bytes <= 2 MiB.
inline int order_for(std::size_t bytes) noexcept {
  std::size_t pages = (bytes + kPageSize - 1) / kPageSize;
  return pages <= 1 ? 0 : 64 - __builtin_clzll(static_cast<unsigned long long>(pages - 1));
}

class Buddy {
 public:
  // REQUIRES: arena initialised; its first chunk is added here.
  void init(Arena* arena, std::size_t retain_bytes) noexcept;
  void set_retain_bytes(std::size_t b) noexcept;

  // A block of 2^order pages (first page index), growing the arena when no
  // block is free; -1 when the arena is exhausted.
  std::int64_t alloc(int order) noexcept;
  // REQUIRES: [page, page + 2^order) was returned by alloc(order).
  void free(std::size_t page, int order) noexcept;

  std::size_t free_bytes() noexcept;
  // Tests only, with no other thread in the pool: reads without the lock.
  std::uint64_t grows() const noexcept GMP_NO_THREAD_SAFETY_ANALYSIS { return grows_; }

 private:
  void push(std::size_t page, int order, bool at_tail) noexcept GMP_REQUIRES(mu_);
  void unlink(std::size_t page, int order) noexcept GMP_REQUIRES(mu_);
  void add_range(std::size_t first, std::size_t npages) noexcept GMP_REQUIRES(mu_);

  Arena* arena_ = nullptr;
  YieldLock mu_;
  std::uint32_t head_[kMaxOrder + 1] GMP_GUARDED_BY(mu_);
  std::uint32_t tail_[kMaxOrder + 1] GMP_GUARDED_BY(mu_);
  std::size_t nfree_pages_ GMP_GUARDED_BY(mu_) = 0;
  std::size_t whole_units_ GMP_GUARDED_BY(mu_) = 0;  // free, unreleased order-9 blocks
  std::size_t retain_units_ GMP_GUARDED_BY(mu_) = 0;
  std::uint64_t grows_ GMP_GUARDED_BY(mu_) = 0;
};

}  // namespace gmp::detail::mem
