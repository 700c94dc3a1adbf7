// sched/signals.hpp — the signal stack of each M and the fault handler that
// turns a hit on a goroutine's guard page into a stack overflow report.
#pragma once

namespace gmp::detail {

struct M;

// Installs the SIGSEGV/SIGBUS handler (once per start; the previous handlers
// are kept and called for faults that are not goroutine stack overflows).
void signals_install() noexcept;
void signals_uninstall() noexcept;
// Gives the calling M its signal stack, for the M's whole life.
void signals_init_thread(M* mp) noexcept;
void signals_fini_thread(M* mp) noexcept;

}  // namespace gmp::detail
