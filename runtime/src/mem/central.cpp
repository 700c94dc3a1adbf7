// mem/central.cpp — batch fetch/put, the fast tier's transfer caches, and
// span carving.
#include "mem/central.hpp"

#include "mem/checked.hpp"

#include <jemalloc/jemalloc.h>

#include <cstring>
#include <mutex>
#include <utility>

namespace gmp::detail::mem {

void Central::init(Arena* arena, Buddy* buddy) noexcept {
  arena_ = arena;
  buddy_ = buddy;
  fill_spans_ = false;
  free_xfer();
  for (auto& tier : lists_) {
    for (auto& l : tier) {
      l.head = nullptr;
      l.bump = l.bump_end = 0;
      l.count.store(0, std::memory_order_relaxed);
      l.carved_bytes.store(0, std::memory_order_relaxed);
      l.span_bytes.store(0, std::memory_order_relaxed);
    }
  }
}

void Central::free_xfer() noexcept {
  for (auto& tier : lists_) {
    for (auto& l : tier) {
      if (l.xfer != nullptr) dallocx(l.xfer, 0);
      l.xfer = nullptr;
      l.xfer_n = l.xfer_cap = 0;
    }
  }
}

template <class Emit>
std::uint32_t Central::carve(CentralList& l, TierId tier, int cls, std::uint32_t want, std::uint32_t home,
                             bool* carved, Emit emit) noexcept {
  const std::size_t size = kClassSize[cls];
  std::uint32_t got = 0;
  while (got < want) {
    if (l.bump + size > l.bump_end) {
      std::size_t sb = span_bytes(cls);
      std::int64_t page = buddy_->alloc(order_for(sb));
      if (page < 0) break;  // exhausted: the caller falls back
      std::uint32_t info = make_info(static_cast<std::uint32_t>(cls), static_cast<std::uint32_t>(tier), 0, home);
      std::uint16_t slot = tier == TierId::kFast ? fast_slot_offset(cls) : 0;
      for (std::size_t i = 0; i < sb / kPageSize; ++i) arena_->meta(static_cast<std::size_t>(page) + i).info = info;
      arena_->set_slot(static_cast<std::size_t>(page), sb / kPageSize, slot);
      l.bump = reinterpret_cast<std::uintptr_t>(arena_->page_addr(static_cast<std::size_t>(page)));
      l.bump_end = l.bump + sb;
      if (fill_spans_) {
        GMP_MEM_UNPOISON(reinterpret_cast<void*>(l.bump), sb);
        checked_fill_span(reinterpret_cast<void*>(l.bump), sb);
      }
      GMP_MEM_POISON(reinterpret_cast<void*>(l.bump), sb);
      l.span_bytes.fetch_add(sb, std::memory_order_relaxed);
      *carved = true;
    }
    emit(reinterpret_cast<void*>(l.bump));
    l.bump += size;
    ++got;
  }
  if (got != 0) l.carved_bytes.fetch_add(got * size, std::memory_order_relaxed);
  return got;
}

std::uint32_t Central::fetch(TierId tier, int cls, std::uint32_t want, std::uint32_t home, Chain* out,
                             bool* carved) noexcept {
  CentralList& l = list(tier, cls);
  std::uint32_t got = 0;
  LockGuard g(l.mu);
  std::uint64_t cnt = l.count.load(std::memory_order_relaxed);
  while (got < want && l.head != nullptr) {
    void* obj = l.head;
    l.head = link_get(obj);
    out->push(obj);
    ++got;
  }
  l.count.store(cnt - got, std::memory_order_relaxed);
  return got + carve(l, tier, cls, want - got, home, carved, [out](void* p) { out->push(p); });
}

std::uint32_t Central::fetch_array(int cls, std::uint32_t want, std::uint32_t home, void** out, bool* carved) noexcept {
  CentralList& l = list(TierId::kFast, cls);
  std::uint32_t got = 0;
  LockGuard g(l.mu);
  std::uint64_t cnt = l.count.load(std::memory_order_relaxed);
  if (l.xfer_n != 0) {
    got = want < l.xfer_n ? want : l.xfer_n;
    l.xfer_n -= got;
    std::memcpy(out, l.xfer + l.xfer_n, got * sizeof(void*));
  }
  while (got < want && l.head != nullptr) {
    void* obj = l.head;
    l.head = link_get(obj);
    out[got++] = obj;
  }
  l.count.store(cnt - got, std::memory_order_relaxed);
  void** dst = out + got;
  return got + carve(l, TierId::kFast, cls, want - got, home, carved, [&dst](void* p) { *dst++ = p; });
}

void Central::put(TierId tier, int cls, const Chain& c) noexcept {
  CentralList& l = list(tier, cls);
  LockGuard g(l.mu);
  link_set(c.tail, l.head);
  l.head = c.head;
  l.count.store(l.count.load(std::memory_order_relaxed) + c.n, std::memory_order_relaxed);
}

void Central::put_array(int cls, void* const* in, std::uint32_t n) noexcept {
  CentralList& l = list(TierId::kFast, cls);
  const std::uint32_t max_cap = xfer_max_cap(kClassSize[cls]);
  void** old = nullptr;  // freed after the lock is dropped
  UniqueLock g(l.mu);
  if (l.xfer_cap - l.xfer_n < n && l.xfer_cap < max_cap) [[unlikely]] {
    // The first flush of the class, or a full transfer cache that may grow:
    // allocate outside the lock, then move the entries over (unless a racing
    // flush grew it meanwhile).
    std::uint32_t cap = l.xfer_cap == 0 ? kXferMinCap : l.xfer_cap * 2;
    g.unlock();
    auto* fresh = static_cast<void**>(mallocx(std::size_t{cap} * sizeof(void*), 0));
    g.lock();
    if (fresh != nullptr && cap > l.xfer_cap) {
      if (l.xfer_n != 0) std::memcpy(fresh, l.xfer, l.xfer_n * sizeof(void*));
      old = l.xfer;
      l.xfer = fresh;
      l.xfer_cap = cap;
    } else {
      old = fresh;
    }
  }
  std::uint32_t room = l.xfer_cap - l.xfer_n;
  std::uint32_t k = n < room ? n : room;
  if (k != 0) {
    std::memcpy(l.xfer + l.xfer_n, in, k * sizeof(void*));
    l.xfer_n += k;
  }
  for (std::uint32_t i = k; i < n; ++i) {  // no room: linked through the objects
    link_set(in[i], l.head);
    l.head = in[i];
  }
  l.count.store(l.count.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  g.unlock();
  if (old != nullptr) dallocx(old, 0);
}

}  // namespace gmp::detail::mem
