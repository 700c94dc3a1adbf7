// gmptrace/symbolize.hpp — user addresses of the target to "function+0xoff
// (file)" with C++ names demangled (elfutils libdwfl over /proc/PID/maps).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

struct Dwfl;

namespace gmp::trace {

class Symbolizer {
 public:
  explicit Symbolizer(pid_t pid);
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;
  // "gmp::pool::allocate(unsigned long)+0x1c"; "0x7f… (unknown)" when no symbol.
  std::string name(std::uint64_t addr);

 private:
  void refresh();
  pid_t pid_;
  Dwfl* dwfl_ = nullptr;
  std::map<std::uint64_t, std::string> cache_;
};

std::string demangle(const char* sym);

}  // namespace gmp::trace
