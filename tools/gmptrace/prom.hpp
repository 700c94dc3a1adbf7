// gmptrace/prom.hpp — the tracer's Prometheus view (--metrics-addr): every
// histogram and counter its units report, read from the BPF maps at scrape
// time, and its own health. Built from the units' plain data (report.hpp),
// the ebpf_exporter way: the kernel keeps log2 slots, each scrape turns them
// into cumulative `le` buckets, every slot present (backfilled) so that a
// series' bucket set never changes.
//
// Names (docs/TRACING.md, "Prometheus"): gmptrace_<name>_seconds for a
// histogram in ns (bounds 2^i ns as seconds), gmptrace_<name>_bytes for one
// in bytes, gmptrace_<name>_total for a counter (gmptrace_<x>_seconds_total
// for a counter named <x>_ns), a gauge for a *_supported flag. Health:
// gmptrace_program_attached{unit,program,attach_point,reason},
// gmptrace_ring_lost_events_total{ring}, gmptrace_bpf_stats_enabled and,
// only where the kernel counts them, gmptrace_program_run_seconds_total and
// gmptrace_program_runs_total{unit,program}; gmptrace_target_info{pid,exe}.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "gmptrace/report.hpp"
#include "gmptrace/unit.hpp"

namespace gmp::trace {

struct Health {
  std::vector<AttachResult> attach;
  std::vector<std::pair<std::string, std::uint64_t>> lost;  // ring -> records lost since load
  int bpf_stats_enabled = -1;  // kernel.bpf_stats_enabled: 1, 0, or -1 (unreadable)
  struct ProgStats {
    std::string unit, program;
    std::uint64_t run_ns = 0, run_cnt = 0;
  };
  std::vector<ProgStats> progs;  // filled only when bpf_stats_enabled == 1
  int pid = -1;
  std::string exe;
};

// The families of one scrape. Counters keep their kernel totals (since load).
std::vector<prometheus::MetricFamily> to_families(const std::vector<Section>& sections, const Health& h);

// The Prometheus name of a unit's histogram / counter (as above).
std::string prom_name(const Hist& h);
std::string prom_name(const Counter& c);

// kernel.bpf_stats_enabled (1, 0, or -1 when it cannot be read).
int read_bpf_stats_enabled();
// Run time and count of each attached program (one entry per program,
// however many times it is attached), from the kernel's bpf_prog_info.
std::vector<Health::ProgStats> read_prog_stats(const std::vector<AttachResult>& attach);

// A Collectable that calls `collect` at every scrape (on a server thread).
class TraceCollectable final : public prometheus::Collectable {
 public:
  explicit TraceCollectable(std::function<std::vector<prometheus::MetricFamily>()> collect)
      : collect_(std::move(collect)) {}
  std::vector<prometheus::MetricFamily> Collect() const override { return collect_(); }

 private:
  std::function<std::vector<prometheus::MetricFamily>()> collect_;
};

}  // namespace gmp::trace
