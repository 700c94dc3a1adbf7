// stw/stats.cpp — pause histograms per reason: *stopping* (decision → every
// P stopped) and *total* (decision → world restarted), Go 1.22's
// /sched/pauses/{stopping,total} split.
//
// Buckets are log-linear: values below 16 ns have a bucket each; above, 16
// sub-buckets per power of two (relative error ≤ 1/16). Counts, sums and
// maxima are exact. Written only by the stopper that holds the world
// (serialized), read by anyone: every field is a relaxed atomic, so a reader
// sees each field exact but the set not as one snapshot.
#include <atomic>
#include <cstdint>

#include "stw/reasons.hpp"
#include "stw/stw.hpp"

namespace gmp::detail {

namespace {

constexpr int kSub = 16;
constexpr int kMaxExp = 47;  // 2^47 ns ≈ 39 h
constexpr std::size_t kNumBuckets = kSub + (kMaxExp - 4 + 1) * kSub;

std::size_t bucket_of(std::uint64_t v) noexcept {
  if (v < kSub) return static_cast<std::size_t>(v);
  int e = 63 - __builtin_clzll(v);  // >= 4
  if (e > kMaxExp) return kNumBuckets - 1;
  std::uint64_t sub = (v >> (e - 4)) & (kSub - 1);
  return kSub + static_cast<std::size_t>(e - 4) * kSub + sub;
}

struct AtomicHist {
  std::atomic<std::uint64_t> count{0}, sum{0}, max{0};
  std::atomic<std::uint64_t> b[kNumBuckets] = {};

  void add(std::uint64_t v) noexcept {
    b[bucket_of(v)].fetch_add(1, std::memory_order_relaxed);
    sum.fetch_add(v, std::memory_order_relaxed);
    if (v > max.load(std::memory_order_relaxed)) max.store(v, std::memory_order_relaxed);
    count.fetch_add(1, std::memory_order_relaxed);
  }
  void reset() noexcept {
    count = 0;
    sum = 0;
    max = 0;
    for (auto& x : b) x.store(0, std::memory_order_relaxed);
  }
  gmp::stw::Histogram snapshot() const {
    gmp::stw::Histogram h;
    h.count = count.load(std::memory_order_relaxed);
    h.sum_ns = sum.load(std::memory_order_relaxed);
    h.max_ns = max.load(std::memory_order_relaxed);
    h.buckets.resize(kNumBuckets);
    for (std::size_t i = 0; i < kNumBuckets; i++) h.buckets[i] = b[i].load(std::memory_order_relaxed);
    return h;
  }
};

AtomicHist stopping_hist[stw::kNumReasons];
AtomicHist total_hist[stw::kNumReasons];

// The last stop, as one record: seq is odd while it is written (a seqlock;
// one writer, the stopper).
std::atomic<std::uint64_t> last_seq{0};
std::atomic<std::uint64_t> last_gen{0}, last_reason{0}, last_stopping{0}, last_total{0};

}  // namespace

void stw_record(gmp::stw::Reason r, std::uint64_t gen, std::uint64_t stopping_ns, std::uint64_t total_ns) noexcept {
  int i = static_cast<int>(r);
  stopping_hist[i].add(stopping_ns);
  total_hist[i].add(total_ns);
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

std::uint64_t Histogram::bucket_upper_ns(std::size_t i) noexcept {
  if (i < static_cast<std::size_t>(detail::kSub)) return i;
  std::size_t k = i - detail::kSub;
  int e = static_cast<int>(k / detail::kSub) + 4;
  std::uint64_t sub = k % detail::kSub;
  std::uint64_t lower = (detail::kSub + sub) << (e - 4);
  return lower + (std::uint64_t{1} << (e - 4)) - 1;
}

std::uint64_t Histogram::quantile_ns(double q) const noexcept {
  if (count == 0) return 0;
  if (q < 0) q = 0;
  if (q > 1) q = 1;
  std::uint64_t want = static_cast<std::uint64_t>(q * static_cast<double>(count) + 0.999999);
  if (want == 0) want = 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets.size(); i++) {
    seen += buckets[i];
    if (seen >= want) {
      std::uint64_t up = bucket_upper_ns(i);
      return up < max_ns ? up : max_ns;
    }
  }
  return max_ns;
}

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
