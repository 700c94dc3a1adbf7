// sched/signals.cpp — see signals.hpp.
//
// A goroutine that overflows its stack writes into the guard below it
// (stack/stack.hpp) and takes SIGSEGV. The handler runs on the M's own
// signal stack (the goroutine's stack is exhausted), checks the fault
// address against the running G's guard, and if it matches prints
//   runtime: goroutine N stack overflow (stack K KiB)
// followed by a goroutine dump and a backtrace, then aborts. Any other fault
// goes to the handler that was installed before ours (ASan's, or the default).
#include "sched/signals.hpp"

#include <execinfo.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "base/check.hpp"
#include "sched/dump.hpp"
#include "sched/sched.hpp"
#include "trace/probes.hpp"

namespace gmp::detail {

namespace {

constexpr std::size_t kSigStackBytes = 64 * 1024;
struct sigaction old_segv, old_bus;
bool installed = false;

void chain(int sig, siginfo_t* info, void* uctx) {
  struct sigaction* old = sig == SIGSEGV ? &old_segv : &old_bus;
  if (old->sa_flags & SA_SIGINFO) {
    if (old->sa_sigaction != nullptr) {
      old->sa_sigaction(sig, info, uctx);
      return;
    }
  } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
    old->sa_handler(sig);
    return;
  }
  // Default action: restore it and return; the fault repeats and kills us.
  signal(sig, SIG_DFL);
}

void on_fault(int sig, siginfo_t* info, void* uctx) {
  M* mp = getm();
  G* gp = mp != nullptr ? mp->curg : nullptr;
  auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  if (gp != nullptr && !gp->is_g0 && gp->stack.guard_hit(addr)) {
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
    dump_goroutines(STDERR_FILENO, true);
    signal(SIGABRT, SIG_DFL);
    std::abort();
  }
  chain(sig, info, uctx);
}

}  // namespace

void signals_install() noexcept {
  if (installed) return;
  // backtrace() loads libgcc on first use, which is not safe in a handler.
  void* warm[2];
  backtrace(warm, 2);
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &old_segv);
  sigaction(SIGBUS, &sa, &old_bus);
  installed = true;
}

void signals_uninstall() noexcept {
  if (!installed) return;
  sigaction(SIGSEGV, &old_segv, nullptr);
  sigaction(SIGBUS, &old_bus, nullptr);
  installed = false;
}

void signals_init_thread(M* mp) noexcept {
  void* p = mmap(nullptr, kSigStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
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
