// gmprun end to end when a workload goes wrong (docs/FAILURES.md): exit
// statuses, the program ending when main returns, exit(), deadlock and
// crash reports from a loaded .so, a dump that a spinning goroutine cannot
// freeze, a raw blocking read reported. Every run is bounded by timeout(1):
// a hang fails with status 124 and the output so far.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "run_gmprun.hpp"

namespace {

using gmp_it::Result;
using testing::ContainsRegex;
using testing::HasSubstr;

std::string workload() { return std::string(GMP_BIN_DIR) + "/../lib/failing_workload.so"; }

Result run(const std::string& args) {
  return gmp_it::capture("timeout -k 5 60 " + gmp_it::gmprun_path() + " --quiet --no-pin " + args);
}

TEST(GmprunFailure, AWorkloadStatusIsItsOwn) {
  Result r = run("--procs 2 " + workload() + " return 5");
  EXPECT_EQ(r.status, 5) << r.out;
  EXPECT_THAT(r.out, HasSubstr("exit_code=5"));
}

TEST(GmprunFailure, AWorkloadReturning2IsNotBadUsage) {
  Result r = run("--procs 2 " + workload() + " return 2");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("gmprun: the workload returned 2; exiting 1"));
  EXPECT_THAT(r.out, HasSubstr("exit_code=2"));
}

TEST(GmprunFailure, MainReturnsWhileAGoroutineSpinsTheSummaryIsPrintedAndItExits) {
  Result r = run("--procs 2 " + workload() + " spin");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("failing_workload: main returns"));
  EXPECT_THAT(r.out, HasSubstr("ok=true"));
}

TEST(GmprunFailure, ExitFromAGoroutineExitsWithItsStatusAndFlushesStdout) {
  Result r = run("--procs 2 " + workload() + " exit 5");
  EXPECT_EQ(r.status, 5) << r.out;
  EXPECT_THAT(r.out, HasSubstr("failing_workload: buffered line before exit"));
  EXPECT_THAT(r.out, testing::Not(HasSubstr("terminate called")));
}

TEST(GmprunFailure, DeadlockIsFatalWithTheStackInTheSharedObject) {
  Result r = run("--procs 2 " + workload() + " deadlock");
  EXPECT_EQ(r.status, 70) << r.out;
  EXPECT_THAT(r.out, ContainsRegex("fatal error: all goroutines are asleep - deadlock!(.|\n)*"
                                   "goroutine 1 \\[waiting: chan receive(.|\n)*deadlock_in_so(.|\n)*"
                                   "failing_workload.cpp:[0-9]+ \\+0x[0-9a-f]+ \\(failing_workload.so\\)"));
}

TEST(GmprunFailure, SegvInASharedObjectIsReportedAndKillsWithTheSignal) {
  Result r = run("--procs 2 " + workload() + " segv");
  EXPECT_EQ(r.status, 128 + 11) << r.out;
  EXPECT_THAT(r.out, ContainsRegex("SIGSEGV: segmentation violation(.|\n)*goroutine 1 \\[running, M [0-9]+, P "
                                   "[0-9]+\\]:(.|\n)*segv_in_so(.|\n)*\\(failing_workload.so\\)"));
}

TEST(GmprunFailure, SigquitDumpProceedsPastASpinningGoroutine) {
  Result r = gmp_it::sh("timeout -k 5 60 " + gmp_it::gmprun_path() + " --quiet --no-pin --procs 2 " + workload() +
                        " spin-sleep & pid=$!; sleep 1; kill -QUIT $pid; wait $pid");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("gmprun: SIGQUIT: goroutine dump"));
  EXPECT_THAT(r.out, ContainsRegex("gave up after 1000 ms: goroutine [0-9]+ on P [0-9] \\(M [0-9]+, running"));
  EXPECT_THAT(r.out, ContainsRegex("goroutine 1 \\[waiting: sleep(.|\n)*failing_workload.so"));
  EXPECT_THAT(r.out, HasSubstr("failing_workload: main returns"));
}

TEST(GmprunFailure, ARawBlockingReadOnOnePIsReported) {
  Result r = run("--procs 1 " + workload() + " raw-read");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, ContainsRegex("runtime: goroutine [0-9]+ has been blocked in the kernel for [0-9]+ ms on P 0 "
                                   "\\(M [0-9]+\\), not in gmp::blocking"));
  EXPECT_THAT(r.out, ContainsRegex("hogs=[1-9]"));
}

}  // namespace
