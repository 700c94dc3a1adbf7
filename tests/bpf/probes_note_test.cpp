// The probe interface as built: every probe of GMP_PROBE_LIST is in the
// built gmprun's .note.stapsdt, with provider gmp, its semaphore (the address
// of gmp_<name>_semaphore) and operands libbpf 1.1 can parse; the binary
// carries the probe-set version of gmp/probes_abi.h.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "gmptrace/elf_probes.hpp"
#include "trace/probes.hpp"

namespace {

using gmp::trace::ElfProbes;
using gmp::trace::read_elf_probes;
using gmp::trace::usdt_operand_problem;

const std::string kGmprun = std::string(GMP_BIN_DIR) + "/gmprun";

// Argument counts of the probes whose arity a tracer depends on (v2 added
// alloc_sample's bytes, io_complete's seq and sched_latency; v3
// alloc_sample's cache, hits and misses).
const std::map<std::string, std::size_t> kArity = {
    {"alloc_sample", 7},       {"io_complete", 4}, {"io_submit", 3},     {"sched_latency", 4},
    {"stw_begin", 3},          {"stw_stopped", 3}, {"stw_end", 3},       {"stw_slow", 4},
    {"pool_refill", 3},        {"pool_flush", 3},  {"pool_fallback", 3}, {"syscall_block_enter", 2},
    {"syscall_block_exit", 3}, {"g_park", 3},      {"p_steal", 3},       {"preempt_request", 3}};

TEST(ProbeNotes, EveryProbeIsInTheBinaryWithItsSemaphoreAndParsableOperands) {
#ifdef GMP_PROBES_OFF
  GTEST_SKIP() << "built with -DGMP_PROBES=OFF: the binary has no probes by design";
#endif
  ElfProbes e = read_elf_probes(kGmprun);
  ASSERT_EQ(e.error, "");
  std::map<std::string, int> seen;
  for (const auto& n : e.notes) {
    if (n.provider != "gmp") continue;
    seen[n.name]++;
    std::uint64_t sem = e.symbol("gmp_" + n.name + "_semaphore");
    EXPECT_NE(sem, 0u) << n.name << ": no gmp_" << n.name << "_semaphore symbol";
    EXPECT_EQ(n.semaphore, sem) << n.name << ": the note's semaphore is not gmp_" << n.name << "_semaphore";
    for (const std::string& a : n.arg_list()) EXPECT_EQ(usdt_operand_problem(a), "") << n.name << ": operand " << a;
    if (auto it = kArity.find(n.name); it != kArity.end())
      EXPECT_EQ(n.arg_list().size(), it->second) << n.name << " args '" << n.args << "'";
  }
#define GMP_EXPECT_PROBE(name) EXPECT_GT(seen[#name], 0) << "probe gmp:" #name " is not in " << kGmprun;
  GMP_PROBE_LIST(GMP_EXPECT_PROBE)
#undef GMP_EXPECT_PROBE
  std::size_t listed = 0;
#define GMP_COUNT_PROBE(name) listed++;
  GMP_PROBE_LIST(GMP_COUNT_PROBE)
#undef GMP_COUNT_PROBE
  EXPECT_EQ(seen.size(), listed) << "a gmp probe in the binary is missing from GMP_PROBE_LIST";
}

TEST(ProbeNotes, BinaryCarriesTheProbeSetVersion) {
  ElfProbes e = read_elf_probes(kGmprun);
  ASSERT_EQ(e.error, "");
  ASSERT_TRUE(e.has_version) << "gmp_probes_version is not in " << kGmprun;
  EXPECT_EQ(e.version, static_cast<unsigned>(GMP_PROBES_VERSION));
}

TEST(ProbeNotes, OperandCheckerRejectsWhatLibbpf11Cannot) {
  EXPECT_EQ(usdt_operand_problem("8@%rax"), "");
  EXPECT_EQ(usdt_operand_problem("-4@$5"), "");
  EXPECT_EQ(usdt_operand_problem("8@-16(%rbp)"), "");
  EXPECT_NE(usdt_operand_problem("8@8(%rdi,%rsi,8)"), "");
  EXPECT_NE(usdt_operand_problem("8@foo"), "");
}

TEST(ProbeNotes, ReadingANonElfFileSaysSo) {
  ElfProbes e = read_elf_probes(std::string(GMP_SOURCE_DIR) + "/README.md");
  EXPECT_NE(e.error.find("not a 64-bit ELF file"), std::string::npos) << e.error;
  ElfProbes m = read_elf_probes("/nonexistent/gmprun");
  EXPECT_NE(m.error.find("No such file"), std::string::npos) << m.error;
}

}  // namespace
