// base/check.hpp — fatal errors for broken invariants (Go's throw).
//
// GMP_CHECK is always on: a broken invariant in a scheduler is never safe to
// continue past. fatal() prints "runtime: <msg>", a goroutine dump, and ends
// the process with the fatal status, 70 (sched/exit.hpp; docs/FAILURES.md).
// It allocates nothing from the runtime's pools and is usable on any stack.
#pragma once

#include <cstdarg>

namespace gmp::detail {

[[noreturn]] void fatal(const char* fmt, ...) noexcept __attribute__((format(printf, 1, 2)));

// Writes a formatted line to stderr with one write(2); async-signal-safe when
// the format uses only %s %d %u %ld %lu %llu %x %p (no floating point).
void errorf(const char* fmt, ...) noexcept __attribute__((format(printf, 1, 2)));

}  // namespace gmp::detail

#define GMP_CHECK(cond, ...)                                     \
  do {                                                           \
    if (!(cond)) [[unlikely]] ::gmp::detail::fatal(__VA_ARGS__); \
  } while (0)
