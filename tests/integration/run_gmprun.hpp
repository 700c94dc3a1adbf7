// Runs gmprun (or a shell script around it) and captures its exit status and
// its stdout and stderr together, for the integration tests.
#pragma once

#include <stdio.h>
#include <sys/wait.h>

#include <array>
#include <string>

namespace gmp_it {

struct Result {
  int status = -1;   // exit code, or 128 + signal
  std::string out;   // stdout and stderr
};

inline std::string gmprun_path() { return std::string(GMP_BIN_DIR) + "/gmprun"; }

// Runs CMD through popen (itself `sh -c`), stderr folded into stdout.
inline Result capture(const std::string& cmd) {
  Result r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

// A script run as one `sh -c '...'` (it must not contain single quotes), so
// that background jobs, `kill` and `wait` share one shell.
inline Result sh(const std::string& script) { return capture("sh -c '" + script + "'"); }

// gmprun with ARGS (shell words).
inline Result gmprun(const std::string& args) { return capture(gmprun_path() + " " + args); }

}  // namespace gmp_it
