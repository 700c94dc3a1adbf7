// tests/unit/stw/two_cpus.hpp — the two CPUs the pinned stop tests run
// their Ps on (boost_test.cpp, explain_test.cpp).
#pragma once

#include <sched.h>

#include <vector>

namespace gmp::testing {

// The first two CPUs of the affinity mask, or {} when there is one.
inline std::vector<int> two_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE && cpus.size() < 2; c++) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  if (cpus.size() < 2) cpus.clear();
  return cpus;
}

}  // namespace gmp::testing
