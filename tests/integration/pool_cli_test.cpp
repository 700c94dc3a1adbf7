// gmprun and the memory pool, end to end: the alloc-storm summary, the
// --check-config exit codes, a process whose address space is too small
// for the slot map (RLIMIT_AS), which must say so and run correctly, and
// checked mode switched on three ways, catching a workload's double free.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "../temp_file.hpp"
#include "run_gmprun.hpp"

namespace {

using gmp_it::gmprun;
using gmp_it::gmprun_path;
using gmp_it::Result;
using gmp_it::sh;
using gmp::testing::TempFile;

TEST(PoolCli, AllocStormReportsTiersLatencyHugepagesAndRss) {
  Result r = gmprun("--procs 2 alloc-storm --duration 300ms");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("pool: hugepages="), std::string::npos) << r.out;  // the banner
  EXPECT_EQ(r.out.find("slot map"), std::string::npos) << r.out;          // it has one
  EXPECT_NE(r.out.find("summary workload=alloc-storm ok=true"), std::string::npos) << r.out;
  for (const char* key : {" hit_fast=", " hit_txn=", " p50_ns=", " p99_ns=", " p999_ns=", " hugepage_coverage=",
                          " steady_rss_over_live_cached=", " remote_frees=", " fallbacks=0 ",
                          " pool_live_mib=0 "})  // every object freed at the end: the counts balance
    EXPECT_NE(r.out.find(key), std::string::npos) << key << "\n" << r.out;
}

TEST(PoolCli, CheckConfigExitsZeroOnAValidFile) {
  TempFile c("[txn]\nttl_ms = 50\n[fast]\nbatch = 16\n", "gmp_pool_cli");
  Result r = gmprun("--check-config " + c.path());
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(c.path() + ": ok"), std::string::npos) << r.out;
}

TEST(PoolCli, CheckConfigExitsTwoWithOneLineNamingFileLineAndKey) {
  TempFile c("[txn]\nttl_ms = 50\nttl_secs = 1\n", "gmp_pool_cli");
  Result r = gmprun("--check-config " + c.path());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find(c.path() + ":3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ttl_secs"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one line:\n" << r.out;
}

// 40 GB of address space: room for the 8 GiB arena, not for the 64 GiB slot
// map. Every inline free then takes the slow path; the banner says why and
// the run's accounting stays whole (nothing live once every object is freed).
TEST(PoolCli, WithoutRoomForTheSlotMapItSaysSoAndRuns) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer runtime maps terabytes of shadow and cannot start under RLIMIT_AS";
#endif
  Result r = sh("ulimit -v 40000000 && " + gmprun_path() + " --procs 2 alloc-storm --duration 300ms");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("cannot reserve the slot map"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("inline frees take the slow path"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("summary workload=alloc-storm ok=true"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" pool_live_mib=0 "), std::string::npos) << r.out;
}

std::string failing_workload() { return std::string(GMP_BIN_DIR) + "/../lib/failing_workload.so"; }

// Each switch turns it on; a busy cross-P workload runs clean under it with
// its accounting whole.
TEST(PoolCli, CheckedModeByFlagEnvOrConfigRunsAllocStormClean) {
  TempFile c("[checks]\nenabled = true\n", "gmp_pool_cli");
  for (const std::string& how : {std::string("--pool-checked on"), "--pool-config " + c.path()}) {
    Result r = gmprun(how + " --procs 2 alloc-storm --duration 300ms");
    ASSERT_EQ(r.status, 0) << how << "\n" << r.out;
    EXPECT_NE(r.out.find("pool: checked mode (every call on the slow path); hugepages="), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("summary workload=alloc-storm ok=true"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" pool_live_mib=0 "), std::string::npos) << r.out;
  }
  Result r = sh("GMP_POOL_CHECKED=1 " + gmprun_path() + " --procs 2 skynet");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("pool: checked mode"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("result=499999500000 expected=499999500000"), std::string::npos) << r.out;
}

TEST(PoolCli, CheckedModeEndsAWorkloadThatFreesTwiceWithOneLine) {
  Result r = gmprun("--pool-checked on --procs 2 " + failing_workload() + " double-free");
  EXPECT_EQ(r.status, 70) << r.out;
  EXPECT_THAT(r.out, testing::ContainsRegex("runtime: pool: double free of 0x[0-9a-f]+: the 48-byte fast-tier object "
                                            "there is already free \\(or was never allocated\\)\n"));
  EXPECT_EQ(r.out.find("freed twice unnoticed"), std::string::npos) << r.out;
  // Unchecked, the same free goes unnoticed (the inline path does not look).
  Result u = gmprun("--pool-checked off --procs 2 " + failing_workload() + " double-free");
  EXPECT_EQ(u.status, 0) << u.out;
  EXPECT_NE(u.out.find("freed twice unnoticed"), std::string::npos) << u.out;
}

TEST(PoolCli, CheckedSwitchRejectsAnythingButOnOrOff) {
  Result r = gmprun("--pool-checked yes skynet");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_EQ(r.out, "gmprun: --pool-checked yes: not a switch; use on or off\n");
  TempFile c("[checks]\nenabled = \"yes\"\n", "gmp_pool_cli");
  Result f = gmprun("--check-config " + c.path());
  EXPECT_EQ(f.status, 2) << f.out;
  EXPECT_NE(f.out.find(c.path() + ":2: checks.enabled: expected a boolean, got a string; use true or false"),
            std::string::npos)
      << f.out;
}

}  // namespace
