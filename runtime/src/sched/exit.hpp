// sched/exit.hpp — how the process ends while the runtime runs (exit.cpp).
#pragma once

#include <chrono>

#include "base/check.hpp"

namespace gmp::detail {

// How long gmp::run and gmprun give the other goroutines to stop once main
// has returned before the process exits without them (Note [Stopping with
// goroutines still running] in runtime.cpp).
inline constexpr std::chrono::seconds kExitGrace{2};

// Registers (once per process) the exit hook of exit.cpp and the goroutine
// dump as base's fatal report. Called by gmp::start, after static
// initialisation.
void exit_hook_install() noexcept;

// kFatalExitStatus and fatal_exit(): base/check.hpp.

}  // namespace gmp::detail
