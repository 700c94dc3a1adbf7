// gmprun pingpong end to end: the summary line, 1 and 2 Ps, bad input.
#include <gtest/gtest.h>

#include <string>

#include "run_gmprun.hpp"

namespace {

using gmp_it::gmprun;
using gmp_it::Result;

TEST(Pingpong, OneP) {
  Result r = gmprun("--procs 1 pingpong --count 100000");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("summary workload=pingpong ok=true"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("round_trips=100000 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ns_per_roundtrip="), std::string::npos) << r.out;
}

TEST(Pingpong, TwoPsUnpinned) {
  Result r = gmprun("--quiet --procs 2 --no-pin pingpong --count 50000 --repeat 2");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("ok=true"), std::string::npos) << r.out;
}

TEST(Pingpong, BadCountIsOneLineAndExit2) {
  Result r = gmprun("pingpong --count 0");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--count"), std::string::npos) << r.out;
}

}  // namespace
