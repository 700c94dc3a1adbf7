// sched/latency.hpp — scheduling latency: how long a runnable G waits before
// it runs, measured by the runtime itself and sampled the way Go's tracking
// is (runtime2.go, gTrackingPeriod): one transition in `every` of each G is
// stamped when it is made runnable; when that G next starts running, the
// interval goes into its P's plain bucket counts. While a tracer listens, one
// of those samples in `probe_every` per P also goes through the
// sched_latency probe: a probe hit costs a tracer 1-20 us (a uprobe trap;
// ~20 us measured in this project's VM), so a probe on every switch would
// cost 20-400x a 50 ns switch. Untraced, this costs one counter per
// transition and a clock read per sample.
//
// Rejected: stamping every transition with the coarse clock (sysmon's
// coarse_now_ns, ~ms resolution) — free, but useless for µs latencies.
#pragma once

#include <cstdint>

#include "base/clock.hpp"
#include "gmp/probes_abi.h"
#include "sched/g.hpp"
#include "sched/p.hpp"
#include "trace/probes.hpp"

namespace gmp::detail {

// One in this many runnable transitions of each G is timed (0: none).
// GMP_SCHED_LATENCY_EVERY in the environment at start sets it (1..65536,
// default 8); set_sched_latency_every changes it while running.
extern std::atomic<std::uint32_t> g_sched_latency_every;
// One sample in this many per P fires the probe while it is attached (1..,
// default 128: with every = 8, one transition in 1024 reaches the tracer).
// GMP_SCHED_LATENCY_PROBE_EVERY in the environment at start sets it.
extern std::atomic<std::uint32_t> g_sched_latency_probe_every;
void set_sched_latency_every(std::uint32_t every) noexcept;
void sched_latency_init_from_env() noexcept;


// The G is being made runnable (spawn, ready, yield, preemption).
// REQUIRES: the caller owns gp (it is not on any queue yet).
inline void sched_latency_mark_runnable(G* gp) noexcept {
  std::uint32_t every = g_sched_latency_every.load(std::memory_order_relaxed);
  if (++gp->lat_tick < every || every == 0) return;
  gp->lat_tick = 0;
  gp->runnable_at_ns = nanotime();
}

// gp starts running on pp. REQUIRES: pp is owned by the calling M.
inline void sched_latency_on_run(P* pp, G* gp) noexcept {
  if (gp->runnable_at_ns == 0) [[likely]] return;
  std::int64_t d = nanotime() - gp->runnable_at_ns;
  gp->runnable_at_ns = 0;
  std::uint64_t ns = d > 0 ? static_cast<std::uint64_t>(d) : 0;
  pp->sched_lat.record(ns);
  if (GMP_PROBE_ENABLED(sched_latency)) [[unlikely]] {
    std::uint32_t pe = g_sched_latency_probe_every.load(std::memory_order_relaxed);
    if (++pp->sched_lat_probe_tick < pe) return;
    pp->sched_lat_probe_tick = 0;
    pp->sched_lat_probed.store(pp->sched_lat_probed.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    pp->sched_lat_probed_ns.store(pp->sched_lat_probed_ns.load(std::memory_order_relaxed) + ns,
                                  std::memory_order_relaxed);
    GMP_PROBE_SCHED_LATENCY(gp->id, pp->id, ns, g_sched_latency_every.load(std::memory_order_relaxed) * pe);
  }
}

// Totals over every P since start: the runtime's own measurement, for
// tools, tests and a metrics exporter. Racy reads of counters the owners keep
// writing: each value is exact at some moment, the set is not one snapshot.
// REQUIRES: the runtime is running (Ps are freed at its stop).
struct SchedLatencyHist {
  gmp::HistogramSnapshot hist;  // every P's, merged (gmp_sched_latencies_seconds)
  std::uint64_t count = 0;
  std::uint64_t sum_ns = 0;
  // The same samples in the tracer's log2 slots (gmp/probes_abi.h): slot i
  // holds 2^(i-1) < ns <= 2^i, exact because powers of two are bucket bounds
  // of gmp::Histogram.
  std::uint64_t slots[GMP_HIST_SLOTS] = {};
  std::uint32_t every = 0;
  // The samples that went through the probe (while a tracer listened).
  std::uint64_t probed = 0, probed_sum_ns = 0;
  std::uint32_t probe_every = 0;
};
SchedLatencyHist sched_latency_snapshot() noexcept;

}  // namespace gmp::detail
