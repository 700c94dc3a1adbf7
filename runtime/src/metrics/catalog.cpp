// metrics/catalog.cpp — the metrics catalog (gmp/metrics.hpp): one entry per
// metric, each reading the runtime's own counters at read time.
//
// Readers run on any thread (a scrape handler, the tool's main thread) and
// read only relaxed atomics the owners write (per-P counters, per-cache pool
// counters, per-heap timer histograms, the stopper's pause histograms) plus
// the public stats functions that do the same. None takes the scheduler lock
// or stops the world, so a scrape cannot delay a goroutine or a stop. Shared
// sources (sched_stats, pool::stats, io_stats) are read once per pass
// through ReadContext.
//
// The Ps are read only while the runtime runs (sched.running): gmp::stop
// frees them, so a caller that reads concurrently with stop must stop its
// readers first (gmp::metrics::Server::stop does; docs/METRICS.md).
#include "gmp/metrics.hpp"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <optional>

#include "base/clock.hpp"
#include "gmp/io.hpp"
#include "gmp/pool.hpp"
#include "gmp/runtime.hpp"
#include "gmp/stw.hpp"
#include "sched/latency.hpp"
#include "sched/p.hpp"
#include "sched/sched.hpp"
#include "stw/reasons.hpp"
#include "timer/timer.hpp"

namespace gmp::metrics {

struct ReadContext {
  static constexpr std::int64_t kSmapsEvery = 10'000'000'000;  // ns
  std::int64_t now = detail::nanotime();
  bool up = gmp::running();

  const SchedStats& sched() {
    if (!sched_) sched_ = gmp::sched_stats();
    return *sched_;
  }
  // The pool's counters, read at every read; its hugepage figures come from
  // /proc/self/smaps, which costs milliseconds, so they are refreshed at
  // most every kSmapsEvery (hugepage backing changes slowly).
  const pool::Stats& pool() {
    if (pool_) return *pool_;
    pool_ = gmp::pool::stats(false);
    static std::mutex mu;
    static bool have = false;
    static std::int64_t read_at = 0;
    static std::uint64_t rss = 0, huge = 0;
    static double coverage = 0;
    std::lock_guard g(mu);
    if (!have || now - read_at >= kSmapsEvery) {
      have = true;
      pool::Stats full = gmp::pool::stats(true);
      rss = full.arena_rss;
      huge = full.arena_huge;
      coverage = full.hugepage_coverage;
      read_at = now;
    }
    pool_->arena_rss = rss;
    pool_->arena_huge = huge;
    pool_->hugepage_coverage = coverage;
    return *pool_;
  }
  const io::IoStats& io() {
    if (!io_) io_ = gmp::io::io_stats();
    return *io_;
  }
  // Ps in use; empty when the runtime is not running.
  int nprocs() const { return up ? detail::sched.nprocs.load(std::memory_order_acquire) : 0; }
  const detail::P* p(int i) const { return detail::sched.allp[i]; }

