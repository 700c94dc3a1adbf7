// gmptrace/elf_probes.cpp — see elf_probes.hpp.
#include "gmptrace/elf_probes.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <regex>
#include <sstream>

namespace gmp::trace {

std::vector<std::string> UsdtNote::arg_list() const {
  std::vector<std::string> out;
  std::istringstream in(args);
  for (std::string a; in >> a;) out.push_back(a);
  return out;
}

std::uint64_t ElfProbes::symbol(const std::string& name) const {
  for (const auto& [n, v] : symbols)
    if (n == name) return v;
  return 0;
}

namespace {

struct Map {
  const unsigned char* p = nullptr;
  std::size_t n = 0;
  ~Map() {
    if (p != nullptr) munmap(const_cast<unsigned char*>(p), n);
  }
};

bool in_range(const Map& m, std::uint64_t off, std::uint64_t len) { return off <= m.n && len <= m.n - off; }

}  // namespace

ElfProbes read_elf_probes(const std::string& path) {
  ElfProbes out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    out.error = path + ": " + std::strerror(errno);
    return out;
  }
  struct stat st {};
  Map m;
  if (fstat(fd, &st) == 0 && st.st_size > 0) {
    void* p = mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      m.p = static_cast<const unsigned char*>(p);
      m.n = static_cast<std::size_t>(st.st_size);
    }
  }
  ::close(fd);
  if (m.p == nullptr || m.n < sizeof(Elf64_Ehdr) || std::memcmp(m.p, ELFMAG, SELFMAG) != 0 ||
      m.p[EI_CLASS] != ELFCLASS64) {
    out.error = path + ": not a 64-bit ELF file";
    return out;
  }
  const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(m.p);
  if (!in_range(m, eh->e_shoff, static_cast<std::uint64_t>(eh->e_shnum) * sizeof(Elf64_Shdr))) {
    out.error = path + ": truncated section headers";
    return out;
  }
  const auto* sh = reinterpret_cast<const Elf64_Shdr*>(m.p + eh->e_shoff);
  const Elf64_Shdr* shstr = eh->e_shstrndx < eh->e_shnum ? &sh[eh->e_shstrndx] : nullptr;
  auto sec_name = [&](const Elf64_Shdr& s) -> std::string {
    if (shstr == nullptr || !in_range(m, shstr->sh_offset + s.sh_name, 1)) return "";
    return reinterpret_cast<const char*>(m.p + shstr->sh_offset + s.sh_name);
  };
  std::uint64_t version_addr = 0;
  for (int i = 0; i < eh->e_shnum; i++) {
    const Elf64_Shdr& s = sh[i];
    if (s.sh_type == SHT_NOTE && sec_name(s) == ".note.stapsdt" && in_range(m, s.sh_offset, s.sh_size)) {
      std::uint64_t off = 0;
      while (off + sizeof(Elf64_Nhdr) <= s.sh_size) {
        const auto* nh = reinterpret_cast<const Elf64_Nhdr*>(m.p + s.sh_offset + off);
        std::uint64_t name_off = off + sizeof(Elf64_Nhdr);
        std::uint64_t desc_off = name_off + ((nh->n_namesz + 3) & ~3u);
        std::uint64_t next = desc_off + ((nh->n_descsz + 3) & ~3u);
        if (next > s.sh_size) break;
        const char* nname = reinterpret_cast<const char*>(m.p + s.sh_offset + name_off);
        if (nh->n_type == 3 && nh->n_namesz == 8 && std::memcmp(nname, "stapsdt", 8) == 0 && nh->n_descsz > 24) {
          const unsigned char* d = m.p + s.sh_offset + desc_off;
          UsdtNote n;
          std::memcpy(&n.pc, d, 8);
          std::memcpy(&n.base, d + 8, 8);
          std::memcpy(&n.semaphore, d + 16, 8);
          const char* str = reinterpret_cast<const char*>(d + 24);
          const char* end = reinterpret_cast<const char*>(d + nh->n_descsz);
          auto take = [&](std::string* dst) {
            const char* z = static_cast<const char*>(std::memchr(str, 0, static_cast<std::size_t>(end - str)));
            if (z == nullptr) z = end;
            dst->assign(str, z);
            str = z < end ? z + 1 : end;
          };
          take(&n.provider);
          take(&n.name);
          take(&n.args);
          out.notes.push_back(std::move(n));
        }
        off = next;
      }
    }
    if ((s.sh_type == SHT_SYMTAB || s.sh_type == SHT_DYNSYM) && s.sh_link < eh->e_shnum &&
        in_range(m, s.sh_offset, s.sh_size)) {
      const Elf64_Shdr& strs = sh[s.sh_link];
      const auto* syms = reinterpret_cast<const Elf64_Sym*>(m.p + s.sh_offset);
      std::size_t count = s.sh_size / sizeof(Elf64_Sym);
      for (std::size_t k = 0; k < count; k++) {
        if (!in_range(m, strs.sh_offset + syms[k].st_name, 1)) continue;
        const char* nm = reinterpret_cast<const char*>(m.p + strs.sh_offset + syms[k].st_name);
        if (std::strncmp(nm, "gmp_", 4) != 0 || syms[k].st_value == 0) continue;
        std::string name = nm;
        if (out.symbol(name) != 0) continue;
        out.symbols.emplace_back(name, syms[k].st_value);
        if (name == "gmp_probes_version" && syms[k].st_shndx < eh->e_shnum) {
          const Elf64_Shdr& ds = sh[syms[k].st_shndx];
          version_addr = syms[k].st_value;
          std::uint64_t foff = ds.sh_offset + (version_addr - ds.sh_addr);
          if (ds.sh_type != SHT_NOBITS && version_addr >= ds.sh_addr && in_range(m, foff, 4)) {
            std::uint32_t v = 0;
            std::memcpy(&v, m.p + foff, 4);
            out.version = v;
            out.has_version = true;
          }
        }
      }
    }
  }
  return out;
}

std::string usdt_operand_problem(const std::string& arg) {
  // size@operand; libbpf 1.1 (usdt.c parse_usdt_arg, x86) knows three forms:
  // a register, a constant, and a memory operand with one base register and
  // an offset. Indexed forms (base,index,scale) and symbolic bases are not.
  static const std::regex reg(R"(^-?[1248]@%[a-z0-9]+$)");
  static const std::regex imm(R"(^-?[1248]@\$-?[0-9]+$)");
  static const std::regex mem(R"(^-?[1248]@-?[0-9]*\(%[a-z0-9]+\)$)");
  if (std::regex_match(arg, reg) || std::regex_match(arg, imm) || std::regex_match(arg, mem)) return "";
  if (arg.find(',') != std::string::npos) return "an indexed memory operand (libbpf 1.1 cannot parse base,index,scale)";
  return "an operand form libbpf 1.1 cannot parse";
}

}  // namespace gmp::trace
