// gmptrace/report.hpp — what a concern (a unit: alloc, stw, runq, offcpu,
// syscalls, io, cache) reports, as plain data: histograms, counters, tables
// and events. Text and JSON output iterate these; so can a metrics exporter
// or an HTML report, without knowing any unit.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gmp/probes_abi.h"

namespace gmp::trace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Log2 slots with round-up (gmp/probes_abi.h): slot i holds 2^(i-1) < v <= 2^i.
struct Hist {
  std::string name;  // "stw_total", "alloc_latency", …
  std::string unit;  // "ns" or "bytes"
  Labels labels;     // {"reason","user"}, {"tier","fast"}, …
  std::uint64_t slots[GMP_HIST_SLOTS] = {};
  std::uint64_t count = 0, sum = 0;
  // Upper bound of the slot holding the q-quantile (0 when empty).
  std::uint64_t quantile(double q) const noexcept;
  static std::uint64_t upper(int slot) noexcept { return slot == 0 ? 1 : 1ull << slot; }
};

struct Counter {
  std::string name;
  Labels labels;
  std::uint64_t value = 0;
};

// A table: named columns, rows of cells (numbers print right-aligned).
struct Table {
  std::string name;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

struct Field {
  std::string key, value;
  bool number = false;
};
struct Event {
  std::string unit, kind;  // "stw", "pause"
  std::vector<Field> fields;
  std::vector<std::string> stack;  // symbolized frames, innermost first
};

// One unit's view of one interval (or of the whole run, for totals).
struct Section {
  std::string unit;
  bool supported = true;   // false: the unit cannot measure here; `note` says why
  std::string note;
  std::vector<Hist> hists;
  std::vector<Counter> counters;
  std::vector<Table> tables;
};

// Interval view = now - before (maps are cumulative and never cleared).
Section diff(const Section& now, const Section& before);

// Everything gmptrace saw, for the HTML report (--report; report_html.hpp):
// the totals of every unit, the stop-the-world pauses in time order, the
// programs that did (not) attach, the records lost per ring.
struct Pause {
  double t_s = 0;  // seconds since tracing began (when gmptrace read it)
  std::string reason;
  std::uint64_t stopping_ns = 0, total_ns = 0;
};
struct Attached {
  std::string unit, program, where, error;
  bool ok = false;
};
struct Recording {
  std::string target;  // "gmprun (pid 123)"
  std::string ended;   // "the command exited", "duration reached", "live" (a page served while tracing)
  double seconds = 0;
  std::vector<Attached> attach;
  std::vector<Section> totals;
  std::vector<std::pair<std::string, std::uint64_t>> lost;  // ring -> records lost
  std::vector<Pause> pauses;
  std::uint64_t pauses_not_kept = 0;  // past the bound (kMaxPauses)
  static constexpr std::size_t kMaxPauses = 20000;
};

}  // namespace gmp::trace
