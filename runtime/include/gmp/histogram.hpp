// gmp/histogram.hpp — the one histogram type of gmprt.
//
// Every latency or size the runtime (and its tools) keep is recorded into a
// gmp::BasicHistogram: log-linear buckets over non-negative integers
// (nanoseconds, bytes). Values up to 2^SubBits have a bucket each; above
// that, every power of two is split into 2^SubBits equal buckets, so a
// bucket's width is at most 2^-SubBits of its values (SubBits 4: 6.25 %,
// SubBits 7: 0.78 %). Values of 2^MaxBits and more share the last bucket,
// whose bound is +Inf.
//
// Bounds follow Prometheus `le` semantics: bucket i holds the values v with
// upper(i-1) < v <= upper(i), and upper(i) is a round binary number (1024,
// 1280, 1536, …), so a bucket bound can be exported as an `le` label
// directly and cumulative counts at any bound are exact. An exporter that
// wants fewer series exports a coarser list of bounds that are bucket bounds
// (pow2_bounds; HistogramSnapshot::cumulative).
//
// Writers: record() is for one owner (a P, one thread): relaxed load + store,
// no locked instruction on the hot path. record_shared() is for several
// writers (fetch_add). Readers on any thread take a Snapshot; while writers
// run each counter is exact but the set is not taken at one instant.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace gmp {

// The bucket layout, shared by recorders and snapshots of any precision.
struct HistogramLayout {
  int sub_bits = 4;
  int max_bits = 44;

  constexpr std::uint64_t sub() const noexcept { return std::uint64_t{1} << sub_bits; }
  // The number of buckets, the +Inf one included.
  constexpr int buckets() const noexcept {
    return static_cast<int>(sub() + static_cast<std::uint64_t>(max_bits - sub_bits) * sub() + 1);
  }
  constexpr int index(std::uint64_t v) const noexcept {
    // Bucket i holds (upper(i-1), upper(i)]; indexing v - 1 makes the upper
    // bounds the round numbers. 0 shares bucket 0 with 1.
    std::uint64_t u = v == 0 ? 0 : v - 1;
    if (u < sub()) return static_cast<int>(u);
    int e = 63 - __builtin_clzll(u);
    if (e >= max_bits) return buckets() - 1;
    return static_cast<int>(sub() + static_cast<std::uint64_t>(e - sub_bits) * sub() +
                            ((u >> (e - sub_bits)) & (sub() - 1)));
  }
  // The largest value bucket i holds; UINT64_MAX for the +Inf bucket.
  constexpr std::uint64_t upper(int i) const noexcept {
    if (i >= buckets() - 1) return std::numeric_limits<std::uint64_t>::max();
    if (static_cast<std::uint64_t>(i) < sub()) return static_cast<std::uint64_t>(i) + 1;
    std::uint64_t k = static_cast<std::uint64_t>(i) - sub();
    int e = static_cast<int>(k / sub()) + sub_bits;
    return (sub() + k % sub() + 1) << (e - sub_bits);
  }
};

// A reader's copy of a histogram: plain counts, any precision.
struct HistogramSnapshot {
  HistogramLayout layout;
  std::vector<std::uint64_t> counts;  // counts[i]: values in bucket i (not cumulative)
  std::uint64_t sum = 0;              // sum of the recorded values (wraps after 2^64)
  std::uint64_t max = 0;              // the largest recorded value