 private:
  std::optional<SchedStats> sched_;
  std::optional<pool::Stats> pool_;
  std::optional<io::IoStats> io_;
};

namespace {

using Out = std::vector<Sample>;
constexpr double kNs = 1e-9;

void one(Out& o, double v) { o.push_back(Sample{{}, v, {}}); }
void labelled(Out& o, std::string label, double v) { o.push_back(Sample{{std::move(label)}, v, {}}); }
void hist(Out& o, std::vector<std::string> labels, HistogramSnapshot h) {
  if (h.counts.empty()) {  // a source with nothing recorded yet: an empty histogram of the standard layout
    h.layout = Histogram::kLayout;
    h.counts.assign(Histogram::kBuckets, 0);
  }
  o.push_back(Sample{std::move(labels), 0, std::move(h)});
}

// Label values as identifiers: "pool sweep" -> "pool_sweep".
std::string label_value(std::string s) {
  for (char& ch : s) ch = ch == ' ' ? '_' : ch;
  return s;
}

const char* const kTierNames[3] = {"fast", "txn", "stable"};

template <class F>
void per_tier(ReadContext& c, Out& o, F f) {
  const pool::Stats& st = c.pool();
  for (int t = 0; t < 3; t++) labelled(o, kTierNames[t], static_cast<double>(f(st.tiers[t].total)));
}

template <class F>
void per_p(ReadContext& c, Out& o, F f) {
  int n = c.nprocs();
  for (int i = 0; i < n; i++) {
    const detail::P* pp = c.p(i);
    if (pp != nullptr) labelled(o, std::to_string(i), f(pp));
  }
}

// Goroutines by state from racy reads of the Ps: each count is a moment's
// view, and waiting is what the others leave of the live count.
struct GStates {
  std::uint64_t running = 0, runnable = 0, syscall = 0, waiting = 0;
};
GStates g_states(ReadContext& c) {
  GStates s;
  int n = c.nprocs();
  for (int i = 0; i < n; i++) {
    const detail::P* pp = c.p(i);
    if (pp == nullptr) continue;
    s.runnable += pp->runq.size() + (pp->runq.runnext.load(std::memory_order_relaxed) != nullptr ? 1 : 0);
    auto st = pp->status.load(std::memory_order_relaxed);
    if (st == detail::PStatus::kSyscall) s.syscall++;
    else if (st == detail::PStatus::kRunning && pp->curg.load(std::memory_order_relaxed) != nullptr) s.running++;
  }
  if (c.up) s.runnable += detail::sched.gq_size.load(std::memory_order_relaxed);
  std::uint64_t live = c.sched().goroutines_live;
  std::uint64_t busy = s.running + s.runnable + s.syscall;
  s.waiting = live > busy ? live - busy : 0;
  return s;
}

// A counter read from racy sums must never go down (Prometheus reads a drop
// as a restart): each P's busy time is exported as the largest value seen
// for that P since it was created (a new runtime's P starts from 0 again).
// Readers are scrapes (rare): a mutex is enough.
detail::ThreadMutex g_busy_mu;
std::int64_t g_busy_created[detail::kMaxProcs] GMP_GUARDED_BY(g_busy_mu);
std::int64_t g_busy_seen[detail::kMaxProcs] GMP_GUARDED_BY(g_busy_mu);
double p_busy_seconds(const detail::P* pp, std::int64_t now) {
  std::int64_t v = detail::p_busy_ns(pp, now);
  std::int64_t created = pp->created_ns.load(std::memory_order_relaxed);
  detail::LockGuard g(g_busy_mu);
  int i = pp->id;
  if (g_busy_created[i] != created) {
    g_busy_created[i] = created;
    g_busy_seen[i] = 0;
  }
  g_busy_seen[i] = std::max(g_busy_seen[i], v);
  return static_cast<double>(g_busy_seen[i]) * kNs;
}

const std::vector<Metric>& catalog() {
  using K = Kind;
  using U = Unit;
  using F = SummaryFormat;
  // A table: one metric a row, laid out by hand (clang-format would put each
  // field on its own line).
  // clang-format off
  static const std::vector<Metric> m = {
      // ---- runtime ----------------------------------------------------------
      {"gmp_info", "gmprt build and run-time facts (value 1): version, I/O backend, pool page mode.", K::kGauge,
       U::kInfo, {"version", "io", "hugepages"}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) {
         std::string huge = c.up ? c.pool().hugepage_mode : "";
         o.push_back(Sample{{"0.1.0", gmp::io::uring_enabled() ? "io_uring" : "blocking", huge}, 1, {}});
       }},
      {"gmp_sched_gomaxprocs_threads", "Ps (logical processors) in use: goroutines that can run at once (Go's GOMAXPROCS).",
       K::kGauge, U::kNone, {}, 1, "procs", F::kInteger, 1,
       [](ReadContext& c, Out& o) { one(o, c.nprocs()); }},
      {"gmp_threads", "OS threads the runtime created to run goroutines (Ms).", K::kGauge, U::kNone, {}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { one(o, c.up ? detail::sched.mcount.load(std::memory_order_relaxed) : 0); }},
      {"gmp_goroutines", "Goroutines that exist (created and not yet exited).", K::kGauge, U::kNone, {}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.sched().goroutines_live)); }},
      {"gmp_sched_goroutines", "Goroutines by state: running on a P, runnable in a queue, in a blocking call, waiting.",
       K::kGauge, U::kNone, {"state"}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) {
         GStates s = g_states(c);
         labelled(o, "running", static_cast<double>(s.running));
         labelled(o, "runnable", static_cast<double>(s.runnable));
         labelled(o, "syscall", static_cast<double>(s.syscall));
         labelled(o, "waiting", static_cast<double>(s.waiting));
       }},
      // ---- scheduler --------------------------------------------------------
      {"gmp_sched_goroutines_created_total", "Goroutines created since the runtime started.", K::kCounter, U::kNone, {},
       1, "goroutines", F::kInteger, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.sched().goroutines_created)); }},
      {"gmp_sched_context_switches_total", "Goroutine switches on all Ps.", K::kCounter, U::kNone, {}, 1, "switches",
       F::kInteger, 1, [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.sched().context_switches)); }},
      {"gmp_sched_steal_operations_total", "Successful steals: one P took half of another's run queue.", K::kCounter,
       U::kNone, {}, 1, "steals", F::kInteger, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.sched().steals)); }},
      {"gmp_sched_steals_total", "Goroutines moved by steals.", K::kCounter, U::kNone, {}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.sched().stolen_goroutines)); }},
      {"gmp_sched_parks_total", "Times an M (OS thread) found no work and parked (futex or its ring).", K::kCounter, U::kNone, {},
       1, "m_parks", F::kInteger, 1, [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.sched().m_parks)); }},
      {"gmp_sched_unparks_total", "Times a parked M was woken.", K::kCounter, U::kNone, {}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.sched().m_unparks)); }},
      {"gmp_sched_global_queue_depth", "Goroutines in the global run queue.", K::kGauge, U::kNone, {}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { one(o, c.up ? detail::sched.gq_size.load(std::memory_order_relaxed) : 0); }},
      {"gmp_sched_local_queue_depth", "Goroutines in each P's local run queue (runnext included).", K::kGauge, U::kNone,
       {"p"}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) {
         per_p(c, o, [](const detail::P* pp) {
           return static_cast<double>(pp->runq.size() + (pp->runq.runnext.load(std::memory_order_relaxed) ? 1 : 0));
         });
       }},
      {"gmp_sched_p_busy_seconds_total",
       "Time each P was busy: held by an M running goroutines or looking for them (not on the idle list).", K::kCounter,
       U::kSeconds, {"p"}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) {
         std::int64_t now = c.now;
         int n = c.nprocs();
         for (int i = 0; i < n; i++) {
           if (const detail::P* pp = c.p(i)) labelled(o, std::to_string(i), p_busy_seconds(pp, now));
         }
       }},
      {"gmp_sched_idle_procs", "Ps on the idle list.", K::kGauge, U::kNone, {}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { one(o, c.up ? detail::sched.npidle.load(std::memory_order_relaxed) : 0); }},
      {"gmp_sched_preemptions_total", "Time slices sysmon ended (a goroutine ran past its slice).", K::kCounter,
       U::kNone, {}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.sched().preempt_requests)); }},
      {"gmp_sched_hogs_total", "Goroutines that ran a whole hog threshold without reaching a safe point.", K::kCounter,
       U::kNone, {}, 1, "hogs", F::kInteger, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.sched().hogs)); }},
      {"gmp_sched_hog_moved_goroutines_total", "Goroutines sysmon moved off a hogged P's queue.", K::kCounter,
       U::kNone, {}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.sched().hog_moved)); }},
      {"gmp_sched_timer_lead_wakeups_total", "Idle Ms that woke early for a timer and spun until it was due.",
       K::kCounter, U::kNone, {}, 1, "timer_lead_wakeups", F::kInteger, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.sched().timer_lead_wakeups)); }},
      {"gmp_sched_timer_lead_spin_seconds_total", "CPU time those early wake-ups spent spinning.", K::kCounter,
       U::kSeconds, {}, 1, "timer_lead_spin_ms", F::kDecimal, 1e3,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.sched().timer_lead_spin_ns) * kNs); }},
      {"gmp_sched_lock_elision", "1 while channel locks are elided (one P), else 0.", K::kGauge, U::kNone, {}, 1,
       "lock_elision", F::kBool, 1, [](ReadContext& c, Out& o) { one(o, c.sched().lock_elision ? 1 : 0); }},
      {"gmp_sched_lock_elision_revocations_total", "Times a non-goroutine thread switched lock elision off.",
       K::kCounter, U::kNone, {}, 1, "lock_elision_revocations", F::kInteger, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.sched().lock_elision_revocations)); }},
      {"gmp_sched_stacks_mapped", "Goroutine stacks currently mapped (in use or pooled).", K::kGauge, U::kNone, {}, 1,
       "", F::kNone, 1, [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.sched().stacks_mapped)); }},
      {"gmp_sched_stacks_released_total",
       "Cached goroutine stacks whose memory the background scavenger gave back to the kernel.", K::kCounter,
       U::kNone, {}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.sched().stacks_released)); }},
      {"gmp_sched_latencies_seconds",
       "Time goroutines spent runnable before they ran, sampled (one transition in GMP_SCHED_LATENCY_EVERY, "
       "default 8, of each goroutine; Go's /sched/latencies).",
       K::kHistogram, U::kSeconds, {}, kNs, "", F::kNone, 1,
       [](ReadContext& c, Out& o) {
         // The Ps are read in place, so only while the runtime runs.
         hist(o, {}, c.up ? detail::sched_latency_snapshot().hist : HistogramSnapshot{});
       }},
      // ---- stop-the-world ---------------------------------------------------
      {"gmp_sched_pauses_stopping_seconds",
       "Stop-the-world time to stop: from the decision until every P stopped, by reason (Go's /sched/pauses/stopping).",
       K::kHistogram, U::kSeconds, {"reason"}, kNs, "", F::kNone, 1,
       [](ReadContext&, Out& o) {
         for (int r = 0; r < detail::stw::kNumReasons; r++) {
           auto reason = static_cast<stw::Reason>(r);
           hist(o, {label_value(stw::reason_name(reason))}, stw::pause_stats(reason).stopping);
         }
       }},
      {"gmp_sched_pauses_total_seconds",
       "Stop-the-world pauses: from the decision until the world restarted, by reason (Go's /sched/pauses/total).",
       K::kHistogram, U::kSeconds, {"reason"}, kNs, "", F::kNone, 1,
       [](ReadContext&, Out& o) {
         for (int r = 0; r < detail::stw::kNumReasons; r++) {
           auto reason = static_cast<stw::Reason>(r);
           hist(o, {label_value(stw::reason_name(reason))}, stw::pause_stats(reason).total);
         }
       }},
      {"gmp_stw_boosts_total", "Ms a slow stop raised to SCHED_FIFO until they stopped.", K::kCounter, U::kNone, {}, 1,
       "stw_boosts", F::kInteger, 1, [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.sched().stw_boosts)); }},
      {"gmp_stw_boost_failures_total", "Boosts the kernel refused.", K::kCounter, U::kNone, {}, 1,
       "stw_boost_failures", F::kInteger, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.sched().stw_boost_failures)); }},
      {"gmp_stw_slow_stops_total", "Stops whose pause reached the slow-stop threshold, by explained cause.",
       K::kCounter, U::kNone, {"cause"}, 1, "", F::kNone, 1,
       [](ReadContext&, Out& o) {
         for (int i = 0; i < static_cast<int>(stw::SlowCause::kCount); i++) {
           auto sc = static_cast<stw::SlowCause>(i);
           labelled(o, stw::slow_cause_name(sc), static_cast<double>(stw::slow_stops(sc)));
         }
       }},
      {"gmp_stw_hog_reports_total", "Stops that waited past the hog-report threshold for a P to reach a safe point.",
       K::kCounter, U::kNone, {}, 1, "", F::kNone, 1,
       [](ReadContext&, Out& o) { one(o, static_cast<double>(stw::hog_reports())); }},
      // ---- I/O --------------------------------------------------------------
      {"gmp_io_uring_enabled", "1 when I/O goes through io_uring, 0 on the blocking fallback.", K::kGauge, U::kNone, {},
       1, "", F::kNone, 1, [](ReadContext&, Out& o) { one(o, gmp::io::uring_enabled() ? 1 : 0); }},
      {"gmp_io_submissions_total", "io_uring submission queue entries handed to the kernel.", K::kCounter, U::kNone, {},
       1, "", F::kNone, 1, [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.io().submitted)); }},
      {"gmp_io_completions_total", "io_uring operations completed.", K::kCounter, U::kNone, {}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.io().completed)); }},
      {"gmp_io_enters_total", "io_uring_enter system calls made to submit or reap.", K::kCounter, U::kNone, {}, 1, "",
       F::kNone, 1, [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.io().enters)); }},
      {"gmp_io_in_flight", "io_uring operations submitted and not yet completed.", K::kGauge, U::kNone, {}, 1, "",
       F::kNone, 1, [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.io().in_flight)); }},
      {"gmp_io_fallbacks_total",
       "I/O operations a goroutine ran as a blocking system call instead of through its ring.", K::kCounter, U::kNone,
       {}, 1, "", F::kNone, 1, [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.io().fallbacks)); }},
      {"gmp_io_migrated_total",
       "io_uring operations cancelled on a P that set_procs removed and run again on another.", K::kCounter,
       U::kNone, {}, 1, "", F::kNone, 1, [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.io().migrated)); }},
      {"gmp_io_cq_overflows_total",
       "Reaps that found completions on the kernel's overflow list (more than the completion queue holds; none lost).",
       K::kCounter, U::kNone, {}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.io().cq_overflows)); }},
      {"gmp_io_ring_waits_total", "Times an idle M waited in its P's ring.", K::kCounter, U::kNone, {}, 1, "",
       F::kNone, 1, [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.io().ring_waits)); }},
      {"gmp_blocking_calls_total", "gmp::blocking calls (system calls io_uring cannot do, and the fallback's).",
       K::kCounter, U::kNone, {}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.io().blocking_calls)); }},
      {"gmp_blocking_handoffs_total", "Ps sysmon handed to another M while their M was in gmp::blocking.",
       K::kCounter, U::kNone, {}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.io().handoffs)); }},
      // ---- timers -----------------------------------------------------------
      {"gmp_timers_fired_total", "Timers run, by who ran them: their own P, or a P that stole them.", K::kCounter,
       U::kNone, {"by"}, 1, "", F::kNone, 1,
       [](ReadContext&, Out& o) {
         detail::TimerStats t = detail::timer_stats();
         labelled(o, "owner", static_cast<double>(t.fired));
         labelled(o, "thief", static_cast<double>(t.stolen));
       }},
      {"gmp_timers_lateness_seconds", "How late timers ran: from their deadline until they fired.", K::kHistogram,
       U::kSeconds, {}, kNs, "", F::kNone, 1,
       [](ReadContext&, Out& o) { hist(o, {}, detail::timer_lateness()); }},
      // ---- memory pool ------------------------------------------------------
      {"gmp_alloc_latency_seconds",
       "Pool allocation latency, sampled (every stats.sample_every-th allocation of each class), by tier.",
       K::kHistogram, U::kSeconds, {"tier"}, kNs, "", F::kNone, 1,
       [](ReadContext& c, Out& o) {
         const pool::Stats& st = c.pool();
         for (int t = 0; t < 3; t++) hist(o, {kTierNames[t]}, st.tiers[t].latency);
       }},
      {"gmp_pool_hits_total", "Pool allocations served from the P's own cache, by tier.", K::kCounter, U::kNone,
       {"tier"}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { per_tier(c, o, [](const pool::ClassStats& s) { return s.hits; }); }},
      {"gmp_pool_misses_total", "Pool allocations that needed a refill (or the shared lists), by tier.", K::kCounter,
       U::kNone, {"tier"}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { per_tier(c, o, [](const pool::ClassStats& s) { return s.misses; }); }},
      {"gmp_pool_refills_total", "Batches a cache fetched from the central lists, by tier.", K::kCounter, U::kNone,
       {"tier"}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { per_tier(c, o, [](const pool::ClassStats& s) { return s.refills; }); }},
      {"gmp_pool_flushes_total", "Batches a cache sent to the central lists (overflow, TTL expiry, remote), by tier.",
       K::kCounter, U::kNone, {"tier"}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { per_tier(c, o, [](const pool::ClassStats& s) { return s.flushes; }); }},
      {"gmp_pool_frees_total", "Pool frees, by tier.", K::kCounter, U::kNone, {"tier"}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { per_tier(c, o, [](const pool::ClassStats& s) { return s.frees; }); }},
      {"gmp_pool_remote_frees_total", "Frees of objects homed on another P's cache, by tier.", K::kCounter, U::kNone,
       {"tier"}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { per_tier(c, o, [](const pool::ClassStats& s) { return s.remote_frees; }); }},
      {"gmp_pool_fallbacks_total", "Pool allocations sent to jemalloc (pool exhausted or degraded), by tier.",
       K::kCounter, U::kNone, {"tier"}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { per_tier(c, o, [](const pool::ClassStats& s) { return s.fallbacks; }); }},
      {"gmp_pool_in_use_bytes", "Bytes of pool objects allocated and not freed, by tier.", K::kGauge, U::kBytes,
       {"tier"}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { per_tier(c, o, [](const pool::ClassStats& s) { return s.bytes_in_use; }); }},
      {"gmp_pool_cached_bytes", "Bytes of free objects held in caches and central lists, by tier.", K::kGauge,
       U::kBytes, {"tier"}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { per_tier(c, o, [](const pool::ClassStats& s) { return s.bytes_cached; }); }},
      {"gmp_pool_mapped_bytes", "Arena bytes committed and not returned to the OS.", K::kGauge, U::kBytes, {}, 1, "",
       F::kNone, 1,
       [](ReadContext& c, Out& o) {
         const pool::Stats& st = c.pool();
         one(o, static_cast<double>(st.arena_committed - std::min(st.arena_released, st.arena_committed)));
       }},
      {"gmp_pool_reserved_bytes", "Arena address space reserved.", K::kGauge, U::kBytes, {}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.pool().arena_reserved)); }},
      {"gmp_pool_hugepage_bytes", "Arena bytes backed by hugepages (from /proc/self/smaps, refreshed every 10 s).", K::kGauge, U::kBytes, {},
       1, "", F::kNone, 1, [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.pool().arena_huge)); }},
      {"gmp_pool_hugepage_coverage_ratio", "Share of the mapped arena backed by hugepages (0 to 1).", K::kGauge,
       U::kRatio, {}, 1, "", F::kNone, 1, [](ReadContext& c, Out& o) { one(o, c.pool().hugepage_coverage); }},
      {"gmp_pool_arena_grow_refusals_total", "Arena chunks the kernel refused to commit (ENOMEM); the pool served those allocations from jemalloc.",
       K::kCounter, U::kNone, {}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.pool().arena_grow_refusals)); }},
      {"gmp_pool_large_allocations_total", "Allocations above the largest class, served by jemalloc.", K::kCounter,
       U::kNone, {}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.pool().large_allocs)); }},
      {"gmp_pool_large_in_use_bytes", "Bytes of large (jemalloc) pool allocations not freed.", K::kGauge, U::kBytes,
       {}, 1, "", F::kNone, 1,
       [](ReadContext& c, Out& o) { one(o, static_cast<double>(c.pool().large_bytes_in_use)); }},
      {"gmp_pool_txn_degraded", "1 while the txn tier is degraded to jemalloc (memory pressure), else 0.", K::kGauge,
       U::kNone, {}, 1, "", F::kNone, 1, [](ReadContext& c, Out& o) { one(o, c.pool().txn_degraded ? 1 : 0); }},
  };
  // clang-format on
  return m;
}

}  // namespace

