// mem/stable_tier.cpp — the stable tier: long-lived objects, shared by all Ps.
//
// Objects of 4 KiB and more are whole buddy blocks (power-of-two pages,
// naturally aligned); smaller ones come from the stable central lists, one
// locked operation each — stable objects are allocated and freed rarely, and
// keeping them on their own spans keeps long-lived objects from pinning the
// spans that short-lived ones churn through.
#include "mem/pool_state.hpp"

namespace gmp::detail::mem {

void* stable_alloc(Cache* c, std::size_t size, int cls) noexcept {
  PoolState& s = state();
  ClassCounters& k = c->ctr[2][cls];
  if (kClassSize[cls] >= kPageSize) {
    int order = order_for(size);
    std::int64_t page = s.buddy.alloc(order);
    if (page < 0) return fallback_alloc(c, TierId::kStable, cls, kFallbackExhausted);
    PageMeta& m = s.arena.meta(static_cast<std::size_t>(page));
    m.info = make_info(kInfoBlock, 2, static_cast<std::uint32_t>(order), c->home);
    void* p = s.arena.page_addr(static_cast<std::size_t>(page));
    std::size_t bytes = kPageSize << order;
    GMP_MEM_UNPOISON(p, bytes);
    k.misses.add();
    k.block_bytes_alloc.add(bytes);
    return p;
  }
  Chain ch;
  bool carved = false;
  if (s.central.fetch(TierId::kStable, cls, 1, c->home, &ch, &carved) == 0)
    return fallback_alloc(c, TierId::kStable, cls, kFallbackExhausted);
  (carved ? k.misses : k.hits).add();
  GMP_MEM_UNPOISON(ch.head, kClassSize[cls]);
  return ch.head;
}

void stable_free(Cache* c, void* p, std::uint32_t info) noexcept {
  PoolState& s = state();
  if (info_cls(info) == kInfoBlock) {
    int order = static_cast<int>(info_order(info));
    std::size_t bytes = kPageSize << order;
    std::size_t page = s.arena.page_index(p);
    int cls = class_of(bytes);
    GMP_MEM_POISON(p, bytes);
    s.buddy.free(page, order);
    c->ctr[2][cls].frees.add();
    c->ctr[2][cls].block_bytes_free.add(bytes);
    return;
  }
  int cls = static_cast<int>(info_cls(info));
  GMP_MEM_POISON(p, kClassSize[cls]);
  Chain ch;
  ch.push(p);
  s.central.put(TierId::kStable, cls, ch);
  c->ctr[2][cls].frees.add();
}

}  // namespace gmp::detail::mem
