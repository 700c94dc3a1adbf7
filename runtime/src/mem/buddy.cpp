// mem/buddy.cpp — buddy split/coalesce and the 2 MiB release policy.
#include "mem/buddy.hpp"

#include <mutex>

#include "base/check.hpp"

namespace gmp::detail::mem {

// Before any other thread can reach the Buddy (pool init under cfg_mu, with
// no object live): the fields are written without mu_.
void Buddy::init(Arena* arena, std::size_t retain_bytes) noexcept GMP_NO_THREAD_SAFETY_ANALYSIS {
  arena_ = arena;
  for (int o = 0; o <= kMaxOrder; ++o) head_[o] = tail_[o] = kNoPage;
  nfree_pages_ = whole_units_ = 0;
  grows_ = 0;
  retain_units_ = retain_bytes / kHugePageSize;
  add_range(0, arena_->committed_bytes() / kPageSize);
}

void Buddy::set_retain_bytes(std::size_t b) noexcept {
  LockGuard g(mu_);
  retain_units_ = b / kHugePageSize;
}

void Buddy::push(std::size_t page, int order, bool at_tail) noexcept {
  PageMeta& m = arena_->meta(page);
  m.order = static_cast<std::uint8_t>(order);
  m.flags |= kPageFree;
  auto p = static_cast<std::uint32_t>(page);
  if (head_[order] == kNoPage) {
    m.next = m.prev = kNoPage;
    head_[order] = tail_[order] = p;
  } else if (at_tail) {
    m.next = kNoPage;
    m.prev = tail_[order];
    arena_->meta(tail_[order]).next = p;
    tail_[order] = p;
  } else {
    m.prev = kNoPage;
    m.next = head_[order];
    arena_->meta(head_[order]).prev = p;
    head_[order] = p;
  }
  nfree_pages_ += std::size_t{1} << order;
  if (order == kMaxOrder && !(m.flags & kPageReleased)) ++whole_units_;
}

void Buddy::unlink(std::size_t page, int order) noexcept {
  PageMeta& m = arena_->meta(page);
  if (m.prev != kNoPage) arena_->meta(m.prev).next = m.next;
  else head_[order] = m.next;
  if (m.next != kNoPage) arena_->meta(m.next).prev = m.prev;
  else tail_[order] = m.prev;
  m.flags &= static_cast<std::uint8_t>(~kPageFree);
  nfree_pages_ -= std::size_t{1} << order;
  if (order == kMaxOrder && !(m.flags & kPageReleased)) --whole_units_;
}

void Buddy::add_range(std::size_t first, std::size_t npages) noexcept {
  GMP_CHECK(first % 512 == 0 && npages % 512 == 0, "runtime: pool arena chunk not 2 MiB aligned");
  for (std::size_t p = first; p < first + npages; p += 512) {
    arena_->meta(p).flags = 0;
    push(p, kMaxOrder, false);
  }
}

std::int64_t Buddy::alloc(int order) noexcept {
  GMP_CHECK(order >= 0 && order <= kMaxOrder, "runtime: pool buddy order %d out of range", order);
  LockGuard g(mu_);
  int o = order;
  while (o <= kMaxOrder && head_[o] == kNoPage) ++o;
  if (o > kMaxOrder) {
    std::size_t n = 0;
    std::int64_t first = arena_->grow(&n);
    if (first < 0) return -1;
    ++grows_;
    add_range(static_cast<std::size_t>(first), n);
    o = kMaxOrder;
  }
  std::size_t page = head_[o];
  unlink(page, o);
  PageMeta& m = arena_->meta(page);
  if (m.flags & kPageReleased) {  // only order-9 heads carry it
    m.flags &= static_cast<std::uint8_t>(~kPageReleased);
    arena_->reuse_unit(page);
  }
  while (o > order) {  // split: keep the lower half, free the upper
    --o;
    std::size_t buddy = page + (std::size_t{1} << o);
    arena_->meta(buddy).flags = 0;
    push(buddy, o, false);
  }
  arena_->meta(page).order = static_cast<std::uint8_t>(order);
  return static_cast<std::int64_t>(page);
}

void Buddy::free(std::size_t page, int order) noexcept {
  LockGuard g(mu_);
  while (order < kMaxOrder) {
    std::size_t buddy = page ^ (std::size_t{1} << order);
    PageMeta& b = arena_->meta(buddy);
    if (!(b.flags & kPageFree) || b.order != order) break;
    unlink(buddy, order);
    page = page < buddy ? page : buddy;
    ++order;
  }
  arena_->meta(page).flags &= static_cast<std::uint8_t>(~kPageReleased);
  if (order == kMaxOrder && whole_units_ >= retain_units_) {
    arena_->release_unit(page);
    arena_->meta(page).flags = kPageReleased;
    push(page, order, true);
    return;
  }
  arena_->meta(page).flags = 0;
  push(page, order, false);
}

std::size_t Buddy::free_bytes() noexcept {
  LockGuard g(mu_);
  return nfree_pages_ * kPageSize;
}

}  // namespace gmp::detail::mem
