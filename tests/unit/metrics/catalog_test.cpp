// The metrics catalog (gmp/metrics.hpp): names and kinds follow Prometheus
// conventions, every metric reads while the runtime runs and when it does
// not, counters move with the work that should move them, and gmprun's
// summary keys come from it.
#include "gmp/metrics.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include "gmp/gmp.hpp"

namespace {

using gmp::metrics::Kind;
using gmp::metrics::Metric;
using gmp::metrics::Sample;
using gmp::metrics::Unit;

bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}

class Runtime {
 public:
  explicit Runtime(int procs) {
    gmp::Config cfg;
    cfg.procs = procs;
    cfg.pin = false;
    EXPECT_EQ(gmp::start(cfg).message(), "");
  }
  ~Runtime() { gmp::stop(); }
};

double value_of(std::string_view name, std::string_view label = {}) {
  const Metric* m = gmp::metrics::find(name);
  EXPECT_NE(m, nullptr) << name;
  if (m == nullptr) return -1;
  double v = 0;
  for (const Sample& s : gmp::metrics::read(*m)) {
    if (!label.empty() && (s.label_values.empty() || s.label_values[0] != label)) continue;
    v += m->kind == Kind::kHistogram ? static_cast<double>(s.hist.count()) : s.value;
  }
  return v;
}

TEST(Catalog, NamesFollowPrometheusConventions) {
  const std::regex name_re("gmp_[a-z0-9_]+");
  const std::regex label_re("[a-z_][a-z0-9_]*");
  std::set<std::string_view> names, keys;
  ASSERT_GE(gmp::metrics::list().size(), 40u);
  for (const Metric& m : gmp::metrics::list()) {
    SCOPED_TRACE(std::string(m.name));
    EXPECT_TRUE(std::regex_match(std::string(m.name), name_re));
    EXPECT_TRUE(names.insert(m.name).second) << "duplicate name";
    EXPECT_FALSE(m.help.empty());
    EXPECT_NE(m.read, nullptr);
    // Counters and only counters end in _total; histograms are not named
    // with the suffixes Prometheus adds to their series.
    EXPECT_EQ(m.kind == Kind::kCounter, ends_with(m.name, "_total"));
    EXPECT_FALSE(ends_with(m.name, "_bucket") || ends_with(m.name, "_count") || ends_with(m.name, "_sum"));
    // Base units in the name.
    if (m.unit == Unit::kSeconds) EXPECT_NE(m.name.find("_seconds"), std::string_view::npos);
    if (m.unit == Unit::kBytes) EXPECT_TRUE(ends_with(m.name, "_bytes"));
    if (m.unit == Unit::kRatio) EXPECT_TRUE(ends_with(m.name, "_ratio"));
    if (m.unit == Unit::kInfo) EXPECT_TRUE(ends_with(m.name, "_info"));
    if (m.kind == Kind::kHistogram) {
      EXPECT_EQ(m.unit, Unit::kSeconds);
      EXPECT_DOUBLE_EQ(m.scale, 1e-9);
    }
    for (std::string_view l : m.labels) {
      EXPECT_TRUE(std::regex_match(std::string(l), label_re)) << l;
      EXPECT_NE(l, "le");
      EXPECT_NE(l, "goroutine");  // no unbounded labels
    }
    if (m.summary != gmp::metrics::SummaryFormat::kNone) {
      EXPECT_TRUE(keys.insert(m.summary_key).second) << "duplicate summary key " << m.summary_key;
    }
  }
  // Go's names where Go has the metric; the scheduling-latency histogram is
  // not in this catalog yet (the tracer work measures it).
  for (const char* n : {"gmp_goroutines", "gmp_sched_gomaxprocs_threads", "gmp_threads", "gmp_info",
                        "gmp_sched_pauses_stopping_seconds", "gmp_sched_pauses_total_seconds"}) {
    EXPECT_NE(gmp::metrics::find(n), nullptr) << n;
  }
  // The summary keys gmprun printed before the catalog, which scripts and
  // tests read.
  for (const char* k : {"procs", "goroutines", "switches", "steals", "m_parks", "timer_lead_wakeups",
                        "timer_lead_spin_ms", "lock_elision", "lock_elision_revocations", "hogs", "stw_boosts",
                        "stw_boost_failures"}) {
    EXPECT_TRUE(keys.count(k)) << k;
  }
}

// docs/METRICS.md lists every metric (and nothing the catalog lacks).
TEST(Catalog, DocsListEveryMetric) {
  std::ifstream in(std::string(GMP_SOURCE_DIR) + "/docs/METRICS.md");
  ASSERT_TRUE(in) << "docs/METRICS.md";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  for (const Metric& m : gmp::metrics::list()) {
    EXPECT_NE(doc.find("| `" + std::string(m.name) + "` | " + gmp::metrics::kind_name(m.kind) + " |"), std::string::npos)
        << m.name << " is not in the table of docs/METRICS.md";
  }
  std::regex row(R"(\| `(gmp_[a-z0-9_]+)` \| (counter|gauge|histogram) \|)");
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), row); it != std::sregex_iterator(); ++it) {
    EXPECT_NE(gmp::metrics::find((*it)[1].str()), nullptr) << (*it)[1].str() << " is documented but not in the catalog";
  }
}

