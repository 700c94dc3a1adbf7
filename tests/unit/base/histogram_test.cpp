// The one histogram type (gmp/histogram.hpp): bucket bounds with Prometheus
// `le` semantics, quantile error within the layout's bound, exact cumulative
// counts at bucket bounds, owner and shared writers.
#include "gmp/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

namespace {

template <typename H>
void check_layout() {
  constexpr gmp::HistogramLayout l = H::kLayout;
  // Bounds strictly increase; the last is +Inf.
  for (int i = 1; i < l.buckets(); i++) ASSERT_LT(l.upper(i - 1), l.upper(i)) << i;
  EXPECT_EQ(l.upper(l.buckets() - 1), UINT64_MAX);
  // Every value falls in the bucket whose (upper(i-1), upper(i)] holds it.
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> vs = {0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 1023, 1024, 1025, 1u << 20};
  for (int e = 0; e < 64; e++) {
    std::uint64_t p = std::uint64_t{1} << e;
    vs.insert(vs.end(), {p - 1, p, p + 1});
  }
  for (int k = 0; k < 20000; k++) vs.push_back(rng() >> (rng() % 64));
  for (std::uint64_t v : vs) {
    int i = l.index(v);
    ASSERT_GE(i, 0);
    ASSERT_LT(i, l.buckets());
    ASSERT_LE(v, l.upper(i)) << v;
    if (i > 0) {
      ASSERT_GT(v, l.upper(i - 1)) << v;
    }
  }
  // Below 2^max_bits a bucket is at most 2^-sub_bits of its values wide.
  for (int i = static_cast<int>(l.sub()) + 1; i < l.buckets() - 1; i++) {
    double width = static_cast<double>(l.upper(i) - l.upper(i - 1));
    ASSERT_LE(width / static_cast<double>(l.upper(i - 1)), 1.0 / static_cast<double>(l.sub()) + 1e-12) << i;
  }
}

TEST(Histogram, BoundsHoldTheirValues) {
  check_layout<gmp::Histogram>();
  check_layout<gmp::FineHistogram>();
  check_layout<gmp::BasicHistogram<0, 40>>();  // one bucket per power of two
}

TEST(Histogram, BoundsAreRoundBinaryNumbers) {
  constexpr gmp::HistogramLayout l = gmp::BasicHistogram<2>::kLayout;
  std::vector<std::uint64_t> want = {1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32};
  for (std::size_t i = 0; i < want.size(); i++) EXPECT_EQ(l.upper(static_cast<int>(i)), want[i]) << i;
  EXPECT_EQ(l.index(0), 0);
  EXPECT_EQ(l.index(1), 0);
  EXPECT_EQ(l.index(8), 7);
  EXPECT_EQ(l.index(9), 8);
  EXPECT_EQ(l.index(10), 8);
  EXPECT_EQ(l.index(11), 9);
}

TEST(Histogram, QuantilesWithinTheLayoutsError) {
  gmp::FineHistogram h;
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> dist(9.0, 1.5);  // ~8 us median, long tail
  std::vector<std::uint64_t> vs;
  for (int k = 0; k < 200000; k++) {
    auto v = static_cast<std::uint64_t>(dist(rng));
    vs.push_back(v);
    h.record(v);
  }
  std::sort(vs.begin(), vs.end());
  gmp::HistogramSnapshot s = h.snapshot();
  EXPECT_EQ(s.count(), vs.size());
  EXPECT_EQ(s.max, vs.back());
  std::uint64_t sum = 0;
  for (auto v : vs) sum += v;
  EXPECT_EQ(s.sum, sum);
  for (double q : {0.5, 0.9, 0.99, 0.999, 1.0}) {
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(vs.size())));
    std::uint64_t exact = vs[rank - 1];
    std::uint64_t got = s.quantile(q);
    EXPECT_GE(got, exact) << q;  // the bucket's upper bound, never below
    EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * 1.01 + 1) << q;
  }
  EXPECT_EQ(gmp::HistogramSnapshot{}.quantile(0.99), 0u);
}

TEST(Histogram, CumulativeCountsAreExactAtBucketBounds) {
  gmp::Histogram h;
  for (std::uint64_t v = 0; v < 5000; v++) h.record(v);
  gmp::HistogramSnapshot s = h.snapshot();
  for (int i = 0; i < 80; i++) {
    std::uint64_t b = s.layout.upper(i);
    EXPECT_EQ(s.cumulative_at(b), std::min<std::uint64_t>(b + 1, 5000)) << b;  // 0..b
  }
  EXPECT_EQ(s.cumulative_at(UINT64_MAX), 5000u);
}

