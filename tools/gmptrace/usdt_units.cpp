// gmptrace/usdt_units.cpp — the units built only on the runtime's probes:
// stw (pauses), runq (scheduling latency, steals, preemptions), io (io_uring
// latency per op). Each reads its BPF object's .bss and turns it into a
// Section; events arrive through rings.
#include <bpf/bpf.h>

#include <cstring>

#include "gmptrace/names.hpp"
#include "gmptrace/unit.hpp"
#include "io.h"
#include "io.skel.h"
#include "runq.h"
#include "runq.skel.h"
#include "stw.h"
#include "stw.skel.h"

namespace gmp::trace {

namespace {

Field num(const std::string& k, long long v) { return {k, std::to_string(v), true}; }
Field unum(const std::string& k, unsigned long long v) { return {k, std::to_string(v), true}; }
Field str(const std::string& k, const std::string& v) { return {k, v, false}; }

void set_ring(bpf_map* m, std::uint32_t bytes) {
  if (bytes != 0) bpf_map__set_max_entries(m, bytes);
}

// ---- stw ---------------------------------------------------------------------
class StwUnit final : public Unit {
 public:
  ~StwUnit() override {
    for (auto* l : links_) bpf_link__destroy(l);
    stw_bpf__destroy(skel_);
  }
  const char* name() const override { return "stw"; }
  std::string load(const Target&, const Options& o) override {
    skel_ = stw_bpf__open();
    if (skel_ == nullptr) return "cannot open the stw BPF object";
    set_ring(skel_->maps.stw_events, o.ring_bytes);
    if (int e = stw_bpf__load(skel_); e != 0) return std::string("cannot load stw: ") + std::strerror(-e);
    return "";
  }
  void attach(const Target& t, std::vector<AttachResult>* out) override {
    attach_usdt(skel_->progs.stw_begin, t, "stw_begin", name(), out, &links_);
    attach_usdt(skel_->progs.stw_stopped, t, "stw_stopped", name(), out, &links_);
    attach_usdt(skel_->progs.stw_end, t, "stw_end", name(), out, &links_);
    attach_usdt(skel_->progs.stw_slow, t, "stw_slow", name(), out, &links_);
  }
  std::vector<Ring> rings() override {
    return {{"stw_events", bpf_map__fd(skel_->maps.stw_events), bpf_map__fd(skel_->maps.stw_events_drops),
             &StwUnit::on_event, this}};
  }
  Section snapshot(const Target&) override {
    Section s;
    s.unit = name();
    const stw_data& d = skel_->bss->stw;
    for (int r = 0; r < GMP_STW_REASON_COUNT; r++) {
      if (d.begins[r] == 0 && d.total[r].count == 0) continue;
      Labels l = {{"reason", stw_reason_name(r)}};
      s.counters.push_back({"stw_pauses", l, d.total[r].count});
      s.hists.push_back(to_hist(d.stopping[r], "stw_stopping", "ns", l));
      s.hists.push_back(to_hist(d.total[r], "stw_total", "ns", l));
    }
    for (int c = 0; c < GMP_STW_SLOW_CAUSE_COUNT; c++)
      if (d.slow[c] != 0) s.counters.push_back({"stw_slow", {{"cause", slow_cause_name(c)}}, d.slow[c]});
    return s;
  }

 private:
  static int on_event(void* ctx, void* data, size_t size) {
    auto* u = static_cast<StwUnit*>(ctx);
    if (size < sizeof(gmp_stw_event) || !u->sink_) return 0;
    const auto* e = static_cast<const gmp_stw_event*>(data);
    Event ev{"stw", e->slow_cause < 0 ? "pause" : "slow", {}, {}};
    ev.fields = {str("reason", stw_reason_name(e->reason)), unum("generation", e->generation), num("tid", e->tid)};
    if (e->slow_cause < 0) {
      ev.fields.push_back(unum("stopping_ns", e->stopping_ns));
      ev.fields.push_back(unum("total_ns", e->total_ns));
    } else {
      ev.fields.push_back(str("cause", slow_cause_name(e->slow_cause)));
      ev.fields.push_back(unum("cause_ns", e->slow_cause_ns));
    }
    u->sink_(ev);
    return 0;
  }
  stw_bpf* skel_ = nullptr;
  std::vector<bpf_link*> links_;
};

// ---- runq --------------------------------------------------------------------
class RunqUnit final : public Unit {
 public:
  ~RunqUnit() override {
    for (auto* l : links_) bpf_link__destroy(l);
    runq_bpf__destroy(skel_);
  }
  const char* name() const override { return "runq"; }
  std::string load(const Target&, const Options& o) override {
    skel_ = runq_bpf__open();
    if (skel_ == nullptr) return "cannot open the runq BPF object";
    skel_->rodata->min_ns = o.min_ns;
    set_ring(skel_->maps.runq_events, o.ring_bytes);
    if (int e = runq_bpf__load(skel_); e != 0) return std::string("cannot load runq: ") + std::strerror(-e);
    return "";
  }
  void attach(const Target& t, std::vector<AttachResult>* out) override {
    attach_usdt(skel_->progs.sched_latency, t, "sched_latency", name(), out, &links_);
    attach_usdt(skel_->progs.p_steal, t, "p_steal", name(), out, &links_);
    attach_usdt(skel_->progs.preempt_request, t, "preempt_request", name(), out, &links_);
  }
  std::vector<Ring> rings() override {
    return {{"runq_events", bpf_map__fd(skel_->maps.runq_events), bpf_map__fd(skel_->maps.runq_events_drops),
             &RunqUnit::on_event, this}};
  }
  Section snapshot(const Target&) override {
    Section s;
    s.unit = name();
    const runq_data& d = skel_->bss->runq;
    s.hists.push_back(to_hist(d.delay, "runq_delay", "ns", {{"sampled_every", std::to_string(d.every)}}));
    s.counters.push_back({"runq_slow", {}, d.slow});
    s.counters.push_back({"steals", {}, d.steals});
    s.counters.push_back({"stolen_goroutines", {}, d.stolen});
    s.counters.push_back({"preemptions", {}, d.preempts});
    s.hists.push_back(to_hist(d.preempt_ran, "preempted_after", "ns", {}));
    return s;
  }

