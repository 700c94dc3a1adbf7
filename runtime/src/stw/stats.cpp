// stw/stats.cpp — pause histograms per reason: *stopping* (decision → every
// P stopped) and *total* (decision → world restarted), Go 1.22's
// /sched/pauses/{stopping,total} split.
//
// Each is a gmp::Histogram (gmp/histogram.hpp): 16 sub-buckets per power of
// two, counts, sums and maxima exact; a reader sees each field exact but the
// set not as one snapshot.
#include <atomic>
#include <cstdint>

#include "stw/reasons.hpp"
#include "stw/stw.hpp"

namespace gmp::detail {

namespace {

// Written only by the stopper that holds the world (one writer at a time:
// stops are serialized), read by anyone.
gmp::Histogram stopping_hist[stw::kNumReasons];
gmp::Histogram total_hist[stw::kNumReasons];

// The last stop, as one record: seq is odd while it is written (a seqlock;
// one writer, the stopper).
std::atomic<std::uint64_t> last_seq{0};
std::atomic<std::uint64_t> last_gen{0}, last_reason{0}, last_stopping{0}, last_total{0};

}  // namespace

void stw_record(gmp::stw::Reason r, std::uint64_t gen, std::uint64_t stopping_ns, std::uint64_t total_ns) noexcept {
  int i = static_cast<int>(r);
  stopping_hist[i].record(stopping_ns);
  total_hist[i].record(total_ns);
  last_seq.fetch_add(1, std::memory_order_acq_rel);
  last_gen.store(gen, std::memory_order_relaxed);
  last_reason.store(static_cast<std::uint64_t>(r), std::memory_order_relaxed);
  last_stopping.store(stopping_ns, std::memory_order_relaxed);
  last_total.store(total_ns, std::memory_order_relaxed);
  last_seq.fetch_add(1, std::memory_order_release);
}

void stw_stats_reset() noexcept {
  for (auto& h : stopping_hist) h.reset();
  for (auto& h : total_hist) h.reset();
  last_gen = last_reason = last_stopping = last_total = 0;
}

}  // namespace gmp::detail

namespace gmp::stw {

PauseStats pause_stats(Reason r) {
  PauseStats s;
  s.reason = r;
  int i = static_cast<int>(r);
  if (i < 0 || i >= detail::stw::kNumReasons) return s;
  s.stopping = detail::stopping_hist[i].snapshot();
  s.total = detail::total_hist[i].snapshot();
  return s;
}

LastPause last_pause() noexcept {
  using namespace detail;
  LastPause p;
  for (;;) {
    std::uint64_t s0 = last_seq.load(std::memory_order_acquire);
    if (s0 & 1) continue;
    p.generation = last_gen.load(std::memory_order_relaxed);
    p.reason = static_cast<Reason>(last_reason.load(std::memory_order_relaxed));
    p.stopping_ns = last_stopping.load(std::memory_order_relaxed);
    p.total_ns = last_total.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (last_seq.load(std::memory_order_relaxed) == s0) return p;
  }
}

const char* reason_name(Reason r) noexcept {
  int i = static_cast<int>(r);
  return i >= 0 && i < detail::stw::kNumReasons ? detail::stw::kReasonNames[i] : "unknown";
}

}  // namespace gmp::stw
