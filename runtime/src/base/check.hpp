// base/check.hpp — fatal errors for broken invariants (Go's throw).
//
// GMP_CHECK is always on: a broken invariant in a scheduler is never safe to
// continue past. fatal() prints "runtime: <msg>", the fatal report (the
// scheduler installs its goroutine dump there at gmp::start, so that base
// depends on nothing above it), and ends the process with the fatal status,
// 70 (docs/FAILURES.md). It allocates nothing from the runtime's pools and is
// usable on any stack.
#pragma once

#include <cstdarg>

namespace gmp::detail {

[[noreturn]] void fatal(const char* fmt, ...) noexcept __attribute__((format(printf, 1, 2)));

// The one status of fatal runtime errors (docs/FAILURES.md): deadlock, a
// broken invariant, a goroutine stack overflow, a send on a closed channel.
// Not 2, gmprun's (and gmp::run's) bad-usage status; BSD's EX_SOFTWARE.
inline constexpr int kFatalExitStatus = 70;

// Ends the process after a fatal error has been printed: flushes stdio,
// then _exit(kFatalExitStatus) (abort() under GMP_TRACEBACK=crash, for a
// core dump).
[[noreturn]] void fatal_exit() noexcept;

// What fatal() writes to fd after its message; null (the default): nothing.
// The scheduler installs its goroutine dump (sched/exit.cpp).
using FatalReport = void (*)(int fd) noexcept;
void set_fatal_report(FatalReport report) noexcept;

// Writes a formatted line to stderr with one write(2); async-signal-safe when
// the format uses only %s %d %u %ld %lu %llu %x %p (no floating point).
void errorf(const char* fmt, ...) noexcept __attribute__((format(printf, 1, 2)));

}  // namespace gmp::detail

#define GMP_CHECK(cond, ...)                                     \
  do {                                                           \
    if (!(cond)) [[unlikely]] ::gmp::detail::fatal(__VA_ARGS__); \
  } while (0)
