// sched/signals.hpp — the signal stack of each M, the fault handler that
// turns a hit on a goroutine's guard page into a stack overflow report, and
// crash reports for every other fatal signal (Note [Crash reports]).
#pragma once

namespace gmp::detail {

struct M;

// Installs the SIGSEGV/SIGBUS/SIGFPE/SIGILL/SIGABRT handler (once per
// start; a previous handler other than the default is kept and called for
// faults that are not goroutine stack overflows).
void signals_install() noexcept;
void signals_uninstall() noexcept;
// Gives the calling M its signal stack, for the M's whole life.
void signals_init_thread(M* mp) noexcept;
void signals_fini_thread(M* mp) noexcept;
// A crash report is being written: other reports (sysmon's) hold theirs.
bool crash_in_progress() noexcept;

}  // namespace gmp::detail
