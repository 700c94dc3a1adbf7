// Config: one test per rule and per kind of bad input; the live +15 % rule.
#include <cstdio>
#include <fstream>
#include <string>

#include "../../temp_file.hpp"
#include "pool_fixture.hpp"

namespace gmp::detail::mem {
namespace {

std::string parse(const std::string& text, PoolConfig* out = nullptr) {
  PoolConfig c;
  std::string err = parse_config(text, "pool.toml", &c);
  if (out) *out = c;
  return err;
}

// The error names the file, line and key, and says what would be right.
void expect_error(const std::string& text, const std::string& where, const std::string& what) {
  std::string err = parse(text);
  EXPECT_EQ(err.rfind(where, 0), 0u) << "error: " << err << "\nexpected prefix: " << where;
  EXPECT_NE(err.find(what), std::string::npos) << "error: " << err << "\nexpected: " << what;
}

TEST(Config, DefaultsAndAFullFileParse) {
  PoolConfig c;
  std::string err = parse(R"(
[arena]
hugepages = "thp"
chunk_bytes = 8388608
max_bytes = 1073741824
retain_bytes = 4194304
[classes]
max_size = 131072
fast_max_size = 512
[fast]
batch = 16
capacity = 64
max_class_bytes = 32768
[txn]
ttl_ms = 100
batch = 8
capacity = 128
max_class_bytes = 65536
sweep_every = 32
[stats]
sample_every = 512
[fault]
txn_leak_percent = 2.5
detect_min_bytes = 1048576
detect_lost_fraction = 0.5
)", &c);
  ASSERT_EQ(err, "");
  EXPECT_EQ(c.hugepages, HugeMode::kThp);
  EXPECT_EQ(c.chunk_bytes, 8u << 20);
  EXPECT_EQ(c.txn_ttl_ms, 100u);
  EXPECT_EQ(c.fast_max_size, 512u);
  EXPECT_DOUBLE_EQ(c.txn_leak_percent, 2.5);
  EXPECT_EQ(parse(""), "");
}

TEST(Config, RuleTtlAtMost100ms) {
  expect_error("[txn]\nttl_ms = 101\n", "pool.toml:2: txn.ttl_ms: ", "exceeds the local-tier TTL limit of 100 ms; use 1..100");
}
TEST(Config, RuleTtlNotZero) { expect_error("[txn]\nttl_ms = 0\n", "pool.toml:2: txn.ttl_ms: ", "use 1..100"); }
TEST(Config, RuleFastTierHasNoTtl) { expect_error("\n[fast]\nttl_ms = 5\n", "pool.toml:3: fast.ttl_ms: ", "no TTL"); }
TEST(Config, RuleObjectSizeAtMost256KiB) {
  expect_error("[classes]\nmax_size = 262145\n", "pool.toml:2: classes.max_size: ", "exceeds the object size limit of 262144");
  expect_error("[classes]\nfast_max_size = 1048576\n", "pool.toml:2: classes.fast_max_size: ", "256 KiB");
}
TEST(Config, RuleSizeAtLeastSmallestClass) {
  expect_error("[classes]\nmax_size = 8\n", "pool.toml:2: classes.max_size: ", "use 16..262144");
}
TEST(Config, RuleBatchFitsCapacity) {
  expect_error("[fast]\ncapacity = 8\nbatch = 16\n", "pool.toml:3: fast.batch: ", "batch <= capacity");
  expect_error("[txn]\nbatch = 64\n\ncapacity = 32\n", "pool.toml:2: txn.batch: ", "batch <= capacity");
}
TEST(Config, RuleFastClassesWithinPoolClasses) {
  expect_error("[classes]\nmax_size = 512\nfast_max_size = 1024\n", "pool.toml:3: classes.fast_max_size: ", "subset");
}
TEST(Config, RuleArenaIn2MiBUnits) {
  expect_error("[arena]\nchunk_bytes = 3000000\n", "pool.toml:2: arena.chunk_bytes: ", "not a multiple of 2 MiB");
  expect_error("[arena]\nmax_bytes = 3145728\n", "pool.toml:2: arena.max_bytes: ", "not a multiple of 2 MiB");
  expect_error("[arena]\nretain_bytes = 1\n", "pool.toml:2: arena.retain_bytes: ", "not a multiple of 2 MiB");
  expect_error("[arena]\nchunk_bytes = 8388608\nmax_bytes = 4194304\n", "pool.toml:2: arena.chunk_bytes: ", "at least one chunk");
}
TEST(Config, RuleBatchAtLeastOne) { expect_error("[fast]\nbatch = 0\n", "pool.toml:2: fast.batch: ", "out of range; use 1..4096"); }
TEST(Config, RuleLeakPercentInRange) {
  expect_error("[fault]\ntxn_leak_percent = 150.0\n", "pool.toml:2: fault.txn_leak_percent: ", "out of range; use 0..100");
}

TEST(Config, UnknownKey) { expect_error("[txn]\nttl = 5\n", "pool.toml:2: txn.ttl: ", "unknown key"); }
TEST(Config, UnknownTable) {
  expect_error("[tiers]\nfast = 1\n", "pool.toml:1: [tiers]: ", "unknown table; the tables are arena, classes, fast, txn");
}
TEST(Config, NegativeTtlStatesTheRealRule) {
  expect_error("[txn]\nttl_ms = -5\n", "pool.toml:2: txn.ttl_ms: ", "-5 ms is negative; use 1..100");
}
TEST(Config, TopLevelKeyIsNotATable) { expect_error("ttl_ms = 5\n", "pool.toml:1: ttl_ms: ", "expected a table"); }
TEST(Config, WrongTypeStringForInteger) {
  expect_error("[txn]\nttl_ms = \"60\"\n", "pool.toml:2: txn.ttl_ms: ", "expected an integer, got a string");
}
TEST(Config, WrongTypeFloatForInteger) {
  expect_error("[fast]\nbatch = 1.5\n", "pool.toml:2: fast.batch: ", "expected an integer, got a float");
}
TEST(Config, WrongTypeIntegerForString) {
  expect_error("[arena]\nhugepages = 1\n", "pool.toml:2: arena.hugepages: ", "expected a string");
}
TEST(Config, BadEnumValue) {
  expect_error("[arena]\nhugepages = \"always\"\n", "pool.toml:2: arena.hugepages: ", "use \"auto\", \"hugetlb\", \"thp\" or \"off\"");
}
TEST(Config, NegativeNumber) { expect_error("[stats]\nsample_every = -1\n", "pool.toml:2: stats.sample_every: ", "out of range"); }
// Inputs toml++ 3.3 asserted or hit undefined behaviour on (found by
// tests/fuzz/pool_config_fuzz.cpp): each is now one line, naming the line.
TEST(Config, InputTheTomlLibraryCannotTakeIsRefusedFirst) {
  expect_error(std::string("[txn]\nttl_ms = 5\0\n", 17), "pool.toml:2: ", "control character 0x0");
  expect_error(std::string("[\0\0\0006\n", 6), "pool.toml:1: ", "a table header starts with a key");
  expect_error("\n[`", "pool.toml:2: ", "a table header starts with a key");
  expect_error("[ $]\n", "pool.toml:1: ", "a table header starts with a key");
  expect_error("8\xc8\x93'", "pool.toml:1: ", "a non-ASCII character outside a comment");
  expect_error("[txn] # \xe5_\n", "pool.toml:1: ", "invalid UTF-8");
  expect_error("a = 1979-05-27txnT07:31:079-32:0\n", "pool.toml:1: ", "not valid TOML");
  expect_error("b =i\nline\"\"\"\n", "pool.toml:", "not valid TOML");
  // A '#' inside a string does not start a comment: U+FEFB after it is in
  // the string, where toml++ reaches __builtin_unreachable().
  expect_error("[\"# c # comme\"\xef\xbb\xbb\n ", "pool.toml:1: ", "a non-ASCII character outside a comment");
  expect_error("[arena]\nhugepages = 'a#b\xef\xbb\xbb'\n", "pool.toml:2: ", "outside a comment");
  expect_error("[arena]\nhugepages = \"\"\"a\n#\xc3\xa9\"\"\"\n", "pool.toml:3: ", "outside a comment");
  expect_error("[arena]\nhugepages = \"\\\"#\xc3\xa9\"\n", "pool.toml:2: ", "outside a comment");
  PoolConfig c;
  EXPECT_EQ(parse_config("# ttl ≤ 100 ms\n[txn] # le TTL ≤ 100\nttl_ms = 50\n", "pool.toml", &c), "");
  EXPECT_EQ(c.txn_ttl_ms, 50u);
  // A comment after a string that held a '#' and a quote; toml++ sees the
  // comment's non-ASCII as spaces.
  EXPECT_EQ(parse_config("[arena]\nhugepages = \"thp\" # \"#\" \xef\xbb\xbb \xc3\xa9\n", "pool.toml", &c), "");
  EXPECT_EQ(c.hugepages, gmp::detail::mem::HugeMode::kThp);
  std::string err = parse_config("b =i\nline\"\"\"\n", "pool.toml", &c);
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;
}

TEST(Config, SyntaxError) { expect_error("[txn\nttl_ms = 5\n", "pool.toml:1: ", "not valid TOML"); }

TEST(Config, MissingFile) {
  std::string err = gmp::pool::check_config("/nonexistent/pool.toml").message();
  EXPECT_NE(err.find("/nonexistent/pool.toml: cannot open"), std::string::npos) << err;
}

// A config is a regular file of bounded size: /dev/zero would be read for
// ever, a directory used to read as an empty (default) config.
TEST(Config, NotARegularFile) {
  EXPECT_EQ(gmp::pool::check_config("/tmp").message(),
            "/tmp: is a directory, not a pool config file; give a TOML file");
  EXPECT_EQ(gmp::pool::check_config("/dev/zero").message(),
            "/dev/zero: is not a regular file (a device, FIFO or socket); give a TOML file");
}
TEST(Config, TooLarge) {
  gmp::testing::TempFile big(std::string(kMaxConfigBytes + 1, '#'), "gmp_pool_cfg");
  std::string err = gmp::pool::check_config(big.path()).message();
  EXPECT_NE(err.find("is too large for a pool config file"), std::string::npos) << err;
  big.write(std::string(kMaxConfigBytes - 1, '#') + "\n");  // a comment at the limit is fine
  EXPECT_EQ(gmp::pool::check_config(big.path()).message(), "");
}

TEST(Config, LiveChangeGrowingMemoryOver15PercentIsRefusedWithPrediction) {
  ASSERT_EQ(reset_for_test(small_config(), nullptr), "");
  void* p = gmp::pool::allocate(64);  // the pool is running
  PoolConfig next = current_config();
  next.txn_max_class_bytes *= 8;
  next.txn_capacity *= 8;
  std::string err = apply_config(next);
  EXPECT_NE(err.find("change refused: predicted pool memory"), std::string::npos) << err;
  EXPECT_NE(err.find("MiB ->"), std::string::npos) << err;
  EXPECT_NE(err.find("+15%"), std::string::npos) << err;
  // A small change is accepted and takes effect.
  PoolConfig ok = current_config();
  ok.txn_ttl_ms = 20;
  ok.fast_capacity = 100;
  EXPECT_EQ(apply_config(ok), "");
  EXPECT_EQ(state().tun.txn_ttl_ns.load(), 20'000'000);
  // The arena mode is fixed once running.
  PoolConfig mode = current_config();
  mode.hugepages = HugeMode::kThp;
  EXPECT_NE(apply_config(mode).find("cannot change on a running pool"), std::string::npos);
  gmp::pool::deallocate(p);
}

TEST(Config, LoadConfigFromAFileAppliesIt) {
  ASSERT_EQ(reset_for_test(small_config(), nullptr), "");
  gmp::testing::TempFile file("[txn]\nttl_ms = 30\n", "gmp_pool_cfg");
  EXPECT_EQ(gmp::pool::load_config(file.path()).message(), "");
  EXPECT_EQ(state().tun.txn_ttl_ns.load(), 30'000'000);
  file.write("[txn]\nttl_ms = 300\n");
  std::string err = gmp::pool::load_config(file.path()).message();
  EXPECT_EQ(err.rfind(file.path() + ":2: txn.ttl_ms:", 0), 0u) << err;
}

}  // namespace
}  // namespace gmp::detail::mem
