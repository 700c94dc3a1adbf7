// base/check.cpp — fatal() and errorf(). See check.hpp.
#include "base/check.hpp"

#include <unistd.h>

#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace gmp::detail {

namespace {
std::atomic<FatalReport> fatal_report{nullptr};

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
  if (FatalReport report = fatal_report.load(std::memory_order_acquire)) report(STDERR_FILENO);
  fatal_exit();
}

void set_fatal_report(FatalReport report) noexcept { fatal_report.store(report, std::memory_order_release); }

void fatal_exit() noexcept {
  std::fflush(nullptr);
  const char* tb = getenv("GMP_TRACEBACK");
  if (tb != nullptr && std::strcmp(tb, "crash") == 0) {
    signal(SIGABRT, SIG_DFL);
    abort();
  }
  _exit(kFatalExitStatus);
}

}  // namespace gmp::detail
