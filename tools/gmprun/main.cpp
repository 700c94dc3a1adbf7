// gmprun — the loader: runs a workload under the gmprt runtime.
//
//   gmprun [options] WORKLOAD [workload options…]
//
// WORKLOAD is a built-in (workloads/) or a path to a shared object exporting
// `extern "C" int gmp_main(int argc, char** argv)`, which runs as the first
// goroutine. A start banner goes to stderr; at exit one logfmt summary line
// goes to stdout. Exit status (docs/FAILURES.md, "Exit status"): the
// workload's own, except 2 (gmprun's bad usage) and 70 (a fatal runtime
// error), which a workload's status never reads as.
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "common/cli.hpp"
#include "common/summary.hpp"
#include "gmp/gmp.hpp"
#include "gmp/metrics.hpp"
#include "gmp/metrics_http.hpp"
#include "mem/checked.hpp"
#include "sched/exit.hpp"
#include "workload.hpp"

namespace {

using gmp::tools::Cli;
using gmp::tools::Summary;

// gmprun's own options: each sets a field of gmp::Config (whose initializers
// are the defaults --help shows) or of Options.
struct Options {
  bool version = false, no_pin = false, no_lock_elision = false, quiet = false;
  std::string io = "io_uring";
  std::string pool_config, check_config;
  std::string hugepages = "auto";
  std::string pool_checked;  // "": as built (kCheckedByDefault)
  std::string metrics_addr;  // "": off
};

void declare_options(Cli& c, gmp::Config& cfg, Options& o) {
  c.flag("--version", o.version, "print gmprun's version and exit");
  c.integer("--procs", cfg.procs, 1, 256, "N", "number of Ps (logical processors)").default_str("one per CPU");
  c.flag("--no-pin", o.no_pin, "do not pin Ms to CPUs");
  c.cpu_list("--cpus", cfg.cpus, "CPUs to run on, like 0-3,6 (P i runs on the i-th)").default_str("the process's CPUs");
  c.size("--stack-size", cfg.stack_size, 16 << 10, 8 << 20, "goroutine stack size, like 64K or 1M (16K to 8M)");
  c.duration("--hog-threshold", cfg.hog_threshold, "flag goroutines running longer than this without a safe point");
  c.duration("--spin", cfg.spin, "how long an idle M looks for work before parking");
  c.duration("--timer-lead", cfg.timer_lead,
             "at most how early an idle M wakes before a timer and spins for it (0: off)");
  c.flag("--no-lock-elision", o.no_lock_elision,
         "with one P, take channel locks with locked instructions anyway (docs/SYNC.md)");
  c.duration("--stw-boost", cfg.stw_boost,
             "raise an M a stop-the-world has waited this long for to SCHED_FIFO until it stops (0s: off)");
  c.duration("--stw-slow", cfg.stw_slow,
             "explain every stop-the-world whose pause reaches this (0s: off; docs/STW.md)");
  c.text("--io", o.io, "MODE", "how goroutines do I/O: io_uring (falls back when unavailable) or blocking");
  c.flag("--quiet", o.quiet, "no start banner");
  c.text("--pool-config", o.pool_config, "FILE", "memory pool config (TOML, strictly validated; docs/POOL.md)");
  c.text(
      "--check-config", o.check_config, "FILE",
      "validate a pool config file and exit (0 valid, 2 invalid); takes no WORKLOAD (to run with it: --pool-config)");
  c.text("--hugepages", o.hugepages, "MODE",
         "pool arena pages: auto, hugetlb, thp or off (a forced mode that fails is an error)");
  c.text("--pool-checked", o.pool_checked, "on|off",
         "pool checked mode: double, invalid and foreign frees are fatal, freed objects poisoned and verified; every "
         "call takes the slow path (docs/POOL.md; also GMP_POOL_CHECKED=1)")
      .default_str(gmp::detail::mem::kCheckedByDefault ? "on (a Debug or sanitizer build)" : "off");
  c.text("--metrics-addr", o.metrics_addr, "ADDR",
         "serve Prometheus /metrics, /healthz, /readyz and a live page at / on HOST:PORT (a bare PORT: 127.0.0.1; "
         "docs/METRICS.md)")
      .default_str("off");
}

std::string usage(const Cli& c) {
  std::string s =
      "usage: gmprun [options] WORKLOAD [workload options...]\n"
      "\n"
      "Runs WORKLOAD under the gmprt runtime: a built-in below, or a shared object (a\n"
      "path, or a file in the current directory by its name) exporting  extern \"C\" int gmp_main(int argc, char** argv),  which runs\n"
      "as the first goroutine (argv[0] is the path). Prints a banner to stderr and one\n"
      "logfmt summary line to stdout at exit. 'gmprun WORKLOAD --help' shows a\n"
      "built-in's own options.\n"
      "\noptions:\n";
  s += c.help();
  s += "\nbuilt-in workloads:\n";
  for (const auto& w : gmp::tools::workloads()) {
    std::string name = "  " + std::string(w.name);
    if (name.size() < 16) name.resize(16, ' ');
    s += name + w.summary + "\n";
  }
  s += "\nexit status: the workload's own (0 ok); 2 bad usage or bad workload; 70 a fatal runtime error\n"
       "(deadlock, stack overflow); 128+N killed by signal N (a crash report precedes it). A workload\n"
       "status of 2 or 70, or outside 1-255, exits 1 (the summary's exit_code keeps it).\n";
  return s;
}

// A built-in's -h or --help, anywhere before a "--": its usage, which gmprun
// writes (the workload's own parser never sees it).
bool asks_for_help(const std::vector<std::string>& wargs) {
  for (size_t i = 1; i < wargs.size() && wargs[i] != "--"; i++) {
    if (wargs[i] == "--help" || wargs[i] == "-h") return true;
  }
  return false;
}

int bad(const std::string& msg) {
  std::fprintf(stderr, "%s\n", msg.c_str());
  return 2;
}

using GmpMain = int (*)(int, char**);

// gmprun's status for a workload that returned rc: rc itself, unless it
// would read as gmprun's own (2 bad usage, 70 fatal runtime error) or is
// not an exit status (outside 0-255): then 1, "failed".
int exit_status(int rc) {
  if (rc == 0) return 0;
  if (rc < 1 || rc > 255 || rc == 2 || rc == gmp::detail::kFatalExitStatus) return 1;
  return rc;
}

constexpr const char* kVersion = "0.1.0";

// Loads a user workload and finds its gmp_main, which must be a function:
// a variable of that name would be "called" as code and crash. Returns "" or
// the one-line error.
std::string load_workload(const std::string& name, GmpMain* out) {
  // dlopen searches the library path for a name without a slash: a file
  // given by its bare name in the current directory is meant as a path.
  std::string path = name.find('/') == std::string::npos ? "./" + name : name;
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || access(path.c_str(), R_OK) != 0) {
    return "gmprun: cannot open workload '" + name + "': " + std::strerror(errno);
  }
  if (!S_ISREG(st.st_mode)) return "gmprun: workload '" + name + "' is not a regular file (give a .so)";
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) return "gmprun: cannot load workload '" + name + "': " + dlerror();
  void* sym = dlsym(h, "gmp_main");
  const char* want = " (define extern \"C\" int gmp_main(int argc, char** argv))";
  if (sym == nullptr) return "gmprun: workload '" + name + "' does not export gmp_main" + want;
  Dl_info info;
  ElfW(Sym)* es = nullptr;  // points into the object's read-only symbol table
  if (dladdr1(sym, &info, reinterpret_cast<void**>(&es), RTLD_DL_SYMENT) == 0 || es == nullptr) {
    return "gmprun: workload '" + name + "': cannot read the symbol type of gmp_main" + want;
  }
  int type = ELF64_ST_TYPE(es->st_info);
  if (type != STT_FUNC && type != STT_GNU_IFUNC) {
    const char* what = type == STT_OBJECT ? "a variable" : type == STT_TLS ? "a thread-local variable" : "not a function";
    return "gmprun: workload '" + name + "' exports gmp_main as " + what + ", not a function" + want;
  }
  *out = reinterpret_cast<GmpMain>(sym);
  return "";
}

