// procs_fixture.hpp — the fixture shared by the sync and timer unit tests:
// each TEST_P runs once per scheduler configuration (1, 2 and 4 Ps, unpinned,
// as Marl's WithBoundScheduler), named Procs/<Suite>.<Test>/<n>P.
//
//   class ChanP : public gmp_test::ProcsTest {};
//   INSTANTIATE_TEST_SUITE_P(Procs, ChanP, gmp_test::procs_values(), gmp_test::procs_name);
//   TEST_P(ChanP, X) { gmp::run(cfg(), [] { ...; return 0; }); }
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "gmp/gmp.hpp"

namespace gmp_test {

class ProcsTest : public testing::TestWithParam<int> {
 protected:
  gmp::Config cfg() const {
    gmp::Config c;
    c.procs = GetParam();
    c.pin = false;  // ctest runs two test processes at once on 2 cores
    return c;
  }
};

inline auto procs_values() { return testing::Values(1, 2, 4); }
inline std::string procs_name(const testing::TestParamInfo<int>& i) { return std::to_string(i.param) + "P"; }

}  // namespace gmp_test
