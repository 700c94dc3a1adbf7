// gmptrace/symbolize.cpp — see symbolize.hpp.
#include "gmptrace/symbolize.hpp"

#include <cxxabi.h>
#include <elfutils/libdwfl.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace gmp::trace {

namespace {
char* debuginfo_path = nullptr;
const Dwfl_Callbacks kCallbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = nullptr,
    .debuginfo_path = &debuginfo_path,
};
}  // namespace

std::string demangle(const char* sym) {
  int status = 0;
  char* d = abi::__cxa_demangle(sym, nullptr, nullptr, &status);
  if (d == nullptr || status != 0) return sym;
  std::string out = d;
  std::free(d);
  return out;
}

Symbolizer::Symbolizer(pid_t pid) : pid_(pid) { refresh(); }

Symbolizer::~Symbolizer() {
  if (dwfl_ != nullptr) dwfl_end(dwfl_);
}

void Symbolizer::refresh() {
  if (dwfl_ != nullptr) dwfl_end(dwfl_);
  dwfl_ = dwfl_begin(&kCallbacks);
  if (dwfl_ == nullptr) return;
  dwfl_report_begin(dwfl_);
  if (dwfl_linux_proc_report(dwfl_, pid_) != 0) {
    dwfl_end(dwfl_);
    dwfl_ = nullptr;
    return;
  }
  dwfl_report_end(dwfl_, nullptr, nullptr);
}

std::string Symbolizer::name(std::uint64_t addr) {
  if (auto it = cache_.find(addr); it != cache_.end()) return it->second;
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(addr));
  std::string out = std::string(hex) + " (unknown)";
  Dwfl_Module* mod = dwfl_ != nullptr ? dwfl_addrmodule(dwfl_, addr) : nullptr;
  if (mod == nullptr && dwfl_ != nullptr) {  // a library mapped since: report again once
    refresh();
    mod = dwfl_ != nullptr ? dwfl_addrmodule(dwfl_, addr) : nullptr;
  }
  if (mod != nullptr) {
    GElf_Off off = 0;
    GElf_Sym sym;
    const char* s = dwfl_module_addrinfo(mod, addr, &off, &sym, nullptr, nullptr, nullptr);
    const char* file = nullptr;
    dwfl_module_info(mod, nullptr, nullptr, nullptr, nullptr, nullptr, &file, nullptr);
    const char* base = file != nullptr ? std::strrchr(file, '/') : nullptr;
    std::string where = base != nullptr ? base + 1 : (file != nullptr ? file : "?");
    if (s != nullptr) {
      char o[32];
      std::snprintf(o, sizeof o, "+0x%llx", static_cast<unsigned long long>(off));
      out = demangle(s) + o + " (" + where + ")";
    } else {
      out = std::string(hex) + " (" + where + ")";
    }
  }
  cache_[addr] = out;
  return out;
}

}  // namespace gmp::trace
