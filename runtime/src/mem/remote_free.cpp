// mem/remote_free.cpp — frees of objects homed on another cache.
//
// An object's home is the cache that carved its span (PageInfo::home). A
// free on any other P, or on a foreign thread, is buffered in the freeing
// cache's remote buffer for (tier, class) — owner only, no atomics — and the
// buffer goes to the central list in one locked splice when it reaches the
// tier's batch, on a txn sweep, or when a foreign thread exits. Each free is
// counted once (frees and remote_frees of the freeing cache), and an object
// is on exactly one list at a time, so nothing is lost or counted twice.
#include "mem/pool_state.hpp"
#include "trace/probes.hpp"

namespace gmp::detail::mem {

void flush_remote(Cache* c, TierId tier, int cls) noexcept {
  int t = static_cast<int>(tier);
  Chain& ch = c->remote[t][cls];
  if (ch.n == 0) return;
  state().central.put(tier, cls, ch);
  c->remote_count[t][cls].sub(ch.n);
  c->ctr[t][cls].flushes.add();
  GMP_PROBE_POOL_FLUSH(t, cls, ch.n);
  ch = Chain{};
}

void remote_free(Cache* c, TierId tier, int cls, void* p) noexcept {
  int t = static_cast<int>(tier);
  GMP_MEM_POISON(p, kClassSize[cls]);
  Chain& ch = c->remote[t][cls];
  ch.push(p);
  c->remote_count[t][cls].add();
  ClassCounters& k = c->ctr[t][cls];
  k.frees.add();
  k.remote_frees.add();
  Tunables& tun = state().tun;
  std::uint32_t batch = (tier == TierId::kFast ? tun.fast_batch : tun.txn_batch).load(std::memory_order_relaxed);
  if (ch.n >= batch) flush_remote(c, tier, cls);
}

void drain_cache(Cache* c) noexcept {
  PoolState& s = state();
  // The stw caller drains the cache of its own P when procresize removes it,
  // then moves to P 0 without an acquirep: its inline path must not keep
  // using the removed P's cache (mem/current_p.cpp).
  if (tls_front() == c) set_tls_front(nullptr);
  for (int cls = 0; cls < kNumClasses; ++cls) {
    FastList& f = c->fast[cls];
    if (f.head != nullptr) {
      Chain ch;
      while (f.head != nullptr) {
        void* p = f.head;
        f.head = link_get(p);
        ch.push(p);
      }
      f.count.sub(ch.n);
      s.central.put(TierId::kFast, cls, ch);
      c->ctr[0][cls].flushes.add();
    }
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
    flush_remote(c, TierId::kFast, cls);
    flush_remote(c, TierId::kTxn, cls);
  }
}

}  // namespace gmp::detail::mem