const char* kind_name(Kind k) noexcept {
  switch (k) {
    case Kind::kCounter: return "counter";
    case Kind::kGauge: return "gauge";
    case Kind::kHistogram: return "histogram";
  }
  return "untyped";
}

const char* unit_name(Unit u) noexcept {
  switch (u) {
    case Unit::kNone: return "";
    case Unit::kSeconds: return "seconds";
    case Unit::kBytes: return "bytes";
    case Unit::kRatio: return "ratio";
    case Unit::kInfo: return "info";
  }
  return "";
}

std::span<const Metric> list() noexcept { return catalog(); }

const Metric* find(std::string_view name) noexcept {
  for (const Metric& m : catalog()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const std::vector<std::uint64_t>& export_bounds(const Metric&) {
  // 256 ns .. 2^34 ns (17 s): 27 bounds. Every histogram of the catalog is
  // in ns today; a bytes histogram would get its own list here.
  static const std::vector<std::uint64_t> ns = pow2_bounds(8, 34);
  return ns;
}

std::vector<std::vector<Sample>> read_all() {
  ReadContext c;
  std::vector<std::vector<Sample>> out;
  out.reserve(catalog().size());
  for (const Metric& m : catalog()) {
    out.emplace_back();
    m.read(c, out.back());
  }
  return out;
}

std::vector<Sample> read(const Metric& m) {
  ReadContext c;
  std::vector<Sample> out;
  m.read(c, out);
  return out;
}

double total(const std::vector<Sample>& samples, Kind k) noexcept {
  double t = 0;
  for (const Sample& s : samples) t += k == Kind::kHistogram ? static_cast<double>(s.hist.count()) : s.value;
  return t;
}

std::vector<std::pair<std::string, std::string>> summary_fields() {
  std::vector<std::pair<std::string, std::string>> out;
  ReadContext c;
  for (const Metric& m : catalog()) {
    if (m.summary == SummaryFormat::kNone) continue;
    std::vector<Sample> s;
    m.read(c, s);
    double v = total(s, m.kind) * m.summary_scale;
    char buf[64];
    switch (m.summary) {
      case SummaryFormat::kBool: out.emplace_back(m.summary_key, v != 0 ? "true" : "false"); continue;
      case SummaryFormat::kInteger: std::snprintf(buf, sizeof buf, "%.0f", v); break;
      default: {
        std::snprintf(buf, sizeof buf, "%.3f", v);
        std::string d(buf);  // "812.400" -> "812.4", "3.000" -> "3"
        while (d.back() == '0') d.pop_back();
        if (d.back() == '.') d.pop_back();
        out.emplace_back(m.summary_key, d);
        continue;
      }
    }
    out.emplace_back(m.summary_key, buf);
  }
  return out;
}

}  // namespace gmp::metrics
