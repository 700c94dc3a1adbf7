// mem/central.cpp — batch fetch/put and span carving.
#include "mem/central.hpp"

#include <mutex>

namespace gmp::detail::mem {

void Central::init(Arena* arena, Buddy* buddy) noexcept {
  arena_ = arena;
  buddy_ = buddy;
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

std::uint32_t Central::fetch(TierId tier, int cls, std::uint32_t want, std::uint32_t home, Chain* out,
                             bool* carved) noexcept {
  CentralList& l = list(tier, cls);
  const std::size_t size = kClassSize[cls];
  std::uint32_t got = 0;
  std::lock_guard g(l.mu);
  std::uint64_t cnt = l.count.load(std::memory_order_relaxed);
  while (got < want && l.head != nullptr) {
    void* obj = l.head;
    l.head = link_get(obj);
    out->push(obj);
    ++got;
  }
  l.count.store(cnt - got, std::memory_order_relaxed);
  std::uint64_t carved_now = 0;
  while (got < want) {
    if (l.bump + size > l.bump_end) {
      std::size_t sb = span_bytes(cls);
      std::int64_t page = buddy_->alloc(order_for(sb));
      if (page < 0) break;  // exhausted: the caller falls back
      std::uint32_t info = make_info(static_cast<std::uint32_t>(cls), static_cast<std::uint32_t>(tier), 0, home);
      for (std::size_t i = 0; i < sb / kPageSize; ++i) arena_->meta(static_cast<std::size_t>(page) + i).info = info;
      l.bump = reinterpret_cast<std::uintptr_t>(arena_->page_addr(static_cast<std::size_t>(page)));
      l.bump_end = l.bump + sb;
      GMP_MEM_POISON(reinterpret_cast<void*>(l.bump), sb);
      l.span_bytes.fetch_add(sb, std::memory_order_relaxed);
      *carved = true;
    }
    out->push(reinterpret_cast<void*>(l.bump));
    l.bump += size;
    carved_now += size;
    ++got;
  }
  if (carved_now != 0) l.carved_bytes.fetch_add(carved_now, std::memory_order_relaxed);
  return got;
}

void Central::put(TierId tier, int cls, const Chain& c) noexcept {
  CentralList& l = list(tier, cls);
  std::lock_guard g(l.mu);
  link_set(c.tail, l.head);
  l.head = c.head;
  l.count.store(l.count.load(std::memory_order_relaxed) + c.n, std::memory_order_relaxed);
}

}  // namespace gmp::detail::mem
