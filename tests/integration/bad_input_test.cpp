// gmprun's answers to bad input, end to end (issue: "every bad input
// answered"): each case is one line naming the input, what is wrong and what
// would be right, and exit 2; options the help calls "0: off" take 0; a
// workload given by its bare file name is loaded; config files that are not
// regular files are refused, also at a SIGHUP reload (the old config stays).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "../temp_file.hpp"
#include "run_gmprun.hpp"

namespace {

using gmp::testing::TempFile;
using gmp_it::gmprun;
using gmp_it::gmprun_path;
using gmp_it::Result;
using gmp_it::sh;

std::string lib(const char* name) { return std::string(GMP_BIN_DIR) + "/../lib/" + name; }

int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

struct Case {
  const char* args;
  const char* says;
};

class GmprunRejects : public testing::TestWithParam<Case> {};

TEST_P(GmprunRejects, WithOneLineAndExit2) {
  Result r = gmprun(GetParam().args);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_EQ(count_lines(r.out), 1) << r.out;
  EXPECT_NE(r.out.find(GetParam().says), std::string::npos) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GmprunRejects,
    testing::Values(
        // Sizes: the value given, its unit, and the range.
        Case{"--stack-size 1 skynet", "--stack-size '1' (1 byte) is out of range; use 16 KiB to 8 MiB"},
        Case{"--stack-size 64 skynet", "--stack-size '64' (64 bytes) is out of range"},
        Case{"--stack-size 9m skynet", "--stack-size '9m' (9 MiB) is out of range"},
        Case{"--stack-size 99999999999G skynet", "--stack-size '99999999999G' is too large"},
        Case{"--stack-size -5K skynet", "--stack-size '-5K' is not a size"},
        // Durations: no double-to-int64 overflow, no negative, no sign games.
        Case{"--spin 1e300s skynet", "--spin '1e300s' is too long (at most 100 years)"},
        Case{"--spin nans skynet", "--spin 'nans' is not a duration"},
        Case{"--spin -1ms skynet", "--spin '-1ms' is not a duration"},
        Case{"--quiet alloc-storm --duration 1e300s", "alloc-storm: --duration '1e300s' is too long"},
        Case{"--quiet http --port 0 --duration 0s", "http: --duration '0s' must be more than 0"},
        // One prefix, not two.
        Case{"--quiet alloc-storm --bogus", "alloc-storm: unknown option '--bogus'"},
        // The parser's own errors (CLI11's, in these words).
        Case{"--procs", "gmprun: option '--procs' needs a value (N)"},
        Case{"--quiet=1 skynet", "gmprun: option '--quiet' takes no value"},
        Case{"--bogus=1 skynet", "gmprun: unknown option '--bogus' (see --help for the options)"},
        Case{"skynet --size", "skynet: option '--size' needs a value (N)"},
        Case{"skynet extra", "skynet: unexpected argument 'extra' (options are --name value; see --help)"},
        Case{"skynet --size=0", "skynet: --size '0' is out of range; use 1 to 100000000"},
        Case{"skynet --size \"$(printf 'a\nb')\"", "skynet: --size 'a\\x0ab' is not a whole number"},
        Case{"--quiet orders --cancel 101", "orders: --cancel '101' is out of range; use 0 to 100"},
        Case{"--quiet http --port 0 --idle-timeout 0", "http: --idle-timeout '0' must be more than 0, like 10s"},
        // --check-config validates only.
        Case{"--check-config /dev/null skynet", "--check-config validates FILE and exits, so it takes no WORKLOAD"}));

TEST(GmprunBadInput, AllocStormErrorsCarryOnePrefix) {
  Result r = gmprun("alloc-storm --bogus");
  EXPECT_EQ(r.out.find("alloc-storm: alloc-storm:"), std::string::npos) << r.out;
}

TEST(GmprunBadInput, ZeroMeansOffWhereTheHelpSaysSo) {
  Result r = gmprun("--quiet --procs 1 --timer-lead 0 --stw-boost 0 --stw-slow 0 skynet --size 1000");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("summary workload=skynet ok=true"), std::string::npos) << r.out;
}

TEST(GmprunBadInput, SizesTakeLowerCaseUnits) {
  Result r = gmprun("--procs 1 --stack-size 1m skynet --size 1000");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("stack        1024 KiB per goroutine"), std::string::npos) << r.out;
}

