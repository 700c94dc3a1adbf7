// sched/exit.cpp — exit() while the runtime runs (see exit.hpp).
//
// Note [Exit while running]
// exit(n) runs the atexit handlers and static destructors, then flushes
// stdio. While the runtime runs, other Ms are still running goroutines that
// may use any of those objects (the scheduler's own state, sysmon's
// std::thread, whose destructor calls std::terminate while it is joinable),
// so destroying them is a use-after-destroy race at best. Go's os.Exit runs
// no deferred calls either. So gmp::start registers (with glibc's on_exit,
// which passes the status) a hook that runs before every handler registered
// earlier (handlers run in reverse order): if the runtime still runs, it
// flushes stdio and ends the process with _exit(status). Handlers
// registered after gmp::start still run first. Returning from main is
// exit(its value), so the same holds there.
#include "sched/exit.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "sched/dump.hpp"
#include "sched/sched.hpp"

namespace gmp::detail {

namespace {

std::atomic<bool> hook_installed{false};

void on_process_exit(int status, void*) {
  if (!sched.running.load(std::memory_order_acquire)) return;  // stopped: an ordinary exit
  std::fflush(nullptr);
  _exit(status);
}

void fatal_report(int fd) noexcept { dump_goroutines(fd, /*all=*/true); }

}  // namespace

void exit_hook_install() noexcept {
  bool expected = false;
  if (hook_installed.compare_exchange_strong(expected, true)) {
    on_exit(on_process_exit, nullptr);
    set_fatal_report(fatal_report);
  }
}

}  // namespace gmp::detail
