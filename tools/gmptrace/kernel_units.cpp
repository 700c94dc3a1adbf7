// gmptrace/kernel_units.cpp — the units built on kernel tracepoints, filtered
// to the target's threads in the kernel: offcpu (sched_switch,
// sched_migrate_task) and syscalls (raw_syscalls, plus the runtime's
// gmp::blocking spans).
#include <bpf/bpf.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>

#include "gmptrace/names.hpp"
#include "gmptrace/unit.hpp"
#include "offcpu.h"
#include "offcpu.skel.h"
#include "syscalls.h"
#include "syscalls.skel.h"

namespace gmp::trace {

// The role of a thread: from the name the kernel side recorded, else from
// /proc (remembered), else "exited".
std::string role_for(const std::map<int, std::string>& roles, int tid, const char* comm) {
  if (comm != nullptr && comm[0] != '\0') {
    std::string c(comm, strnlen(comm, 16));
    std::string r = role_of(c);
    return r == "other" ? "other:" + c : r;
  }
  auto it = roles.find(tid);
  return it != roles.end() ? it->second : "exited";
}

namespace {

void attach_prog(bpf_program* p, const char* unit, const std::string& where, std::vector<AttachResult>* out,
                 std::vector<bpf_link*>* links) {
  AttachResult r{unit, bpf_program__name(p), where, false, "", bpf_program__fd(p)};
  bpf_link* l = bpf_program__attach(p);
  if (l == nullptr) {
    r.error = std::strerror(errno);
  } else {
    r.ok = true;
    links->push_back(l);
  }
  out->push_back(r);
}

// ---- offcpu ------------------------------------------------------------------
class OffcpuUnit final : public Unit {
 public:
  ~OffcpuUnit() override {
    for (auto* l : links_) bpf_link__destroy(l);
    offcpu_bpf__destroy(skel_);
  }
  const char* name() const override { return "offcpu"; }
  std::string load(const Target& t, const Options&) override {
    // tp_btf where the kernel has it, else the raw tracepoints.
    for (bool btf : {true, false}) {
      skel_ = offcpu_bpf__open();
      if (skel_ == nullptr) return "cannot open the offcpu BPF object";
      skel_->rodata->targ_tgid = static_cast<__u32>(t.pid);
      bpf_program__set_autoload(btf ? skel_->progs.switch_raw : skel_->progs.switch_btf, false);
      bpf_program__set_autoload(btf ? skel_->progs.migrate_raw : skel_->progs.migrate_btf, false);
      int e = offcpu_bpf__load(skel_);
      if (e == 0) {
        btf_ = btf;
        return "";
      }
      offcpu_bpf__destroy(skel_);
      skel_ = nullptr;
      if (!btf) return std::string("cannot load offcpu: ") + std::strerror(-e);
    }
    return "";
  }
  void attach(const Target&, std::vector<AttachResult>* out) override {
    const char* kind = btf_ ? "tp_btf/" : "raw_tp/";
    attach_prog(btf_ ? skel_->progs.switch_btf : skel_->progs.switch_raw, name(),
                std::string(kind) + "sched_switch", out, &links_);
    attach_prog(btf_ ? skel_->progs.migrate_btf : skel_->progs.migrate_raw, name(),
                std::string(kind) + "sched_migrate_task", out, &links_);
  }
  Section snapshot(const Target& t) override {
    Section s;
    s.unit = name();
    auto roles = thread_roles(t.pid);
    Table tb{"threads", {"tid", "role", "on_cpu_ms", "off_cpu_ms", "switches", "involuntary", "migrations", "cpu"},
             {}};
    std::map<std::string, std::uint64_t> off_by_role, invol, migr;
    int fd = bpf_map__fd(skel_->maps.threads);
    std::uint32_t key = 0, next = 0;
    std::uint32_t* prev = nullptr;
    std::vector<std::pair<std::uint32_t, offcpu_thread>> rows;
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
      offcpu_thread v{};
      if (bpf_map_lookup_elem(fd, &next, &v) == 0) rows.emplace_back(next, v);
      key = next;
      prev = &key;
    }
    std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.first < b.first; });
    for (const auto& [tid, v] : rows) {
      std::string role = role_for(roles, static_cast<int>(tid), v.comm);
      std::string group = role.rfind("M ", 0) == 0 ? "M" : (role.rfind("other", 0) == 0 ? "other" : role);
      off_by_role[group] += v.offcpu_ns;
      invol[group] += v.involuntary;
      migr[group] += v.migrations;
      char on[32], off[32];
      std::snprintf(on, sizeof on, "%.1f", static_cast<double>(v.oncpu_ns) / 1e6);
      std::snprintf(off, sizeof off, "%.1f", static_cast<double>(v.offcpu_ns) / 1e6);
      tb.rows.push_back({std::to_string(tid), role, on, off, std::to_string(v.switches), std::to_string(v.involuntary),
                         std::to_string(v.migrations), std::to_string(v.last_cpu)});
    }
    for (const auto& [g, ns] : off_by_role) {
      s.counters.push_back({"offcpu_ns", {{"role", g}}, ns});
      s.counters.push_back({"involuntary_switches", {{"role", g}}, invol[g]});
      s.counters.push_back({"migrations", {{"role", g}}, migr[g]});
    }
    if (migr["M"] != 0)
      s.note = "Ms migrated " + std::to_string(migr["M"]) +
               " times between CPUs (pinning moves an M once as it starts; more means an M is not pinned "
               "or was moved: see the threads table)";
    s.hists.push_back(to_hist(skel_->bss->offcpu_hist, "offcpu_interval", "ns", {}));
    s.tables.push_back(std::move(tb));
    return s;
  }

 private:
  offcpu_bpf* skel_ = nullptr;
  bool btf_ = true;
  std::vector<bpf_link*> links_;
};

