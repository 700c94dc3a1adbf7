// common/summary.hpp — the one-line logfmt summary the tools print at exit:
//   summary workload=skynet ok=true elapsed_ms=812.4 ns_per_op=81.2 …
// Keys are printed in the order they were first set.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gmp::tools {

class Summary {
 public:
  void set(std::string_view key, std::string_view value);
  void set(std::string_view key, const char* value) { set(key, std::string_view(value)); }
  void set(std::string_view key, std::int64_t value);
  void set(std::string_view key, std::uint64_t value);
  void set(std::string_view key, int value) { set(key, static_cast<std::int64_t>(value)); }
  void set(std::string_view key, double value);  // printed with up to 3 decimals
  void set(std::string_view key, bool value) { set(key, value ? "true" : "false"); }

  const std::string* get(std::string_view key) const;
  // "summary k=v k=v …"; values with spaces or quotes are quoted.
  std::string line() const;

 private:
  std::vector<std::pair<std::string, std::string>> kv_;
};

}  // namespace gmp::tools
