// sched/signals.cpp — see signals.hpp.
//
// A goroutine that overflows its stack writes into the guard below it
// (stack/stack.hpp) and takes SIGSEGV. The handler runs on the M's own
// signal stack (the goroutine's stack is exhausted), checks the fault
// address against the running G's guard, and if it matches prints
//   runtime: goroutine N stack overflow (stack K KiB)
// followed by the goroutine's stack and a goroutine dump, then ends the
// process with the fatal status (exit.hpp).
//
// Note [Crash reports]
// Any other SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT (abort(), a failed
// assert) while the runtime runs is reported as Go reports it:
//   SIGSEGV: segmentation violation
//   PC=0x… sigcode=1 addr=0x0
//
//   goroutine 7 [running, M 2, P 1]:        (or: thread 1234, not a goroutine)
//   <its stack, symbolized and demangled, frames in .so files too>
//
//   <every other goroutine, with its stack>
// and the process then dies of the same signal, with its default action
// (status 128+N in a shell, a core dump where enabled). The report uses the
// symbolizer (traceback.hpp), which allocates: a crash in the allocator
// could make it hang, so a watchdog (alarm, kWatchdogSeconds) re-raises the
// signal if the report has not finished by then. A second thread crashing
// meanwhile waits for the first to finish; a fault inside the report
// itself ends the process at once. A previously installed handler (a
// sanitizer's) is called instead for faults that are not goroutine stack
// overflows when there was one.
#include "sched/signals.hpp"

#include <execinfo.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "base/check.hpp"
#include "sched/dump.hpp"
#include "sched/exit.hpp"
#include "sched/sched.hpp"
#include "sched/traceback.hpp"
#include "trace/probes.hpp"

namespace gmp::detail {

namespace {

// Large enough for a crash report: the symbolizer (libdw) and the demangler
// run on it. Only the pages touched cost memory.
constexpr std::size_t kSigStackBytes = 1024 * 1024;
constexpr unsigned kWatchdogSeconds = 10;
constexpr int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
constexpr int kNumCrash = sizeof kCrashSignals / sizeof kCrashSignals[0];
struct sigaction old_action[kNumCrash];
bool installed = false;
std::atomic<int> crashing_tid{0};
std::atomic<int> crash_sig{0};

int slot(int sig) noexcept {
  for (int i = 0; i < kNumCrash; i++) {
    if (kCrashSignals[i] == sig) return i;
  }
  return 0;
}

const char* describe(int sig) noexcept {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV: segmentation violation";
    case SIGBUS: return "SIGBUS: bus error";
    case SIGFPE: return "SIGFPE: floating-point exception";
    case SIGILL: return "SIGILL: illegal instruction";
    case SIGABRT: return "SIGABRT: abort";
  }
  return "fatal signal";
}

// Dies of sig with its default action.
void die(int sig) noexcept {
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  raise(sig);
  // A fault (not a sent signal) repeats when the handler returns.
}

// The previous handler, if there was one that is not the default.
bool chain(int sig, siginfo_t* info, void* uctx) noexcept {
  struct sigaction* old = &old_action[slot(sig)];
  if (old->sa_flags & SA_SIGINFO) {
    if (old->sa_sigaction != nullptr) {
      old->sa_sigaction(sig, info, uctx);
      return true;
    }
  } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
    old->sa_handler(sig);
    return true;
  }
  return false;
}

void on_watchdog(int) {
  errorf("runtime: the crash report did not finish within %u s; ending the process", kWatchdogSeconds);
  die(crash_sig.load());
}