 private:
  static int on_event(void* ctx, void* data, size_t size) {
    auto* u = static_cast<RunqUnit*>(ctx);
    if (size < sizeof(gmp_span_event) || !u->sink_) return 0;
    const auto* e = static_cast<const gmp_span_event*>(data);
    u->sink_(Event{"runq", "slow_wait", {unum("goid", e->id), num("p", e->p), num("tid", e->tid), unum("ns", e->ns)}, {}});
    return 0;
  }
  runq_bpf* skel_ = nullptr;
  std::vector<bpf_link*> links_;
};

// ---- io ----------------------------------------------------------------------
class IoUnit final : public Unit {
 public:
  ~IoUnit() override {
    for (auto* l : links_) bpf_link__destroy(l);
    io_bpf__destroy(skel_);
  }
  const char* name() const override { return "io"; }
  std::string load(const Target&, const Options& o) override {
    skel_ = io_bpf__open();
    if (skel_ == nullptr) return "cannot open the io BPF object";
    skel_->rodata->min_ns = o.min_ns;
    set_ring(skel_->maps.io_events, o.ring_bytes);
    if (int e = io_bpf__load(skel_); e != 0) return std::string("cannot load io: ") + std::strerror(-e);
    return "";
  }
  void attach(const Target& t, std::vector<AttachResult>* out) override {
    attach_usdt(skel_->progs.io_submit, t, "io_submit", name(), out, &links_);
    attach_usdt(skel_->progs.io_complete, t, "io_complete", name(), out, &links_);
  }
  std::vector<Ring> rings() override {
    return {{"io_events", bpf_map__fd(skel_->maps.io_events), bpf_map__fd(skel_->maps.io_events_drops),
             &IoUnit::on_event, this}};
  }
  Section snapshot(const Target&) override {
    Section s;
    s.unit = name();
    const io_data& d = skel_->bss->io;
    for (int op = 0; op < GMP_IO_OP_COUNT; op++) {
      if (d.submits[op] == 0 && d.lat[op].count == 0) continue;
      Labels l = {{"op", io_op_name(op)}};
      s.counters.push_back({"io_submits", l, d.submits[op]});
      s.counters.push_back({"io_errors", l, d.errors[op]});
      s.hists.push_back(to_hist(d.lat[op], "io_latency", "ns", l));
    }
    s.counters.push_back({"io_unpaired", {}, d.unpaired});
    // Per P (its own ring): submitted and completed; in flight is the difference.
    for (int p = 0; p < GMP_IO_MAX_P; p++) {
      if (d.p_submits[p] == 0 && d.p_completions[p] == 0) continue;
      Labels l = {{"p", std::to_string(p)}};
      s.counters.push_back({"p_io_submits", l, d.p_submits[p]});
      s.counters.push_back({"p_io_completions", l, d.p_completions[p]});
    }
    return s;
  }

 private:
  static int on_event(void* ctx, void* data, size_t size) {
    auto* u = static_cast<IoUnit*>(ctx);
    if (size < sizeof(gmp_span_event) || !u->sink_) return 0;
    const auto* e = static_cast<const gmp_span_event*>(data);
    u->sink_(Event{"io", "slow_op",
                   {str("op", io_op_name(e->arg)), unum("seq", e->id), num("p", e->p), num("res", e->res),
                    unum("ns", e->ns)},
                   {}});
    return 0;
  }
  io_bpf* skel_ = nullptr;
  std::vector<bpf_link*> links_;
};

}  // namespace

std::unique_ptr<Unit> make_stw_unit() { return std::make_unique<StwUnit>(); }
std::unique_ptr<Unit> make_runq_unit() { return std::make_unique<RunqUnit>(); }
std::unique_ptr<Unit> make_io_unit() { return std::make_unique<IoUnit>(); }

}  // namespace gmp::trace
