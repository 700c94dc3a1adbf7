// sched/exit.hpp — how the process ends while the runtime runs (exit.cpp).
#pragma once

#include <chrono>

namespace gmp::detail {

// How long gmp::run and gmprun give the other goroutines to stop once main
// has returned before the process exits without them (Note [Stopping with
// goroutines still running] in runtime.cpp).
inline constexpr std::chrono::seconds kExitGrace{2};

// Registers (once per process) the exit hook of exit.cpp. Called by
// gmp::start, after static initialisation.
void exit_hook_install() noexcept;

// The one status of fatal runtime errors (docs/FAILURES.md): deadlock, a
// broken invariant, a goroutine stack overflow, a send on a closed channel.
// Not 2, gmprun's (and gmp::run's) bad-usage status; BSD's EX_SOFTWARE.
inline constexpr int kFatalExitStatus = 70;

// Ends the process after a fatal error has been printed: flushes stdio,
// then _exit(kFatalExitStatus) (abort() under GMP_TRACEBACK=crash, for a
// core dump).
[[noreturn]] void fatal_exit() noexcept;

}  // namespace gmp::detail
