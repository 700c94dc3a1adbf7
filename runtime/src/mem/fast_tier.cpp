// mem/fast_tier.cpp — the fast tier: per-P magazines (pointer stacks) for
// small classes.
//
// Owner-only magazines, no locks and no read-modify-write atomics on hit. A
// miss refills `fast.batch` objects from the central list (its transfer
// cache first) straight into the empty magazine under one lock; a free into
// a full magazine sends the top `fast.batch` objects back the same way. The
// magazine's array is the owner's, allocated on the class's first refill and
// resized on a slow path when the class's cap (Tunables::fast_cap) changed:
// a live cap change takes effect at the cache's next refill or overflow of
// that class.
//
// Ownership: a fast-tier object belongs to no cache. Whoever frees it keeps
// it (its magazine, then the central list), as tcmalloc and jemalloc do;
// PageInfo::home only records which cache carved the span. So a free on
// another P or thread costs what a local free costs, and objects that moved
// through the central lists are local to whoever holds them now.
//
// The hit paths of fast_alloc/fast_free are also inline in gmp/detail/pool_inline.hpp
// (allocate/deallocate); both update the same FastSlot fields the same way.
#include <jemalloc/jemalloc.h>

#include <cstring>

#include "mem/pool_state.hpp"
#include "trace/probes.hpp"