TEST(GmprunBadInput, NameEqualsValueWorksForGmprunAndWorkloads) {
  Result r = gmprun("--procs=1 --stack-size=64K --spin=20us skynet --size=1000 --div=10");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("stack        64 KiB per goroutine"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("spin 20 us"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("result=499500 "), std::string::npos) << r.out;
}

TEST(GmprunBadInput, ShortHelpAndVersion) {
  Result h = gmprun("-h");
  EXPECT_EQ(h.status, 0) << h.out;
  EXPECT_NE(h.out.find("usage: gmprun"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("  -h, --help              show this help and exit\n"), std::string::npos) << h.out;
  // A built-in's -h, also after its options; the rest of the line is not run.
  for (const char* args : {"skynet -h", "skynet --size 7 -h", "--quiet http --port 0 --help"}) {
    Result w = gmprun(args);
    EXPECT_EQ(w.status, 0) << args << "\n" << w.out;
    EXPECT_NE(w.out.find("usage: gmprun [options] "), std::string::npos) << w.out;
    EXPECT_EQ(w.out.find("summary"), std::string::npos) << w.out;
  }
  Result v = gmprun("--version");
  EXPECT_EQ(v.status, 0) << v.out;
  EXPECT_EQ(v.out.rfind("gmprun 0.", 0), 0u) << v.out;
  EXPECT_EQ(count_lines(v.out), 1) << v.out;
}

TEST(GmprunBadInput, ForcedHugetlbWithoutPagesSaysSoOnce) {
  if (sh("grep -q \"^HugePages_Free: *0$\" /proc/meminfo").status != 0) {
    GTEST_SKIP() << "this machine has free reserved hugepages: hugetlb works";
  }
  Result r = gmprun("--hugepages hugetlb --quiet spawn --count 1");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_EQ(count_lines(r.out), 1) << r.out;
  EXPECT_NE(r.out.find("gmprun: memory pool: cannot commit the first arena chunk in mode \"hugetlb\""),
            std::string::npos)
      << r.out;
}

// dlopen("w.so") searches the library path, not the current directory.
TEST(GmprunBadInput, LoadsAWorkloadByItsBareNameInTheCurrentDirectory) {
  std::string dir = testing::TempDir() + "gmp_bare_so_XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  Result r = sh("cp " + lib("gmp_test_workload.so") + " " + dir + "/w.so && cd " + dir + " && " + gmprun_path() +
                " --quiet --procs 1 w.so 10; s=$?; rm -rf " + dir + "; exit $s");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("ran 10 of 10 goroutines"), std::string::npos) << r.out;
}

TEST(GmprunBadInput, RefusesGmpMainThatIsAVariable) {
  Result r = gmprun(lib("gmp_test_main_variable.so"));
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_EQ(count_lines(r.out), 1) << r.out;
  EXPECT_NE(r.out.find("exports gmp_main as a variable, not a function"), std::string::npos) << r.out;
}

// ---- Config files -----------------------------------------------------------

TEST(GmprunBadConfig, DirectoryDeviceAndFifoAreRefusedWithoutReading) {
  std::string fifo = testing::TempDir() + "gmp_cfg_fifo_" + std::to_string(getpid());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  struct {
    std::string path, says;
  } cases[] = {{"/tmp", "/tmp: is a directory, not a pool config file"},
               {"/dev/zero", "/dev/zero: is not a regular file"},
               {fifo, fifo + ": is not a regular file"}};
  for (auto& c : cases) {
    // timeout: reading /dev/zero or waiting on the FIFO would not end.
    Result r = sh("timeout 60 " + gmprun_path() + " --check-config " + c.path);
    EXPECT_EQ(r.status, 2) << c.path << "\n" << r.out;
    EXPECT_EQ(count_lines(r.out), 1) << r.out;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << r.out;
    Result run = sh("timeout 60 " + gmprun_path() + " --pool-config " + c.path + " skynet --size 1000");
    EXPECT_EQ(run.status, 2) << run.out;
    EXPECT_NE(run.out.find(c.says), std::string::npos) << run.out;
  }
  unlink(fifo.c_str());
}

TEST(GmprunBadConfig, AFileOverOneMebibyteIsRefused) {
  TempFile big(std::string((1 << 20) + 1, '#'), "gmp_cfg_big");
  Result r = gmprun("--check-config " + big.path());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("1048577 bytes is too large for a pool config file (at most 1048576)"), std::string::npos)
      << r.out;
}

TEST(GmprunBadConfig, UnknownTableAndTheRealTtlRule) {
  TempFile t("[bogus]\nx = 1\n", "gmp_cfg_table");
  Result r = gmprun("--check-config " + t.path());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find(t.path() + ":1: [bogus]: unknown table; the tables are arena, classes, fast, txn"),
            std::string::npos)
      << r.out;
  TempFile ttl("[txn]\nttl_ms = -5\n", "gmp_cfg_ttl");
  r = gmprun("--check-config " + ttl.path());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find(ttl.path() + ":2: txn.ttl_ms: -5 ms is negative; use 1..100"), std::string::npos) << r.out;
}

// The reload re-reads the same path: replaced by a directory, the reload is
// refused and the run goes on with the config it had.
TEST(GmprunBadConfig, ReloadOfADirectoryKeepsTheOldConfig) {
  TempFile config("[txn]\nttl_ms = 50\n", "gmp_cfg_reload");
  const std::string& p = config.path();
  std::string log = p + ".log";
  Result r = sh(gmprun_path() + " --procs 2 --pool-config " + p + " stw --rate 10 --duration 20s 2> " + log +
                " & pid=$!; i=0; until grep -q \"workload stw\" " + log +
                "; do i=$((i+1)); [ $i -gt 1200 ] && break; sleep 0.05; done; rm " + p + "; mkdir " + p +
                "; kill -HUP $pid; i=0; until grep -q \"SIGHUP\" " + log +
                "; do i=$((i+1)); [ $i -gt 1200 ] && break; sleep 0.05; done; kill -INT $pid; wait $pid; s=$?; cat " +
                log + "; rm -f " + log + "; rmdir " + p + "; exit $s");
  EXPECT_NE(r.out.find("gmprun: SIGHUP: kept the old config: " + p + ": is a directory"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("SIGHUP: reloaded"), std::string::npos) << r.out;
}

}  // namespace