void print_banner(const gmp::Config& cfg, const std::string& workload) {
  std::string cpus;
  if (cfg.pin) {
    for (int i = 0; i < cfg.procs; i++) {
      cpus += (i ? "," : "") + std::to_string(cfg.cpus[i % cfg.cpus.size()]);
    }
  }
  std::fprintf(stderr,
               "gmprun %s — workload %s\n"
               "  Ps           %d\n"
               "  Ms           one per P, %s\n"
               "  stack        %zu KiB per goroutine (+16 KiB guard), pooled per P\n"
               "  sysmon       hog threshold %lld ms, spin %lld us, timer lead <= %lld us\n"
               "  locks        %s\n"
               "  stw boost    %s\n",
               kVersion, workload.c_str(), cfg.procs, cfg.pin ? ("pinned to CPUs " + cpus).c_str() : "not pinned",
               cfg.stack_size / 1024, static_cast<long long>(cfg.hog_threshold.count() / 1'000'000),
               static_cast<long long>(cfg.spin.count() / 1000), static_cast<long long>(cfg.timer_lead.count() / 1000),
               gmp::sched_stats().lock_elision ? "channel locks elided (one P; docs/SYNC.md)"
               : cfg.procs == 1 && cfg.lock_elision ? "locked (elision needs membarrier, which this kernel refuses)"
                                                    : "locked",
               cfg.stw_boost.count() == 0
                   ? "off"
                   : ("SCHED_FIFO 1 after " + std::to_string(cfg.stw_boost.count() / 1000) + " us (pinned Ms)").c_str());
}

}  // namespace