namespace gmp::detail::mem {
namespace {

// Whether the magazine has an array (else top = base = limit = kEmptyMagazine;
// a cap is at least 1).
bool has_array(const FastSlot& m) noexcept { return m.limit != m.base.load(std::memory_order_relaxed); }

std::uint32_t held(const FastSlot& m) noexcept {
  return static_cast<std::uint32_t>(m.top.load(std::memory_order_relaxed) - m.base.load(std::memory_order_relaxed));
}

// Sends the n objects at the top of the magazine to the central list.
// REQUIRES: owner; n <= held(m).
void flush_top(Cache* c, int cls, std::uint32_t n) noexcept {
  if (n == 0) return;
  FastSlot& m = c->fast[cls];
  void** t = m.top.load(std::memory_order_relaxed) - n;
  state().central.put_array(cls, t, n);
  m.top.store(t, std::memory_order_relaxed);
  ClassCounters& k = c->ctr[0][cls];
  k.mag_out.add(n);
  k.flushes.add();
  GMP_PROBE_POOL_FLUSH(0, cls, n);
}

// Makes the magazine of (c, cls) an array of `cap` entries, keeping the
// objects it holds (those above cap go to the central list). The array has
// one word more, below base: the null sentinel the inline allocate path pops
// when the magazine is empty (FastSlot). On an allocation failure the
// magazine keeps its array (or stays without one, kEmptyMagazine: every
// allocation then misses and every free goes to the central list).
void fit_magazine(Cache* c, int cls, std::uint32_t cap) noexcept {
  FastSlot& m = c->fast[cls];
  std::uint32_t n = held(m);
  if (n > cap) {
    flush_top(c, cls, n - cap);
    n = cap;
  }
  auto* block = static_cast<void**>(mallocx((std::size_t{cap} + 1) * sizeof(void*), 0));
  if (block == nullptr) return;
  block[0] = nullptr;  // the sentinel
  void** fresh = block + 1;
  bool had = has_array(m);
  void** old = m.base.load(std::memory_order_relaxed);
  if (n != 0) std::memcpy(fresh, old, n * sizeof(void*));
  // top = null, base, then top: a stats reader that sees the same non-null
  // top before and after reading base has a base of the same array
  // (fast_held). Neither is dereferenced by a reader.
  m.top.store(nullptr, std::memory_order_relaxed);
  m.base.store(fresh, std::memory_order_release);
  m.top.store(fresh + n, std::memory_order_release);
  m.limit = fresh + cap;
  if (had) dallocx(old - 1, 0);
}

// The class's cap as configured now; the magazine is refitted when it differs.
void refit_if_changed(Cache* c, int cls) noexcept {
  std::uint32_t cap = state().tun.fast_cap[cls].load(std::memory_order_relaxed);
  FastSlot& m = c->fast[cls];
  if (static_cast<std::uint32_t>(m.limit - m.base.load(std::memory_order_relaxed)) != cap) [[unlikely]]
    fit_magazine(c, cls, cap);
}

// REQUIRES: the magazine of (c, cls) is empty.
[[gnu::noinline]] void* fast_refill(Cache* c, int cls) noexcept {
  PoolState& s = state();
  refit_if_changed(c, cls);
  FastSlot& m = c->fast[cls];
  void** base = m.base.load(std::memory_order_relaxed);
  void* one = nullptr;
  void** out = has_array(m) ? base : &one;  // no array (allocation failed): fetch one
  std::uint32_t room = static_cast<std::uint32_t>(m.limit - base);
  std::uint32_t want = s.tun.fast_batch.load(std::memory_order_relaxed);
  if (want > room) want = room;  // room >= batch unless the array could not grow
  if (want == 0) want = 1;
  bool carved = false;
  std::uint32_t n = s.central.fetch_array(cls, want, c->home, out, &carved);
  ClassCounters& k = c->ctr[0][cls];
  if (n == 0) {
    k.taken_base.sub();  // counted down (fast_alloc_counted), but the magazine served nothing
    return fallback_alloc(c, TierId::kFast, cls, kFallbackExhausted);
  }
  k.misses.add();
  k.refills.add();
  k.mag_in.add(n - 1);
  GMP_PROBE_POOL_REFILL(0, cls, n);
  void* p = out[n - 1];
  if (out == base) m.top.store(base + n - 1, std::memory_order_relaxed);
  GMP_MEM_UNPOISON(p, kClassSize[cls]);
  return p;
}

// A free into a full magazine: refit it if the cap changed, else send the
// top batch to the central list.
[[gnu::noinline]] void fast_overflow(Cache* c, int cls) noexcept {
  refit_if_changed(c, cls);
  FastSlot& m = c->fast[cls];
  if (m.top.load(std::memory_order_relaxed) != m.limit) return;
  std::uint32_t n = state().tun.fast_batch.load(std::memory_order_relaxed);
  std::uint32_t h = held(m);
  flush_top(c, cls, n < h ? n : h);
}

}  // namespace

void* fast_alloc(Cache* c, int cls) noexcept {
  FastSlot& m = c->fast[cls];
  void** t = m.top.load(std::memory_order_relaxed);
  if (t == m.base.load(std::memory_order_relaxed)) [[unlikely]] return fast_refill(c, cls);
  void* p = t[-1];
  m.top.store(t - 1, std::memory_order_relaxed);
  GMP_MEM_UNPOISON(p, kClassSize[cls]);
  return p;
}

void fast_free(Cache* c, void* p, int cls) noexcept {
  GMP_MEM_POISON(p, kClassSize[cls]);
  FastSlot& m = c->fast[cls];
  if (m.top.load(std::memory_order_relaxed) == m.limit) [[unlikely]] fast_overflow(c, cls);
  void** t = m.top.load(std::memory_order_relaxed);
  if (t == m.limit) [[unlikely]] {  // no array: straight to the central list, as a push and a flush
    state().central.put_array(cls, &p, 1);
    c->ctr[0][cls].mag_out.add();
    c->ctr[0][cls].flushes.add();
    return;
  }
  *t = p;
  m.top.store(t + 1, std::memory_order_relaxed);
}

void drain_fast(Cache* c, int cls) noexcept { flush_top(c, cls, held(c->fast[cls])); }

void free_magazines(Cache* c) noexcept {
  for (FastSlot& m : c->fast) {
    if (has_array(m)) dallocx(m.base.load(std::memory_order_relaxed) - 1, 0);
    m.top.store(kEmptyMagazine, std::memory_order_relaxed);
    m.base.store(kEmptyMagazine, std::memory_order_relaxed);
    m.limit = kEmptyMagazine;
  }
}

std::uint64_t fast_held(const Cache& c, int cls) noexcept {
  const FastSlot& m = c.fast[cls];
  // A refit (fit_magazine) moves both words; a read that straddles one sees
  // top change (to null, then into the new array) and tries again. Refits are
  // rare; after a few failed tries the magazine is reported empty. (top is
  // null only inside a refit: an empty slot's words are kEmptyMagazine.)
  for (int tries = 0; tries < 8; ++tries) {
    void** t1 = m.top.load(std::memory_order_acquire);  // pairs with fit_magazine's release stores
    void** b = m.base.load(std::memory_order_acquire);
    void** t2 = m.top.load(std::memory_order_relaxed);
    if (t1 == t2 && t1 != nullptr) return static_cast<std::uint64_t>(t1 - b);
  }
  return 0;
}

// Every allocation of the class is counted down once (FastSlot::countdown),
// and a period's end adds its length to taken_base, so the count is
// taken_base + period - countdown; the u32 difference is the current
// period's count even when countdown was last set to UINT32_MAX.
std::uint64_t fast_taken(const Cache& c, int cls) noexcept {
  const FastSlot& m = c.fast[cls];
  std::uint32_t in_period = m.period.load(std::memory_order_relaxed) - m.countdown.load(std::memory_order_relaxed);
  return c.ctr[0][cls].taken_base.get() + in_period;
}

std::uint64_t fast_hits(const Cache& c, int cls) noexcept { return fast_taken(c, cls) - c.ctr[0][cls].misses.get(); }

// What entered the magazine (frees, refills' objects) minus what left it
// (hits, flushes) is what it holds.
std::uint64_t fast_frees(const Cache& c, int cls, std::uint64_t held) noexcept {
  const ClassCounters& k = c.ctr[0][cls];
  return held - k.mag_in.get() + k.mag_out.get() + fast_hits(c, cls);
}

std::uint64_t fast_frees(const Cache& c, int cls) noexcept { return fast_frees(c, cls, fast_held(c, cls)); }

}  // namespace gmp::detail::mem
