// io_fixture.hpp — runs each io test under both backends (io_uring, and the
// forced blocking fallback) and 1 or 2 Ps.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "gmp/gmp.hpp"
#include "gmp/io.hpp"

namespace gmp_io_test {

inline int count_fds() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d) != nullptr) n++;
    closedir(d);
  }
  return n;
}

class IoBackend : public testing::TestWithParam<std::tuple<std::string, int>> {
 protected:
  void SetUp() override { ASSERT_EQ(gmp::io::set_backend(std::get<0>(GetParam())).message(), ""); }
  void TearDown() override { (void)gmp::io::set_backend("io_uring"); }
  bool uring() const { return std::get<0>(GetParam()) == "io_uring"; }
  gmp::Config cfg() const {
    gmp::Config c;
    c.procs = std::get<1>(GetParam());
    c.pin = false;
    return c;
  }
  // Runs fn as the main goroutine; checks the backend is the one asked for.
  template <class F>
  int run(F&& fn) {
    return gmp::run(cfg(), [&]() -> int {
      EXPECT_EQ(gmp::io::uring_enabled(), uring()) << gmp::io::backend_description();
      return fn();
    });
  }
};

inline std::string backend_name(const testing::TestParamInfo<std::tuple<std::string, int>>& info) {
  return std::get<0>(info.param) + "_" + std::to_string(std::get<1>(info.param)) + "P";
}

#define GMP_IO_INSTANTIATE(Suite)                                                                          \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                                                \
                           testing::Combine(testing::Values(std::string("io_uring"), std::string("blocking")), \
                                            testing::Values(1, 2)),                                        \
                           gmp_io_test::backend_name)

}  // namespace gmp_io_test