// Signals while a workload runs (docs/STW.md): SIGQUIT writes a goroutine
// dump to stderr (under stop-the-world) and the run goes on; SIGHUP re-reads
// --pool-config and applies it (a refused change keeps the old config).
// One thread takes them with sigwait; SIGUSR2 tells it to quit.
class SignalThread {
 public:
  // REQUIRES: before any other thread starts (they inherit the mask).
  void block() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGQUIT);
    sigaddset(&set_, SIGHUP);
    sigaddset(&set_, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  void start(std::string pool_config) {
    th_ = std::thread([this, path = std::move(pool_config)] {
      gmp::thread_wakes_no_goroutine();  // a deadlock is still one while it waits here
      for (;;) {
        int sig = 0;
        if (sigwait(&set_, &sig) != 0 || sig == SIGUSR2) return;
        if (sig == SIGQUIT) {
          std::fprintf(stderr, "gmprun: SIGQUIT: goroutine dump\n");
          std::fflush(stderr);
          gmp::stw::dump_goroutines(2);
        } else if (sig == SIGHUP) {
          if (path.empty()) {
            std::fprintf(stderr, "gmprun: SIGHUP: no --pool-config file to reload\n");
          } else if (gmp::Status st = gmp::stw::reload_config(path); st.ok()) {
            std::fprintf(stderr, "gmprun: SIGHUP: reloaded %s\n", path.c_str());
          } else {
            std::fprintf(stderr, "gmprun: SIGHUP: kept the old config: %s\n", st.message().c_str());
          }
        }
      }
    });
  }
  void stop() {
    if (!th_.joinable()) return;
    pthread_kill(th_.native_handle(), SIGUSR2);
    th_.join();
  }

 private:
  sigset_t set_;
  std::thread th_;
};

