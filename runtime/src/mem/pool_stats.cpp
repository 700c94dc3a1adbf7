// mem/pool_stats.cpp — gmp::pool::stats() and the banner line.
//
// Sums every cache's owner-written counters (stats.hpp): exact when the
// owners are quiescent, per-field exact otherwise.
#include <cstdio>
#include <cstring>
#include <mutex>

#include "gmp/pool.hpp"
#include "mem/pool_state.hpp"

namespace gmp::pool {

using namespace gmp::detail::mem;

namespace {

void add_class(ClassStats& a, const ClassStats& b) {
  a.hits += b.hits;
  a.misses += b.misses;
  a.refills += b.refills;
  a.flushes += b.flushes;
  a.frees += b.frees;
  a.remote_frees += b.remote_frees;
  a.fallbacks += b.fallbacks;
  a.leaked += b.leaked;
  a.bytes_in_use += b.bytes_in_use;
  a.bytes_cached += b.bytes_cached;
}

}  // namespace

Stats stats(bool read_smaps) {
  PoolState& s = state();
  Stats out;
  static const char* kNames[3] = {"fast", "txn", "stable"};
  // Per-class sums of counts; bytes computed at the end.
  struct Raw {
    std::uint64_t hits, misses, refills, flushes, frees, remote, fallbacks, leaked, cached_objs, balloc, bfree;
  };
  static thread_local Raw raw[3][kNumClasses];
  for (auto& t : raw)
    for (auto& r : t) r = Raw{};
  HistogramSnapshot lat[3];
  auto add_cache = [&](const Cache& c) {
    for (int t = 0; t < 3; ++t) {
      for (int cls = 0; cls < kNumClasses; ++cls) {
        const ClassCounters& k = c.ctr[t][cls];
        Raw& r = raw[t][cls];
        r.hits += k.hits.get();
        r.misses += k.misses.get();
        r.refills += k.refills.get();
        r.flushes += k.flushes.get();
        r.frees += k.frees.get();
        r.remote += k.remote_frees.get();
        r.fallbacks += k.fallbacks.get();
        r.leaked += k.leaked.get();
        r.balloc += k.block_bytes_alloc.get();
        r.bfree += k.block_bytes_free.get();
        if (t == 0) {
          // Modulo 2^64: a cache's derived frees may "wrap" (it allocated
          // objects others freed); the sums are exact when the owners are quiescent.
          std::uint64_t held = fast_held(c, cls);
          r.cached_objs += held;
          r.hits += fast_hits(c, cls);
          r.frees += fast_frees(c, cls, held);
        }
        if (t == 1) r.cached_objs += c.txn[cls].count.get() + c.remote_count[cls].get();
      }
    }
    out.large_allocs += c.large.allocs.get();
    out.large_frees += c.large.frees.get();
    out.large_bytes_in_use += c.large.alloc_bytes.get() - c.large.free_bytes.get();
    for (int t = 0; t < 3; ++t) c.latency[t].add_to(lat[t]);
  };
  const int np = p_caches_seen();
  for (int i = 0; i < np && i < kMaxPools; ++i) add_cache(s.pcache[i]);
  {
    detail::LockGuard g(s.foreign_mu);
    for (const Cache* c : s.foreign_all) add_cache(*c);
    out.foreign_caches = s.foreign_all.size();
  }
  bool up = s.phase.load(std::memory_order_acquire) == 1;
  for (int t = 0; t < 3; ++t) {
    TierStats& ts = out.tiers[t];
    ts.name = kNames[t];
    ts.classes.resize(kNumClasses);
    for (int cls = 0; cls < kNumClasses; ++cls) {
      const Raw& r = raw[t][cls];
      ClassStats& cs = ts.classes[cls];
      std::uint64_t size = kClassSize[cls];
      cs.size = size;
      cs.hits = r.hits;
      cs.misses = r.misses;
      cs.refills = r.refills;
      cs.flushes = r.flushes;
      cs.frees = r.frees;
      cs.remote_frees = r.remote;
      cs.fallbacks = r.fallbacks;
      cs.leaked = r.leaked;
      if (t == 2 && size >= kPageSize) {
        cs.bytes_in_use = r.balloc - r.bfree;
      } else {
        cs.bytes_in_use = (r.hits + r.misses - r.frees) * size;
      }
      std::uint64_t central = up ? s.central.list(static_cast<TierId>(t), static_cast<int>(cls)).count.load(std::memory_order_relaxed) : 0;
      cs.bytes_cached = (r.cached_objs + central) * size;
      add_class(ts.total, cs);
    }
  }
  HistogramSnapshot all;
  for (int t = 0; t < 3; ++t) {
    all.merge(lat[t]);
    out.tiers[t].latency = std::move(lat[t]);
  }
  out.samples = all.count();
  out.p50_ns = all.quantile(0.50);
  out.p99_ns = all.quantile(0.99);
  out.p999_ns = all.quantile(0.999);
  out.max_ns = all.max;
  out.txn_degraded = s.txn_degraded.load();
  out.checked = s.checked.load(std::memory_order_relaxed);
  out.degrade_events = s.degrade_events.load();
  {
    detail::LockGuard g(s.cfg_mu);
    out.init_error = s.init_error;
    out.slot_map_error = s.slot_map_error;
  }
  if (up) {
    out.hugepage_mode = huge_mode_name(s.arena.mode());
    out.arena_reserved = s.arena.reserved_bytes();
    out.arena_committed = s.arena.committed_bytes();
    out.arena_released = s.arena.released_bytes();
    out.arena_release_calls = s.arena.release_calls();
    out.arena_grow_refusals = s.arena.grow_refusals();
    if (int e = s.arena.grow_errno(); e != 0) out.arena_grow_error = std::strerror(e);
    out.buddy_free_bytes = s.buddy.free_bytes();
    for (int t = 0; t < kNumListTiers; ++t)
      for (int cls = 0; cls < kNumClasses; ++cls)
        out.span_bytes += s.central.list(static_cast<TierId>(t), cls).span_bytes.load(std::memory_order_relaxed);
    if (read_smaps) {
      SmapsTotals st = s.arena.smaps();
      out.arena_rss = st.rss;
      out.arena_huge = st.huge;
      std::uint64_t live = out.arena_committed - out.arena_released;
      out.hugepage_coverage = live ? static_cast<double>(st.huge) / static_cast<double>(live) : 0;
    }
  } else {
    out.hugepage_mode = "none (jemalloc only)";
  }
  return out;
}

std::string banner() {
  (void)init();  // a failure is in stats().init_error, said below
  Stats st = stats(true);
  char buf[256];
  // Checked mode is said first: it changes what every call costs.
  const char* checked = st.checked ? "checked mode (every call on the slow path); " : "";
  if (!st.init_error.empty()) {
    std::snprintf(buf, sizeof buf, "pool: %sdisabled (%s); all allocations via jemalloc", checked, st.init_error.c_str());
  } else {
    std::snprintf(buf, sizeof buf, "pool: %shugepages=%s coverage=%.1f%% arena=%.0f MiB committed of %.0f MiB reserved",
                  checked, st.hugepage_mode.c_str(), st.hugepage_coverage * 100, st.arena_committed / 1048576.0,
                  st.arena_reserved / 1048576.0);
    if (!st.slot_map_error.empty()) return std::string(buf) + "; " + st.slot_map_error;
  }
  return buf;
}

}  // namespace gmp::pool
