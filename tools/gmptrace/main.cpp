// gmptrace — traces a running gmprt process (or one it starts) with the CO-RE
// BPF programs of bpf/: allocation latency, stop-the-world pauses,
// run-queue delay, off-CPU time, system calls, io_uring latency and cache /
// software perf events. docs/TRACING.md is the reference.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/cli.hpp"
#include "gmp/metrics_http.hpp"
#include "gmp/probes_abi.h"
#include "gmptrace/output.hpp"
#include "gmptrace/prom.hpp"
#include "gmptrace/report_html.hpp"
#include "gmptrace/target.hpp"
#include "gmptrace/unit.hpp"

namespace gmp::trace {
namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

struct Cli {
  pid_t pid = -1;
  std::vector<std::string> cmd;
  double interval_s = 0;  // 0: totals only at the end
  double duration_s = 0;  // 0: until Ctrl-C or the target exits
  std::string format = "text";
  bool json = false;                          // from format
  double min_us = Options{}.min_ns / 1000.0;  // --min-us, into opt.min_ns
  int runq_every = 0;                         // 0: the runtime's period
  bool list = false;
  std::string list_target;
  std::vector<std::string> units;
  std::string metrics_addr;  // --metrics-addr ("" : off)
  std::string report_path;   // --report ("" : none)
  bool bpf_stats = false;    // --bpf-stats
  Options opt;
};

// The options, bound to the fields of Cli they set (the defaults --help
// shows are the fields' initial values).
void declare(tools::Cli& t, Cli& c) {
  t.integer("-p", c.pid, 1, 4194304, "PID",
            "trace a running process (the probes are found in /proc/PID/exe or a mapped library)")
      .default_str("");
  t.number("-i", c.interval_s, 0.01, 1e6, "SECONDS", "print an interval view every SECONDS")
      .default_str("totals at the end only");
  t.number("-d", c.duration_s, 0.01, 1e6, "SECONDS", "stop after SECONDS").default_str("");
  t.text("-f", c.format, "text|json", "output format (json: one object per line, docs/TRACING.md)");
  t.number("--min-us", c.min_us, 0, 1e9, "N", "slow-event threshold for alloc, runq, io, blocking (0: every sample)");
  t.flag("--stacks", c.opt.stacks, "alloc: count the user stacks of slow allocations (symbolized, demangled)");
  t.flag("--malloc", c.opt.malloc_probes,
         "alloc: also time libc malloc and jemalloc mallocx (uprobe + uretprobe per call)");
  t.integer("--malloc-every", c.opt.malloc_every, 1, 1'000'000, "N",
            "... time one call in N per CPU (every call still traps)");
  t.integer("--runq-every", c.runq_every, 1, 65536, "N",
            "-- CMD only: one run-queue sample in N per P reaches the tracer (the runtime\n"
            "samples one transition in 8 of each G: 1 in 1024 by default)")
      .default_str("128");
  t.integer("--ring-bytes", c.opt.ring_bytes, 4096, 1 << 30, "N", "size of each event ring (a power of two)")
      .default_str("per ring");
  t.text("--metrics-addr", c.metrics_addr, "HOST:PORT",
         "serve Prometheus /metrics (every histogram and counter below, read from the\n"
         "BPF maps at each scrape, plus gmptrace's health: programs attached or why not, events\n"
         "lost per ring, program run time with --bpf-stats), /healthz, /readyz (200 once\n"
         "attached) and the report of what it has seen so far at /; a bare PORT means\n"
         "127.0.0.1:PORT, 0 any free port (the address is printed on stderr); a bad or busy\n"
         "address exits 2");
  t.flag("--bpf-stats", c.bpf_stats,
         "have the kernel count every BPF program's run time while gmptrace runs\n"
         "(BPF_ENABLE_STATS; it costs every BPF program on the machine a clock read per run):\n"
         "gmptrace_program_run_seconds_total / _runs_total on /metrics. Without it they are\n"
         "served only when kernel.bpf_stats_enabled is already 1 (gmptrace_bpf_stats_enabled)");
  t.text("--report", c.report_path, "FILE",
         "when tracing ends, write one self-contained HTML file (no external assets) with\n"
         "SVG charts: latency histograms, the stop-the-world pause timeline, per-M off-CPU and\n"
         "system-call bars (add syscalls to WHAT), per-P io_uring bars (add io), pool tiers;\n"
         "FILE is created at start (a bad path exits 2) and removed if nothing is written");
  t.flag("-v", c.opt.verbose, "libbpf's own messages on stderr");
}

std::string usage(const std::string& options) {
  std::string u =
      "Usage: gmptrace [-p PID | -- CMD ARGS...] [-i SECONDS] [-d SECONDS] [-f text|json] [--min-us N]\n"
      "                [--stacks] [--malloc] [--malloc-every N] [--runq-every N] [--ring-bytes N]\n"
      "                [--metrics-addr HOST:PORT] [--bpf-stats] [--report FILE.html] [-v] [WHAT...]\n"
      "       gmptrace list [PID|BINARY]\n"
      "\n"
      "Traces a gmprt process with CO-RE BPF programs on its USDT probes (provider gmp, probe set " +
      std::to_string(GMP_PROBES_VERSION) +
      ")\nand on kernel tracepoints. Histograms are kept in the kernel; slow events stream through ring\n"
      "buffers whose lost events are counted and reported. Detaching leaves the target as fast as before.\n"
      "\n"
      "Options:\n" +
      options +
      "  -- CMD ARGS...            start CMD, attach before it runs, trace it until it exits\n\n"
      "WHAT (default: the ones marked *, cheap enough to leave on):\n";
  for (const auto& u2 : unit_catalog())
    u += std::string("  ") + (u2.default_on ? "*" : " ") + " " + u2.name + std::string(9 - std::strlen(u2.name), ' ') +
         u2.what + "\n";
  u += "\n"
       "Probes (provider gmp; arguments in order; docs/PROBES.md):\n"
       "  g_create(goid, parent_goid, stack_bytes)  g_run(goid, p, m)  g_park(goid, wait_reason, p)\n"
       "  g_ready(goid, waker_goid, p)  g_exit(goid, p)  p_steal(thief_p, victim_p, count)  m_park(m, p)\n"
       "  m_unpark(m, p)  preempt_request(goid, p, ran_ns)  stack_overflow(goid, stack_bytes, fault_addr)\n"
       "  alloc_sample(tier, class, ns, bytes, cache, hits, misses)  pool_refill(tier, class, count)\n"
       "  pool_flush(tier, class, count)  pool_fallback(tier, class, reason)  timer_fire(p, late_ns, stolen)\n"
       "  select_wake(goid, case, ncases)\n"
       "  mutex_starving(addr, waited_ns)  io_submit(op, seq, p)  io_complete(op, res, p, seq)\n"
       "  syscall_block_enter(goid, p)  syscall_block_exit(goid, p, handed_off)  stw_begin(reason, gen, 0)\n"
       "  stw_stopped(reason, gen, stopping_ns)  stw_end(reason, gen, total_ns)  stw_boost(gen, m, res)\n"
       "  stw_slow(reason, gen, cause, cause_ns)  sched_latency(goid, p, ns, every)\n"
       "\n"
       "Fields:\n"
       "  stw       stw_pauses{reason}, stw_stopping/stw_total{reason} (ns: decision -> all stopped / restarted),\n"
       "            stw_slow{cause}; events: pause (reason, generation, tid, stopping_ns, total_ns),\n"
       "            slow (reason, generation, cause, cause_ns)\n"
       "  alloc     alloc_samples{tier}, alloc_latency{tier} and alloc_latency_by_class{tier,class_le_bytes} (ns),\n"
       "            alloc_object_size{tier} (bytes), pool_refills/_objects, pool_flushes/_objects,\n"
       "            pool_hits/_misses{tier} (while traced), pool_fallbacks{tier}, pool_fallback_reason{reason},\n"
       "            alloc_slow, malloc_latency{fn} (--malloc),\n"
       "            alloc_slow_stacks (--stacks: count, avg_ns, frames); events: slow_alloc (tier, class, bytes,\n"
       "            tid, ns, stack)\n"
       "  runq      runq_delay{sampled_every} (ns, runnable -> running), runq_slow, steals, stolen_goroutines,\n"
       "            preemptions, preempted_after (ns); events: slow_wait (goid, p, tid, ns)\n"
       "  offcpu    offcpu_ns/involuntary_switches/migrations{role}, offcpu_interval (ns), table threads\n"
       "            (tid, role, on/off-CPU ms, switches, involuntary, migrations, last cpu)\n"
       "  syscalls  syscalls/syscall_ns{role}, table top_syscalls (role, syscall, count, total_us, errors),\n"
       "            table per_m (role, count, total_us, errors),\n"
       "            blocking_span (ns), blocking_handoffs, blocking_unpaired; events: slow_blocking\n"
       "  io        io_submits/io_errors{op}, io_latency{op} (ns), io_unpaired, p_io_submits/p_io_completions{p};\n"
       "            events: slow_op (op, seq, p, res, ns)\n"
       "  cache     cache_events_supported{event} (0: no PMU, the note says why), perf_events{event} for each\n"
       "            event that could be opened (cpu-clock-ns in ns), table by_role\n"
       "  every unit: lost{ring} records; roles are M n (gmp-mN threads), sysmon, other\n"
       "Prometheus (--metrics-addr): gmptrace_<name>_seconds for a histogram in ns, _bytes for one in bytes\n"
       "  (cumulative le buckets, every slot), gmptrace_<name>_total for a counter (<x>_ns as <x>_seconds_total),\n"
       "  gmptrace_program_attached{unit,program,attach_point,reason}, gmptrace_ring_lost_events_total{ring},\n"
       "  gmptrace_bpf_stats_enabled, gmptrace_program_run_seconds_total / _runs_total{unit,program}\n"
       "Histograms: log2 slots with round-up, slot i holds (2^(i-1), 2^i]; sums and counts are exact.\n"
       "\n"
       "Exit codes: 0 done; 1 error; 2 bad usage; 3 not root / no CAP_BPF+CAP_PERFMON; 4 no kernel BTF;\n"
       "  5 BPF unavailable; 6 target not running; 7 not a gmprt process; 8 probe-set version mismatch;\n"
       "  9 no program could attach (a program that cannot attach is reported and the rest go on).\n"
       "\n"
       "Examples:\n"
       "  gmptrace -p $(pidof gmprun) -i 1 stw runq\n"
       "  gmptrace -f json --stacks --min-us 50 alloc -- gmprun alloc-storm --duration 2s\n"
       "  gmptrace --metrics-addr 9465 --bpf-stats -p $(pidof gmprun)\n"
       "  gmptrace --report trace.html syscalls stw offcpu alloc -- gmprun stw --duration 3s\n"
       "  gmptrace list build/bin/gmprun\n";
  return u;
}

int bad(const std::string& msg) {
  std::fprintf(stderr, "gmptrace: %s (see gmptrace --help)\n", tools::one_line(msg).c_str());
  return kExitUsage;
}

// Returns -1 to go on, else the exit status (0 after --help).
int parse(int argc, char** argv, Cli* c) {
  if (argc > 1 && std::strcmp(argv[1], "list") == 0) {
    c->list = true;
    if (argc > 3) return bad("list takes at most one PID or BINARY, got " + std::to_string(argc - 2));
    if (argc == 3) c->list_target = argv[2];
    return -1;
  }
  tools::Cli t("gmptrace");
  declare(t, *c);
  t.keep_positionals();
  switch (t.parse(argc, argv)) {
    case tools::Cli::Parsed::help:
      std::fputs(usage(t.help()).c_str(), stdout);
      return 0;
    case tools::Cli::Parsed::error:
      std::fprintf(stderr, "%s\n", t.error().c_str());
      return kExitUsage;
    case tools::Cli::Parsed::ok:
      break;
  }
  // WHAT... -- CMD ARGS...
  bool cmd = false;
  for (const std::string& a : t.rest()) {
    if (cmd) {
      c->cmd.push_back(a);
    } else if (a == "--") {
      cmd = true;
    } else {
      bool known = false;
      for (const auto& u : unit_catalog()) known |= a == u.name;
      if (!known) return bad("unknown WHAT '" + a + "': one of alloc stw runq offcpu syscalls io cache");
      c->units.push_back(a);
    }
  }
  if (c->format != "text" && c->format != "json") return bad("-f takes text or json, got '" + c->format + "'");
  c->json = c->format == "json";
  if (t.given("--min-us")) c->opt.min_ns = c->min_us == 0 ? 1 : static_cast<std::uint64_t>(c->min_us * 1000);
  if ((c->opt.ring_bytes & (c->opt.ring_bytes - 1)) != 0) {
    return bad("--ring-bytes needs a power of two from 4096 to 2^30, got '" + t.value("--ring-bytes") + "'");
  }
  if (t.given("--metrics-addr")) {
    std::string host;
    int port = 0;
    if (gmp::Status st = gmp::metrics::parse_address(c->metrics_addr, &host, &port); !st.ok())
      return bad("--metrics-addr: " + st.message());
  }
  if (t.given("--report") && c->report_path.empty()) return bad("--report needs a file name (like trace.html)");
  if ((c->pid > 0) == !c->cmd.empty())
    return bad(c->cmd.empty() ? "give a target: -p PID or -- CMD ARGS..." : "give -p PID or -- CMD, not both");
  if (c->runq_every > 0) {
    if (c->cmd.empty()) return bad("--runq-every applies to -- CMD (a running process keeps its own period)");
    setenv("GMP_SCHED_LATENCY_PROBE_EVERY", std::to_string(c->runq_every).c_str(), 1);
  }
  if ((c->opt.stacks || c->opt.malloc_probes) && !c->units.empty()) {
    bool alloc = false;
    for (const auto& u : c->units) alloc |= u == "alloc";
    if (!alloc) return bad("--stacks and --malloc belong to alloc; add alloc to WHAT");
  }
  if (c->bpf_stats && c->metrics_addr.empty())
    return bad("--bpf-stats is served on /metrics: add --metrics-addr HOST:PORT");
  if (c->units.empty())
    for (const auto& u : unit_catalog())
      if (u.default_on) c->units.push_back(u.name);
  return -1;
}

int silent_print(libbpf_print_level, const char*, va_list) { return 0; }
int verbose_print(libbpf_print_level, const char* fmt, va_list ap) { return std::vfprintf(stderr, fmt, ap); }

int fail(const Failure& f) {
  std::fprintf(stderr, "gmptrace: %s\n", f.message.c_str());
  return f.code;
}


int run(Cli& c) {
  libbpf_set_print(c.opt.verbose ? verbose_print : silent_print);
  if (Failure f = check_environment(); f.code != kExitOk) return fail(f);
  // The report file and the metrics address are checked before anything
  // is started: a bad path or a busy port costs one line and exit 2.
  // A report file that is never written (gmptrace failed first) is removed.
  auto drop_report = [&c](std::FILE* f) {
    std::fclose(f);
    unlink(c.report_path.c_str());
  };
  std::unique_ptr<std::FILE, decltype(drop_report)> report(nullptr, drop_report);
  if (!c.report_path.empty()) {
    report.reset(std::fopen(c.report_path.c_str(), "w"));
    if (!report)
      return bad("--report: cannot create '" + c.report_path + "': " + std::strerror(errno) +
                 " (give a path in a writable directory)");
  }
  std::unique_ptr<gmp::metrics::Server> srv;
  std::mutex mu;  // guards the units, the output and the recording: the main loop and scrapes
  std::function<std::string()> live_report;  // guarded by mu; set once attached
  if (!c.metrics_addr.empty()) {
    std::string err;
    gmp::metrics::ServeOptions so;
    so.runtime_catalog = false;
    so.title = "gmptrace";
    so.page = [&mu, &live_report] {
      std::lock_guard g(mu);
      return live_report ? live_report()
                         : std::string("<!doctype html><title>gmptrace</title><p>gmptrace is attaching</p>\n");
    };
    srv = gmp::metrics::serve_collectables(c.metrics_addr, &err, so);
    if (!srv) return bad("--metrics-addr: " + err);
    srv->set_ready(false);  // ready once every program is attached
  }
  // Held until gmptrace exits: the kernel counts run time while any such fd is open.
  if (c.bpf_stats && bpf_enable_stats(BPF_STATS_RUN_TIME) < 0)
    return fail({kExitError, std::string("--bpf-stats: the kernel refused BPF_ENABLE_STATS: ") + std::strerror(errno)});
  Target t;
  int gate[2] = {-1, -1};
  if (c.pid > 0) {
    if (Failure f = resolve_pid(c.pid, &t); f.code != kExitOk) return fail(f);
  } else {
    if (Failure f = resolve_file(c.cmd[0], &t); f.code != kExitOk) return fail(f);
    // The child waits on a pipe until every program is attached, then execs:
    // the probes see the target from its first instruction.
    if (pipe2(gate, O_CLOEXEC) != 0) return fail({kExitError, std::string("pipe: ") + std::strerror(errno)});
    pid_t pid = fork();
    if (pid < 0) return fail({kExitNoTarget, std::string("fork: ") + std::strerror(errno)});
    if (pid == 0) {
      close(gate[1]);
      char b;
      if (read(gate[0], &b, 1) != 1) _exit(127);  // gmptrace gave up
      std::vector<char*> argv;
      for (auto& s : c.cmd) argv.push_back(s.data());
      argv.push_back(nullptr);
      execv(t.path.c_str(), argv.data());
      std::fprintf(stderr, "gmptrace: cannot run %s: %s\n", t.path.c_str(), std::strerror(errno));
      _exit(127);
    }
    close(gate[0]);
    t.pid = pid;
    t.launched = true;
  }
  auto abandon = [&](int code) {
    if (srv) srv->stop();  // before the units and the collectable go
    if (t.launched) {
      close(gate[1]);
      waitpid(t.pid, nullptr, 0);
    }
    return code;
  };
  if (Failure f = check_version(t); f.code != kExitOk) return abandon(fail(f));

  std::unique_ptr<Output> out = c.json ? make_json_output(stdout) : make_text_output(stdout);
  std::vector<std::unique_ptr<Unit>> units;
  std::vector<AttachResult> attach;
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  Recording rec;  // the pauses, for the report
  for (const auto& name : c.units) {
    auto u = make_unit(name);
    if (std::string err = u->load(t, c.opt); !err.empty()) {
      attach.push_back({name, "(all)", "load", false, err});
      continue;
    }
    u->set_sink([&out, &rec, &t0](const Event& e) {
      out->event(e);
      if (e.unit == "stw" && e.kind == "pause") {
        if (rec.pauses.size() >= Recording::kMaxPauses) {
          rec.pauses_not_kept++;
          return;
        }
        Pause p;
        p.t_s = std::chrono::duration<double>(clock::now() - t0).count();
        for (const Field& f : e.fields) {
          if (f.key == "reason") p.reason = f.value;
          if (f.key == "stopping_ns") p.stopping_ns = std::stoull(f.value);
          if (f.key == "total_ns") p.total_ns = std::stoull(f.value);
        }
        rec.pauses.push_back(std::move(p));
      }
    });
    u->attach(t, &attach);
    units.push_back(std::move(u));
  }
  int ok = 0;
  for (const auto& a : attach) ok += a.ok ? 1 : 0;
  for (const auto& a : attach)
    if (!a.ok)
      std::fprintf(stderr, "gmptrace: %s: %s (%s) did not attach: %s; the rest go on\n", a.unit.c_str(),
                   a.program.c_str(), a.where.c_str(), a.error.c_str());
  if (ok == 0) return abandon(fail({kExitNoneAttached, "no program could attach (each reason is above)"}));

  // One poller for every ring; loss per ring from its per-CPU counter.
  ring_buffer* rb = nullptr;
  struct RingState {
    std::string name;
    int drops_fd;
    std::uint64_t last = 0;
  };
  std::vector<RingState> rings;
  for (auto& u : units)
    for (const auto& r : u->rings()) {
      if (rb == nullptr)
        rb = ring_buffer__new(r.map_fd, r.fn, r.ctx, nullptr);
      else
        ring_buffer__add(rb, r.map_fd, r.fn, r.ctx);
      rings.push_back({r.name, r.drops_fd});
    }
  out->start(t, c.units, attach);
  const std::string target_name = t.path.substr(t.path.rfind('/') + 1) + " (pid " + std::to_string(t.pid) + ")";
  // What a scrape, the live report and the final report read. REQUIRES: mu.
  auto health = [&] {
    Health h;
    h.attach = attach;
    for (const auto& r : rings) h.lost.emplace_back(r.name, percpu_sum(r.drops_fd));
    h.bpf_stats_enabled = c.bpf_stats ? 1 : read_bpf_stats_enabled();
    if (h.bpf_stats_enabled == 1) h.progs = read_prog_stats(attach);
    h.pid = t.pid;
    h.exe = t.path;
    return h;
  };
  auto recording = [&](const std::string& ended, std::vector<Section> totals) {
    Recording r;
    r.target = target_name;
    r.ended = ended;
    r.seconds = std::chrono::duration<double>(clock::now() - t0).count();
    for (const auto& a : attach) r.attach.push_back({a.unit, a.program, a.where, a.error, a.ok});
    r.totals = std::move(totals);
    for (const auto& x : rings) r.lost.emplace_back(x.name, percpu_sum(x.drops_fd));
    r.pauses = rec.pauses;
    r.pauses_not_kept = rec.pauses_not_kept;
    return r;
  };
  std::shared_ptr<TraceCollectable> collectable;
  if (srv) {
    collectable = std::make_shared<TraceCollectable>([&] {
      std::lock_guard g(mu);
      std::vector<Section> now;
      for (auto& u : units) now.push_back(u->snapshot(t));
      return to_families(now, health());
    });
    srv->add(collectable);
  }
  {
    std::lock_guard g(mu);
    t0 = clock::now();  // tracing begins: the pause timeline's zero
    if (srv) live_report = [&] {
      std::vector<Section> now;
      for (auto& u : units) now.push_back(u->snapshot(t));
      return render_html(recording("live", std::move(now)));
    };
  }
  if (srv) {
    std::fprintf(stderr, "gmptrace: metrics on http://%s/metrics (report so far at /)\n", srv->address().c_str());
    srv->set_ready(true);
  }
  if (t.launched) {
    if (write(gate[1], "g", 1) != 1) return abandon(fail({kExitNoTarget, "cannot start the command"}));
    close(gate[1]);
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);

  auto last = clock::now(), last_roles = last;
  std::vector<Section> before(units.size());
  std::string why = "interrupted";
  int child_status = -1;
  auto report_lost = [&](const char* scope) {
    for (auto& r : rings) {
      std::uint64_t now = percpu_sum(r.drops_fd);
      std::uint64_t n = std::string(scope) == "total" ? now : now - r.last;
      out->lost(scope, r.name, n, now);
      r.last = now;
    }
  };
  // Waiting happens without mu (a scrape is never held up by it); reading
  // the rings, the maps and printing happen under it.
  const int ring_fd = rb != nullptr ? ring_buffer__epoll_fd(rb) : -1;
  std::unique_lock lk(mu, std::defer_lock);
  while (!g_stop) {
    if (lk.owns_lock()) lk.unlock();
    if (ring_fd >= 0) {
      pollfd pfd{ring_fd, POLLIN, 0};
      poll(&pfd, 1, 100);
    } else {
      usleep(100000);
    }
    lk.lock();
    if (rb != nullptr) ring_buffer__consume(rb);
    double el = std::chrono::duration<double>(clock::now() - t0).count();
    if (clock::now() - last_roles > std::chrono::milliseconds(250)) {
      thread_roles(t.pid);  // remembered for the report after the target exits
      last_roles = clock::now();
    }
    if (t.launched) {
      int st = 0;
      if (waitpid(t.pid, &st, WNOHANG) == t.pid) {
        child_status = st;
        why = "the command exited";
        break;
      }
    } else if (kill(t.pid, 0) != 0 && errno == ESRCH) {
      why = "the target exited";
      break;
    }
    if (c.duration_s > 0 && el >= c.duration_s) {
      why = "duration reached";
      break;
    }
    if (c.interval_s > 0 && std::chrono::duration<double>(clock::now() - last).count() >= c.interval_s) {
      last = clock::now();
      out->header("interval", el, read_header(t));
      for (std::size_t i = 0; i < units.size(); i++) {
        Section now = units[i]->snapshot(t);
        out->section("interval", diff(now, before[i]));
        before[i] = std::move(now);
      }
      report_lost("interval");
    }
  }
  if (!lk.owns_lock()) lk.lock();
  if (rb != nullptr) ring_buffer__consume(rb);
  lk.unlock();
  // Scrapes end before the units go: the server's threads are joined here.
  if (srv) srv->stop();
  lk.lock();
  double el = std::chrono::duration<double>(clock::now() - t0).count();
  out->header("total", el, read_header(t));
  std::vector<Section> totals;
  for (auto& u : units) {
    totals.push_back(u->snapshot(t));
    out->section("total", totals.back());
  }
  report_lost("total");
  out->end(why, totals);
  if (report) {
    std::string html = render_html(recording(why, totals));
    std::FILE* f = report.release();
    bool ok = std::fwrite(html.data(), 1, html.size(), f) == html.size();
    ok = std::fclose(f) == 0 && ok;
    if (!ok) std::fprintf(stderr, "gmptrace: --report: cannot write '%s': %s\n", c.report_path.c_str(), std::strerror(errno));
    else std::fprintf(stderr, "gmptrace: report written to %s\n", c.report_path.c_str());
  }
  ring_buffer__free(rb);
  units.clear();  // detach: semaphores drop back, the target runs as before
  if (t.launched && child_status < 0) {
    kill(t.pid, SIGTERM);
    waitpid(t.pid, &child_status, 0);
  }
  if (t.launched && !(WIFEXITED(child_status) && WEXITSTATUS(child_status) == 0))
    std::fprintf(stderr, "gmptrace: the command ended with %s %d\n", WIFEXITED(child_status) ? "status" : "signal",
                 WIFEXITED(child_status) ? WEXITSTATUS(child_status) : WTERMSIG(child_status));
  return kExitOk;
}

}  // namespace
}  // namespace gmp::trace

int gmptrace_list(const std::string& target);

int main(int argc, char** argv) {
  gmp::trace::Cli c;
  if (int rc = gmp::trace::parse(argc, argv, &c); rc >= 0) return rc;
  if (c.list) return gmptrace_list(c.list_target);
  return gmp::trace::run(c);
}