int main(int argc, char** argv) {
  // First of all: a SIGHUP or SIGQUIT that arrives while gmprun is still
  // starting stays pending for the signal thread instead of killing the
  // process with the default action.
  SignalThread signals;
  signals.block();
  gmp::Config cfg;
  Options opt;
  Cli cli("gmprun");
  declare_options(cli, cfg, opt);
  cli.stop_at_positional();
  switch (cli.parse(argc, argv)) {
    case Cli::Parsed::help:
      std::fputs(usage(cli).c_str(), stdout);
      return 0;
    case Cli::Parsed::error:
      return bad(cli.error());
    case Cli::Parsed::ok:
      break;
  }
  if (opt.version) {
    std::printf("gmprun %s\n", kVersion);
    return 0;
  }
  if (cli.given("--check-config")) {
    // Validating and then running would hide which of the two the exit
    // status is about: --check-config only validates.
    if (!cli.rest().empty()) {
      return bad("gmprun: --check-config validates FILE and exits, so it takes no WORKLOAD ('" + cli.rest()[0] +
                 "' given); to run with the config use --pool-config FILE");
    }
    if (gmp::Status st = gmp::pool::check_config(opt.check_config); !st.ok()) return bad(st.message());
    std::printf("%s: ok\n", opt.check_config.c_str());
    return 0;
  }
  if (cli.rest().empty())
    return bad("gmprun: no WORKLOAD given (a built-in name or a path to a .so; see gmprun --help)");

  cfg.pin = !opt.no_pin;
  if (cli.given("--cpus") && !cfg.pin) return bad("gmprun: --cpus and --no-pin contradict each other (drop one)");
  cfg.lock_elision = !opt.no_lock_elision;
  if (cli.given("--io")) {
    if (gmp::Status st = gmp::io::set_backend(opt.io); !st.ok()) return bad("gmprun: --io: " + st.message());
  }
  std::string metrics_host;
  int metrics_port = 0;
  if (cli.given("--metrics-addr")) {
    if (gmp::Status st = gmp::metrics::parse_address(opt.metrics_addr, &metrics_host, &metrics_port); !st.ok()) {
      return bad("gmprun: --metrics-addr: " + st.message());
    }
  }
  if (gmp::Status st = gmp::validate(cfg); !st.ok()) return bad("gmprun: " + st.message());
  // The pool is configured before anything allocates from it.
  if (cli.given("--pool-config")) {
    if (gmp::Status st = gmp::pool::load_config(opt.pool_config); !st.ok()) return bad(st.message());
  }
  if (cli.given("--hugepages")) {
    if (gmp::Status st = gmp::pool::set_hugepages(opt.hugepages); !st.ok()) {
      return bad("gmprun: --hugepages " + opt.hugepages + ": " + st.message());
    }
  }
  if (cli.given("--pool-checked")) {
    const std::string& v = opt.pool_checked;
    if (v != "on" && v != "off") return bad("gmprun: --pool-checked " + v + ": not a switch; use on or off");
    if (gmp::Status st = gmp::pool::set_checked(v == "on"); !st.ok())
      return bad("gmprun: --pool-checked " + v + ": " + st.message());
  }
  // init() returns its error without printing it: one line, from here.
  if (gmp::Status st = gmp::pool::init(); !st.ok()) {
    if (cli.given("--hugepages") || cli.given("--pool-config")) return bad("gmprun: memory pool: " + st.message());
    std::fprintf(stderr, "gmprun: memory pool: %s; every allocation goes to jemalloc\n", st.message().c_str());
  }

  // Resolve the workload before starting anything.
  std::vector<std::string> wargs = cli.rest();
  const std::string& name = wargs[0];
  const gmp::tools::Workload* builtin = gmp::tools::find_workload(name);
  GmpMain so_main = nullptr;
  if (builtin == nullptr) {
    struct stat st;
    bool is_file = stat(name.c_str(), &st) == 0;
    if (name.find('/') == std::string::npos && name.find(".so") == std::string::npos && !is_file) {
      std::string names;
      for (const auto& w : gmp::tools::workloads()) names += (names.empty() ? "" : ", ") + std::string(w.name);
      return bad("gmprun: unknown workload '" + name + "' (built-ins: " + names + "; or a path to a .so)");
    }
    if (std::string err = load_workload(name, &so_main); !err.empty()) return bad(err);
  } else if (asks_for_help(wargs)) {
    std::printf("usage: gmprun [options] %s [options]\n\n%s\n\noptions:\n%s", builtin->name, builtin->summary,
                builtin->help().c_str());
    return 0;
  }

  std::vector<char*> wargv;
  for (auto& s : wargs) wargv.push_back(s.data());
  wargv.push_back(nullptr);
  int wargc = static_cast<int>(wargs.size());

  if (builtin != nullptr && builtin->check != nullptr) {
    if (std::string err = builtin->check(wargc, wargv.data()); !err.empty()) return bad(err);
  }
  if (gmp::Status st = gmp::start(cfg); !st.ok()) return bad("gmprun: cannot start the runtime: " + st.message());
  std::unique_ptr<gmp::metrics::Server> metrics;
  if (cli.given("--metrics-addr")) {
    std::string err;
    metrics = gmp::metrics::serve(
        opt.metrics_addr, &err,
        {.runtime_catalog = true, .title = "gmprun " + (builtin ? std::string(builtin->name) : name)});
    if (!metrics) {
      gmp::stop();
      return bad("gmprun: --metrics-addr: " + err);
    }
  }
  signals.start(opt.pool_config);
  if (!opt.quiet) {
    print_banner(gmp::config(), builtin ? builtin->name : name);
    std::fprintf(stderr, "  %s\n", gmp::pool::banner().c_str());
    std::fprintf(stderr, "  io           %s\n", gmp::io::backend_description().c_str());
    if (metrics) std::fprintf(stderr, "  metrics      http://%s/metrics (live page at /)\n", metrics->address().c_str());
  }

  Summary summary;
  summary.set("workload", builtin ? std::string_view(builtin->name) : std::string_view(name));
  summary.set("ok", false);
  auto t0 = std::chrono::steady_clock::now();
  gmp::JoinHandle<int> h = gmp::spawn([&]() -> int {
    if (builtin != nullptr) return builtin->main(wargc, wargv.data(), summary);
    return so_main(wargc, wargv.data());
  });
  int rc = h.join();
  double elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  // The catalog is read while the runtime still runs; the metrics server
  // stops first (its scrapes read the Ps, which gmp::stop frees).
  std::vector<std::pair<std::string, std::string>> fields = gmp::metrics::summary_fields();
  if (metrics) metrics->stop();
  signals.stop();

  // A built-in returns 2 after printing its one-line usage error.
  if (rc == 2 && builtin != nullptr) {
    gmp::try_stop(gmp::detail::kExitGrace);
    return 2;
  }
  summary.set("ok", rc == 0);
  summary.set("exit_code", rc);
  summary.set("elapsed_ms", elapsed_ms);
  for (const auto& [k, v] : fields) summary.set(k, v);
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  summary.set("max_rss_kib", static_cast<std::int64_t>(ru.ru_maxrss));
  std::printf("%s\n", summary.line().c_str());
  std::fflush(stdout);
  const int status = exit_status(rc);
  if (status != rc) std::fprintf(stderr, "gmprun: the workload returned %d; exiting %d\n", rc, status);
  // The program ends when main returns, whatever the other goroutines do:
  // if they cannot be stopped in time, returning exits without them
  // (gmp::try_stop).
  gmp::try_stop(gmp::detail::kExitGrace);
  return status;
}
