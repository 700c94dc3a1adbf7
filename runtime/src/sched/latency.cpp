// sched/latency.cpp — the sampling period and the totals of sched/latency.hpp.
#include "sched/latency.hpp"

#include <cstdlib>

#include "sched/sched.hpp"

namespace gmp::detail {

std::atomic<std::uint32_t> g_sched_latency_every{8};

void set_sched_latency_every(std::uint32_t every) noexcept {
  g_sched_latency_every.store(every, std::memory_order_relaxed);
}

void sched_latency_init_from_env() noexcept {
  const char* v = std::getenv("GMP_SCHED_LATENCY_EVERY");
  if (v == nullptr || *v == '\0') return;
  char* end = nullptr;
  unsigned long n = std::strtoul(v, &end, 10);
  if (*end != '\0' || n > 65536) return;  // documented range; anything else keeps the default
  set_sched_latency_every(static_cast<std::uint32_t>(n));
}

namespace {
// Runs before main: the knob is read once, before any G is made runnable.
[[gnu::constructor]] void init_sched_latency() { sched_latency_init_from_env(); }
}  // namespace

SchedLatencyHist sched_latency_snapshot() noexcept {
  SchedLatencyHist h;
  h.every = g_sched_latency_every.load(std::memory_order_relaxed);
  // Ps stay allocated while the runtime runs (procresize stops the extra ones
  // and keeps their counts); REQUIRES: between gmp::start and its stop.
  for (int i = 0; i < kMaxProcs; i++) {
    P* pp = __atomic_load_n(&sched.allp[i], __ATOMIC_ACQUIRE);
    if (pp == nullptr) continue;
    for (int s = 0; s < GMP_HIST_SLOTS; s++) {
      std::uint64_t n = pp->sched_lat[s].load(std::memory_order_relaxed);
      h.slots[s] += n;
      h.count += n;
    }
    h.sum_ns += pp->sched_lat_sum_ns.load(std::memory_order_relaxed);
  }
  return h;
}

}  // namespace gmp::detail