void crash_report(int sig, siginfo_t* info, void* uctx, M* mp, G* gp) noexcept {
  crash_sig.store(sig);
  signal(SIGALRM, on_watchdog);
  alarm(kWatchdogSeconds);
  std::uintptr_t pc = 0;
#if defined(__x86_64__)
  pc = static_cast<std::uintptr_t>(static_cast<ucontext_t*>(uctx)->uc_mcontext.gregs[REG_RIP]);
#endif
  errorf("%s\nPC=%#lx m=%d sigcode=%d addr=%p\n", describe(sig), static_cast<unsigned long>(pc),
         mp != nullptr ? mp->id : -1, info->si_code, info->si_addr);
  if (gp != nullptr) {
    P* pp = mp->p;
    errorf("goroutine %llu [running, M %d, P %d]:", static_cast<unsigned long long>(gp->id), mp->id,
           pp != nullptr ? pp->id : -1);
  } else if (mp != nullptr) {
    errorf("M %d (thread %d, the scheduler's own stack):", mp->id, static_cast<int>(gettid()));
  } else {
    errorf("thread %d (not a goroutine):", static_cast<int>(gettid()));
  }
  {
    Traceback tb;
    UnwindStart start;
    if (!tb.ok() || !unwind_start_ucontext(uctx, gp, &start) || tb.write(STDERR_FILENO, start) <= 0) {
      void* frames[64];
      int n = backtrace(frames, 64);
      backtrace_symbols_fd(frames, n, STDERR_FILENO);
    }
  }
  errorf("%s", "");
  dump_goroutines(STDERR_FILENO, true, gp);
  alarm(0);
}

void on_fault(int sig, siginfo_t* info, void* uctx) {
  M* mp = getm();
  G* gp = mp != nullptr ? mp->curg : nullptr;
  if (gp != nullptr && gp->is_g0) gp = nullptr;
  auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  const int me = static_cast<int>(gettid());
  int none = 0;
  if (!crashing_tid.compare_exchange_strong(none, me)) {
    if (none == me) {  // a fault inside the report itself
      die(sig);
      return;
    }
    for (;;) pause();  // another thread reports; it ends the process
  }
  if ((sig == SIGSEGV || sig == SIGBUS) && gp != nullptr && gp->stack.guard_hit(addr)) {
    GMP_PROBE_STACK_OVERFLOW(gp->id, gp->stack.size(), addr);
    errorf("runtime: goroutine %llu stack overflow (stack %zu KiB)", static_cast<unsigned long long>(gp->id),
           gp->stack.size() / 1024);
    errorf("runtime: fault address %p, guard [%p, %p)", info->si_addr, static_cast<void*>(gp->stack.map),
           static_cast<void*>(gp->stack.lo));
    errorf("\ngoroutine %llu [running, stack overflow]:", static_cast<unsigned long long>(gp->id));
    void* frames[64];
    int n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, STDERR_FILENO);
    errorf("%s", "");
    dump_goroutines(STDERR_FILENO, true, gp);
    fatal_exit();
  }
  if (chain(sig, info, uctx)) {
    crashing_tid.store(0);
    return;
  }
  crash_report(sig, info, uctx, mp, gp);
  die(sig);
}

}  // namespace

bool crash_in_progress() noexcept { return crashing_tid.load(std::memory_order_relaxed) != 0; }

void signals_install() noexcept {
  if (installed) return;
  // backtrace() loads libgcc on first use, which is not safe in a handler.
  void* warm[2];
  backtrace(warm, 2);
  crashing_tid.store(0);
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < kNumCrash; i++) sigaction(kCrashSignals[i], &sa, &old_action[i]);
  installed = true;
}

void signals_uninstall() noexcept {
  if (!installed) return;
  for (int i = 0; i < kNumCrash; i++) sigaction(kCrashSignals[i], &old_action[i], nullptr);
  installed = false;
}

void signals_init_thread(M* mp) noexcept {
  void* p = mmap(nullptr, kSigStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  GMP_CHECK(p != MAP_FAILED, "runtime: cannot map the signal stack of M %d", mp->id);
  stack_t ss;
  ss.ss_sp = p;
  ss.ss_size = kSigStackBytes;
  ss.ss_flags = 0;
  sigaltstack(&ss, nullptr);
  mp->sigstack = p;
  mp->sigstack_bytes = kSigStackBytes;
}

void signals_fini_thread(M* mp) noexcept {
  stack_t ss;
  std::memset(&ss, 0, sizeof ss);
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, nullptr);
  if (mp->sigstack != nullptr) munmap(mp->sigstack, mp->sigstack_bytes);
  mp->sigstack = nullptr;
}

}  // namespace gmp::detail
