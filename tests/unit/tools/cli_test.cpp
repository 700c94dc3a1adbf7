// The tools' command line (tools/common/cli.hpp): the unit parsers and
// their edge cases, the one-line errors in this layer's words (CLI11's own
// translated), --name=value, -h, stopping at the first positional, and the
// defaults --help shows being the defaults used.
#include "common/cli.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

namespace {

using gmp::tools::Cli;

// ---- Unit parsers --------------------------------------------------------------

std::uint64_t size_of(const std::string& s) {
  std::uint64_t v = 12345;
  std::string err = gmp::tools::parse_size(s, &v);
  EXPECT_EQ(err, "") << s;
  return v;
}

std::string size_error(const std::string& s) {
  std::uint64_t v = 12345;
  std::string err = gmp::tools::parse_size(s, &v);
  EXPECT_EQ(v, 12345u) << s << ": an error leaves the field alone";
  return err;
}

TEST(CliUnits, SizesTakeKMGInEitherCaseAndIECNames) {
  EXPECT_EQ(size_of("0"), 0u);
  EXPECT_EQ(size_of("4096"), 4096u);
  EXPECT_EQ(size_of("64K"), 64u << 10);
  EXPECT_EQ(size_of("64k"), 64u << 10);
  EXPECT_EQ(size_of("64KiB"), 64u << 10);
  EXPECT_EQ(size_of("2M"), 2u << 20);
  EXPECT_EQ(size_of("1m"), 1u << 20);
  EXPECT_EQ(size_of("3MiB"), 3u << 20);
  EXPECT_EQ(size_of("1G"), 1ull << 30);
  EXPECT_EQ(size_of("1g"), 1ull << 30);
  EXPECT_EQ(size_of("2GiB"), 2ull << 30);
  EXPECT_EQ(size_of("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(size_of("17179869183G"), 17179869183ull << 30);  // the largest G that fits
}

TEST(CliUnits, SizesRefuseSignsSpacesOtherUnitsAndOverflow) {
  for (const char* s : {"", " 5", "+5", "-5", "-5K", "5X", "K", "5KB", "5 K", "1.5M", "0x10", "5k5", "12Q"}) {
    EXPECT_EQ(size_error(s), "is not a size (bytes, or a number with K, M or G, like 64K or 1M)") << s;
  }
  for (const char* s : {"18446744073709551616", "99999999999G", "17179869184G", "18014398509481984K"}) {
    EXPECT_EQ(size_error(s), "is too large (at most 16 EiB)") << s;
  }
}

TEST(CliUnits, SizeRangeSaysTheValueInUnitsAndTheRange) {
  std::uint64_t v = 7;
  EXPECT_EQ(gmp::tools::parse_size("1", 16 << 10, 8 << 20, &v),
            "(1 byte) is out of range; use 16 KiB to 8 MiB, like 64K or 1M");
  EXPECT_EQ(gmp::tools::parse_size("9m", 16 << 10, 8 << 20, &v),
            "(9 MiB) is out of range; use 16 KiB to 8 MiB, like 64K or 1M");
  EXPECT_EQ(gmp::tools::parse_size("1500K", 16 << 10, 1 << 20, &v),
            "(1.46 MiB) is out of range; use 16 KiB to 1 MiB, like 64K or 1M");
  EXPECT_EQ(v, 7u);
  EXPECT_EQ(gmp::tools::parse_size("16K", 16 << 10, 8 << 20, &v), "");
  EXPECT_EQ(v, 16u << 10);
  EXPECT_EQ(gmp::tools::parse_size("8M", 16 << 10, 8 << 20, &v), "");
  EXPECT_EQ(v, 8u << 20);
}

std::int64_t ns_of(const std::string& s) {
  std::int64_t v = -7;
  EXPECT_EQ(gmp::tools::parse_duration(s, &v), "") << s;
  return v;
}

std::string duration_error(const std::string& s) {
  std::int64_t v = -7;
  std::string err = gmp::tools::parse_duration(s, &v);
  EXPECT_EQ(v, -7) << s;
  return err;
}

TEST(CliUnits, DurationsTakeNsUsMsSAndMinutes) {
  EXPECT_EQ(ns_of("0"), 0);  // zero needs no unit ("0: off")
  EXPECT_EQ(ns_of("0s"), 0);
  EXPECT_EQ(ns_of("250ns"), 250);
  EXPECT_EQ(ns_of("500us"), 500'000);
  EXPECT_EQ(ns_of("20ms"), 20'000'000);
  EXPECT_EQ(ns_of("3s"), 3'000'000'000);
  EXPECT_EQ(ns_of("1m"), 60'000'000'000);
  EXPECT_EQ(ns_of("1.5s"), 1'500'000'000);
  EXPECT_EQ(ns_of(".5ms"), 500'000);
  EXPECT_EQ(ns_of("1e3ms"), 1'000'000'000);
  EXPECT_EQ(ns_of("3.2e18ns"), 3'200'000'000'000'000'000);  // about 100 years: the limit
}

TEST(CliUnits, DurationsRefuseNoUnitSignsNanInfAndOverflow) {
  const std::string bad = "is not a duration (a number with ns, us, ms, s or m, like 500us or 2s)";
  for (const char* s : {"", "1", "5", "-1ms", "+1ms", " 1s", "nans", "infs", "inf", "nan", "1h", "1d", "1 s", "s",
                        "1sec", "1S", "fast"}) {
    EXPECT_EQ(duration_error(s), bad) << s;
  }
  // No double -> int64 overflow (undefined behaviour before the check).
  for (const char* s : {"1e300s", "3.3e18ns", "101y0", "5000000000000m", "1e19ns"}) {
    std::string err = duration_error(s);
    EXPECT_TRUE(err == "is too long (at most 100 years)" || err == bad) << s << ": " << err;
  }
  EXPECT_EQ(duration_error("1e300s"), "is too long (at most 100 years)");
  EXPECT_EQ(duration_error("5000000000000m"), "is too long (at most 100 years)");
}

TEST(CliUnits, IntegersSaySyntaxAndRangeApart) {
  std::int64_t v = 3;
  EXPECT_EQ(gmp::tools::parse_integer("42", 1, 100, &v), "");
  EXPECT_EQ(v, 42);
  EXPECT_EQ(gmp::tools::parse_integer("-5", -5, 5, &v), "");
  EXPECT_EQ(v, -5);
  EXPECT_EQ(gmp::tools::parse_integer("0", 1, 256, &v), "is out of range; use 1 to 256");
  EXPECT_EQ(gmp::tools::parse_integer("-5", 1, 256, &v), "is out of range; use 1 to 256");
  EXPECT_EQ(gmp::tools::parse_integer("99999999999999999999", 1, 256, &v), "is out of range; use 1 to 256");
  for (const char* s : {"", "lots", "5x", "1.0", "1e3", "0x10x"}) {
    EXPECT_EQ(gmp::tools::parse_integer(s, 1, 256, &v), "is not a whole number from 1 to 256") << s;
  }
  EXPECT_EQ(v, -5);
}

TEST(CliUnits, NumbersAreFiniteAndInRange) {
  double v = 0.25;
  EXPECT_EQ(gmp::tools::parse_number("0.5", 0, 1, &v), "");
  EXPECT_EQ(v, 0.5);
  EXPECT_EQ(gmp::tools::parse_number("1e9", 1, 1e9, &v), "");
  EXPECT_EQ(gmp::tools::parse_number("0", 1, 1e9, &v), "is out of range; use 1 to 1e+09");
  for (const char* s : {"", "nan", "inf", "-inf", "1e999", "0.5x", "x"}) {
    EXPECT_EQ(gmp::tools::parse_number(s, 0, 100, &v), "is not a number from 0 to 100") << s;
  }
  EXPECT_EQ(v, 1e9);
}

TEST(CliUnits, CpuLists) {
  std::vector<int> v{9};
  EXPECT_EQ(gmp::tools::parse_cpu_list("0-3,6", &v), "");
  EXPECT_EQ(v, (std::vector<int>{0, 1, 2, 3, 6}));
  EXPECT_EQ(gmp::tools::parse_cpu_list("4095", &v), "");
  EXPECT_EQ(v, (std::vector<int>{4095}));
  for (const char* s : {"", "9-3", "4096", "1,", ",1", "1-", "-1", "a", "1-2-3", "0-4096", "1,,2"}) {
    EXPECT_EQ(gmp::tools::parse_cpu_list(s, &v), "is not a CPU list (like 0-3,6)") << s;
  }
  EXPECT_EQ(v, (std::vector<int>{4095}));
}

TEST(CliUnits, FormattedValuesParseBack) {
  EXPECT_EQ(gmp::tools::format_size(256 << 10), "256K");
  EXPECT_EQ(gmp::tools::format_size(8 << 20), "8M");
  EXPECT_EQ(gmp::tools::format_size(1ull << 30), "1G");
  EXPECT_EQ(gmp::tools::format_size(1000), "1000");
  EXPECT_EQ(gmp::tools::format_size(0), "0");
  for (std::uint64_t v :
       std::initializer_list<std::uint64_t>{0, 1, 1000, 1024, 1536, 3 << 20, 5ull << 30, UINT64_MAX}) {
    EXPECT_EQ(size_of(gmp::tools::format_size(v)), v);
  }
  EXPECT_EQ(gmp::tools::format_duration(0), "0s");
  EXPECT_EQ(gmp::tools::format_duration(50'000), "50us");
  EXPECT_EQ(gmp::tools::format_duration(100'000'000), "100ms");
  EXPECT_EQ(gmp::tools::format_duration(60'000'000'000), "60s");
  EXPECT_EQ(gmp::tools::format_duration(600'000'000'000), "10m");
  EXPECT_EQ(gmp::tools::format_duration(1'500), "1500ns");
  for (std::int64_t v : {std::int64_t{0}, std::int64_t{1}, std::int64_t{1'500}, std::int64_t{20'000},
                         std::int64_t{2'000'000'000}, std::int64_t{3'600'000'000'000}}) {
    EXPECT_EQ(ns_of(gmp::tools::format_duration(v)), v);
  }
}

TEST(CliUnits, OneLineEscapesControlBytes) {
  EXPECT_EQ(gmp::tools::one_line("a\nb\tc\x7f"), "a\\x0ab\\x09c\\x7f");
  EXPECT_EQ(gmp::tools::one_line("plain 'text' é"), "plain 'text' é");
}

// ---- Cli -----------------------------------------------------------------------------

struct Opts {
  bool quiet = false;
  std::int64_t count = 1000;
  std::uint32_t small = 3;
  double rate = 2.5;
  double cancel = 10.0 / 100;
  std::uint64_t stack = 256 << 10;
  std::int64_t dur_ns = 2'000'000'000;
  std::chrono::nanoseconds spin = std::chrono::microseconds(50);
  std::vector<int> cpus;
  std::string mode = "auto";
};

void declare(Cli& c, Opts& o) {
  c.flag("--quiet", o.quiet, "no banner");
  c.integer("--count", o.count, 1, 1'000'000, "N", "how many");
  c.integer("--small", o.small, 1, 64, "N", "a few");
  c.number("--rate", o.rate, 0.5, 1e6, "R", "per second");
  c.percent("--cancel", o.cancel, "percent cancelled");
  c.size("--stack", o.stack, 16 << 10, 8 << 20, "stack size");
  c.duration("--dur", o.dur_ns, "how long");
  c.duration("--spin", o.spin, "spin for");
  c.cpu_list("--cpus", o.cpus, "CPUs").default_str("all");
  c.text("--mode", o.mode, "MODE", "a mode");
}

// Runs the parser on "prog" + args.
struct Parse {
  Opts o;
  Cli c{"prog"};
  Cli::Parsed parsed;
  explicit Parse(std::vector<std::string> args, bool stop = false) {
    declare(c, o);
    if (stop) c.stop_at_positional();
    args.insert(args.begin(), "prog");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    words = std::move(args);
    parsed = c.parse(static_cast<int>(words.size()), argv.data());
  }
  std::vector<std::string> words;
};

TEST(Cli, NothingGivenKeepsEveryDefault) {
  Parse r({});
  ASSERT_EQ(r.parsed, Cli::Parsed::ok) << r.c.error();
  Opts def;
  EXPECT_EQ(r.o.count, def.count);
  EXPECT_EQ(r.o.stack, def.stack);
  EXPECT_EQ(r.o.dur_ns, def.dur_ns);
  EXPECT_EQ(r.o.spin, def.spin);
  EXPECT_EQ(r.o.cancel, def.cancel);
  EXPECT_EQ(r.o.mode, def.mode);
  EXPECT_FALSE(r.o.quiet);
  EXPECT_FALSE(r.c.given("--count"));
}

TEST(Cli, NameValueAndNameEqualsValueBothWork) {
  Parse r({"--count", "5", "--small=7", "--stack=1m", "--dur", "20ms", "--spin=0", "--cancel", "2.5", "--rate=1e3",
           "--cpus=0-2", "--mode", "x=y", "--quiet"});
  ASSERT_EQ(r.parsed, Cli::Parsed::ok) << r.c.error();
  EXPECT_EQ(r.o.count, 5);
  EXPECT_EQ(r.o.small, 7u);
  EXPECT_EQ(r.o.stack, 1u << 20);
  EXPECT_EQ(r.o.dur_ns, 20'000'000);
  EXPECT_EQ(r.o.spin.count(), 0);
  EXPECT_DOUBLE_EQ(r.o.cancel, 0.025);
  EXPECT_EQ(r.o.rate, 1000);
  EXPECT_EQ(r.o.cpus, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(r.o.mode, "x=y");
  EXPECT_TRUE(r.o.quiet);
  EXPECT_TRUE(r.c.given("--count"));
  EXPECT_EQ(r.c.value("--stack"), "1m");
}

TEST(Cli, TheLastOneGivenCounts) {
  Parse r({"--count", "5", "--count=6"});
  ASSERT_EQ(r.parsed, Cli::Parsed::ok) << r.c.error();
  EXPECT_EQ(r.o.count, 6);
}

TEST(Cli, NegativeNumbersAreValues) {
  Parse r({"--count", "-5"});
  ASSERT_EQ(r.parsed, Cli::Parsed::error);
  EXPECT_EQ(r.c.error(), "prog: --count '-5' is out of range; use 1 to 1000000");
}

TEST(Cli, ShortAndLongHelp) {
  for (const char* h : {"-h", "--help"}) {
    Parse r({"--count", "5", h});
    EXPECT_EQ(r.parsed, Cli::Parsed::help) << h;
    EXPECT_EQ(r.c.error(), "") << h;
  }
  // Even after a bad value: help comes first.
  Parse r({"--count", "zero", "-h"});
  EXPECT_EQ(r.parsed, Cli::Parsed::help);
}

// Each error: the exact line (CLI11's own messages, translated).
TEST(Cli, ErrorsAreOneLineInTheseWords) {
  const std::map<std::vector<std::string>, std::string> cases = {
      {{"--bogus"}, "prog: unknown option '--bogus' (see --help for the options)"},
      {{"--bogus=5"}, "prog: unknown option '--bogus' (see --help for the options)"},
      {{"-x"}, "prog: unknown option '-x' (see --help for the options)"},
      {{"--count"}, "prog: option '--count' needs a value (N)"},
      {{"--count="}, "prog: option '--count' needs a value (N)"},
      {{"--quiet=1"}, "prog: option '--quiet' takes no value"},
      {{"extra"}, "prog: unexpected argument 'extra' (options are --name value; see --help)"},
      {{"--count", "5", "6"}, "prog: unexpected argument '6' (options are --name value; see --help)"},
      {{"--", "--count"}, "prog: unexpected argument '--count' (options are --name value; see --help)"},
      {{"--count", "lots"}, "prog: --count 'lots' is not a whole number from 1 to 1000000"},
      {{"--small", "65"}, "prog: --small '65' is out of range; use 1 to 64"},
      {{"--rate", "0"}, "prog: --rate '0' is out of range; use 0.5 to 1e+06"},
      {{"--cancel", "101"}, "prog: --cancel '101' is out of range; use 0 to 100"},
      {{"--stack", "1K"}, "prog: --stack '1K' (1 KiB) is out of range; use 16 KiB to 8 MiB, like 64K or 1M"},
      {{"--stack", "12Q"}, "prog: --stack '12Q' is not a size (bytes, or a number with K, M or G, like 64K or 1M)"},
      {{"--dur", "1e300s"}, "prog: --dur '1e300s' is too long (at most 100 years)"},
      {{"--spin", "fast"},
       "prog: --spin 'fast' is not a duration (a number with ns, us, ms, s or m, like 500us or 2s)"},
      {{"--cpus", "9-3"}, "prog: --cpus '9-3' is not a CPU list (like 0-3,6)"},
      {{"--count", "a\nb"}, "prog: --count 'a\\x0ab' is not a whole number from 1 to 1000000"},
      {{"--bo\ngus"}, "prog: unknown option '--bo\\x0agus' (see --help for the options)"},
      {{"ex\rtra"}, "prog: unexpected argument 'ex\\x0dtra' (options are --name value; see --help)"},
  };
  for (const auto& [args, want] : cases) {
    Parse r(args);
    EXPECT_EQ(r.parsed, Cli::Parsed::error) << want;
    EXPECT_EQ(r.c.error(), want);
    EXPECT_EQ(r.c.error().find('\n'), std::string::npos);
  }
}

TEST(Cli, TheFirstBadValueInDeclarationOrderIsTheError) {
  Parse r({"--dur", "x", "--count", "0"});
  EXPECT_EQ(r.parsed, Cli::Parsed::error);
  EXPECT_EQ(r.c.error(), "prog: --count '0' is out of range; use 1 to 1000000");
}

TEST(Cli, FailKeepsTheFirstErrorAndMakesItOneLine) {
  Parse r({});
  ASSERT_EQ(r.parsed, Cli::Parsed::ok);
  EXPECT_EQ(r.c.fail("--mode 'a\nb' is not a mode"), "prog: --mode 'a\\x0ab' is not a mode");
  EXPECT_EQ(r.c.fail("second"), "prog: --mode 'a\\x0ab' is not a mode");
}

TEST(Cli, ParsesAgainAfresh) {
  Opts o;
  Cli c("prog");
  declare(c, o);
  std::vector<std::string> bad{"prog", "--count", "0", "x"}, good{"prog", "--dur=1s"};
  std::vector<char*> argv;
  for (auto& a : bad) argv.push_back(a.data());
  EXPECT_EQ(c.parse(static_cast<int>(argv.size()), argv.data()), Cli::Parsed::error);
  EXPECT_NE(c.error(), "");
  argv.clear();
  for (auto& a : good) argv.push_back(a.data());
  EXPECT_EQ(c.parse(static_cast<int>(argv.size()), argv.data()), Cli::Parsed::ok) << c.error();
  EXPECT_EQ(c.error(), "");
  EXPECT_FALSE(c.given("--count"));
  EXPECT_TRUE(c.given("--dur"));
  EXPECT_EQ(o.dur_ns, 1'000'000'000);
}

TEST(Cli, StopAtPositionalLeavesTheRest) {
  Parse r({"--count", "5", "skynet", "--size", "10", "--count", "9"}, true);
  ASSERT_EQ(r.parsed, Cli::Parsed::ok) << r.c.error();
  EXPECT_EQ(r.o.count, 5);
  EXPECT_EQ(r.c.rest(), (std::vector<std::string>{"skynet", "--size", "10", "--count", "9"}));
  // "--" ends the options; an unknown option before the positional is an error.
  Parse d({"--quiet", "--", "w.so", "-h"}, true);
  ASSERT_EQ(d.parsed, Cli::Parsed::ok) << d.c.error();
  EXPECT_EQ(d.c.rest(), (std::vector<std::string>{"w.so", "-h"}));
  Parse u({"--bogus", "skynet"}, true);
  EXPECT_EQ(u.c.error(), "prog: unknown option '--bogus' (see --help for the options)");
  // The rest's -h belongs to the workload.
  Parse h({"skynet", "-h"}, true);
  EXPECT_EQ(h.parsed, Cli::Parsed::ok);
}

TEST(Cli, KeepPositionalsAroundOptionsAndAfterDashes) {
  Opts o;
  Cli c("prog");
  declare(c, o);
  c.keep_positionals();
  std::vector<std::string> args{"prog", "stw", "--count", "5", "alloc", "--", "gmprun", "--count", "9", "-h"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  ASSERT_EQ(c.parse(static_cast<int>(argv.size()), argv.data()), Cli::Parsed::ok) << c.error();
  EXPECT_EQ(o.count, 5);
  EXPECT_EQ(c.rest(), (std::vector<std::string>{"stw", "alloc", "--", "gmprun", "--count", "9", "-h"}));
  std::vector<std::string> bad{"prog", "stw", "--bogus", "--", "x"};
  argv.clear();
  for (auto& a : bad) argv.push_back(a.data());
  EXPECT_EQ(c.parse(static_cast<int>(argv.size()), argv.data()), Cli::Parsed::error);
  EXPECT_EQ(c.error(), "prog: unknown option '--bogus' (see --help for the options)");
}

TEST(Cli, ShortOptionsAndMultiLineHelp) {
  int pid = -1;
  double secs = 0;
  Cli c("prog");
  c.integer("-p", pid, 1, 4194304, "PID", "a process").default_str("");
  c.number("-i", secs, 0.01, 1e6, "SECONDS", "first line\nsecond line").default_str("none");
  EXPECT_NE(c.help().find("  -p PID                  a process\n"), std::string::npos) << c.help();
  EXPECT_NE(
      c.help().find("  -i SECONDS              first line\n                          second line (default none)\n"),
      std::string::npos)
      << c.help();
  std::vector<std::string> args{"prog", "-p", "42", "-i0.5"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  ASSERT_EQ(c.parse(static_cast<int>(argv.size()), argv.data()), Cli::Parsed::ok) << c.error();
  EXPECT_EQ(pid, 42);
  EXPECT_EQ(secs, 0.5);
  args = {"prog", "-p", "0"};
  argv.clear();
  for (auto& a : args) argv.push_back(a.data());
  EXPECT_EQ(c.parse(static_cast<int>(argv.size()), argv.data()), Cli::Parsed::error);
  EXPECT_EQ(c.error(), "prog: -p '0' is out of range; use 1 to 4194304");
}

// The help: usage-style lines, and each default shown parses (with the
// option's own parser) to the value used when the option is not given.
TEST(Cli, DefaultsShownInHelpAreTheDefaultsUsed) {
  Opts o;
  Cli c("prog");
  declare(c, o);
  const std::string help = c.help();
  EXPECT_NE(help.find("  -h, --help              show this help and exit\n"), std::string::npos) << help;
  EXPECT_NE(help.find("  --quiet                 no banner\n"), std::string::npos) << help;
  EXPECT_NE(help.find("  --count N               how many (default 1000)\n"), std::string::npos) << help;
  EXPECT_NE(help.find("  --cpus LIST             CPUs (default all)\n"), std::string::npos) << help;
  auto shown = [&](const std::string& opt) {
    auto at = help.find("  " + opt + " ");
    EXPECT_NE(at, std::string::npos) << opt;
    auto line_end = help.find('\n', at);
    auto d = help.rfind("(default ", line_end);
    EXPECT_TRUE(d != std::string::npos && d > at) << opt;
    return help.substr(d + 9, line_end - 1 - (d + 9));
  };
  const Opts def;
  std::int64_t i = 0;
  EXPECT_EQ(gmp::tools::parse_integer(shown("--count"), 1, 1'000'000, &i), "");
  EXPECT_EQ(i, def.count);
  EXPECT_EQ(gmp::tools::parse_integer(shown("--small"), 1, 64, &i), "");
  EXPECT_EQ(i, static_cast<std::int64_t>(def.small));
  double d = 0;
  EXPECT_EQ(gmp::tools::parse_number(shown("--rate"), 0.5, 1e6, &d), "");
  EXPECT_EQ(d, def.rate);
  EXPECT_EQ(gmp::tools::parse_number(shown("--cancel"), 0, 100, &d), "");
  EXPECT_EQ(d / 100, def.cancel);
  std::uint64_t s = 0;
  EXPECT_EQ(shown("--stack"), "256K");
  EXPECT_EQ(gmp::tools::parse_size(shown("--stack"), &s), "");
  EXPECT_EQ(s, def.stack);
  std::int64_t ns = 0;
  EXPECT_EQ(shown("--dur"), "2s");
  EXPECT_EQ(gmp::tools::parse_duration(shown("--dur"), &ns), "");
  EXPECT_EQ(ns, def.dur_ns);
  EXPECT_EQ(shown("--spin"), "50us");
  EXPECT_EQ(gmp::tools::parse_duration(shown("--spin"), &ns), "");
  EXPECT_EQ(ns, def.spin.count());
  EXPECT_EQ(shown("--mode"), def.mode);
  // Parsing the shown defaults as arguments changes nothing.
  Parse r({"--count", shown("--count"), "--rate", shown("--rate"), "--cancel", shown("--cancel"), "--stack",
           shown("--stack"), "--dur", shown("--dur"), "--spin", shown("--spin"), "--mode", shown("--mode")});
  ASSERT_EQ(r.parsed, Cli::Parsed::ok) << r.c.error();
  EXPECT_EQ(r.o.count, def.count);
  EXPECT_EQ(r.o.rate, def.rate);
  EXPECT_EQ(r.o.cancel, def.cancel);
  EXPECT_EQ(r.o.stack, def.stack);
  EXPECT_EQ(r.o.dur_ns, def.dur_ns);
  EXPECT_EQ(r.o.spin, def.spin);
  EXPECT_EQ(r.o.mode, def.mode);
}

TEST(Cli, LongOptionNamesPutTheHelpOnTheNextLine) {
  bool b = false;
  std::string t;
  Cli c("prog");
  c.flag("--a-very-long-option-name", b, "what it does");
  c.text("--name", t, "A-VERY-LONG-METAVAR", "text");
  EXPECT_NE(c.help().find("  --a-very-long-option-name\n                          what it does\n"), std::string::npos)
      << c.help();
  EXPECT_NE(c.help().find("  --name A-VERY-LONG-METAVAR\n                          text\n"), std::string::npos)
      << c.help();
}

}  // namespace
