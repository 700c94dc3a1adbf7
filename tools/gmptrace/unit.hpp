// gmptrace/unit.hpp — one concern of the tracer (alloc, stw, runq, offcpu,
// syscalls, io, cache): it opens and loads its BPF skeleton, attaches its
// programs (recording each that does not attach, while the rest go on), adds
// its rings to the shared ring-buffer poller, and turns its maps into a
// Section of plain data on demand.
#pragma once

#include <bpf/libbpf.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gmptrace/report.hpp"
#include "hist.h"  // bpf/hist.h: struct gmp_hist
#include "gmptrace/target.hpp"

namespace gmp::trace {

struct Options {
  std::uint64_t min_ns = 1'000'000;  // slow-event threshold (--min-us)
  std::uint32_t ring_bytes = 0;      // 0: each ring's default size (--ring-bytes)
  bool stacks = false;               // alloc: count slow-allocation stacks (--stacks)
  bool malloc_probes = false;        // alloc: time libc malloc / jemalloc mallocx (--malloc)
  std::uint32_t malloc_every = 64;   // ... one call in this many per CPU
  bool verbose = false;
};

// One program's attach outcome, for `list` and the start report.
struct AttachResult {
  std::string unit, program, where;  // where: "usdt gmp:stw_end", "tp_btf/sched_switch", …
  bool ok = false;
  std::string error;
  int prog_fd = -1;  // the program's fd (its run statistics), while the unit lives
};

using EventSink = std::function<void(const Event&)>;

class Unit {
 public:
  virtual ~Unit() = default;
  virtual const char* name() const = 0;
  // Opens and loads the skeleton; "" or why not.
  virtual std::string load(const Target& t, const Options& o) = 0;
  // Attaches every program; each outcome is appended to `out`.
  virtual void attach(const Target& t, std::vector<AttachResult>* out) = 0;
  // Rings: (name, ring map fd, drops per-CPU map fd, callback).
  struct Ring {
    std::string name;
    int map_fd = -1, drops_fd = -1;
    ring_buffer_sample_fn fn = nullptr;
    void* ctx = nullptr;
  };
  virtual std::vector<Ring> rings() { return {}; }
  // Cumulative view since load.
  virtual Section snapshot(const Target& t) = 0;
  void set_sink(EventSink s) { sink_ = std::move(s); }

 protected:
  EventSink sink_;
};

// The units gmptrace knows, in output order, and which are on by default
// (cheap enough to leave on) — see --help.
struct UnitInfo {
  const char* name;
  bool default_on;
  const char* what;
};
const std::vector<UnitInfo>& unit_catalog();
std::unique_ptr<Unit> make_unit(const std::string& name);

// Helpers for units.
std::string attach_usdt(bpf_program* prog, const Target& t, const char* probe, const char* unit,
                        std::vector<AttachResult>* out, std::vector<bpf_link*>* links);
Hist to_hist(const ::gmp_hist& h, std::string name, std::string unit, Labels labels);
std::uint64_t percpu_sum(int map_fd);
// A thread's role from the name the kernel side recorded (comm, 16 bytes,
// may be empty), else from the remembered /proc view, else "exited".
std::string role_for(const std::map<int, std::string>& roles, int tid, const char* comm);

}  // namespace gmp::trace
