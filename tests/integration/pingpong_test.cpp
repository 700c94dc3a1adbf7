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

// One P elides the channel locks (where the kernel gives membarrier, which
// the banner says either way); --no-lock-elision and two Ps do not.
TEST(Pingpong, LockElisionIsReportedAndCanBeTurnedOff) {
  Result on = gmprun("--procs 1 pingpong --count 20000");
  EXPECT_EQ(on.status, 0) << on.out;
  const bool elided = on.out.find("lock_elision=true ") != std::string::npos;
  EXPECT_TRUE(elided || on.out.find("elision needs membarrier") != std::string::npos) << on.out;
  if (elided) EXPECT_NE(on.out.find("channel locks elided (one P"), std::string::npos) << on.out;
  EXPECT_NE(on.out.find("lock_elision_revocations=0 "), std::string::npos) << on.out;
  Result off = gmprun("--quiet --procs 1 --no-lock-elision pingpong --count 20000");
  EXPECT_EQ(off.status, 0) << off.out;
  EXPECT_NE(off.out.find("lock_elision=false "), std::string::npos) << off.out;
  Result two = gmprun("--quiet --procs 2 --no-pin pingpong --count 20000");
  EXPECT_EQ(two.status, 0) << two.out;
  EXPECT_NE(two.out.find("lock_elision=false "), std::string::npos) << two.out;
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
