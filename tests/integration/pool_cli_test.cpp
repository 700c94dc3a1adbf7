// gmprun and the memory pool, end to end: the alloc-storm summary, the
// --check-config exit codes, and a process whose address space is too small
// for the slot map (RLIMIT_AS), which must say so and run correctly.
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

}  // namespace