TEST(Catalog, EveryMetricReadsWithAndWithoutARuntime) {
  auto check = [](bool up) {
    auto all = gmp::metrics::read_all();
    ASSERT_EQ(all.size(), gmp::metrics::list().size());
    for (std::size_t i = 0; i < all.size(); i++) {
      const Metric& m = gmp::metrics::list()[i];
      SCOPED_TRACE(std::string(m.name) + (up ? " (running)" : " (stopped)"));
      bool per_p = !m.labels.empty() && m.labels[0] == "p";
      if (!per_p || up) EXPECT_FALSE(all[i].empty());
      for (const Sample& s : all[i]) {
        EXPECT_EQ(s.label_values.size(), m.labels.size());
        if (m.kind == Kind::kHistogram) {
          EXPECT_FALSE(s.hist.counts.empty());
        } else {
          EXPECT_GE(s.value, 0);
        }
      }
    }
  };
  check(false);
  {
    Runtime rt(2);
    check(true);
    EXPECT_EQ(value_of("gmp_sched_gomaxprocs_threads"), 2);
    EXPECT_EQ(gmp::metrics::read(*gmp::metrics::find("gmp_sched_p_busy_seconds_total")).size(), 2u);
  }
  check(false);
}

TEST(Catalog, CountersFollowTheWork) {
  Runtime rt(2);
  const double created0 = value_of("gmp_sched_goroutines_created_total");
  const double switches0 = value_of("gmp_sched_context_switches_total");
  const double timers0 = value_of("gmp_timers_fired_total");
  const double late0 = value_of("gmp_timers_lateness_seconds");
  const double pauses0 = value_of("gmp_sched_pauses_total_seconds", "user");
  const double stops0 = value_of("gmp_sched_pauses_stopping_seconds", "user");
  std::atomic<int> done{0};
  for (int i = 0; i < 50; i++) {
    gmp::go([&] {
      gmp::sleep_for(std::chrono::milliseconds(20));
      done.fetch_add(1);
    });
  }
  for (int i = 0; i < 3; i++) {
    gmp::stw::StopGuard g(gmp::stw::Reason::kUser);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (done.load() < 50 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(done.load(), 50);
  EXPECT_GE(value_of("gmp_sched_goroutines_created_total") - created0, 50);
  EXPECT_GE(value_of("gmp_sched_context_switches_total") - switches0, 50);
  // A sleep whose deadline passed before it armed its timer (its goroutine
  // held off the CPU for 20 ms on a loaded machine) returns without one, and
  // a timer is counted just after its callback wakes the sleeper: wait for
  // the counts, and require most of them.
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (value_of("gmp_timers_fired_total") - timers0 < 50 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(value_of("gmp_timers_fired_total") - timers0, 40);
  EXPECT_GE(value_of("gmp_timers_lateness_seconds") - late0, 40);
  EXPECT_EQ(value_of("gmp_sched_pauses_total_seconds", "user") - pauses0, 3);
  EXPECT_EQ(value_of("gmp_sched_pauses_stopping_seconds", "user") - stops0, 3);
  // Busy time is a counter: it never goes down between reads, and it grows
  // while a P runs goroutines.
  const Metric* busy = gmp::metrics::find("gmp_sched_p_busy_seconds_total");
  double b0 = gmp::metrics::total(gmp::metrics::read(*busy), Kind::kCounter);
  std::atomic<bool> stop{false};
  gmp::go([&] {
    while (!stop.load(std::memory_order_relaxed)) gmp::preempt_point();
  });
  double prev = b0;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (prev - b0 < 0.05 && std::chrono::steady_clock::now() < deadline) {
    double b = gmp::metrics::total(gmp::metrics::read(*busy), Kind::kCounter);
    EXPECT_GE(b, prev);
    prev = b;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stop = true;
  EXPECT_GE(prev - b0, 0.05);
}

TEST(Catalog, PoolMetricsPerTier) {
  Runtime rt(1);
  const double hits0 = value_of("gmp_pool_hits_total", "fast") + value_of("gmp_pool_misses_total", "fast");
  std::atomic<bool> done{false};
  gmp::go([&] {
    for (int i = 0; i < 20000; i++) {
      void* p = gmp::pool::allocate(64, gmp::pool::Tier::kFast);
      gmp::pool::deallocate(p);
    }
    done = true;
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_TRUE(done.load());
  EXPECT_GE(value_of("gmp_pool_hits_total", "fast") + value_of("gmp_pool_misses_total", "fast") - hits0, 20000);
  // Allocation latency is sampled into the tier's histogram.
  EXPECT_GT(value_of("gmp_alloc_latency_seconds", "fast"), 0);
  EXPECT_EQ(gmp::metrics::read(*gmp::metrics::find("gmp_alloc_latency_seconds")).size(), 3u);
}

TEST(Catalog, SummaryFieldsFormat) {
  Runtime rt(1);
  auto f = gmp::metrics::summary_fields();
  std::set<std::string> seen;
  for (auto& [k, v] : f) {
    seen.insert(k);
    EXPECT_FALSE(v.empty()) << k;
    if (k == "lock_elision") EXPECT_TRUE(v == "true" || v == "false") << v;
    if (k == "procs") EXPECT_EQ(v, "1");
  }
  EXPECT_TRUE(seen.count("switches"));
}

}  // namespace
