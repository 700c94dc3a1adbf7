// gmptrace/alloc_unit.cpp — allocation latency (bpf/alloc.bpf.c): the pool's
// sampled alloc_sample per tier and class group, object sizes, refill /
// flush / fallback counts, slow allocations (events with user stacks,
// counted by stack for --stacks), and with --malloc the calls that leave the
// pool (libc malloc, jemalloc mallocx), sampled per CPU.
#include <bpf/bpf.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "alloc.h"
#include "alloc.skel.h"
#include "gmptrace/names.hpp"
#include "gmptrace/symbolize.hpp"
#include "gmptrace/unit.hpp"

namespace gmp::trace {

namespace {

class AllocUnit final : public Unit {
 public:
  ~AllocUnit() override {
    for (auto* l : links_) bpf_link__destroy(l);
    alloc_bpf__destroy(skel_);
  }
  const char* name() const override { return "alloc"; }
  std::string load(const Target& t, const Options& o) override {
    opts_ = o;
    skel_ = alloc_bpf__open();
    if (skel_ == nullptr) return "cannot open the alloc BPF object";
    skel_->rodata->min_ns = o.min_ns;
    skel_->rodata->malloc_sample_every = o.malloc_every;
    if (o.ring_bytes != 0) bpf_map__set_max_entries(skel_->maps.alloc_events, o.ring_bytes);
    if (!o.malloc_probes) {
      for (auto* p : {skel_->progs.malloc_enter, skel_->progs.malloc_leave, skel_->progs.mallocx_enter,
                      skel_->progs.mallocx_leave})
        bpf_program__set_autoload(p, false);
    }
    if (int e = alloc_bpf__load(skel_); e != 0) return std::string("cannot load alloc: ") + std::strerror(-e);
    pid_ = t.pid;
    return "";
  }
  void attach(const Target& t, std::vector<AttachResult>* out) override {
    attach_usdt(skel_->progs.alloc_sample, t, "alloc_sample", name(), out, &links_);
    attach_usdt(skel_->progs.pool_refill, t, "pool_refill", name(), out, &links_);
    attach_usdt(skel_->progs.pool_flush, t, "pool_flush", name(), out, &links_);
    attach_usdt(skel_->progs.pool_fallback, t, "pool_fallback", name(), out, &links_);
    if (!opts_.malloc_probes) return;
    // Entry + return by thread: safe only because malloc and mallocx never
    // switch goroutines or stacks (bpf/alloc.bpf.c).
    struct U {
      bpf_program* prog;
      const char* lib;
      const char* fn;
      bool ret;
    } us[] = {{skel_->progs.malloc_enter, "libc.so.6", "malloc", false},
              {skel_->progs.malloc_leave, "libc.so.6", "malloc", true},
              {skel_->progs.mallocx_enter, "libjemalloc.so.2", "mallocx", false},
              {skel_->progs.mallocx_leave, "libjemalloc.so.2", "mallocx", true}};
    for (const U& u : us) {
      LIBBPF_OPTS(bpf_uprobe_opts, uo, .retprobe = u.ret, .func_name = u.fn);
      AttachResult r{name(), bpf_program__name(u.prog),
                     std::string(u.ret ? "uretprobe " : "uprobe ") + u.lib + ":" + u.fn, false, "",
                     bpf_program__fd(u.prog)};
      bpf_link* l = bpf_program__attach_uprobe_opts(u.prog, t.pid, u.lib, 0, &uo);
      if (l == nullptr) {
        r.error = std::strerror(errno);
      } else {
        r.ok = true;
        links_.push_back(l);
      }
      out->push_back(r);
    }
  }
  std::vector<Ring> rings() override {
    return {{"alloc_events", bpf_map__fd(skel_->maps.alloc_events), bpf_map__fd(skel_->maps.alloc_events_drops),
             &AllocUnit::on_event, this}};
  }
  Section snapshot(const Target&) override {
    Section s;
    s.unit = name();
    const alloc_data& d = skel_->bss->alloc;
    for (int t = 0; t < GMP_TIER_COUNT; t++) {
      Labels l = {{"tier", tier_name(t)}};
      bool any = d.lat[t].count != 0 || d.refills[t] != 0 || d.flushes[t] != 0 || d.fallbacks[t] != 0;
      if (!any) continue;
      s.counters.push_back({"alloc_samples", l, d.lat[t].count});
      s.counters.push_back({"pool_refills", l, d.refills[t]});
      s.counters.push_back({"pool_refill_objects", l, d.refill_objects[t]});
      s.counters.push_back({"pool_flushes", l, d.flushes[t]});
      s.counters.push_back({"pool_flush_objects", l, d.flush_objects[t]});
      s.counters.push_back({"pool_fallbacks", l, d.fallbacks[t]});
      if (t < GMP_TIER_LARGE) {
        s.counters.push_back({"pool_hits", l, d.hits[t]});
        s.counters.push_back({"pool_misses", l, d.misses[t]});
      }
      if (d.lat[t].count == 0) continue;
      s.hists.push_back(to_hist(d.lat[t], "alloc_latency", "ns", l));
      s.hists.push_back(to_hist(d.size[t], "alloc_object_size", "bytes", l));
      for (int g = 0; g < GMP_POOL_CLASS_GROUPS; g++) {
        if (d.lat_group[t][g].count == 0) continue;
        Labels lg = l;
        lg.emplace_back("class_le_bytes", std::to_string(16ull << g));  // group g: (8<<g, 16<<g]
        s.hists.push_back(to_hist(d.lat_group[t][g], "alloc_latency_by_class", "ns", lg));
      }
    }
    for (int r = 1; r < GMP_FALLBACK_REASON_END; r++)
      if (d.fallback_reason[r] != 0)
        s.counters.push_back({"pool_fallback_reason", {{"reason", fallback_name(r)}}, d.fallback_reason[r]});
    s.counters.push_back({"alloc_slow", {}, d.slow});
    if (opts_.malloc_probes) {
      s.hists.push_back(to_hist(d.malloc_lat[0], "malloc_latency", "ns",
                                {{"fn", "libc malloc"}, {"sampled_every", std::to_string(opts_.malloc_every)}}));
      s.hists.push_back(to_hist(d.malloc_lat[1], "malloc_latency", "ns",
                                {{"fn", "jemalloc mallocx"}, {"sampled_every", std::to_string(opts_.malloc_every)}}));
    }
    if (opts_.stacks) {
      Table tb{"alloc_slow_stacks", {"count", "avg_ns", "stack"}, {}};
      std::vector<std::pair<std::vector<std::uint64_t>, StackStat>> v(stacks_.begin(), stacks_.end());
      std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second.count > b.second.count; });
      for (const auto& [frames, st] : v) {
        std::string folded;
        for (std::size_t i = 0; i < frames.size(); i++) {
          if (!folded.empty()) folded += ";";
          // Return addresses point after the call: look up the call itself.
          folded += sym() ? sym()->name(i == 0 ? frames[i] : frames[i] - 1) : std::to_string(frames[i]);
        }
        tb.rows.push_back({std::to_string(st.count), std::to_string(st.ns / (st.count ? st.count : 1)), folded});
        if (tb.rows.size() >= 20) break;
      }
      s.tables.push_back(std::move(tb));
    }
    return s;
  }

