// mem/pool.cpp — the public pool API's slow path: dispatch by size and tier,
// the caches of Ps and of foreign threads, initialisation, live config, the
// inline path's view (g_inline) and the txn-tier loss detector (fault drill).
//
// The fast tier's hit path is inline in gmp/detail/pool_inline.hpp; everything it does not
// take comes here through allocate_slow/deallocate_slow. g_inline is written
// only under PoolState::cfg_mu (init, apply_config, reset_for_test).
#include <jemalloc/jemalloc.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <new>

#include "base/check.hpp"
#include "base/clock.hpp"
#include "gmp/pool.hpp"
#include "mem/checked.hpp"
#include "mem/pool_state.hpp"
#include "mem/pool_test_hooks.hpp"
#include "mem/slot_map.hpp"
#include "trace/probes.hpp"

namespace gmp::detail::mem {

InlineView g_inline;
std::atomic<Cache*> g_pcache{nullptr};

PoolState& state() noexcept {
  // The lambda runs once, before anyone else can see the state: no lock.
  static PoolState* s = []() GMP_NO_THREAD_SAFETY_ANALYSIS {
    auto* st = new PoolState();  // never destroyed: frees may run during exit
    if (int on = checked_from_env(); on >= 0) st->cfg.checked = on != 0;  // over the build's default
    for (std::uint32_t i = 0; i < kMaxPools; ++i) set_home(st->pcache[i], i);
    g_pcache.store(st->pcache, std::memory_order_release);  // pairs with on_acquirep's and fast_front's acquire
    return st;
  }();
  return *s;
}

// The layout the inline path in gmp/detail/pool_inline.hpp assumes.
static_assert(kPageSize == std::size_t{1} << kInlinePageShift, "inline path: 4 KiB arena pages");
static_assert(offsetof(FastFront, miss) == 0 && offsetof(FastFront, fast) == kFastSlotsOffset,
              "inline path: slot offsets (fast_slot_offset) are built on this");

namespace {

std::atomic<int> g_max_pid{0};  // 1 + the highest P id seen (stats and the growth rule)

Cache* orphan_cache() noexcept;

void publish_tunables(PoolState& s, const PoolConfig& c) noexcept {
  Tunables& t = s.tun;
  t.max_size.store(c.max_size, std::memory_order_relaxed);
  t.fast_max_size.store(c.fast_max_size, std::memory_order_relaxed);
  t.fast_batch.store(c.fast_batch, std::memory_order_relaxed);
  t.txn_batch.store(c.txn_batch, std::memory_order_relaxed);
  t.txn_sweep_every.store(c.txn_sweep_every, std::memory_order_relaxed);
  t.sample_every.store(c.sample_every, std::memory_order_relaxed);
  t.txn_ttl_ns.store(static_cast<std::int64_t>(c.txn_ttl_ms) * 1'000'000, std::memory_order_relaxed);
  for (int cls = 0; cls < kNumClasses; ++cls) {
    t.fast_cap[cls].store(fast_cap_for(c, cls), std::memory_order_relaxed);
    t.txn_cap[cls].store(txn_cap_for(c, cls), std::memory_order_relaxed);
  }
  // Each cache refits its magazines to fast_cap at its next refill or
  // overflow of the class (fast_tier.cpp).
  t.leak_ppm.store(static_cast<std::uint32_t>(c.txn_leak_percent * 10'000), std::memory_order_relaxed);
  t.detect_min_bytes.store(c.detect_min_bytes, std::memory_order_relaxed);
  t.detect_lost_permille.store(static_cast<std::uint32_t>(c.detect_lost_fraction * 1000), std::memory_order_relaxed);
}

// The largest request the inline path may serve: its class must be a fast
// one (class size <= fast_max_size) and the request within max_size. Sizes
// up to it get their class's slot in slot_of, the rest the miss slot.
// Checked mode publishes nothing: every call takes the slow path, where the
// checks are (Note [Checked mode]).
// REQUIRES: s.cfg_mu held, phase 1.
void publish_inline(const PoolConfig& c) noexcept {
  if (state().checked.load(std::memory_order_relaxed)) return;
  std::uint32_t lim = 0;
  for (int cls = 0; cls < kInlineClasses; ++cls)
    if (kClassSize[cls] <= c.fast_max_size) lim = kClassSize[cls];
  if (lim > c.max_size) lim = c.max_size;
  for (std::size_t n = 0; n <= kInlineMaxSize; ++n)
    g_inline.slot_of[n].store(n <= lim ? kInlineSlotOffset[(n + 15) / 16] : 0, std::memory_order_relaxed);
}

// REQUIRES: s.cfg_mu held; no pool object is live or being freed.
void unpublish_inline() noexcept {
  for (auto& o : g_inline.slot_of) o.store(0, std::memory_order_relaxed);
  g_inline.slot_map.store(nullptr, std::memory_order_relaxed);
}

// Reserves the process's slot map on the first init (a failure is retried at
// the next one) and opens its entries for the arena. The map is the kernel's,
// never s.src: a faked kernel fakes the arena only.
// REQUIRES: s.cfg_mu held; the arena initialised.
void attach_slot_map(PoolState& s) GMP_REQUIRES(s.cfg_mu) {
  if (s.slot_map_off_for_test) {
    s.slot_map_error = "slot map turned off by a test; inline frees take the slow path";
    return;
  }
  if (s.slot_map == nullptr) {
    std::string why;
    s.slot_map = map_slot_map(system_page_source(), &why);
    s.slot_map_error = why;
    if (s.slot_map == nullptr) {
      errorf("gmp pool: %s", why.c_str());
      return;
    }
  }
  int rc = s.arena.attach_slot_map(s.slot_map);
  if (rc != 0) {
    s.slot_map_error = std::string("cannot open the slot map for the arena: ") + std::strerror(-rc) +
                       "; inline frees take the slow path";
    errorf("gmp pool: %s", s.slot_map_error.c_str());
    return;
  }
  s.slot_map_error.clear();
}

// `report`: print a failure (an implicit init on first use has nobody to
// return it to); an explicit gmp::pool::init() returns it instead.
// REQUIRES: s.cfg_mu held, phase 0.
void init_locked(PoolState& s, bool report) GMP_REQUIRES(s.cfg_mu) {
  publish_tunables(s, s.cfg);
  ArenaOptions ao{s.cfg.hugepages, s.cfg.chunk_bytes, s.cfg.max_bytes};
  std::string err = s.arena.init(ao, s.src != nullptr ? s.src : &system_page_source());
  // Checked mode also covers a pool without an arena (its large objects).
  s.checked.store(s.cfg.checked, std::memory_order_relaxed);
  if (s.cfg.checked && err.empty()) {
    if (std::string why = checked_attach(s.arena.base(), s.arena.reserved_bytes()); !why.empty()) {
      errorf("gmp pool: %s; checked mode is off", why.c_str());
      s.checked.store(false, std::memory_order_relaxed);
    }
  }
  if (!err.empty()) {
    s.init_error = err;
    s.phase.store(2, std::memory_order_release);
    if (report) errorf("gmp pool: %s; every allocation goes to jemalloc", err.c_str());
    return;
  }
  s.buddy.init(&s.arena, s.cfg.retain_bytes);
  s.central.init(&s.arena, &s.buddy);
  s.central.set_fill_spans(s.checked.load(std::memory_order_relaxed));
  attach_slot_map(s);
  // Pairs with deallocate's acquire (the map's entries for the arena are
  // writable and zero before any free can find a pool pointer in it).
  // Checked mode leaves it null: every free takes the slow path.
  if (!s.checked.load(std::memory_order_relaxed)) g_inline.slot_map.store(s.arena.slot_map(), std::memory_order_release);
  s.phase.store(1, std::memory_order_release);  // pairs with the acquire in ready()
  publish_inline(s.cfg);
}

// Foreign-thread caches (Use outside a runtime thread).
struct ForeignGuard {
  Cache* cache = nullptr;
  bool dead = false;
  ~ForeignGuard() {
    dead = true;
    if (cache == nullptr) return;
    t_foreign_cache = nullptr;
    set_tls_front(nullptr);
    drain_cache(cache);
    PoolState& s = state();
    LockGuard g(s.foreign_mu);
    s.foreign_idle.push_back(cache);
    cache = nullptr;
  }
};
thread_local ForeignGuard t_foreign;

}  // namespace

// Called by fast_front (current_p.cpp) when this thread has no P and no cache yet.
[[gnu::noinline]] Cache* acquire_foreign() noexcept {
  if (t_foreign.dead) return nullptr;
  PoolState& s = state();
  LockGuard g(s.foreign_mu);
  Cache* c = nullptr;
  if (!s.foreign_idle.empty()) {
    c = s.foreign_idle.back();
    s.foreign_idle.pop_back();
  } else {
    c = new (std::nothrow) Cache();
    if (c == nullptr) return nullptr;
    set_home(*c, kForeignHomeBase + static_cast<std::uint32_t>(s.foreign_all.size()));
    GMP_CHECK(c->home <= 0xFFFF, "runtime: pool: too many foreign-thread caches");
    s.foreign_all.push_back(c);
  }
  t_foreign.cache = c;
  t_foreign_cache = c;
  set_tls_front(c);
  return c;
}

namespace {

// A thread past its TLS destructors still frees (other destructors run
// later): it shares one locked cache.
std::mutex g_orphan_mu;
Cache* orphan_cache() noexcept {
  static Cache* c = [] {
    auto* k = new Cache();
    set_home(*k, 0xFFFF);  // never in gmp_pool_t_front
    return k;
  }();
  return c;
}

int class_for_request(std::size_t size, std::size_t align) noexcept {
  return align <= 16 ? class_of(size) : class_for(size, align);
}

// The fast class that serves a request (what alloc_in picks), or -1.
int fast_class_for(std::size_t size, std::size_t align, gmp::pool::Tier tier) noexcept {
  PoolState& s = state();
  if (tier != gmp::pool::Tier::kFast) return -1;
  if (size == 0) size = 1;
  if (size > s.tun.max_size.load(std::memory_order_relaxed) || align > kMaxSupportedAlign) return -1;
  int cls = class_for_request(size, align);
  if (cls < 0 || !ready() || kClassSize[cls] > s.tun.fast_max_size.load(std::memory_order_relaxed)) return -1;
  return cls;
}

// The countdown's next period: stats.sample_every, or never (0).
std::uint32_t next_sample_period() noexcept {
  std::uint32_t every = state().tun.sample_every.load(std::memory_order_relaxed);
  return every == 0 ? UINT32_MAX : every;
}

// The cache's counters of the class a sampled allocation came from (txn
// serves class 0 from class 1, as alloc_in does), or null for what is not
// pooled. Their hits and misses go to the alloc_sample probe: a tracer takes
// differences between a cache's samples of a class, exact hit rates over
// what it saw.
const ClassCounters* sampled_class(const Cache& c, int tier, int cls) noexcept {
  if (cls < 0 || tier > static_cast<int>(TierId::kStable)) return nullptr;
  return &c.ctr[tier][tier == static_cast<int>(TierId::kTxn) && cls == 0 ? 1 : cls];
}

void record_sample(Cache* c, int tier, int cls, std::size_t bytes, std::int64_t t0) noexcept {
  std::uint64_t ns = static_cast<std::uint64_t>(nanotime() - t0);
  c->latency[tier].record(ns);
  const ClassCounters* k = sampled_class(*c, tier, cls);
  GMP_PROBE_ALLOC_SAMPLE(tier, cls, ns, bytes, c->home,
                         k == nullptr                              ? 0
                         : tier == static_cast<int>(TierId::kFast) ? fast_hits(*c, cls)
                                                                   : k->hits.get(),
                         k == nullptr ? 0 : k->misses.get());
}

void* alloc_in(Cache* c, std::size_t size, std::size_t align, gmp::pool::Tier tier) noexcept {
  PoolState& s = state();
  if (size == 0) size = 1;
  if (size > s.tun.max_size.load(std::memory_order_relaxed) || align > kMaxSupportedAlign) [[unlikely]]
    return large_alloc(c, size, align);
  int cls = class_for_request(size, align);
  if (cls < 0) [[unlikely]] return large_alloc(c, size, align);
  if (!ready()) [[unlikely]] return fallback_alloc(c, static_cast<TierId>(tier), cls, kFallbackNoArena);
  switch (tier) {
    case gmp::pool::Tier::kFast:
      // (alloc_with sends these to fast_alloc_counted first; here after a
      // live fast_max_size change between the two checks, or for the orphan.)
      if (kClassSize[cls] <= s.tun.fast_max_size.load(std::memory_order_relaxed)) [[likely]]
        return fast_alloc_counted(c, cls);
      [[fallthrough]];
    case gmp::pool::Tier::kTxn:
      if (cls == 0) cls = 1;  // a TxnNode needs 24 bytes
      if (s.txn_degraded.load(std::memory_order_relaxed)) [[unlikely]]
        return fallback_alloc(c, TierId::kTxn, cls, kFallbackDegraded);
      return txn_alloc(c, cls);
    case gmp::pool::Tier::kStable:
      return stable_alloc(c, size, cls);
  }
  return nullptr;
}

[[gnu::noinline]] void* alloc_sampled(Cache* c, std::size_t size, std::size_t align, gmp::pool::Tier tier) noexcept {
  c->sample_countdown = next_sample_period();
  if (state().tun.sample_every.load(std::memory_order_relaxed) == 0) return alloc_in(c, size, align, tier);
  std::int64_t t0 = nanotime();
  void* p = alloc_in(c, size, align, tier);
  record_sample(c, static_cast<int>(tier), size <= kMaxClassSize ? class_of(size == 0 ? 1 : size) : -1, size, t0);
  return p;
}

// Sampling: a fast-tier allocation counts down its class's countdown
// (fast_alloc_counted; the inline path's hits too), every other allocation
// the cache's sample_countdown.
void* alloc_with(Cache* c, std::size_t size, std::size_t align, gmp::pool::Tier tier) noexcept {
  int cls = fast_class_for(size, align, tier);
  if (cls >= 0) [[likely]] return fast_alloc_counted(c, cls);
  if (tier == gmp::pool::Tier::kFast && size <= kInlineMaxSize && align <= 16) [[unlikely]] {
    // The inline path may have taken a decrement for this request, to 0, from
    // a slot_of published before a live fast_max_size change: undo it (the
    // slow path never leaves a countdown at 0).
    std::atomic<std::uint32_t>& cd = c->fast[class_of(size == 0 ? 1 : size)].countdown;
    if (cd.load(std::memory_order_relaxed) == 0) cd.store(1, std::memory_order_relaxed);
  }
  if (--c->sample_countdown == 0) [[unlikely]] return alloc_sampled(c, size, align, tier);
  return alloc_in(c, size, align, tier);
}

void* alloc_entry(std::size_t size, std::size_t align, gmp::pool::Tier tier) noexcept {
  Cache* c = current_cache();
  if (c == nullptr) [[unlikely]] {
    std::lock_guard g(g_orphan_mu);
    return alloc_with(orphan_cache(), size, align, tier);
  }
  return alloc_with(c, size, align, tier);
}

// REQUIRES: p is in the arena and info is its page's.
void free_info(Cache* c, void* p, std::uint32_t info) noexcept {
  int cls = static_cast<int>(info_cls(info));
  TierId tier = static_cast<TierId>(info_tier(info));
  if (tier == TierId::kStable) {
    stable_free(c, p, info);
  } else if (tier == TierId::kFast) {
    fast_free(c, p, cls);  // no home: the freeing cache keeps it
  } else if (info_home(info) != c->home) {
    remote_free(c, cls, p);
  } else {
    txn_free(c, p, cls);
  }
}

void free_in(Cache* c, void* p) noexcept {
  PoolState& s = state();
  if (!s.arena.contains(p)) {
    large_free(c, p);
    return;
  }
  free_info(c, p, s.arena.meta(s.arena.page_index(p)).info);
}

}  // namespace

// 0: the inline path took this allocation's decrement and left it here.
// REQUIRES: owner.
void* fast_alloc_counted(Cache* c, int cls) noexcept {
  FastSlot& m = c->fast[cls];
  std::uint32_t n = m.countdown.load(std::memory_order_relaxed);
  if (n > 1) [[likely]] {
    m.countdown.store(n - 1, std::memory_order_relaxed);
    return fast_alloc(c, cls);
  }
  // The period's last allocation (this one): its length goes to taken_base
  // before the new period starts, so fast_taken counts this one once.
  c->ctr[0][cls].taken_base.add(m.period.load(std::memory_order_relaxed));
  std::uint32_t next = next_sample_period();
  m.period.store(next, std::memory_order_relaxed);
  m.countdown.store(next, std::memory_order_relaxed);
  if (state().tun.sample_every.load(std::memory_order_relaxed) == 0) return fast_alloc(c, cls);
  std::int64_t t0 = nanotime();
  void* p = fast_alloc(c, cls);
  record_sample(c, static_cast<int>(TierId::kFast), cls, kClassSize[cls], t0);
  return p;
}

bool ensure_init(bool report) noexcept {
  PoolState& s = state();
  int ph = s.phase.load(std::memory_order_acquire);
  if (ph != 0) return ph == 1;
  LockGuard g(s.cfg_mu);
  if (s.phase.load(std::memory_order_relaxed) == 0) init_locked(s, report);
  return s.phase.load(std::memory_order_relaxed) == 1;
}

void note_p_cache(int id) noexcept {
  if (id >= g_max_pid.load(std::memory_order_relaxed)) [[unlikely]] {
    int cur = g_max_pid.load(std::memory_order_relaxed);
    while (cur <= id && !g_max_pid.compare_exchange_weak(cur, id + 1)) {
    }
  }
}

// Slow paths only: the inline path reads gmp_pool_t_front. Every P cache in
// a front came through here or through on_acquirep, so g_max_pid covers
// every P with anything to count.
Cache* current_cache() noexcept {
  Cache* c = static_cast<Cache*>(fast_front());
  if (c != nullptr && c->home < kForeignHomeBase) note_p_cache(static_cast<int>(c->home));
  return c;
}

// Note [Loss detection under a racy scan]
// The check reads every cache's counters while their owners keep running.
// If the scanning thread is held off its CPU halfway (a loaded machine), the
// other Ps run millions of operations between the caches it read before and
// after: allocations counted without their frees, objects between two lists
// counted in neither. Under two spinning processes one 100 ms alloc-storm run
// in ~50 saw "lost 285 % of carved" and degraded a tier that lost nothing. So
// a loss over the thresholds only marks the tier suspect (the carved bytes at
// that check), a later check after more carving must see a loss over the
// thresholds again to degrade, and a check that sees none clears the mark; a
// loss larger than everything carved is a misread and is ignored. A real
// leak persists and grows, so the drill still degrades, one check later.
void check_txn_growth() noexcept {
  PoolState& s = state();
  if (s.txn_degraded.load(std::memory_order_relaxed)) return;
  std::uint64_t carved = 0, cached = 0, used = 0;
  auto add_cache = [&](const Cache& c) {
    for (int cls = 0; cls < kNumClasses; ++cls) {
      const ClassCounters& k = c.ctr[1][cls];
      std::uint64_t size = kClassSize[cls];
      used += (k.hits.get() + k.misses.get() - k.frees.get()) * size;
      cached += (c.txn[cls].count.get() + c.remote_count[cls].get()) * size;
    }
  };
  int np = g_max_pid.load(std::memory_order_relaxed);
  for (int i = 0; i < np; ++i) add_cache(s.pcache[i]);
  {
    LockGuard g(s.foreign_mu);
    for (const Cache* c : s.foreign_all) add_cache(*c);
  }
  add_cache(*orphan_cache());
  for (int cls = 0; cls < kNumClasses; ++cls) {
    CentralList& l = s.central.list(TierId::kTxn, cls);
    carved += l.carved_bytes.load(std::memory_order_relaxed);
    cached += l.count.load(std::memory_order_relaxed) * kClassSize[cls];
  }
  // Counters of other caches are read racily: a small negative or positive
  // error is possible; the thresholds are far above it.
  std::int64_t lost = static_cast<std::int64_t>(carved) - static_cast<std::int64_t>(used + cached);
  std::uint64_t min = s.tun.detect_min_bytes.load(std::memory_order_relaxed);
  std::uint64_t permille = s.tun.detect_lost_permille.load(std::memory_order_relaxed);
  if (lost <= 0 || static_cast<std::uint64_t>(lost) < min || static_cast<std::uint64_t>(lost) * 1000 < carved * permille) {
    s.txn_loss_seen_at.store(0, std::memory_order_relaxed);
    return;
  }
  if (static_cast<std::uint64_t>(lost) > carved) return;  // a misread (the Note)
  std::uint64_t seen_at = s.txn_loss_seen_at.load(std::memory_order_relaxed);
  if (seen_at == 0 || carved <= seen_at) {  // first sight, or no carving since: confirm later
    if (seen_at == 0) s.txn_loss_seen_at.store(carved, std::memory_order_relaxed);
    return;
  }
  bool expected = false;
  if (!s.txn_degraded.compare_exchange_strong(expected, true)) return;
  s.degrade_events.fetch_add(1, std::memory_order_relaxed);
  s.lost_bytes_at_degrade.store(static_cast<std::uint64_t>(lost), std::memory_order_relaxed);
  errorf("gmp pool: txn tier lost %llu of %llu bytes taken from spans (%llu%%); degrading txn allocations to jemalloc",
         static_cast<unsigned long long>(lost), static_cast<unsigned long long>(carved),
         static_cast<unsigned long long>(static_cast<std::uint64_t>(lost) * 100 / (carved ? carved : 1)));
}

// ---- test hooks (mem/pool_test_hooks.hpp) ------------------------------------

std::string reset_for_test(const PoolConfig& cfg, PageSource* src, bool without_slot_map) {
  PoolState& s = state();
  LockGuard g(s.cfg_mu);
  unpublish_inline();
  if (s.phase.load() == 1) s.arena.destroy();
  checked_detach();
  s.checked.store(false);
  auto reinit = [](Cache* c) {
    std::uint32_t h = c->home;
    free_magazines(c);
    c->~Cache();
    new (c) Cache();
    set_home(*c, h);
  };
  for (auto& c : s.pcache) reinit(&c);
  {
    LockGuard fg(s.foreign_mu);
    for (Cache* c : s.foreign_all) reinit(c);
  }
  reinit(orphan_cache());
  s.txn_degraded.store(false);
  s.degrade_events.store(0);
  s.txn_loss_seen_at.store(0);
  s.init_error.clear();
  s.slot_map_off_for_test = without_slot_map;
  s.cfg = cfg;
  s.src = src;
  s.phase.store(0);
  init_locked(s, /*report=*/false);
  return s.init_error;
}

Cache* cache_for_test() noexcept { return current_cache(); }

std::string apply_config(const PoolConfig& next) {
  PoolState& s = state();
  LockGuard g(s.cfg_mu);
  if (s.phase.load(std::memory_order_relaxed) == 1) {
    if (next.hugepages != s.cfg.hugepages)
      return std::string("arena.hugepages cannot change on a running pool (it is \"") +
             huge_mode_name(s.cfg.hugepages) +
             "\"); set it before the pool's first use (pool::set_hugepages or a config loaded before)";
    if (next.checked != s.cfg.checked)
      return std::string("checks.enabled cannot change on a running pool (checked mode is ") +
             (s.cfg.checked ? "on" : "off") +
             "); set it before the pool's first use (GMP_POOL_CHECKED, pool::set_checked or a config loaded before)";
    if (next.max_bytes != s.cfg.max_bytes)
      return "arena.max_bytes cannot change on a running pool (it is " + std::to_string(s.cfg.max_bytes) +
             "); the address space is reserved at start";
    int np = g_max_pid.load() > 0 ? g_max_pid.load() : 1;
    std::uint64_t committed = s.arena.committed_bytes();
    std::uint64_t before = predicted_pool_bytes(s.cfg, np, committed);
    std::uint64_t after = predicted_pool_bytes(next, np, committed);
    if (static_cast<double>(after) > static_cast<double>(before) * (1 + kMaxLiveGrowth)) {
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "change refused: predicted pool memory %.1f MiB -> %.1f MiB (+%.1f%%) with %d P(s), over the +15%% "
                    "limit for a running pool; apply it in steps or at start",
                    before / 1048576.0, after / 1048576.0, (static_cast<double>(after) / before - 1) * 100, np);
      return buf;
    }
    s.cfg = next;
    publish_tunables(s, next);
    publish_inline(next);
    s.buddy.set_retain_bytes(next.retain_bytes);
    s.arena.set_chunk_bytes(next.chunk_bytes);
    return "";
  }
  s.cfg = next;
  publish_tunables(s, next);
  return "";
}

PoolConfig current_config() {
  PoolState& s = state();
  LockGuard g(s.cfg_mu);
  return s.cfg;
}

int p_caches_seen() noexcept { return g_max_pid.load(std::memory_order_relaxed); }

}  // namespace gmp::detail::mem

namespace gmp::pool {

using namespace gmp::detail::mem;

void sweep() noexcept;  // below

}  // namespace gmp::pool

namespace gmp::detail::mem {

namespace {
// Whether the calls of this process are checked (Note [Checked mode]);
// initialises the pool first, so that an allocation that never reaches
// ready() (a large one before the first small one) is checked too.
bool checked_mode() noexcept {
  PoolState& s = state();
  if (s.phase.load(std::memory_order_acquire) == 0) [[unlikely]] ensure_init();
  return s.checked.load(std::memory_order_relaxed);
}
}  // namespace

void* allocate_slow(std::size_t size, std::size_t align, gmp::pool::Tier tier) noexcept {
  void* p = alloc_entry(size, align < 16 ? 16 : align, tier);
  if (checked_mode()) [[unlikely]] checked_on_alloc(p);
  return p;
}

void* allocate_in_front(FastFront* f, std::size_t size, std::size_t align, gmp::pool::Tier tier) noexcept {
  void* p = alloc_with(static_cast<Cache*>(f), size, align < 16 ? 16 : align, tier);
  if (checked_mode()) [[unlikely]] checked_on_alloc(p);
  return p;
}

void deallocate_slow(void* p) noexcept {
  if (p == nullptr) return;
  if (checked_mode()) [[unlikely]] checked_on_free(p);
  Cache* c = current_cache();
  if (c == nullptr) [[unlikely]] {
    std::lock_guard g(g_orphan_mu);
    free_in(orphan_cache(), p);
    return;
  }
  free_in(c, p);
}

// The inline path's f is current_cache() for this thread (Note [Inline path
// and migrating goroutines]): an M's slot is its P's cache, a foreign
// thread's its own.
void deallocate_in_front(FastFront* f, void* p) noexcept {
  if (p == nullptr) return;
  if (checked_mode()) [[unlikely]] checked_on_free(p);
  free_in(static_cast<Cache*>(f), p);
}

}  // namespace gmp::detail::mem

namespace gmp::pool {

void sweep() noexcept {
  if (state().phase.load(std::memory_order_acquire) != 1) return;
  Cache* c = current_cache();
  if (c == nullptr) return;
  txn_sweep(c, 0);
  for (int cls = 0; cls < kNumClasses; ++cls) {
    flush_remote(c, cls);
  }
}

Status init() {
  ensure_init(/*report=*/false);
  PoolState& s = state();
  detail::LockGuard g(s.cfg_mu);
  return s.init_error.empty() ? Status() : Status::error(s.init_error);
}

Status check_config(const std::string& path) {
  PoolConfig c;
  std::string err = load_config_file(path, &c);
  return err.empty() ? Status() : Status::error(err);
}

Status load_config(const std::string& path) {
  PoolConfig c = current_config();
  std::string err = load_config_file(path, &c);
  if (!err.empty()) return Status::error(err);
  err = apply_config(c);
  return err.empty() ? Status() : Status::error(path + ": " + err);
}

Status set_checked(bool on) {
  PoolConfig c = current_config();
  c.checked = on;
  std::string err = apply_config(c);
  return err.empty() ? Status() : Status::error(std::string("checked mode ") + (on ? "on" : "off") + ": " + err);
}

Status set_hugepages(const std::string& mode) {
  HugeMode m;
  if (!parse_huge_mode(mode.c_str(), &m))
    return Status::error("hugepage mode '" + mode + "' is unknown (use auto, hugetlb, thp or off)");
  PoolConfig c = current_config();
  c.hugepages = m;
  std::string err = apply_config(c);
  return err.empty() ? Status() : Status::error("hugepage mode " + mode + ": " + err);
}

}  // namespace gmp::pool