// ---- syscalls ----------------------------------------------------------------
class SyscallsUnit final : public Unit {
 public:
  ~SyscallsUnit() override {
    for (auto* l : links_) bpf_link__destroy(l);
    syscalls_bpf__destroy(skel_);
  }
  const char* name() const override { return "syscalls"; }
  std::string load(const Target& t, const Options& o) override {
    skel_ = syscalls_bpf__open();
    if (skel_ == nullptr) return "cannot open the syscalls BPF object";
    skel_->rodata->targ_tgid = static_cast<__u32>(t.pid);
    skel_->rodata->min_ns = o.min_ns;
    if (o.ring_bytes != 0) bpf_map__set_max_entries(skel_->maps.sys_events, o.ring_bytes);
    if (int e = syscalls_bpf__load(skel_); e != 0) return std::string("cannot load syscalls: ") + std::strerror(-e);
    return "";
  }
  void attach(const Target& t, std::vector<AttachResult>* out) override {
    attach_prog(skel_->progs.sys_enter, name(), "tp_btf/sys_enter", out, &links_);
    attach_prog(skel_->progs.sys_exit, name(), "tp_btf/sys_exit", out, &links_);
    attach_usdt(skel_->progs.block_enter, t, "syscall_block_enter", name(), out, &links_);
    attach_usdt(skel_->progs.block_exit, t, "syscall_block_exit", name(), out, &links_);
  }
  std::vector<Ring> rings() override {
    return {{"sys_events", bpf_map__fd(skel_->maps.sys_events), bpf_map__fd(skel_->maps.sys_events_drops),
             &SyscallsUnit::on_event, this}};
  }
  Section snapshot(const Target& t) override {
    Section s;
    s.unit = name();
    auto roles = thread_roles(t.pid);
    int fd = bpf_map__fd(skel_->maps.sys_stats);
    sys_key key{}, next{};
    sys_key* prev = nullptr;
    struct Agg {
      std::uint64_t count = 0, ns = 0, errors = 0;
    };
    std::map<std::pair<std::string, std::string>, Agg> by_role_call;  // (role group, syscall)
    std::map<std::string, Agg> by_role;
    std::map<std::pair<int, std::string>, Agg> by_m;  // (M number, role): the runtime's own threads, one row each
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
      sys_val v{};
      if (bpf_map_lookup_elem(fd, &next, &v) == 0) {
        std::string role = role_for(roles, static_cast<int>(next.tid), v.comm);
        std::string group = role.rfind("M ", 0) == 0 ? "M" : (role.rfind("other", 0) == 0 ? "other" : role);
        Agg& a = by_role_call[{group, syscall_name(next.nr)}];
        a.count += v.count;
        a.ns += v.ns;
        a.errors += v.errors;
        Agg& r = by_role[group];
        r.count += v.count;
        r.ns += v.ns;
        r.errors += v.errors;
        if (group == "M" || group == "sysmon") {
          Agg& m = by_m[{group == "M" ? std::atoi(role.c_str() + 2) : -1, role}];
          m.count += v.count;
          m.ns += v.ns;
          m.errors += v.errors;
        }
      }
      key = next;
      prev = &key;
    }
    for (const auto& [g, a] : by_role) {
      s.counters.push_back({"syscalls", {{"role", g}}, a.count});
      s.counters.push_back({"syscall_ns", {{"role", g}}, a.ns});
    }
    std::vector<std::pair<std::pair<std::string, std::string>, Agg>> v(by_role_call.begin(), by_role_call.end());
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second.ns > b.second.ns; });
    Table tb{"top_syscalls", {"role", "syscall", "count", "total_us", "errors"}, {}};
    for (const auto& [k, a] : v) {
      tb.rows.push_back({k.first, k.second, std::to_string(a.count), std::to_string(a.ns / 1000),
                         std::to_string(a.errors)});
      if (tb.rows.size() >= 15) break;
    }
    s.tables.push_back(std::move(tb));
    Table pm{"per_m", {"role", "count", "total_us", "errors"}, {}};
    for (const auto& [k, a] : by_m)
      pm.rows.push_back({k.second, std::to_string(a.count), std::to_string(a.ns / 1000), std::to_string(a.errors)});
    s.tables.push_back(std::move(pm));
    const syscalls_data& d = skel_->bss->sys;
    s.hists.push_back(to_hist(d.blocking, "blocking_span", "ns", {}));
    s.counters.push_back({"blocking_handoffs", {}, d.blocking_handoffs});
    s.counters.push_back({"blocking_unpaired", {}, d.blocking_unpaired});
    return s;
  }

 private:
  static int on_event(void* ctx, void* data, size_t size) {
    auto* u = static_cast<SyscallsUnit*>(ctx);
    if (size < sizeof(gmp_span_event) || !u->sink_) return 0;
    const auto* e = static_cast<const gmp_span_event*>(data);
    u->sink_(Event{"syscalls", "slow_blocking",
                   {{"goid", std::to_string(e->id), true},
                    {"p", std::to_string(e->p), true},
                    {"handed_off", std::to_string(e->arg), true},
                    {"ns", std::to_string(e->ns), true}},
                   {}});
    return 0;
  }
  syscalls_bpf* skel_ = nullptr;
  std::vector<bpf_link*> links_;
};

}  // namespace

std::unique_ptr<Unit> make_offcpu_unit() { return std::make_unique<OffcpuUnit>(); }
std::unique_ptr<Unit> make_syscalls_unit() { return std::make_unique<SyscallsUnit>(); }

}  // namespace gmp::trace
