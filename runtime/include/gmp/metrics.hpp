// gmp/metrics.hpp — the runtime's metrics catalog (like Go's runtime/metrics
// or Tokio's RuntimeMetrics): every number the runtime exposes, once, with
// its name, help, kind, unit, labels and reader. gmprun's summary line, the
// Prometheus exporter (gmp/metrics_http.hpp, which renders this catalog
// through prometheus-cpp) and the tracer's header iterate
// this list; nothing is copied by hand. docs/METRICS.md lists every metric.
//
// Names follow Prometheus conventions and Go's collector where Go has the
// metric (gmp_goroutines, gmp_sched_pauses_total_seconds…), Tokio's where it
// does not: a `gmp_` prefix, base units in the name (seconds, bytes),
// counters end in `_total`, label values are bounded (P index, tier, reason;
// never goroutine ids).
//
// Reading costs no hot path anything: the runtime keeps per-P (or per-owner)
// plain counters and gmp::Histogram bucket arrays, and a read sums them.
// Values are each exact but not one instant's snapshot. Safe from any thread,
// including while the runtime runs or is stopped (a stopped runtime reads as
// zeros where the value lives in its Ps). Never stops the world and takes no
// scheduler lock.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gmp/histogram.hpp"

namespace gmp::metrics {

enum class Kind : std::uint8_t { kCounter, kGauge, kHistogram };
const char* kind_name(Kind k) noexcept;  // "counter", "gauge", "histogram"

// The unit of a value, after Metric::scale (histograms: of the bucket bounds).
enum class Unit : std::uint8_t { kNone, kSeconds, kBytes, kRatio, kInfo };
const char* unit_name(Unit u) noexcept;  // "", "seconds", "bytes", "ratio", "info"

// One series of a metric: its label values (in Metric::labels order) and its
// value. Histograms carry the raw snapshot (ns or bytes; multiply bounds and
// sum by Metric::scale for the unit).
struct Sample {
  std::vector<std::string> label_values;
  double value = 0;
  HistogramSnapshot hist;
};

// What gmprun's summary line prints for a metric (summed over its series).
enum class SummaryFormat : std::uint8_t { kNone, kInteger, kDecimal, kBool };

struct ReadContext;  // per-read cache of the runtime's stats (metrics.cpp)

struct Metric {
  std::string_view name;  // Prometheus name
  std::string_view help;
  Kind kind;
  Unit unit;
  std::vector<std::string_view> labels;  // label names; empty: one series
  double scale = 1;                      // histograms: raw value -> unit (1e-9: ns -> s)
  // gmprun's summary: key ("" none), format, and a factor (1e3: s -> ms).
  std::string_view summary_key;
  SummaryFormat summary = SummaryFormat::kNone;
  double summary_scale = 1;
  void (*read)(ReadContext&, std::vector<Sample>&) = nullptr;
};

// Every metric, in a fixed order (grouped: runtime, scheduler, stop-the-world,
// I/O, timers, pool).
std::span<const Metric> list() noexcept;
const Metric* find(std::string_view name) noexcept;

// The `le` bounds (in raw units: ns, bytes) a histogram is exported with:
// powers of two from 256 ns to ~17 s (gmp::pow2_bounds), then +Inf.
const std::vector<std::uint64_t>& export_bounds(const Metric& m);

// Reads every metric in one pass (shared stats read once). Pairs with list():
// result[i] holds list()[i]'s series.
std::vector<std::vector<Sample>> read_all();
std::vector<Sample> read(const Metric& m);

// The sum of a metric's series (histograms: the count), for summaries.
double total(const std::vector<Sample>& samples, Kind k) noexcept;

// The summary line's fields for every metric that has a summary key, in
// catalog order: (key, formatted value).
std::vector<std::pair<std::string, std::string>> summary_fields();

}  // namespace gmp::metrics
