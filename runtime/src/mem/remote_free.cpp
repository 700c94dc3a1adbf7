// mem/remote_free.cpp — frees of txn objects homed on another cache, and
// draining a cache.
//
// A txn object's home is the cache that carved its span (PageInfo::home):
// the txn tier's TTL/LRU lists hold only their own cache's objects. A txn
// free on any other P, or on a foreign thread, is buffered in the freeing
// cache's remote buffer for its class — owner only, no atomics — and the
// buffer goes to the central list in one locked splice when it reaches
// `txn.batch`, on a sweep, or when the cache is drained. Each free is counted
// once (frees and remote_frees of the freeing cache), and an object is on
// exactly one list at a time, so nothing is lost or counted twice.
// (Fast-tier objects have no home: whoever frees one keeps it, fast_tier.cpp.)
#include "mem/pool_state.hpp"
#include "trace/probes.hpp"

namespace gmp::detail::mem {

void flush_remote(Cache* c, int cls) noexcept {
  Chain& ch = c->remote[cls];
  if (ch.n == 0) return;
  state().central.put(TierId::kTxn, cls, ch);
  c->remote_count[cls].sub(ch.n);
  c->ctr[1][cls].flushes.add();
  GMP_PROBE_POOL_FLUSH(1, cls, ch.n);
  ch = Chain{};
}

void remote_free(Cache* c, int cls, void* p) noexcept {
  GMP_MEM_POISON(p, kClassSize[cls]);
  Chain& ch = c->remote[cls];
  ch.push(p);
  c->remote_count[cls].add();
  ClassCounters& k = c->ctr[1][cls];
  k.frees.add();
  k.remote_frees.add();
  if (ch.n >= state().tun.txn_batch.load(std::memory_order_relaxed)) flush_remote(c, cls);
}

void drain_cache(Cache* c) noexcept {
  PoolState& s = state();
  // The stw caller drains the cache of its own P when procresize removes it,
  // then moves to P 0 without an acquirep: its inline path must not keep
  // using the removed P's cache (mem/current_p.cpp).
  if (tls_front() == c) set_tls_front(nullptr);
  for (int cls = 0; cls < kNumClasses; ++cls) {
    drain_fast(c, cls);
    TxnList& t = c->txn[cls];
    if (t.mru != nullptr) {
      Chain ch;
      for (TxnNode* n = t.mru; n != nullptr;) {
        GMP_MEM_UNPOISON(n, sizeof(TxnNode));
        TxnNode* older = n->older;
        GMP_MEM_POISON(n, sizeof(TxnNode));
        ch.push(n);
        n = older;
      }
      t.mru = t.lru = nullptr;
      t.count.sub(ch.n);
      s.central.put(TierId::kTxn, cls, ch);
      c->ctr[1][cls].flushes.add();
    }
    flush_remote(c, cls);
  }
}

}  // namespace gmp::detail::mem
