// sched/latency.cpp — the sampling period and the totals of sched/latency.hpp.
#include "sched/latency.hpp"

#include <cstdlib>

#include "sched/sched.hpp"

namespace gmp::detail {

std::atomic<std::uint32_t> g_sched_latency_every{8};
std::atomic<std::uint32_t> g_sched_latency_probe_every{128};

void set_sched_latency_every(std::uint32_t every) noexcept {
  g_sched_latency_every.store(every, std::memory_order_relaxed);
}

namespace {
// A count from the environment in [lo, 65536], or the default (anything else).
std::uint32_t env_count(const char* name, std::uint32_t lo, std::uint32_t dflt) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return dflt;
  char* end = nullptr;
  unsigned long n = std::strtoul(v, &end, 10);
  return *end == '\0' && n >= lo && n <= 65536 ? static_cast<std::uint32_t>(n) : dflt;
}
}  // namespace

void sched_latency_init_from_env() noexcept {
  set_sched_latency_every(env_count("GMP_SCHED_LATENCY_EVERY", 0, 8));
  g_sched_latency_probe_every.store(env_count("GMP_SCHED_LATENCY_PROBE_EVERY", 1, 128), std::memory_order_relaxed);
}

namespace {
// Runs before main: the knob is read once, before any G is made runnable.
[[gnu::constructor]] void init_sched_latency() { sched_latency_init_from_env(); }
}  // namespace

SchedLatencyHist sched_latency_snapshot() noexcept {
  SchedLatencyHist h;
  h.every = g_sched_latency_every.load(std::memory_order_relaxed);
  h.probe_every = g_sched_latency_probe_every.load(std::memory_order_relaxed);
  // Ps stay allocated while the runtime runs (procresize stops the extra ones
  // and keeps their counts); REQUIRES: between gmp::start and its stop.
  for (int i = 0; i < kMaxProcs; i++) {
    P* pp = __atomic_load_n(&sched.allp[i], __ATOMIC_ACQUIRE);
    if (pp == nullptr) continue;
    pp->sched_lat.add_to(h.hist);
    h.probed += pp->sched_lat_probed.load(std::memory_order_relaxed);
    h.probed_sum_ns += pp->sched_lat_probed_ns.load(std::memory_order_relaxed);
  }
  h.count = h.hist.count();
  h.sum_ns = h.hist.sum;
  std::uint64_t below = 0;
  for (int s = 0; s < GMP_HIST_SLOTS; s++) {
    std::uint64_t upto = s == GMP_HIST_SLOTS - 1 ? h.count : h.hist.cumulative_at(std::uint64_t{1} << s);
    h.slots[s] = upto - below;
    below = upto;
  }
  return h;
}

}  // namespace gmp::detail
