// tests/unit/wait_until.hpp — polls a condition from a test thread with a
// generous limit (tests run two at a time on two cores: never a timing
// assertion, only "eventually").
#pragma once

#include <chrono>
#include <thread>

namespace gmp::testing {

template <class F>
bool wait_until(F f, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!f()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

}  // namespace gmp::testing