 private:
  struct StackStat {
    std::uint64_t count = 0, ns = 0;
  };
  static int on_event(void* ctx, void* data, size_t size) {
    auto* u = static_cast<AllocUnit*>(ctx);
    if (size < sizeof(gmp_alloc_event)) return 0;
    const auto* e = static_cast<const gmp_alloc_event*>(data);
    std::vector<std::uint64_t> frames;
    for (int i = 0; e->stack_bytes > 0 && i < e->stack_bytes / 8 && i < GMP_STACK_DEPTH; i++)
      frames.push_back(e->stack[i]);
    if (u->opts_.stacks) {
      StackStat& st = u->stacks_[frames];
      st.count++;
      st.ns += e->ns;
    }
    if (!u->sink_) return 0;
    Event ev{"alloc", "slow_alloc",
             {{"tier", tier_name(e->tier), false},
              {"class", std::to_string(e->cls), true},
              {"bytes", std::to_string(e->bytes), true},
              {"tid", std::to_string(e->tid), true},
              {"ns", std::to_string(e->ns), true}},
             {}};
    if (u->opts_.stacks && u->sym()) {
      for (std::size_t i = 0; i < frames.size() && i < 8; i++)
        ev.stack.push_back(u->sym()->name(i == 0 ? frames[i] : frames[i] - 1));
    }
    u->sink_(ev);
    return 0;
  }
  // Made on first use: the maps of a launched target exist only after exec.
  Symbolizer* sym() {
    if (!sym_ && pid_ > 0) sym_ = std::make_unique<Symbolizer>(pid_);
    return sym_.get();
  }
  Options opts_;
  pid_t pid_ = -1;
  alloc_bpf* skel_ = nullptr;
  std::vector<bpf_link*> links_;
  std::unique_ptr<Symbolizer> sym_;
  std::map<std::vector<std::uint64_t>, StackStat> stacks_;
};

}  // namespace

std::unique_ptr<Unit> make_alloc_unit() { return std::make_unique<AllocUnit>(); }

}  // namespace gmp::trace