  std::uint64_t count() const noexcept {
    std::uint64_t n = 0;
    for (std::uint64_t c : counts) n += c;
    return n;
  }
  // The upper bound of the bucket holding the ceil(q * count)-th smallest
  // value, capped at max (so quantile(1) == max); 0 when empty. It is at most
  // 2^-sub_bits above the true quantile.
  std::uint64_t quantile(double q) const noexcept {
    std::uint64_t n = count();
    if (n == 0) return 0;
    q = std::clamp(q, 0.0, 1.0);
    auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n)));
    if (rank == 0) rank = 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts.size(); i++) {
      seen += counts[i];
      if (seen >= rank) return std::min(layout.upper(static_cast<int>(i)), max);
    }
    return max;
  }
  // Values <= bound, exact when bound is a bucket's upper bound (else the
  // count up to the largest bucket bound below it).
  std::uint64_t cumulative_at(std::uint64_t bound) const noexcept {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < counts.size() && layout.upper(static_cast<int>(i)) <= bound; i++) n += counts[i];
    return n;
  }
  // Cumulative counts at each of `bounds` (ascending), in one pass: out[k] is
  // the number of values <= bounds[k] (as cumulative_at). The exporter's
  // `le` series.
  std::vector<std::uint64_t> cumulative(const std::vector<std::uint64_t>& bounds) const {
    std::vector<std::uint64_t> out(bounds.size(), 0);
    std::uint64_t n = 0;
    std::size_t k = 0;
    for (std::size_t i = 0; i < counts.size() && k < bounds.size(); i++) {
      std::uint64_t up = layout.upper(static_cast<int>(i));
      while (k < bounds.size() && up > bounds[k]) out[k++] = n;
      n += counts[i];
    }
    for (; k < bounds.size(); k++) out[k] = n;
    return out;
  }
  // Adds another snapshot of the same layout (per-P histograms into one).
  void merge(const HistogramSnapshot& o) noexcept {
    if (counts.empty()) {
      *this = o;
      return;
    }
    for (std::size_t i = 0; i < counts.size() && i < o.counts.size(); i++) counts[i] += o.counts[i];
    sum += o.sum;
    max = std::max(max, o.max);
  }
};

// Export bounds: every power of two from 2^lo to 2^hi. Each is a bucket
// upper bound of every layout whose max_bits > hi, so cumulative counts at
// them are exact; a Prometheus histogram gets a few dozen `le` series
// instead of hundreds.
inline std::vector<std::uint64_t> pow2_bounds(int lo, int hi) {
  std::vector<std::uint64_t> b;
  for (int e = std::max(lo, 0); e <= hi && e < 64; e++) b.push_back(std::uint64_t{1} << e);
  return b;
}

template <int SubBits, int MaxBits = 44>
class BasicHistogram {
  static_assert(SubBits >= 0 && SubBits <= 10 && MaxBits > SubBits && MaxBits < 64);

 public:
  static constexpr HistogramLayout kLayout{SubBits, MaxBits};
  static constexpr int kBuckets = kLayout.buckets();

  // REQUIRES: one writer at a time (the owner).
  void record(std::uint64_t v) noexcept {
    bump(counts_[kLayout.index(v)], 1);
    bump(sum_, v);
    if (v > max_.load(std::memory_order_relaxed)) max_.store(v, std::memory_order_relaxed);
  }
  // Any number of writers.
  void record_shared(std::uint64_t v) noexcept {
    counts_[kLayout.index(v)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);
    std::uint64_t m = max_.load(std::memory_order_relaxed);
    while (v > m && !max_.compare_exchange_weak(m, v, std::memory_order_relaxed)) {
    }
  }
  // Adds this histogram's counts to s (whose layout must be kLayout, or empty).
  void add_to(HistogramSnapshot& s) const {
    if (s.counts.empty()) {
      s.layout = kLayout;
      s.counts.assign(kBuckets, 0);
    }
    for (int i = 0; i < kBuckets; i++) s.counts[i] += counts_[i].load(std::memory_order_relaxed);
    s.sum += sum_.load(std::memory_order_relaxed);
    s.max = std::max(s.max, max_.load(std::memory_order_relaxed));
  }
  HistogramSnapshot snapshot() const {
    HistogramSnapshot s;
    add_to(s);
    return s;
  }
  // REQUIRES: no concurrent writer.
  void reset() noexcept {
    for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
    sum_.store(0, std::memory_order_relaxed);
    max_.store(0, std::memory_order_relaxed);
  }

 private:
  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t d) noexcept {
    c.store(c.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
  }
  std::atomic<std::uint64_t> counts_[kBuckets] = {};
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> max_{0};
};

// Latencies the runtime keeps: 16 buckets per power of two (<= 6.25 %),
// 656 buckets up to 2^44 ns (4.9 hours).
using Histogram = BasicHistogram<4>;
// Where a quantile must be within 1 % (end-to-end latency of a workload):
// 128 buckets per power of two (<= 0.79 %).
using FineHistogram = BasicHistogram<7>;

}  // namespace gmp
