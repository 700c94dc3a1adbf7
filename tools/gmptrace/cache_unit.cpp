// gmptrace/cache_unit.cpp — perf-event counts attributed to the target's
// threads (bpf/cache.bpf.c): hardware cache references and misses where the
// machine has a PMU, and always the software events (page faults, context
// switches, migrations, CPU clock). Where hardware events cannot be opened
// (a VM without a virtual PMU: perf_event_open fails with ENOENT) the unit
// says so — cache_events_supported 0 and the reason — and never prints
// zeros that look like data.
#include "gmptrace/cache_unit.hpp"

#include <bpf/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "cache.h"
#include "cache.skel.h"
#include "gmptrace/unit.hpp"

namespace gmp::trace {

namespace {

int real_perf_event_open(perf_event_attr* a, pid_t pid, int cpu, int group, unsigned long flags) {
  return static_cast<int>(syscall(SYS_perf_event_open, a, pid, cpu, group, flags));
}
PerfEventOpenFn g_open = real_perf_event_open;

struct EventDef {
  cache_event idx;
  const char* name;
  std::uint32_t type;
  std::uint64_t config, period;
  bool hardware;
};
const EventDef kEvents[] = {
    {CACHE_EV_LLC_REFS, "cache-references", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES, 10000, true},
    {CACHE_EV_LLC_MISSES, "cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES, 1000, true},
    {CACHE_EV_PAGE_FAULTS, "page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, 1, false},
    {CACHE_EV_CTX_SWITCHES, "context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES, 1, false},
    {CACHE_EV_MIGRATIONS, "cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS, 1, false},
    {CACHE_EV_CPU_CLOCK, "cpu-clock-ns", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, 1000000, false},
};

class CacheUnit final : public Unit {
 public:
  ~CacheUnit() override {
    for (auto* l : links_) bpf_link__destroy(l);
    for (int fd : fds_) close(fd);
    cache_bpf__destroy(skel_);
  }
  const char* name() const override { return "cache"; }
  std::string load(const Target& t, const Options&) override {
    skel_ = cache_bpf__open();
    if (skel_ == nullptr) return "cannot open the cache BPF object";
    skel_->rodata->targ_tgid = static_cast<__u32>(t.pid);
    if (int e = cache_bpf__load(skel_); e != 0) return std::string("cannot load cache: ") + std::strerror(-e);
    return "";
  }
  void attach(const Target&, std::vector<AttachResult>* out) override {
    int ncpu = libbpf_num_possible_cpus();
    for (const EventDef& ev : kEvents) {
      AttachResult r{name(), "on_sample", std::string("perf_event ") + ev.name + " (every CPU)", false, "",
                     bpf_program__fd(skel_->progs.on_sample)};
      int opened = 0, err = 0;
      for (int cpu = 0; cpu < ncpu; cpu++) {
        perf_event_attr a{};
        a.size = sizeof a;
        a.type = ev.type;
        a.config = ev.config;
        a.sample_period = ev.period;
        int fd = g_open(&a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
        if (fd < 0) {
          if (errno == ENODEV) continue;  // an offline CPU
          err = errno;
          break;
        }
        fds_.push_back(fd);
        LIBBPF_OPTS(bpf_perf_event_opts, po, .bpf_cookie = static_cast<__u64>(ev.idx));
        bpf_link* l = bpf_program__attach_perf_event_opts(skel_->progs.on_sample, fd, &po);
        if (l == nullptr) {
          err = errno;
          break;
        }
        links_.push_back(l);
        opened++;
      }
      r.ok = err == 0 && opened > 0;
      if (!r.ok) {
        r.error = err != 0 ? std::strerror(err) : "no online CPU";
        if (ev.hardware && (err == ENOENT || err == EOPNOTSUPP || err == ENODEV))
          r.error += " (no hardware PMU here, e.g. a VM without a virtual PMU)";
      }
      supported_[ev.idx] = r.ok;
      if (!r.ok) why_[ev.idx] = r.error;
      out->push_back(r);
    }
  }
  Section snapshot(const Target& t) override {
    Section s;
    s.unit = name();
    std::map<std::uint32_t, std::uint64_t> total;
    std::map<std::pair<std::string, std::uint32_t>, std::uint64_t> by_role;
    auto roles = thread_roles(t.pid);
    int fd = bpf_map__fd(skel_->maps.counts);
    cache_key key{}, next{};
    cache_key* prev = nullptr;
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
      cache_val v{};
      if (bpf_map_lookup_elem(fd, &next, &v) == 0) {
        total[next.event] += v.count;
        std::string role = role_for(roles, static_cast<int>(next.tid), v.comm);
        by_role[{role.rfind("M ", 0) == 0 ? "M" : (role.rfind("other", 0) == 0 ? "other" : role), next.event}] +=
            v.count;
      }
      key = next;
      prev = &key;
    }
    bool hw = supported_[CACHE_EV_LLC_MISSES] && supported_[CACHE_EV_LLC_REFS];
    s.counters.push_back({"cache_events_supported", {{"event", "cache-misses"}}, hw ? 1u : 0u});
    if (!hw)
      s.note = "hardware cache events are not available here (" + why_[CACHE_EV_LLC_MISSES] +
               "): showing software events only";
    for (const EventDef& ev : kEvents) {
      if (!supported_[ev.idx]) continue;  // never a zero that looks like data
      s.counters.push_back({"perf_events", {{"event", ev.name}}, total[ev.idx]});
    }
    Table tb{"by_role", {"role", "event", "count"}, {}};
    for (const auto& [k, v] : by_role) {
      const char* nm = "?";
      for (const EventDef& ev : kEvents)
        if (ev.idx == k.second) nm = ev.name;
      tb.rows.push_back({k.first, nm, std::to_string(v)});
    }
    s.tables.push_back(std::move(tb));
    return s;
  }

 private:
  cache_bpf* skel_ = nullptr;
  std::vector<bpf_link*> links_;
  std::vector<int> fds_;
  std::map<int, bool> supported_;
  std::map<int, std::string> why_;
};

}  // namespace

void set_perf_event_open(PerfEventOpenFn fn) { g_open = fn != nullptr ? fn : real_perf_event_open; }

std::unique_ptr<Unit> make_cache_unit() { return std::make_unique<CacheUnit>(); }

}  // namespace gmp::trace
