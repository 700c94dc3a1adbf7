// base/check.cpp — fatal() and errorf(). See check.hpp.
#include "base/check.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "sched/dump.hpp"
#include "sched/exit.hpp"

namespace gmp::detail {

namespace {
void vwrite_line(const char* prefix, const char* fmt, va_list ap) noexcept {
  char buf[1024];
  int n = 0;
  if (prefix != nullptr) n = std::snprintf(buf, sizeof buf, "%s", prefix);
  int m = std::vsnprintf(buf + n, sizeof buf - n - 1, fmt, ap);
  if (m < 0) m = 0;
  n += m;
  if (n > static_cast<int>(sizeof buf) - 2) n = sizeof buf - 2;
  buf[n++] = '\n';
  ssize_t r = ::write(STDERR_FILENO, buf, n);
  (void)r;
}
}  // namespace

void errorf(const char* fmt, ...) noexcept {
  va_list ap;
  va_start(ap, fmt);
  vwrite_line(nullptr, fmt, ap);
  va_end(ap);
}

void fatal(const char* fmt, ...) noexcept {
  va_list ap;
  va_start(ap, fmt);
  // Messages are written with their "runtime: " prefix by the caller, as in
  // GMP_CHECK(x, "runtime: …"); add it when missing so every fatal line reads
  // the same.
  bool has_prefix = fmt[0] == 'r' && fmt[1] == 'u' && fmt[2] == 'n' && fmt[7] == ':';
  vwrite_line(has_prefix ? nullptr : "runtime: ", fmt, ap);
  va_end(ap);
  errorf("%s", "");
  dump_goroutines(STDERR_FILENO, /*all=*/true);
  fatal_exit();
}

}  // namespace gmp::detail
