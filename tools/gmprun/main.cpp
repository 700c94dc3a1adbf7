// gmprun — the loader: runs a workload under the gmprt runtime.
//
//   gmprun [options] WORKLOAD [workload options…]
//
// WORKLOAD is a built-in (workloads/) or a path to a shared object exporting
// `extern "C" int gmp_main(int argc, char** argv)`, which runs as the first
// goroutine. A start banner goes to stderr; at exit one logfmt summary line
// goes to stdout. Exit status: the workload's (0 ok, 1 failed), 2 for bad
// usage.
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

#include "common/args.hpp"
#include "common/summary.hpp"
#include "gmp/gmp.hpp"
#include "workload.hpp"

namespace {

using gmp::tools::Args;
using gmp::tools::Summary;

void declare_options(Args& a) {
  a.flag("help", "show this help and exit (also -h)");
  a.flag("version", "print gmprun's version and exit");
  a.option("procs", "N", "number of Ps (logical processors)", "one per CPU");
  a.flag("no-pin", "do not pin Ms to CPUs");
  a.option("cpus", "LIST", "CPUs to run on, like 0-3,6 (P i runs on the i-th)", "the process's CPUs");
  a.option("stack-size", "SIZE", "goroutine stack size, like 64K or 1M (16K to 8M)", "256K");
  a.option("hog-threshold", "DUR", "flag goroutines running longer than this without a safe point", "10ms");
  a.option("spin", "DUR", "how long an idle M looks for work before parking", "50us");
  a.option("timer-lead", "DUR", "at most how early an idle M wakes before a timer and spins for it (0: off)", "200us");
  a.flag("no-lock-elision", "with one P, take channel locks with locked instructions anyway (docs/SYNC.md)");
  a.option("stw-boost", "DUR",
           "raise an M a stop-the-world has waited this long for to SCHED_FIFO until it stops (0s: off)", "20us");
  a.option("stw-slow", "DUR", "explain every stop-the-world whose pause reaches this (0s: off; docs/STW.md)", "200us");
  a.option("io", "MODE", "how goroutines do I/O: io_uring (falls back when unavailable) or blocking", "io_uring");
  a.flag("quiet", "no start banner");
  a.option("pool-config", "FILE", "memory pool config (TOML, strictly validated; docs/POOL.md)");
  a.option("check-config", "FILE",
           "validate a pool config file and exit (0 valid, 2 invalid); takes no WORKLOAD (to run with it: --pool-config)");
  a.option("hugepages", "MODE", "pool arena pages: auto, hugetlb, thp or off (a forced mode that fails is an error)", "auto");
}

std::string usage(const Args& a) {
  std::string s =
      "usage: gmprun [options] WORKLOAD [workload options...]\n"
      "\n"
      "Runs WORKLOAD under the gmprt runtime: a built-in below, or a shared object (a\n"
      "path, or a file in the current directory by its name) exporting  extern \"C\" int gmp_main(int argc, char** argv),  which runs\n"
      "as the first goroutine (argv[0] is the path). Prints a banner to stderr and one\n"
      "logfmt summary line to stdout at exit. 'gmprun WORKLOAD --help' shows a\n"
      "built-in's own options.\n"
      "\noptions:\n";
  s += a.help();
  s += "\nbuilt-in workloads:\n";
  for (const auto& w : gmp::tools::workloads()) {
    std::string name = "  " + std::string(w.name);
    if (name.size() < 16) name.resize(16, ' ');
    s += name + w.summary + "\n";
  }
  s += "\nexit status: 0 the workload succeeded, 1 it failed, 2 bad usage or bad workload.\n";
  return s;
}

int bad(const std::string& msg) {
  std::fprintf(stderr, "%s\n", msg.c_str());
  return 2;
}

using GmpMain = int (*)(int, char**);

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
          } else if (std::string err = gmp::stw::reload_config(path); err.empty()) {
            std::fprintf(stderr, "gmprun: SIGHUP: reloaded %s\n", path.c_str());
          } else {
            std::fprintf(stderr, "gmprun: SIGHUP: kept the old config: %s\n", err.c_str());
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
  Args args("gmprun");
  declare_options(args);
  if (std::string err = args.parse(argc, argv, 1, /*stop_at_positional=*/true); !err.empty()) return bad(err);
  if (args.has("help")) {
    std::fputs(usage(args).c_str(), stdout);
    return 0;
  }
  if (args.has("version")) {
    std::printf("gmprun %s\n", kVersion);
    return 0;
  }
  if (args.has("check-config")) {
    // Validating and then running would hide which of the two the exit
    // status is about: --check-config only validates.
    if (!args.rest().empty()) {
      return bad("gmprun: --check-config validates FILE and exits, so it takes no WORKLOAD ('" + args.rest()[0] +
                 "' given); to run with the config use --pool-config FILE");
    }
    if (std::string err = gmp::pool::check_config(args.str("check-config")); !err.empty()) return bad(err);
    std::printf("%s: ok\n", args.str("check-config").c_str());
    return 0;
  }
  if (args.rest().empty()) return bad("gmprun: no WORKLOAD given (a built-in name or a path to a .so; see gmprun --help)");

  gmp::Config cfg;
  if (args.has("procs")) cfg.procs = static_cast<int>(args.i64("procs", 1, 256));
  cfg.pin = !args.has("no-pin");
  if (args.has("cpus")) {
    if (std::string err = gmp::tools::parse_cpu_list(args.str("cpus"), &cfg.cpus); !err.empty()) {
      return bad("gmprun: " + err);
    }
    if (!cfg.pin) return bad("gmprun: --cpus and --no-pin contradict each other (drop one)");
  }
  if (args.has("stack-size")) cfg.stack_size = args.bytes("stack-size", 16 << 10, 8 << 20);
  if (args.has("hog-threshold")) cfg.hog_threshold = std::chrono::nanoseconds(args.duration_ns("hog-threshold"));
  if (args.has("spin")) cfg.spin = std::chrono::nanoseconds(args.duration_ns("spin"));
  if (args.has("timer-lead")) cfg.timer_lead = std::chrono::nanoseconds(args.duration_ns("timer-lead"));
  cfg.lock_elision = !args.has("no-lock-elision");
  if (args.has("stw-boost")) cfg.stw_boost = std::chrono::nanoseconds(args.duration_ns("stw-boost"));
  if (args.has("stw-slow")) cfg.stw_slow = std::chrono::nanoseconds(args.duration_ns("stw-slow"));
  if (args.has("io")) {
    if (std::string err = gmp::io::set_backend(args.str("io")); !err.empty()) return bad("gmprun: --io: " + err);
  }
  if (!args.error().empty()) return bad(args.error());
  if (std::string err = gmp::validate(cfg); !err.empty()) return bad("gmprun: " + err);
  // The pool is configured before anything allocates from it.
  if (args.has("pool-config")) {
    if (std::string err = gmp::pool::load_config(args.str("pool-config")); !err.empty()) return bad(err);
  }
  if (args.has("hugepages")) {
    if (std::string err = gmp::pool::set_hugepages(args.str("hugepages")); !err.empty()) return bad("gmprun: " + err);
  }
  // init() returns its error without printing it: one line, from here.
  if (std::string err = gmp::pool::init(); !err.empty()) {
    if (args.has("hugepages") || args.has("pool-config")) return bad("gmprun: memory pool: " + err);
    std::fprintf(stderr, "gmprun: memory pool: %s; every allocation goes to jemalloc\n", err.c_str());
  }

  // Resolve the workload before starting anything.
  std::vector<std::string> wargs = args.rest();
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
  } else if (wargs.size() > 1 && (wargs[1] == "--help" || wargs[1] == "-h")) {
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
  SignalThread signals;
  signals.block();
  if (std::string err = gmp::start(cfg); !err.empty()) return bad("gmprun: cannot start the runtime: " + err);
  signals.start(args.has("pool-config") ? args.str("pool-config") : std::string());
  if (!args.has("quiet")) {
    print_banner(gmp::config(), builtin ? builtin->name : name);
    std::fprintf(stderr, "  %s\n", gmp::pool::banner().c_str());
    std::fprintf(stderr, "  io           %s\n", gmp::io::backend_description().c_str());
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
  gmp::SchedStats st = gmp::sched_stats();
  int procs = gmp::config().procs;
  signals.stop();
  gmp::stop();

  // A built-in returns 2 after printing its one-line usage error.
  if (rc == 2 && builtin != nullptr) return 2;
  summary.set("ok", rc == 0);
  summary.set("exit_code", rc);
  summary.set("procs", procs);
  summary.set("elapsed_ms", elapsed_ms);
  summary.set("goroutines", st.goroutines_created);
  summary.set("switches", st.context_switches);
  summary.set("steals", st.steals);
  summary.set("m_parks", st.m_parks);
  summary.set("timer_lead_wakeups", st.timer_lead_wakeups);
  summary.set("timer_lead_spin_ms", static_cast<double>(st.timer_lead_spin_ns) / 1e6);
  summary.set("lock_elision", st.lock_elision);
  summary.set("lock_elision_revocations", st.lock_elision_revocations);
  summary.set("hogs", st.hogs);
  summary.set("stw_boosts", st.stw_boosts);
  summary.set("stw_boost_failures", st.stw_boost_failures);
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  summary.set("max_rss_kib", static_cast<std::int64_t>(ru.ru_maxrss));
  std::printf("%s\n", summary.line().c_str());
  std::fflush(stdout);
  return rc == 0 ? 0 : (rc == 2 ? 2 : 1);
}
