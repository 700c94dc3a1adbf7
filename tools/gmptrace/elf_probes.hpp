// gmptrace/elf_probes.hpp — what an ELF file says about its USDT probes: the
// .note.stapsdt entries (provider, name, semaphore, argument operands) and
// the probe-set version symbol, read from the file itself (no libelf).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gmp::trace {

struct UsdtNote {
  std::string provider, name;
  std::uint64_t pc = 0, base = 0, semaphore = 0;  // as the note stores them
  std::string args;                               // "8@%rax -4@$5 …"
  std::vector<std::string> arg_list() const;
};

struct ElfProbes {
  std::string error;  // "" when the file was read
  std::vector<UsdtNote> notes;
  bool has_version = false;
  unsigned version = 0;  // gmp_probes_version, when has_version
  // Address of a symbol (symtab, then dynsym), 0 when absent.
  std::uint64_t symbol(const std::string& name) const;
  std::vector<std::pair<std::string, std::uint64_t>> symbols;  // gmp_* symbols only
};

ElfProbes read_elf_probes(const std::string& path);

// "" when libbpf 1.1 can parse the operand ("8@%rax", "-4@$5",
// "8@-16(%rbp)"), else why not (an indexed operand "8@8(%rdi,%rsi,8)").
std::string usdt_operand_problem(const std::string& arg);

}  // namespace gmp::trace
