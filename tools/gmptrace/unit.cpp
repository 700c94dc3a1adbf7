// gmptrace/unit.cpp — the unit catalog and helpers every unit shares.
#include "gmptrace/unit.hpp"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "hist.h"

namespace gmp::trace {

std::unique_ptr<Unit> make_stw_unit();
std::unique_ptr<Unit> make_alloc_unit();
std::unique_ptr<Unit> make_runq_unit();
std::unique_ptr<Unit> make_io_unit();
std::unique_ptr<Unit> make_syscalls_unit();
std::unique_ptr<Unit> make_offcpu_unit();
std::unique_ptr<Unit> make_cache_unit();

const std::vector<UnitInfo>& unit_catalog() {
  static const std::vector<UnitInfo> k = {
      {"alloc", true,
       "pool allocation latency (sampled alloc_sample) per tier and class group, object sizes, refills, "
       "flushes, fallbacks; slow allocations with their user stacks (--stacks); --malloc adds libc malloc "
       "and jemalloc mallocx timing (uprobes: not cheap, every call traps)"},
      {"stw", true, "stop-the-world pauses: one event per pause, stopping/total histograms per reason, slow causes"},
      {"runq", true, "run-queue delay (sampled sched_latency), slow waits, steals, preemptions"},
      {"offcpu", true, "per thread: off/on-CPU time, involuntary switches, CPU migrations (sched_switch)"},
      {"syscalls", false,
       "per thread and role: system calls, time, errors (raw_syscalls: every call of the target is traced); "
       "gmp::blocking spans"},
      {"io", false, "io_uring submit -> complete latency per op (two probe hits per operation)"},
      {"cache", true,
       "hardware cache references/misses per thread (where a PMU exists) and software events: page faults, "
       "context switches, migrations, CPU clock"},
  };
  return k;
}

std::unique_ptr<Unit> make_unit(const std::string& name) {
  if (name == "stw") return make_stw_unit();
  if (name == "alloc") return make_alloc_unit();
  if (name == "runq") return make_runq_unit();
  if (name == "io") return make_io_unit();
  if (name == "syscalls") return make_syscalls_unit();
  if (name == "offcpu") return make_offcpu_unit();
  if (name == "cache") return make_cache_unit();
  return nullptr;
}

std::string attach_usdt(bpf_program* prog, const Target& t, const char* probe, const char* unit,
                        std::vector<AttachResult>* out, std::vector<bpf_link*>* links) {
  AttachResult r{unit, bpf_program__name(prog), std::string("usdt gmp:") + probe, false, "", bpf_program__fd(prog)};
  bpf_link* l = bpf_program__attach_usdt(prog, t.pid, t.path.c_str(), "gmp", probe, nullptr);
  if (l == nullptr) {
    r.error = std::strerror(errno);
  } else {
    r.ok = true;
    links->push_back(l);
  }
  out->push_back(r);
  return r.error;
}

Hist to_hist(const ::gmp_hist& h, std::string name, std::string unit, Labels labels) {
  Hist o;
  o.name = std::move(name);
  o.unit = std::move(unit);
  o.labels = std::move(labels);
  for (int i = 0; i < GMP_HIST_SLOTS; i++) o.slots[i] = h.slots[i];
  o.count = h.count;
  o.sum = h.sum;
  return o;
}

std::uint64_t percpu_sum(int map_fd) {
  int n = libbpf_num_possible_cpus();
  if (n <= 0 || map_fd < 0) return 0;
  std::vector<std::uint64_t> v(static_cast<std::size_t>(n));
  std::uint32_t zero = 0;
  if (bpf_map_lookup_elem(map_fd, &zero, v.data()) != 0) return 0;
  std::uint64_t s = 0;
  for (auto x : v) s += x;
  return s;
}

}  // namespace gmp::trace