TEST(Histogram, HugeValuesGoToTheInfBucket) {
  gmp::Histogram h;
  h.record(UINT64_MAX);
  h.record(std::uint64_t{1} << 50);
  gmp::HistogramSnapshot s = h.snapshot();
  EXPECT_EQ(s.counts.back(), 2u);
  EXPECT_EQ(s.quantile(0.5), UINT64_MAX);
  EXPECT_EQ(s.cumulative_at(std::uint64_t{1} << 44), 0u);
}

TEST(Histogram, SnapshotsMergeAndReset) {
  gmp::Histogram a, b;
  for (int k = 0; k < 100; k++) a.record(1000);
  for (int k = 0; k < 300; k++) b.record(3000);
  gmp::HistogramSnapshot s;
  a.add_to(s);
  b.add_to(s);
  EXPECT_EQ(s.count(), 400u);
  EXPECT_EQ(s.sum, 100u * 1000 + 300u * 3000);
  EXPECT_EQ(s.max, 3000u);
  EXPECT_EQ(s.quantile(0.25), 1024u);  // the bound of (960, 1024]
  EXPECT_EQ(s.quantile(1.0), 3000u);   // capped at max
  gmp::HistogramSnapshot m = a.snapshot();
  m.merge(b.snapshot());
  EXPECT_EQ(m.counts, s.counts);
  a.reset();
  EXPECT_EQ(a.snapshot().count(), 0u);
}

TEST(Histogram, SharedWritersLoseNothing) {
  gmp::Histogram h;
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; t++) {
    ts.emplace_back([&h, t] {
      for (int k = 0; k < 50000; k++) h.record_shared(static_cast<std::uint64_t>(t * 1000 + k % 7));
    });
  }
  for (auto& t : ts) t.join();
  gmp::HistogramSnapshot s = h.snapshot();
  EXPECT_EQ(s.count(), 200000u);
  EXPECT_EQ(s.max, 3006u);
}

// The exporter's coarse bounds are bucket bounds of both layouts, and the
// one-pass cumulative counts equal cumulative_at at each (exact).
TEST(Histogram, Pow2BoundsAreExactExportBounds) {
  std::vector<std::uint64_t> bounds = gmp::pow2_bounds(7, 34);
  ASSERT_EQ(bounds.size(), 28u);
  EXPECT_EQ(bounds.front(), 128u);
  EXPECT_EQ(bounds.back(), std::uint64_t{1} << 34);
  for (std::uint64_t b : bounds) {
    for (gmp::HistogramLayout l : {gmp::Histogram::kLayout, gmp::FineHistogram::kLayout}) {
      EXPECT_EQ(l.upper(l.index(b)), b) << b;
    }
  }
  gmp::Histogram h;
  std::mt19937_64 rng(11);
  std::vector<std::uint64_t> vs;
  for (int k = 0; k < 20000; k++) vs.push_back(rng() >> (rng() % 40 + 24));  // shifts 24..63
  vs.insert(vs.end(), {0, 127, 128, 129, 1u << 20, (1u << 20) + 1, std::uint64_t{1} << 40});
  for (std::uint64_t v : vs) h.record(v);
  gmp::HistogramSnapshot s = h.snapshot();
  std::vector<std::uint64_t> cum = s.cumulative(bounds);
  ASSERT_EQ(cum.size(), bounds.size());
  for (std::size_t k = 0; k < bounds.size(); k++) {
    auto exact = static_cast<std::uint64_t>(std::count_if(vs.begin(), vs.end(), [&](std::uint64_t v) { return v <= bounds[k]; }));
    EXPECT_EQ(cum[k], exact) << "le " << bounds[k];
    EXPECT_EQ(cum[k], s.cumulative_at(bounds[k]));
    if (k > 0) EXPECT_LE(cum[k - 1], cum[k]);
  }
  EXPECT_LT(cum.back(), s.count());  // 2^40 is above the last bound: only +Inf holds it
  EXPECT_TRUE(gmp::HistogramSnapshot{}.cumulative(bounds) == std::vector<std::uint64_t>(bounds.size(), 0));
}

}  // namespace
