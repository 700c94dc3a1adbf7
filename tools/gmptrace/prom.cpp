// gmptrace/prom.cpp — see prom.hpp.
#include "gmptrace/prom.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cstdio>
#include <limits>
#include <map>
#include <set>

namespace gmp::trace {

namespace {

// HELP text by the units' names (report.hpp); docs/TRACING.md has the same.
const std::map<std::string, std::string>& help_texts() {
  static const std::map<std::string, std::string> k = {
      {"stw_pauses", "Stop-the-world pauses seen by stw_end, by reason."},
      {"stw_stopping", "Stop-the-world time to stop (decision -> every P stopped), by reason."},
      {"stw_total", "Stop-the-world pause (decision -> world restarted), by reason."},
      {"stw_slow", "Slow stops by the cause the runtime named."},
      {"alloc_samples", "Sampled pool allocations (alloc_sample probe), by tier."},
      {"alloc_latency", "Pool allocation latency of the sampled allocations, by tier."},
      {"alloc_latency_by_class", "Pool allocation latency by tier and size-class group (upper size in bytes)."},
      {"alloc_object_size", "Object size of the sampled allocations, by tier."},
      {"alloc_slow", "Sampled allocations over the slow threshold (--min-us)."},
      {"pool_refills", "Pool magazine refills, by tier."},
      {"pool_refill_objects", "Objects brought in by pool refills, by tier."},
      {"pool_flushes", "Pool magazine flushes, by tier."},
      {"pool_flush_objects", "Objects given back by pool flushes, by tier."},
      {"pool_fallbacks", "Allocations the pool handed to the fallback allocator, by tier."},
      {"pool_hits", "Pool allocations served from the caches while traced (sampled caches' counters), by tier."},
      {"pool_misses", "Pool allocations that refilled, carved or took a block while traced, by tier."},
      {"pool_fallback_reason", "Pool fallbacks by reason."},
      {"malloc_latency", "libc malloc / jemalloc mallocx latency (--malloc; one call in sampled_every)."},
      {"runq_delay", "Run-queue delay (runnable -> running) of the sampled transitions."},
      {"runq_slow", "Run-queue waits over the slow threshold (--min-us)."},
      {"steals", "Work steals between Ps."},
      {"stolen_goroutines", "Goroutines moved by steals."},
      {"preemptions", "Preemption requests sysmon made."},
      {"preempted_after", "How long a goroutine had run when its preemption was requested."},
      {"offcpu_ns", "Time the target's threads spent off CPU, by role (M, sysmon, other)."},
      {"involuntary_switches", "Involuntary context switches of the target's threads, by role."},
      {"migrations", "CPU migrations of the target's threads, by role."},
      {"offcpu_interval", "Length of each off-CPU interval of the target's threads."},
      {"syscalls", "System calls of the target's threads, by role."},
      {"syscall_ns", "Time in system calls of the target's threads, by role."},
      {"blocking_span", "gmp::blocking spans (syscall_block_enter -> exit)."},
      {"blocking_handoffs", "gmp::blocking spans whose P was handed off."},
      {"blocking_unpaired", "gmp::blocking exits without a seen enter (attached mid-span)."},
      {"io_submits", "io_uring operations submitted, by op."},
      {"io_errors", "io_uring operations completed with an error, by op."},
      {"io_latency", "io_uring submit -> complete latency, by op."},
      {"p_io_submits", "io_uring operations submitted on each P's ring."},
      {"p_io_completions",
       "io_uring completions of operations submitted since attach, on each P's ring (in flight: submits - "
       "completions)."},
      {"io_unpaired", "io_uring completions without a seen submit (attached mid-flight)."},
      {"cache_events_supported",
       "1 when hardware cache events can be counted here, 0 when not (no PMU): gmptrace_program_attached "
       "says why."},
      {"perf_events", "Perf events of the target's threads (cpu-clock-ns counts nanoseconds), by event."},
  };
  return k;
}

std::string help_for(const std::string& name, const std::string& fallback) {
  auto it = help_texts().find(name);
  return it != help_texts().end() ? it->second : fallback;
}

bool ends_with(const std::string& s, const char* suf) {
  std::string t(suf);
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

std::vector<prometheus::ClientMetric::Label> labels_of(const Labels& l) {
  std::vector<prometheus::ClientMetric::Label> out;
  for (const auto& [k, v] : l) out.push_back({k, v});
  return out;
}

// Families keyed by name, in first-seen order.
class Families {
 public:
  prometheus::MetricFamily& get(const std::string& name, const std::string& help, prometheus::MetricType type) {
    auto it = index_.find(name);
    if (it != index_.end()) return out_[it->second];
    index_[name] = out_.size();
    out_.push_back({name, help, type, {}});
    return out_.back();
  }
  std::vector<prometheus::MetricFamily> take() { return std::move(out_); }

 private:
  std::map<std::string, std::size_t> index_;
  std::vector<prometheus::MetricFamily> out_;
};

void gauge(Families& f, const std::string& name, const std::string& help, Labels l, double v) {
  prometheus::ClientMetric m;
  m.label = labels_of(l);
  m.gauge.value = v;
  f.get(name, help, prometheus::MetricType::Gauge).metric.push_back(std::move(m));
}

void counter(Families& f, const std::string& name, const std::string& help, Labels l, double v) {
  prometheus::ClientMetric m;
  m.label = labels_of(l);
  m.counter.value = v;
  f.get(name, help, prometheus::MetricType::Counter).metric.push_back(std::move(m));
}

}  // namespace

std::string prom_name(const Hist& h) {
  return "gmptrace_" + h.name + (h.unit == "ns" ? "_seconds" : h.unit == "bytes" ? "_bytes" : "");
}

std::string prom_name(const Counter& c) {
  if (ends_with(c.name, "_supported")) return "gmptrace_" + c.name;
  if (ends_with(c.name, "_ns")) return "gmptrace_" + c.name.substr(0, c.name.size() - 3) + "_seconds_total";
  return "gmptrace_" + c.name + "_total";
}

std::vector<prometheus::MetricFamily> to_families(const std::vector<Section>& sections, const Health& h) {
  Families f;
  for (const Section& s : sections) {
    for (const Hist& hs : s.hists) {
      const double scale = hs.unit == "ns" ? 1e-9 : 1.0;
      prometheus::ClientMetric m;
      m.label = labels_of(hs.labels);
      // Cumulative over every slot, and the count from the same slots: a
      // scrape that races a kernel update stays self-consistent (+Inf ==
      // _count >= every bucket) and monotonic.
      std::uint64_t acc = 0;
      for (int i = 0; i < GMP_HIST_SLOTS; i++) {
        acc += hs.slots[i];
        m.histogram.bucket.push_back({acc, static_cast<double>(Hist::upper(i)) * scale});
      }
      m.histogram.bucket.push_back({acc, std::numeric_limits<double>::infinity()});
      m.histogram.sample_count = acc;
      m.histogram.sample_sum = static_cast<double>(hs.sum) * scale;
      f.get(prom_name(hs), help_for(hs.name, s.unit + ": " + hs.name + " (" + hs.unit + ")"),
            prometheus::MetricType::Histogram)
          .metric.push_back(std::move(m));
    }
    for (const Counter& c : s.counters) {
      const std::string name = prom_name(c);
      const std::string help = help_for(c.name, s.unit + ": " + c.name);
      if (ends_with(c.name, "_supported")) {
        gauge(f, name, help, c.labels, static_cast<double>(c.value));
      } else if (ends_with(c.name, "_ns")) {
        counter(f, name, help, c.labels, static_cast<double>(c.value) * 1e-9);
      } else {
        counter(f, name, help, c.labels, static_cast<double>(c.value));
      }
    }
  }
  for (const AttachResult& a : h.attach)
    gauge(f, "gmptrace_program_attached",
          "1 when the BPF program is attached at attach_point, 0 when not (reason says why; the rest go on).",
          {{"unit", a.unit}, {"program", a.program}, {"attach_point", a.where}, {"reason", a.ok ? "" : a.error}},
          a.ok ? 1 : 0);
  for (const auto& [ring, n] : h.lost)
    counter(f, "gmptrace_ring_lost_events_total",
            "Records the BPF program could not put into a full ring buffer (events lost), by ring.", {{"ring", ring}},
            static_cast<double>(n));
  if (h.bpf_stats_enabled >= 0)
    gauge(f, "gmptrace_bpf_stats_enabled",
          "1 when the kernel counts BPF program run time (gmptrace --bpf-stats, or kernel.bpf_stats_enabled=1): "
          "gmptrace_program_run_seconds_total is served; 0 when it does not.",
          {}, h.bpf_stats_enabled);
  if (h.bpf_stats_enabled == 1)
    for (const auto& p : h.progs) {
      counter(f, "gmptrace_program_run_seconds_total", "Time the kernel spent running the BPF program.",
              {{"unit", p.unit}, {"program", p.program}}, static_cast<double>(p.run_ns) * 1e-9);
      counter(f, "gmptrace_program_runs_total", "Runs of the BPF program.", {{"unit", p.unit}, {"program", p.program}},
              static_cast<double>(p.run_cnt));
    }
  if (h.pid > 0)
    gauge(f, "gmptrace_target_info", "The process gmptrace traces (always 1).",
          {{"pid", std::to_string(h.pid)}, {"exe", h.exe}}, 1);
  return f.take();
}

int read_bpf_stats_enabled() {
  std::FILE* fp = std::fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
  if (fp == nullptr) return -1;
  int v = -1;
  if (std::fscanf(fp, "%d", &v) != 1) v = -1;
  std::fclose(fp);
  return v < 0 ? -1 : (v != 0 ? 1 : 0);
}

std::vector<Health::ProgStats> read_prog_stats(const std::vector<AttachResult>& attach) {
  std::vector<Health::ProgStats> out;
  std::set<std::pair<std::string, std::string>> seen;
  for (const AttachResult& a : attach) {
    if (!a.ok || a.prog_fd < 0 || !seen.insert({a.unit, a.program}).second) continue;
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(a.prog_fd, &info, &len) != 0) continue;
    out.push_back({a.unit, a.program, info.run_time_ns, info.run_cnt});
  }
  return out;
}

}  // namespace gmp::trace
