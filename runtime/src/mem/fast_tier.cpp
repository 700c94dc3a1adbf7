// mem/fast_tier.cpp — the fast tier: per-P LIFO free lists for small classes.
//
// Owner-only lists, no locks and no read-modify-write atomics on hit (the
// counters are owner-written relaxed stores). A miss refills `fast.batch`
// objects from the central list under one lock; a list over its cap sends a
// batch back. Objects freed by a cache that is not their span's home do not
// come here (remote_free.cpp): a P never reuses memory that another P's
// objects share cache lines with through its fast list.
//
// The hit paths of fast_alloc/fast_free are also inline in gmp/pool.hpp
// (allocate/deallocate); both update the same FastSlot fields the same way.
#include "mem/pool_state.hpp"
#include "trace/probes.hpp"

namespace gmp::detail::mem {
namespace {

[[gnu::noinline]] void* fast_refill(Cache* c, int cls) noexcept {
  PoolState& s = state();
  Chain ch;
  bool carved = false;
  std::uint32_t want = s.tun.fast_batch.load(std::memory_order_relaxed);
  std::uint32_t n = s.central.fetch(TierId::kFast, cls, want, c->home, &ch, &carved);
  if (n == 0) return fallback_alloc(c, TierId::kFast, cls, kFallbackExhausted);
  ClassCounters& k = c->ctr[0][cls];
  k.misses.add();
  k.refills.add();
  GMP_PROBE_POOL_REFILL(0, cls, n);
  void* p = ch.head;
  FastList& l = c->fast[cls];
  // The list is empty on a miss; the rest of the batch becomes it.
  l.head = link_get(p);
  if (n > 1) link_set(ch.tail, nullptr);
  l.count.add(n - 1);
  GMP_MEM_UNPOISON(p, kClassSize[cls]);
  return p;
}

[[gnu::noinline]] void fast_flush(Cache* c, int cls) noexcept {
  PoolState& s = state();
  FastList& l = c->fast[cls];
  std::uint32_t want = s.tun.fast_batch.load(std::memory_order_relaxed);
  Chain ch;
  while (ch.n < want && l.head != nullptr) {
    void* p = l.head;
    l.head = link_get(p);
    ch.push(p);
  }
  l.count.sub(ch.n);
  s.central.put(TierId::kFast, cls, ch);
  c->ctr[0][cls].flushes.add();
  GMP_PROBE_POOL_FLUSH(0, cls, ch.n);
}

}  // namespace

void* fast_alloc(Cache* c, int cls) noexcept {
  FastList& l = c->fast[cls];
  void* p = l.head;
  if (p == nullptr) [[unlikely]] return fast_refill(c, cls);
  l.head = link_get(p);
  l.count.sub();
  l.hits.add();
  GMP_MEM_UNPOISON(p, kClassSize[cls]);
  return p;
}

void fast_free(Cache* c, void* p, int cls) noexcept {
  GMP_MEM_POISON(p, kClassSize[cls]);
  FastList& l = c->fast[cls];
  link_set(p, l.head);
  l.head = p;
  l.count.add();
  l.frees.add();
  if (l.count.get() > state().tun.fast_cap[cls].load(std::memory_order_relaxed)) [[unlikely]] fast_flush(c, cls);
}

}  // namespace gmp::detail::mem
