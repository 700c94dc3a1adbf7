// mem/txn_tier.cpp — the txn tier: per-P caches with a TTL, in LRU order.
//
// Each (P, class) list is doubly linked through TxnNode in the free objects:
// newest at `mru`, oldest at `lru`. Allocation takes the newest (warmest)
// object; expiry takes from the oldest end. Expired objects are recycled to
// the central list in batches of `txn.batch`, on every `txn.sweep_every`-th
// free and on an explicit sweep (gmp::pool::sweep), never one by one. A list
// over its cap sends its oldest batch back early. Stamps use
// CLOCK_MONOTONIC_COARSE (a vDSO read, a few ns; its 1-4 ms resolution is
// well inside the 1..100 ms TTL range).
#include <time.h>

#include "mem/pool_state.hpp"
#include "trace/probes.hpp"

namespace gmp::detail::mem {
namespace {

std::int64_t coarse_now() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// TxnNode access with the object otherwise poisoned (ASan build).
inline TxnNode* open(void* p) noexcept {
  GMP_MEM_UNPOISON(p, sizeof(TxnNode));
  return static_cast<TxnNode*>(p);
}
inline void close(TxnNode* n) noexcept { GMP_MEM_POISON(n, sizeof(TxnNode)); }

void push_mru(TxnList& l, void* p, std::int64_t now) noexcept {
  TxnNode* n = open(p);
  n->newer = nullptr;
  n->older = l.mru;
  n->stamp_ns = now;
  close(n);
  if (l.mru != nullptr) {
    TxnNode* m = open(l.mru);
    m->newer = n;
    close(m);
  } else {
    l.lru = n;
  }
  l.mru = n;
  l.count.add();
}

TxnNode* pop_lru(TxnList& l) noexcept {
  TxnNode* n = l.lru;
  TxnNode* o = open(n);
  l.lru = o->newer;
  close(o);
  if (l.lru != nullptr) {
    TxnNode* m = open(l.lru);
    m->older = nullptr;
    close(m);
  } else {
    l.mru = nullptr;
  }
  l.count.sub();
  return n;
}

// Sends up to `max` of the oldest objects (all expired ones when
// expire_before > 0) to the central list in batches.
void recycle_oldest(Cache* c, int cls, std::uint32_t max, std::int64_t expire_before) noexcept {
  PoolState& s = state();
  TxnList& l = c->txn[cls];
  std::uint32_t batch = s.tun.txn_batch.load(std::memory_order_relaxed);
  Chain ch;
  std::uint32_t moved = 0;
  while (l.lru != nullptr && moved < max) {
    if (expire_before > 0) {
      TxnNode* o = open(l.lru);
      bool expired = o->stamp_ns <= expire_before;
      close(o);
      if (!expired) break;
    }
    ch.push(pop_lru(l));
    ++moved;
    if (ch.n == batch) {
      s.central.put(TierId::kTxn, cls, ch);
      c->ctr[1][cls].flushes.add();
      GMP_PROBE_POOL_FLUSH(1, cls, ch.n);
      ch = Chain{};
    }
  }
  if (ch.n != 0) {
    s.central.put(TierId::kTxn, cls, ch);
    c->ctr[1][cls].flushes.add();
    GMP_PROBE_POOL_FLUSH(1, cls, ch.n);
  }
}

[[gnu::noinline]] void* txn_refill(Cache* c, int cls) noexcept {
  PoolState& s = state();
  Chain ch;
  bool carved = false;
  std::uint32_t want = s.tun.txn_batch.load(std::memory_order_relaxed);
  std::uint32_t n = s.central.fetch(TierId::kTxn, cls, want, c->home, &ch, &carved);
  if (n == 0) return fallback_alloc(c, TierId::kTxn, cls, kFallbackExhausted);
  ClassCounters& k = c->ctr[1][cls];
  k.misses.add();
  k.refills.add();
  GMP_PROBE_POOL_REFILL(1, cls, n);
  void* p = ch.head;
  void* rest = link_get(p);
  std::int64_t now = coarse_now();
  for (std::uint32_t i = 1; i < n; ++i) {
    void* q = rest;
    rest = link_get(q);
    push_mru(c->txn[cls], q, now);
  }
  if (carved) check_txn_growth();
  GMP_MEM_UNPOISON(p, kClassSize[cls]);
  return p;
}

}  // namespace

void* txn_alloc(Cache* c, int cls) noexcept {
  TxnList& l = c->txn[cls];
  TxnNode* n = l.mru;
  if (n == nullptr) [[unlikely]] return txn_refill(c, cls);
  TxnNode* o = open(n);
  l.mru = o->older;
  close(o);
  if (l.mru != nullptr) {
    TxnNode* m = open(l.mru);
    m->newer = nullptr;
    close(m);
  } else {
    l.lru = nullptr;
  }
  l.count.sub();
  c->ctr[1][cls].hits.add();
  GMP_MEM_UNPOISON(n, kClassSize[cls]);
  return n;
}

void txn_free(Cache* c, void* p, int cls) noexcept {
  PoolState& s = state();
  GMP_MEM_POISON(p, kClassSize[cls]);
  c->ctr[1][cls].frees.add();
  std::uint32_t leak = s.tun.leak_ppm.load(std::memory_order_relaxed);
  if (leak != 0) [[unlikely]] {
    // Fault drill: this free "forgets" the object (xorshift64, owner only).
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    if (c->rng % 1'000'000 < leak) {
      c->ctr[1][cls].leaked.add();
      return;
    }
  }
  TxnList& l = c->txn[cls];
  std::int64_t now = coarse_now();
  if (l.count.get() >= s.tun.txn_cap[cls].load(std::memory_order_relaxed))
    recycle_oldest(c, cls, s.tun.txn_batch.load(std::memory_order_relaxed), 0);
  push_mru(l, p, now);
  if (++c->txn_frees_since_sweep >= s.tun.txn_sweep_every.load(std::memory_order_relaxed)) txn_sweep(c, now);
}

void txn_sweep(Cache* c, std::int64_t now_ns) noexcept {
  PoolState& s = state();
  c->txn_frees_since_sweep = 0;
  if (now_ns <= 0) now_ns = coarse_now();
  std::int64_t before = now_ns - s.tun.txn_ttl_ns.load(std::memory_order_relaxed);
  for (int cls = 0; cls < kNumClasses; ++cls) {
    if (c->txn[cls].lru != nullptr) recycle_oldest(c, cls, UINT32_MAX, before);
  }
}

}  // namespace gmp::detail::mem
